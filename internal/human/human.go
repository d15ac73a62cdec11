// Package human formats quantities the way people read them, for the CLI
// and the desktop app alike.
package human

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bytes is a size in binary units: "512 B", "1.5 MiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Rate is a transfer limit as people set it, exact so that ParseRate
// reads it back: "none" for 0, a whole number of a unit where one fits
// ("10 MB/s", "1536 KiB/s"), else decimal units with a fraction
// ("1.5 KB/s").
func Rate(bytesPerSecond int64) string {
	if bytesPerSecond <= 0 {
		return "none"
	}
	for _, u := range []struct {
		size int64
		name string
	}{{1e9, "GB"}, {1e6, "MB"}, {1e3, "KB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if bytesPerSecond >= u.size && bytesPerSecond%u.size == 0 {
			return fmt.Sprintf("%d %s/s", bytesPerSecond/u.size, u.name)
		}
	}
	for _, u := range []struct {
		size float64
		name string
	}{{1e9, "GB"}, {1e6, "MB"}, {1e3, "KB"}} {
		if float64(bytesPerSecond) >= u.size {
			return strconv.FormatFloat(float64(bytesPerSecond)/u.size, 'f', -1, 64) + " " + u.name + "/s"
		}
	}
	return fmt.Sprintf("%d B/s", bytesPerSecond)
}

// ErrRate is wrapped by ParseRate's errors.
var ErrRate = errors.New("a rate is like 10MB/s, 500KiB/s or 80Mbit/s, or 0 for no limit")

// Rates a limit may be set to: below MinRate a transfer would seem hung.
const (
	MinRate = 1 << 10
	MaxRate = 1 << 40
)

// ParseRate reads a transfer limit in bytes per second: a number and a
// unit (B, KB, MB, GB decimal; KiB, MiB, GiB binary; kbit, Mbit, Gbit in
// bits), "/s" optional; "0", "none", "off" and "" mean no limit.
func ParseRate(s string) (int64, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "0", "none", "off", "unlimited":
		return 0, nil
	}
	body := strings.TrimSuffix(s, "/s")
	i := strings.IndexFunc(body, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	if i <= 0 {
		return 0, fmt.Errorf("%w: %q has no number or no unit", ErrRate, s)
	}
	num, err := strconv.ParseFloat(body[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", ErrRate, s, err)
	}
	unit := strings.TrimSpace(body[i:])
	mult, ok := rateUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("%w: unknown unit %q", ErrRate, unit)
	}
	v := num * mult
	if math.IsNaN(v) || v < MinRate || v > MaxRate {
		return 0, fmt.Errorf("%w: %q is outside 1 KiB/s to 1 TiB/s", ErrRate, s)
	}
	return int64(v), nil
}

var rateUnits = map[string]float64{
	"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
	"kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8,
}
