package access

import (
	"io"
	"log/slog"
	"os"
)

// quietLogger keeps test output readable; set PEERDESK_TEST_LOG=1 to see logs.
func quietLogger() *slog.Logger {
	if os.Getenv("PEERDESK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
