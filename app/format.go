package app

import (
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/peerdesk/peerdesk/internal/human"
)

// humanBytes is a size as people read it: "512 B", "1.5 MiB".
func humanBytes(n int64) string { return human.Bytes(n) }

// humanRate is a transfer rate: "12.5 MiB/s".
func humanRate(bytesPerSecond float64) string {
	if bytesPerSecond <= 0 || math.IsNaN(bytesPerSecond) {
		return ""
	}
	return humanBytes(int64(bytesPerSecond)) + "/s"
}

// humanETA is the time left: "3 s", "2 min 5 s", "1 h 4 min".
func humanETA(seconds float64) string {
	if seconds <= 0 || math.IsNaN(seconds) || math.IsInf(seconds, 0) {
		return ""
	}
	d := time.Duration(seconds * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s left", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s left", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%d h %d min left", int(d.Hours()), int(d.Minutes())%60)
}

// humanTime is a date and time in the local zone.
func humanTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// mustURL parses a URL built from a file URI (which always parses).
func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{Scheme: "file", Path: "/"}
	}
	return u
}

// shortName fits a name into limit runes (at least 8) for a button or a
// chooser, whose width would otherwise follow the longest name and push
// the window wider than the screen: the start and the end stay (the end
// holds the extension or a number), an ellipsis replaces the middle.
func shortName(s string, limit int) string {
	limit = max(limit, 8)
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	tail := min(10, limit/3)
	return string(r[:limit-1-tail]) + "…" + string(r[len(r)-tail:])
}
