package monpool

import (
	"context"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// closeAndWait ends a session and waits until the server has closed its
// side, which a backend does only after it has left pg_stat_activity. A
// plain Close returns as soon as the Terminate message is sent; the slot
// would then be reused while the old backend still exists, and the server
// would briefly see more sessions than the cap.
func closeAndWait(conn *pgx.Conn) {
	if conn.IsClosed() {
		return
	}
	hc, err := conn.PgConn().Hijack()
	if err != nil {
		_ = conn.Close(context.Background())
		return
	}
	defer hc.Conn.Close()
	hc.Frontend.Send(&pgproto3.Terminate{})
	if err := hc.Frontend.Flush(); err != nil {
		return
	}
	_ = hc.Conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.Copy(io.Discard, hc.Conn)
}
