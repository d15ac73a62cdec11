//go:build !linux

package discovery

import (
	"context"
	"log/slog"
)

// watchInterfaceChanges has no notifications here: the watcher's rescan
// every rescanEvery finds the changes.
func watchInterfaceChanges(context.Context, *slog.Logger, chan<- struct{}) (stop func(), notified bool) {
	return func() {}, false
}
