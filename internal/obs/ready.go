package obs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// readyTimeout bounds each readiness check, so /readyz answers within a
// few seconds even when the datastore black-holes packets.
const readyTimeout = 2 * time.Second

// readyz answers 200 when the bus is connected and JetStream answers, and
// the datastore answers a ping; 503 with the reasons otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	reasons := s.notReady(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if len(reasons) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %s\n", strings.Join(reasons, "; "))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// notReady runs both checks at once and returns what failed.
func (s *Server) notReady(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	busErr := make(chan error, 1)
	go func() { busErr <- s.checkBus(ctx) }()
	var reasons []string
	if err := s.db.Ping(ctx); err != nil {
		reasons = append(reasons, "datastore: "+firstLine(err.Error()))
	}
	if err := <-busErr; err != nil {
		reasons = append(reasons, "bus: "+firstLine(err.Error()))
	}
	return reasons
}

func (s *Server) checkBus(ctx context.Context) error {
	nc := s.bus.Conn()
	if nc == nil || !nc.IsConnected() {
		return errors.New("not connected to NATS")
	}
	if _, err := s.bus.JS().AccountInfo(ctx); err != nil {
		return fmt.Errorf("JetStream does not answer: %w", err)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
