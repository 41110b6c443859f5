// Command pgcollector is the only composition root of the project: it
// loads configuration, applies datastore migrations, manages monitored
// connections and probe settings, and runs the selected stages over the
// bus until SIGINT or SIGTERM.
package main
