package shares

import (
	"context"
	"io/fs"
	"os"
	"time"

	"github.com/peerdesk/peerdesk/access"
)

// Partial files (.peerdesk-*.part beside their target) keep an interrupted
// upload or push-send for its resume. They are hidden from listings, so
// without a clean-up those a sender never resumed would hold the owner's
// disk for good, out of sight.
const (
	// PartialMaxAge is how long a partial file not written to waits for
	// its resume.
	PartialMaxAge = 7 * 24 * time.Hour
	// partialSweepEvery is how often the running peer looks for them.
	partialSweepEvery = 6 * time.Hour
)

// CleanPartials removes the partial files of every folder share and the
// inbox that were last written before now-maxAge, and reports how many it
// removed and their bytes. A partial written to since (a transfer going
// on or resumed) is kept. Symlinks are not followed.
func (svc *Service) CleanPartials(ctx context.Context, now time.Time, maxAge time.Duration) (int, int64) {
	var dirs []string
	for _, sh := range svc.shares.List() {
		if sh.Kind == access.KindFolder {
			dirs = append(dirs, sh.Path)
		}
	}
	dirs = append(dirs, svc.Inbox())
	removed, bytes := 0, int64(0)
	for _, dir := range dirs {
		root, err := os.OpenRoot(dir)
		if err != nil {
			continue // a share whose folder is gone, an inbox not made yet
		}
		_ = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				return fs.SkipAll
			}
			if err != nil || d.IsDir() || !d.Type().IsRegular() || !isTempName(d.Name()) {
				return nil
			}
			info, err := d.Info()
			if err != nil || now.Sub(info.ModTime()) < maxAge {
				return nil
			}
			if root.Remove(p) == nil {
				removed++
				bytes += info.Size()
			}
			return nil
		})
		root.Close()
	}
	if removed > 0 {
		svc.log.Info("removed partial files no transfer resumed", "files", removed, "bytes", bytes, "older_than", maxAge.String())
	}
	return removed, bytes
}

// RunPartialCleaner cleans partial files at start and every 6 hours until
// ctx ends.
func (svc *Service) RunPartialCleaner(ctx context.Context) {
	t := time.NewTicker(partialSweepEvery)
	defer t.Stop()
	for {
		svc.CleanPartials(ctx, svc.cfg.Now(), PartialMaxAge)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
