// Package testlog is the logger of the core packages' tests: quiet, unless
// PEERDESK_TEST_LOG is set, then everything down to debug on stderr.
package testlog

import (
	"io"
	"log/slog"
	"os"
)

// Logger is a test's logger.
func Logger() *slog.Logger {
	if os.Getenv("PEERDESK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
