package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestScheduleHoldsTheRate(t *testing.T) {
	tests := []struct {
		name  string
		rate  int64
		steps []int           // bytes asked, one request each, all at once
		idle  time.Duration   // clock moved before the requests
		want  []time.Duration // wait of each request
	}{
		{"no limit", 0, []int{1 << 20, 1 << 20}, 0, []time.Duration{0, 0}},
		{"fresh limiter allows only the burst", 1 << 20, []int{1 << 20}, 0, []time.Duration{time.Second - burst}},
		{"requests queue behind each other", 1 << 20, []int{512 << 10, 512 << 10, 1 << 20},
			0, []time.Duration{500*time.Millisecond - burst, time.Second - burst, 2*time.Second - burst}},
		{"idle time is not saved up", 1 << 20, []int{1 << 20}, time.Hour, []time.Duration{time.Second - burst}},
		{"small requests within the burst go at once", 1 << 20, []int{10 << 10}, 0, []time.Duration{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1e9, 0)}
			l := &Limiter{now: clock.now}
			l.SetRate(tc.rate)
			clock.t = clock.t.Add(tc.idle)
			for i, n := range tc.steps {
				got := max(l.reserve(n), 0)
				// Float rounding: within a microsecond.
				if d := got - tc.want[i]; d > time.Microsecond || d < -time.Microsecond {
					t.Errorf("request %d of %d bytes: wait %v, want %v", i, n, got, tc.want[i])
				}
			}
		})
	}
}

// Over a long run the schedule grants exactly the rate, whatever the
// request sizes and however callers interleave.
func TestScheduleLongRun(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	l := &Limiter{now: clock.now}
	const rate = 3 << 20
	l.SetRate(rate)
	sizes := []int{1, 1500, 64 << 10, 4096, 333}
	var moved int64
	start := clock.t
	for i := 0; moved < 300<<20; i++ {
		n := sizes[i%len(sizes)]
		if d := l.reserve(n); d > 0 {
			clock.t = clock.t.Add(d) // the caller sleeps its wait
		}
		moved += int64(n)
	}
	got := float64(moved) / clock.t.Sub(start).Seconds()
	if ratio := got / rate; ratio < 0.999 || ratio > 1.001 {
		t.Fatalf("moved %d bytes at %.0f B/s against a limit of %d (ratio %.4f)", moved, got, rate, ratio)
	}
}

func TestSetRateAppliesToTheNextRequest(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	l := &Limiter{now: clock.now}
	l.SetRate(1 << 10)
	if d := l.reserve(1 << 20); d < time.Minute {
		t.Fatalf("1 MiB at 1 KiB/s: wait %v", d)
	}
	l.SetRate(0) // removed: what was booked at the old rate does not hold up others
	if d := l.reserve(1 << 20); d != 0 {
		t.Fatalf("no limit: wait %v", d)
	}
	if l.Rate() != 0 {
		t.Fatalf("Rate() = %d", l.Rate())
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	l := &Limiter{}
	l.SetRate(1) // a byte a second: 1 MiB would take days
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	if err := l.WaitN(ctx, 1<<20); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitN after cancel: %v", err)
	}
	w := l.Writer(ctx, io.Discard)
	if n, err := w.Write(make([]byte, 1<<20)); !errors.Is(err, context.Canceled) || n != 0 {
		t.Fatalf("Write after cancel: %d, %v", n, err)
	}
}

// The wrappers pass every byte through unchanged, in pieces a wait covers.
func TestReaderAndWriterKeepTheBytes(t *testing.T) {
	data := bytes.Repeat([]byte("peerdesk"), 100_000)
	var l Limiter
	l.SetRate(1 << 40) // a limit that never waits: only the bytes matter
	var out bytes.Buffer
	n, err := io.Copy(l.Writer(context.Background(), &out), l.Reader(context.Background(), bytes.NewReader(data)))
	if err != nil || n != int64(len(data)) || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("copy: %d, %v, equal %v", n, err, bytes.Equal(out.Bytes(), data))
	}
	var nilLimiter *Limiter
	if r := nilLimiter.Reader(context.Background(), bytes.NewReader(data)); r == nil {
		t.Fatal("nil limiter's reader is nil")
	}
	var nilLimits *Limits
	if nilLimits.Upload() != nil || nilLimits.Download() != nil {
		t.Fatal("nil Limits gives limiters")
	}
}
