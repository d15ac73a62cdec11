package bulk

import "sync/atomic"

// flows counts the bodies this process is sending or receiving, on every
// session; onActivity hears when the count leaves zero and when it comes
// back to it (a process-wide policy such as the daemon's processor count
// follows it).
var (
	flows      atomic.Int64
	onActivity atomic.Pointer[func(busy bool)]
)

// SetOnActivity sets the function told busy=true when a first body starts
// moving and busy=false when the last one ended (nil: none). It is called
// from the transfer's goroutine, outside any lock; two transitions close
// together may reach it in either order, so it should check Flows before
// acting on busy=false.
func SetOnActivity(fn func(busy bool)) {
	if fn == nil {
		onActivity.Store(nil)
		return
	}
	onActivity.Store(&fn)
}

// Flows reports how many bodies are moving in this process now.
func Flows() int64 { return flows.Load() }

func flowBegan() {
	if flows.Add(1) == 1 {
		tellActivity(true)
	}
}

func flowEnded() {
	if flows.Add(-1) == 0 {
		tellActivity(false)
	}
}

func tellActivity(busy bool) {
	if fn := onActivity.Load(); fn != nil {
		(*fn)(busy)
	}
}
