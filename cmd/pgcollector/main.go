package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pgcollector/pgcollector/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes of docs/design.md.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError is a mistake on the command line; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// env is what a command may touch of the outside world, so tests can run
// commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

const usageText = `usage: pgcollector [--config FILE] COMMAND [flags]

commands:
  run [--stages all|scheduler,fetcher,sink,retention]
                                              run the collector until SIGINT/SIGTERM
  migrate                                     apply datastore migrations and exit
  connection add|list|show|update|remove|enable|disable
                                              manage monitored servers
  probe list|set NAME [--interval D] [--retention-days N] [--enabled BOOL]
  user add NAME [--admin] | list | disable NAME
                                              users of the REST API and MCP endpoint
  token create --user NAME --name LABEL [--expires D] | list [--user NAME] | revoke ID
                                              API tokens (printed once, stored hashed)
  audit [--limit N] [--json]                  who changed what, newest first (API, MCP and CLI)
  status [--json]                             per connection and probe: freshness, errors; buffer backlog
                                              (exits 1 when something is unhealthy)
  replay --since DURATION [--until TIME] [--probe NAME] [--connection ID|NAME] [--force]
                                              store batches retained in PGC_BATCHES again; already
                                              ingested ones are skipped unless --force
  config                                      print the effective configuration (secrets redacted)
  version                                     print the version

Every setting is an environment variable PGC_*, a key of the --config YAML
file, and a flag of the same name (e.g. PGC_DATA_DIR, data_dir, --data-dir).
Run 'pgcollector config' to see them all.`

func main() {
	os.Exit(run(os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

func run(args []string, e env) int {
	err := dispatch(args, e)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case config.IsConfigError(err):
		fmt.Fprintln(e.stderr, "pgcollector: "+firstLine(err.Error()))
		return exitUsage
	default:
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(e.stderr, "pgcollector: "+firstLine(ue.msg))
			return exitUsage
		}
		fmt.Fprintln(e.stderr, "pgcollector: "+firstLine(err.Error()))
		return exitError
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func dispatch(args []string, e env) error {
	// A leading --config is accepted before the command as well as after.
	var configPath string
	if len(args) >= 2 && (args[0] == "--config" || args[0] == "-config") {
		configPath, args = args[1], args[2:]
	} else if len(args) >= 1 && strings.HasPrefix(args[0], "--config=") {
		configPath, args = strings.TrimPrefix(args[0], "--config="), args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, usageText)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(rest, configPath, e)
	case "migrate":
		return cmdMigrate(rest, configPath, e)
	case "connection":
		return cmdConnection(rest, configPath, e)
	case "probe":
		return cmdProbe(rest, configPath, e)
	case "user":
		return cmdUser(rest, configPath, e)
	case "token":
		return cmdToken(rest, configPath, e)
	case "audit":
		return cmdAudit(rest, configPath, e)
	case "status":
		return cmdStatus(rest, configPath, e)
	case "replay":
		return cmdReplay(rest, configPath, e)
	case "config":
		return cmdConfig(rest, configPath, e)
	case "version":
		fmt.Fprintln(e.stdout, "pgcollector "+version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(e.stdout, usageText)
		return nil
	}
	return usagef("unknown command %q (see pgcollector help)", cmd)
}
