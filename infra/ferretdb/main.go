// Command lifecycle-ferretdb runs FerretDB v1 (MongoDB wire protocol over PostgreSQL)
// through its embeddable package. We wrap it because `go install .../cmd/ferretdb`
// panics at start without a generated build/version/version.txt.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address for the MongoDB wire protocol")
	postgresqlURL := flag.String("postgresql-url", "postgres://postgres@127.0.0.1:54329/ferretdb",
		"PostgreSQL database for FerretDB's data (one schema per MongoDB database); it must exist")
	logLevel := flag.String("log-level", "info", "debug, info, warn or error")
	flag.Parse()

	if err := run(*listenAddr, *postgresqlURL, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "lifecycle-ferretdb:", err)
		os.Exit(1)
	}
}

// poolSize is the default size of FerretDB's PostgreSQL pool, up from its 50. An update command holds one
// connection per statement until the whole command ends (FerretDB closes each statement's query only then),
// plus one to write: with a pool of 50, a command of 50 updates waits forever for its own connections
// (measured: 49 pass, 50 hang). Concurrent commands share the pool, so keep update commands well below it.
// The pool opens connections on demand, and pool_max_conn_idle_time closes idle ones after a minute.
const poolSize = "256"

// withPoolSize adds pool_max_conns (unless the URL sets it) and pool_max_conn_idle_time to a PostgreSQL URL.
func withPoolSize(u string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("bad -postgresql-url: %w", err)
	}
	q := parsed.Query()
	if !q.Has("pool_max_conns") {
		q.Set("pool_max_conns", poolSize)
	}
	q.Set("pool_max_conn_idle_time", "1m")
	parsed.RawQuery = q.Encode()
	return parsed.String(), nil
}

func run(listenAddr, postgresqlURL, logLevel string) error {
	// The embedded package never starts the telemetry reporter; this is belt and braces
	// in case a dependency checks the convention.
	os.Setenv("DO_NOT_TRACK", "1")

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("bad -log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	postgresqlURL, err := withPoolSize(postgresqlURL)
	if err != nil {
		return err
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: postgresqlURL,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger.Info("lifecycle-ferretdb ready", "uri", f.MongoDBURI())
	// Run returns after ctx is cancelled and connections and the PostgreSQL pool are closed.
	err = f.Run(ctx)
	logger.Info("lifecycle-ferretdb stopped")
	return err
}
