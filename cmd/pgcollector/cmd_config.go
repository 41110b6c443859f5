package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pgcollector/pgcollector/internal/store"
	"github.com/pgcollector/pgcollector/probes"
)

// cmdConfig prints the effective configuration with every variable, its
// description and default; secrets are redacted.
func cmdConfig(args []string, configPath string, e env) error {
	c, err := newCommand("config", e)
	if err != nil {
		return err
	}
	if err := c.parse(args, configPath, false); err != nil {
		return err
	}
	c.printConfig(e.stdout)
	return nil
}

// cmdMigrate applies the datastore migrations and exits.
func cmdMigrate(args []string, configPath string, e env) error {
	c, err := newCommand("migrate", e)
	if err != nil {
		return err
	}
	if err := c.parse(args, configPath, true); err != nil {
		return err
	}
	pool, err := c.datastore()
	if err != nil {
		return err
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := store.Migrate(ctx, pool, probes.All); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "datastore at schema version %d, %d probes\n", store.LatestVersion(), len(probes.All))
	return nil
}
