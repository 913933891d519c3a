// Command lifecycle-ferretdb runs FerretDB v1 (MongoDB wire protocol over SQLite)
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
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address for the MongoDB wire protocol")
	sqliteDir := flag.String("sqlite-dir", "data", "directory for SQLite files (one per database); created if missing")
	logLevel := flag.String("log-level", "info", "debug, info, warn or error")
	flag.Parse()

	if err := run(*listenAddr, *sqliteDir, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "lifecycle-ferretdb:", err)
		os.Exit(1)
	}
}

func run(listenAddr, sqliteDir, logLevel string) error {
	// The embedded package never starts the telemetry reporter; this is belt and braces
	// in case a dependency checks the convention.
	os.Setenv("DO_NOT_TRACK", "1")

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("bad -log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir, err := filepath.Abs(sqliteDir)
	if err != nil {
		return err
	}
	// FerretDB insists on an existing directory and a URI path ending in "/".
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	sqliteURL := (&url.URL{Scheme: "file", Path: dir + "/", OmitHost: true}).String()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listenAddr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger.Info("lifecycle-ferretdb ready", "uri", f.MongoDBURI(), "sqlite", sqliteURL)
	// Run returns after ctx is cancelled and connections and SQLite are closed.
	err = f.Run(ctx)
	logger.Info("lifecycle-ferretdb stopped")
	return err
}
