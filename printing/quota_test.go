package printing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/access"
)

func TestCopyQuota(t *testing.T) {
	q := newCopyQuota(10)
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	k := quotaKey{"peer-a", "alice"}
	if _, err := q.take(k, 6, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := q.take(k, 0, t0.Add(10*time.Minute)); err != nil { // 0 copies is 1
		t.Fatal(err)
	}
	_, err := q.take(k, 5, t0.Add(20*time.Minute))
	if !errors.Is(err, access.ErrBusy) || !strings.Contains(err.Error(), "in 40 min") {
		t.Fatalf("over the quota: %v, want busy, more in 40 min (when the first job's 6 copies free)", err)
	}
	// Another account of the same peer, and the same account of another peer, have their own.
	for _, other := range []quotaKey{{"peer-a", "bob"}, {"peer-b", "alice"}} {
		if _, err := q.take(other, 10, t0.Add(20*time.Minute)); err != nil {
			t.Errorf("%v: %v", other, err)
		}
	}
	undo, err := q.take(k, 3, t0.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	undo()
	if _, err := q.take(k, 3, t0.Add(31*time.Minute)); err != nil {
		t.Fatalf("copies given back do not count: %v", err)
	}
	if _, err := q.take(k, 5, t0.Add(61*time.Minute)); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
	if _, err := q.take(k, 11, t0.Add(3*time.Hour)); err == nil || !strings.Contains(err.Error(), "in one job") {
		t.Fatalf("one job over the hourly quota: %v", err)
	}
}

// TestCopyQuotaForgetsIdentities: fresh identities cannot grow the table
// without bound.
func TestCopyQuotaForgetsIdentities(t *testing.T) {
	q := newCopyQuota(10)
	t0 := time.Now()
	for i := range maxQuotaKeys * 2 {
		if _, err := q.take(quotaKey{peer: strings.Repeat("x", i%7) + string(rune('a'+i%26)) + time.Duration(i).String()}, 1, t0.Add(time.Duration(i)*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(q.used); n > maxQuotaKeys {
		t.Fatalf("%d pairs tracked, bound %d", n, maxQuotaKeys)
	}
}
