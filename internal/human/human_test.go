package human

import (
	"errors"
	"testing"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{200 << 20, "200.0 MiB"},
		{5 << 30, "5.0 GiB"},
		{1 << 62, "4.0 EiB"},
	} {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"off", 0, false},
		{"None", 0, false},
		{"10MB/s", 10_000_000, false},
		{"10 MB/s", 10_000_000, false},
		{"10mb", 10_000_000, false},
		{"500KiB/s", 500 << 10, false},
		{"1.5MiB/s", 3 << 19, false},
		{"80Mbit/s", 10_000_000, false},
		{"1gbit", 125_000_000, false},
		{"2GB/s", 2_000_000_000, false},
		{"1024B/s", 1024, false},
		{"10", 0, true},         // no unit: bytes or kilobytes?
		{"MB/s", 0, true},       // no number
		{"10 parsecs", 0, true}, // unknown unit
		{"100B/s", 0, true},     // below 1 KiB/s
		{"5000GB/s", 0, true},   // above 1 TiB/s
		{"-5MB/s", 0, true},
		{"1e3MB/s", 0, true},
		{"1..5MB/s", 0, true},
	} {
		got, err := ParseRate(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
		if err != nil && !errors.Is(err, ErrRate) {
			t.Errorf("ParseRate(%q): %v does not wrap ErrRate", tc.in, err)
		}
	}
}

func TestRateRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "none"},
		{10_000_000, "10 MB/s"},
		{125_000_000, "125 MB/s"},
		{2_000_000_000, "2 GB/s"},
		{500 << 10, "512 KB/s"},
		{3 << 19, "1536 KiB/s"},
		{1500, "1.5 KB/s"},
		{1234567, "1.234567 MB/s"},
	} {
		got := Rate(tc.n)
		if got != tc.want {
			t.Errorf("Rate(%d) = %q, want %q", tc.n, got, tc.want)
		}
		// What Rate prints, ParseRate reads back.
		if back, err := ParseRate(got); err != nil || back != tc.n {
			t.Errorf("ParseRate(Rate(%d) = %q) = %d, %v", tc.n, got, back, err)
		}
	}
}

func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"10MB/s", "500KiB/s", "80Mbit/s", "off", "1.5 GiB/s", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseRate(s)
		if err != nil {
			return
		}
		if n != 0 && (n < MinRate || n > MaxRate) {
			t.Fatalf("ParseRate(%q) = %d, outside the limits", s, n)
		}
	})
}
