package fleetsim_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bench/fleetsim"
	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestSCRAMLogin: the simulator asks for SCRAM-SHA-256, as PostgreSQL's
// default password_encryption does, accepts the right password through
// pgx's own SCRAM client and refuses a wrong one with 28P01.
func TestSCRAMLogin(t *testing.T) {
	c := pgtest.Start(t, pgtest.Options{})
	require.NoError(t, e2e.MonitorRole(context.Background(), c, role, password))
	s := startSim(t, c, time.Hour, nil)
	host, port := s.Addr().IP.String(), s.Addr().Port

	// The first thing the server says to a startup is which SASL
	// mechanism it wants.
	nc, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
	require.NoError(t, err)
	defer nc.Close()
	require.NoError(t, nc.SetDeadline(time.Now().Add(10*time.Second)))
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": fleetsim.ServerName(3), "database": "postgres"}})
	require.NoError(t, fe.Flush())
	msg, err := fe.Receive()
	require.NoError(t, err)
	sasl, ok := msg.(*pgproto3.AuthenticationSASL)
	require.True(t, ok, "got %T", msg)
	require.Equal(t, []string{"SCRAM-SHA-256"}, sasl.AuthMechanisms)

	// pgx completes the exchange with the right password.
	conn := session(t, host, port, fleetsim.ServerName(3), "postgres")
	res := conn.ExecParams(context.Background(), "SELECT 1", nil, nil, nil, nil).Read()
	require.NoError(t, res.Err)

	// A wrong one is refused as PostgreSQL refuses it.
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable",
		host, port, fleetsim.ServerName(3)))
	require.NoError(t, err)
	cfg.Password = "not-" + password
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = pgconn.ConnectConfig(ctx, cfg)
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "28P01", pe.Code)
}
