package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/internal/secret"
)

// command is the common part of every subcommand: its flags (each setting
// is a flag too) and the loaded settings.
type command struct {
	name   string
	fs     *flag.FlagSet
	loader *config.Loader
	s      settings
	config *string
}

func newCommand(name string, e env) (*command, error) {
	c := &command{name: name, fs: flag.NewFlagSet("pgcollector "+name, flag.ContinueOnError)}
	c.fs.SetOutput(e.stderr)
	l, err := config.New(c.s.targets()...)
	if err != nil {
		return nil, err
	}
	c.loader = l
	c.config = c.fs.String("config", "", "YAML configuration file (env PGC_CONFIG)")
	l.RegisterFlags(c.fs)
	return c, nil
}

// parse reads the flags and loads the settings. needDatastore requires
// the datastore URL and secret file.
func (c *command) parse(args []string, configPath string, needDatastore bool) error {
	if err := c.fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usagef("%s: %v", c.name, err)
	}
	path := configPath
	if *c.config != "" {
		path = *c.config
	}
	if path == "" {
		path = os.Getenv("PGC_CONFIG")
	}
	if err := c.loader.Load(path); err != nil {
		return err
	}
	return c.s.validate(needDatastore)
}

// secretBox reads PGC_SECRET_FILE; any problem with it is a configuration
// error naming the variable.
func (c *command) secretBox() (*secret.Box, error) {
	box, err := secret.ReadFile(c.s.Core.SecretFile)
	if err != nil {
		return nil, config.Errorf("PGC_SECRET_FILE", "%v", err)
	}
	return box, nil
}

// datastore opens the datastore pool. It does not wait for the datastore:
// pgxpool connects lazily, which lets the collector start during an
// outage.
func (c *command) datastore() (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(c.s.Core.DatastoreURL)
	if err != nil {
		return nil, config.Errorf("PGC_DATASTORE_URL", "not a valid connection string: %v", firstLine(err.Error()))
	}
	cfg.MaxConns = int32(c.s.Core.DatastorePoolMaxConns)
	cfg.ConnConfig.RuntimeParams["application_name"] = "pgcollector-datastore"
	cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("datastore pool: %w", err)
	}
	return pool, nil
}

func (c *command) printConfig(w io.Writer) { c.loader.Print(w) }
