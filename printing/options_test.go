package printing

import (
	"errors"
	"testing"
)

func TestPageRanges(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"", "", false},
		{"1", "1", false},
		{"1-3,5,8-", "1-3,5,8-", false},
		{" 2 - 4", "", true}, // inner spaces are not a number
		{"0", "", true},
		{"3-1", "", true},
		{"1-3,2", "", true}, // overlapping
		{"5,1", "", true},   // descending
		{"a-b", "", true},
	}
	for _, tt := range tests {
		got, err := ParsePageRanges(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePageRanges(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && FormatPageRanges(got) != tt.want {
			t.Errorf("ParsePageRanges(%q) = %v, formats as %q, want %q", tt.in, got, FormatPageRanges(got), tt.want)
		}
	}
}

func TestJobOptionsAgainstCapabilities(t *testing.T) {
	mono := Capabilities{Media: []string{"iso_a4_210x297mm"}}
	full := Capabilities{Media: []string{"iso_a4_210x297mm", "na_letter_8.5x11in"}, Color: true, Duplex: true}
	tests := []struct {
		name string
		o    JobOptions
		caps Capabilities
		ok   bool
	}{
		{"defaults", JobOptions{}, mono, true},
		{"offered media", JobOptions{Media: "iso_a4_210x297mm"}, mono, true},
		{"media not offered", JobOptions{Media: "na_letter_8.5x11in"}, mono, false},
		{"duplex on simplex printer", JobOptions{Sides: "two-sided-long-edge"}, mono, false},
		{"duplex", JobOptions{Sides: "two-sided-long-edge"}, full, true},
		{"color on mono printer", JobOptions{ColorMode: "color"}, mono, false},
		{"monochrome anywhere", JobOptions{ColorMode: "monochrome"}, mono, true},
		{"unknown sides", JobOptions{Sides: "three-sided"}, full, false},
		{"bad ranges", JobOptions{PageRanges: [][2]int{{3, 1}}}, full, false},
		{"ranges", JobOptions{PageRanges: [][2]int{{1, 2}, {4, 4}}}, full, true},
	}
	for _, tt := range tests {
		err := tt.o.check("q", tt.caps)
		if (err == nil) != tt.ok {
			t.Errorf("%s: check = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnsupportedOption) {
			t.Errorf("%s: %v does not wrap ErrUnsupportedOption", tt.name, err)
		}
	}
}

func TestCapabilitiesFromAPeerAreChecked(t *testing.T) {
	long := make([]string, maxMedia+1)
	for i := range long {
		long[i] = "iso_a4_210x297mm"
	}
	tests := []struct {
		name string
		c    Capabilities
		ok   bool
	}{
		{"real", Capabilities{MakeModel: "HP LaserJet", Media: []string{"iso_a4_210x297mm"}, MediaDefault: "iso_a4_210x297mm", CopiesMax: 99}, true},
		{"control characters in model", Capabilities{MakeModel: "HP\x1b[2J"}, false},
		{"too many media", Capabilities{Media: long}, false},
		{"media not a keyword", Capabilities{Media: []string{"A4; rm -rf"}}, false},
		{"default not offered", Capabilities{Media: []string{"iso_a4_210x297mm"}, MediaDefault: "na_letter_8.5x11in"}, false},
		{"copies out of range", Capabilities{CopiesMax: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.c.check(); (err == nil) != tt.ok {
			t.Errorf("%s: check = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func FuzzParsePageRanges(f *testing.F) {
	for _, s := range []string{"1", "1-3,5,8-", "0", "3-1", "1,1", "-", "2147483647-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParsePageRanges(s)
		if err != nil {
			return
		}
		if err := checkPageRanges(rs); err != nil {
			t.Fatalf("ParsePageRanges(%q) = %v, which checkPageRanges refuses: %v", s, rs, err)
		}
		again, err := ParsePageRanges(FormatPageRanges(rs))
		if err != nil || FormatPageRanges(again) != FormatPageRanges(rs) {
			t.Fatalf("%q: round trip %v → %q → %v, %v", s, rs, FormatPageRanges(rs), again, err)
		}
	})
}
