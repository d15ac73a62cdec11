// Package ratelimit caps the bytes per second that file transfers move,
// shared by every transfer in one direction, as the upload and download
// limits of Syncthing or Windows BITS do.
//
// A Limiter schedules bytes rather than counting tokens: each request is
// given the moment by which the bytes granted before it are paid for at
// the rate (the generic cell rate algorithm). Callers are served in the
// order they asked, a limit holds over any stretch longer than the small
// burst it allows, and a change of rate applies to the next request.
package ratelimit

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// burst is how far ahead of the schedule an idle limiter lets bytes go:
// enough to keep a disk or a socket busy between waits, short enough that
// a limited transfer of a few seconds is within 5% of the rate.
const burst = 20 * time.Millisecond

// piece is the most bytes one wait covers, so that transfers sharing a
// limiter take turns in small steps.
const piece = 64 << 10

// Limiter caps a byte rate. The zero value has no limit. It is safe for
// concurrent use.
type Limiter struct {
	mu   sync.Mutex
	rate float64   // bytes per second; 0: no limit
	paid time.Time // when the bytes granted so far are paid for
	now  func() time.Time
}

// SetRate sets the limit in bytes per second; 0 (or less) removes it.
func (l *Limiter) SetRate(bytesPerSecond int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rate = float64(max(bytesPerSecond, 0))
	l.paid = time.Time{}
}

// Rate is the limit in bytes per second, 0 for none.
func (l *Limiter) Rate() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(l.rate)
}

// reserve books n bytes and returns how long the caller must wait before
// moving them.
func (l *Limiter) reserve(n int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate <= 0 || n <= 0 {
		return 0
	}
	now := time.Now()
	if l.now != nil {
		now = l.now()
	}
	// Time not used while idle is not saved up beyond the burst.
	if start := now.Add(-burst); l.paid.Before(start) {
		l.paid = start
	}
	l.paid = l.paid.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	return l.paid.Sub(now)
}

// WaitN blocks until n more bytes may move, or ctx ends. A nil Limiter
// never waits.
func (l *Limiter) WaitN(ctx context.Context, n int) error {
	if l == nil {
		return ctx.Err()
	}
	d := l.reserve(n)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reader returns r read no faster than the limit (r itself for a nil
// Limiter). Reads end with ctx's error once ctx ends.
func (l *Limiter) Reader(ctx context.Context, r io.Reader) io.Reader {
	if l == nil {
		return r
	}
	return &reader{ctx: ctx, l: l, r: r}
}

type reader struct {
	ctx context.Context
	l   *Limiter
	r   io.Reader
}

func (r *reader) Read(p []byte) (int, error) {
	if len(p) > piece {
		p = p[:piece]
	}
	// Waiting after the read charges what was read, not what was asked.
	n, err := r.r.Read(p)
	if werr := r.l.WaitN(r.ctx, n); werr != nil {
		return 0, werr
	}
	return n, err
}

// Writer returns w written no faster than the limit (w itself for a nil
// Limiter). Writes end with ctx's error once ctx ends.
func (l *Limiter) Writer(ctx context.Context, w io.Writer) io.Writer {
	if l == nil {
		return w
	}
	return &writer{ctx: ctx, l: l, w: w}
}

type writer struct {
	ctx context.Context
	l   *Limiter
	w   io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n := min(len(p)-done, piece)
		if err := w.l.WaitN(w.ctx, n); err != nil {
			return done, err
		}
		m, err := w.w.Write(p[done : done+n])
		done += m
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// Limits are one peer's transfer limits: Up for file contents it sends,
// Down for those it receives, and whether its transfers run in
// background mode (yielding to other traffic on the path; the transport
// does that, this only keeps the choice).
type Limits struct {
	Up, Down   Limiter
	background atomic.Bool
}

// SetBackground turns background mode on or off for the transfers that
// start next.
func (l *Limits) SetBackground(on bool) { l.background.Store(on) }

// Background reports whether transfers run in background mode (false
// for a nil Limits).
func (l *Limits) Background() bool { return l != nil && l.background.Load() }

// Upload is the limiter of what the peer sends (nil for a nil Limits).
func (l *Limits) Upload() *Limiter {
	if l == nil {
		return nil
	}
	return &l.Up
}

// Download is the limiter of what the peer receives (nil for a nil
// Limits).
func (l *Limits) Download() *Limiter {
	if l == nil {
		return nil
	}
	return &l.Down
}
