package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/pgcollector/pgcollector/bench/fleetsim"
)

// simChild runs the fleet simulator in this process (started by
// bench.StartSim) and prints its address on stdout.
func simChild(configFile string) error {
	raw, err := os.ReadFile(configFile)
	if err != nil {
		return err
	}
	var cfg fleetsim.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := fleetsim.New(cfg, log)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("listening %s %d\n", s.Addr().IP, s.Addr().Port)
	return s.Run(ctx)
}
