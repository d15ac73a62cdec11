package netns

import (
	"testing"
	"time"
)

// WaitFor polls cond every poll until it returns true, and fails the test
// with cond's last message if that has not happened within timeout. Use it
// instead of sleeping: a condition met early ends the wait early.
//
//	netns.WaitFor(t, 2*time.Second, 50*time.Millisecond, func() (bool, string) {
//		out, _, _ := h1.Run(t, bin, "peers", "--json")
//		return strings.Contains(out, id0), "h1 peers: " + out
//	})
func WaitFor(t testing.TB, timeout, poll time.Duration, cond func() (ok bool, msg string)) {
	t.Helper()
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if !time.Now().Before(deadline) {
			t.Fatalf("netns: condition not met within %v: %s", timeout, msg)
			return // a fake testing.TB may return from Fatalf
		}
		time.Sleep(min(poll, time.Until(deadline)))
	}
}
