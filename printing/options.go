package printing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Capabilities are what a queue can do beyond its formats, as far as the
// spooler tells: what an IPP Everywhere endpoint standing for the printer
// on another peer describes (printing/ippserve), and what job options
// (JobOptions) may ask for.
type Capabilities struct {
	// MakeModel is the printer's make and model ("HP LaserJet 400").
	MakeModel string `json:"make_model,omitempty"`
	// Media are the PWG media keywords the queue takes
	// ("iso_a4_210x297mm"), MediaDefault its default one.
	Media        []string `json:"media,omitempty"`
	MediaDefault string   `json:"media_default,omitempty"`
	// Color: prints in color. Duplex: prints on both sides.
	Color  bool `json:"color,omitempty"`
	Duplex bool `json:"duplex,omitempty"`
	// CopiesMax is the most copies one job may ask for (0: 1).
	CopiesMax int `json:"copies_max,omitempty"`
	// PagesPerMinute is the printer's speed, if it says (0: unknown).
	PagesPerMinute int `json:"ppm,omitempty"`
}

// Limits on capabilities a peer reports.
const (
	maxMakeModel = 127
	maxMedia     = 128
	maxKeyword   = 64
)

// validKeyword is an IPP keyword (RFC 8011 section 5.1.4): lowercase
// letters, digits, '-', '_' and '.', at most 64 bytes here.
func isControl(r rune) bool { return unicode.IsControl(r) }

func validKeyword(s string) bool {
	return s != "" && len(s) <= maxKeyword && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	})
}

// check refuses capabilities no spooler reports: a peer's answer is
// hostile until checked.
func (c *Capabilities) check() error {
	if len(c.MakeModel) > maxMakeModel || strings.ContainsFunc(c.MakeModel, isControl) {
		return fmt.Errorf("make_model not a short line of text")
	}
	if len(c.Media) > maxMedia {
		return fmt.Errorf("%d media (at most %d)", len(c.Media), maxMedia)
	}
	for _, m := range c.Media {
		if !validKeyword(m) {
			return fmt.Errorf("media %q is not a keyword", truncate(m, 40))
		}
	}
	if c.MediaDefault != "" && !slices.Contains(c.Media, c.MediaDefault) {
		return fmt.Errorf("media_default %q not among the media", truncate(c.MediaDefault, 40))
	}
	if c.CopiesMax < 0 || c.CopiesMax > MaxCopies || c.PagesPerMinute < 0 || c.PagesPerMinute > 10_000 {
		return fmt.Errorf("copies_max %d or ppm %d out of range", c.CopiesMax, c.PagesPerMinute)
	}
	return nil
}

// JobOptions are what a job may ask of the printer besides copies. The
// zero value prints the whole document with the queue's defaults.
type JobOptions struct {
	// PageRanges are 1-based inclusive page ranges, ascending and not
	// overlapping; nil prints every page.
	PageRanges [][2]int
	// Media, Sides ("one-sided", "two-sided-long-edge",
	// "two-sided-short-edge") and ColorMode ("auto", "color",
	// "monochrome"): empty for the queue's default.
	Media, Sides, ColorMode string
}

// maxPageRanges bounds JobOptions.PageRanges; maxPage is the highest page
// number (IPP's rangeOfInteger is 32-bit): "8-" means 8 to maxPage.
const (
	maxPageRanges = 64
	maxPage       = 1<<31 - 1
)

// ParsePageRanges reads "1-3,5,8-" style page ranges ("8-": to the end).
func ParsePageRanges(s string) ([][2]int, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxPageRanges {
		return nil, fmt.Errorf("more than %d page ranges", maxPageRanges)
	}
	var out [][2]int
	for _, p := range parts {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(p), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 1 || a > maxPage {
			return nil, fmt.Errorf("page range %q: pages are numbered from 1", p)
		}
		b := a
		if isRange {
			if hi == "" {
				b = maxPage
			} else if b, err = strconv.Atoi(hi); err != nil || b < a || b > maxPage {
				return nil, fmt.Errorf("page range %q: not FIRST-LAST with LAST ≥ FIRST", p)
			}
		}
		if len(out) > 0 && a <= out[len(out)-1][1] {
			return nil, fmt.Errorf("page range %q: ranges must ascend without overlapping", p)
		}
		out = append(out, [2]int{a, b})
	}
	return out, nil
}

// checkPageRanges refuses ranges ParsePageRanges would not give.
func checkPageRanges(rs [][2]int) error {
	if len(rs) > maxPageRanges {
		return fmt.Errorf("more than %d page ranges", maxPageRanges)
	}
	for i, r := range rs {
		if r[0] < 1 || r[1] < r[0] || r[1] > maxPage || (i > 0 && r[0] <= rs[i-1][1]) {
			return fmt.Errorf("page ranges must be 1-based, ascending, not overlapping and below %d", maxPage)
		}
	}
	return nil
}

// FormatPageRanges writes page ranges as ParsePageRanges reads them.
func FormatPageRanges(rs [][2]int) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		switch {
		case r[0] == r[1]:
			parts[i] = strconv.Itoa(r[0])
		case r[1] == maxPage:
			parts[i] = strconv.Itoa(r[0]) + "-"
		default:
			parts[i] = strconv.Itoa(r[0]) + "-" + strconv.Itoa(r[1])
		}
	}
	return strings.Join(parts, ",")
}

// check refuses options the queue with caps does not offer.
func (o JobOptions) check(queue string, caps Capabilities) error {
	if err := checkPageRanges(o.PageRanges); err != nil {
		return fmt.Errorf("printer %s: %w: %w", queue, err, ErrUnsupportedOption)
	}
	if o.Media != "" && !slices.Contains(caps.Media, o.Media) {
		return fmt.Errorf("printer %s does not take media %q: %w", queue, o.Media, ErrUnsupportedOption)
	}
	switch o.Sides {
	case "", "one-sided":
	case "two-sided-long-edge", "two-sided-short-edge":
		if !caps.Duplex {
			return fmt.Errorf("printer %s does not print on both sides: %w", queue, ErrUnsupportedOption)
		}
	default:
		return fmt.Errorf("sides %q: %w", o.Sides, ErrUnsupportedOption)
	}
	switch o.ColorMode {
	case "", "auto", "monochrome":
	case "color":
		if !caps.Color {
			return fmt.Errorf("printer %s does not print in color: %w", queue, ErrUnsupportedOption)
		}
	default:
		return fmt.Errorf("print color mode %q: %w", o.ColorMode, ErrUnsupportedOption)
	}
	return nil
}
