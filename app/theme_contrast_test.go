package app

import (
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// luminance is WCAG 2.1's relative luminance of c, composited over bg
// when c is translucent.
func luminance(c, bg color.Color) float64 {
	r, g, b, a := c.RGBA()
	br, bgG, bb, _ := bg.RGBA()
	mix := func(v, under uint32) float64 {
		// RGBA is premultiplied: v + under×(1−a).
		return (float64(v) + float64(under)*(1-float64(a)/0xffff)) / 0xffff
	}
	lin := func(v float64) float64 {
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(mix(r, br)) + 0.7152*lin(mix(g, bgG)) + 0.0722*lin(mix(b, bb))
}

// contrast is WCAG 2.1's contrast ratio of text colour fg on bg.
func contrast(fg, bg color.Color) float64 {
	l1, l2 := luminance(fg, bg), luminance(bg, bg)
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05)
}

// TestTextContrast: every colour text is drawn in (labels of every
// importance, hints, links, entries' text and placeholders) is at least
// 4.5:1 against the backgrounds it is drawn on, in both variants.
func TestTextContrast(t *testing.T) {
	texts := []fyne.ThemeColorName{theme.ColorNameForeground, theme.ColorNamePrimary, theme.ColorNameError,
		theme.ColorNameWarning, theme.ColorNameSuccess, theme.ColorNameDisabled, theme.ColorNamePlaceHolder,
		theme.ColorNameHyperlink}
	backgrounds := []fyne.ThemeColorName{theme.ColorNameBackground, theme.ColorNameInputBackground}
	for _, choice := range []string{themeLight, themeDark} {
		th := newAppTheme(choice)
		for _, bgName := range backgrounds {
			bg := th.Color(bgName, theme.VariantLight)
			// Input backgrounds are translucent over the window's.
			bg = flatten(bg, th.Color(theme.ColorNameBackground, theme.VariantLight))
			for _, fgName := range texts {
				c := contrast(th.Color(fgName, theme.VariantLight), bg)
				if c < 4.5 {
					t.Errorf("%s theme: %s on %s: %.2f:1, want ≥ 4.5:1", choice, fgName, bgName, c)
				} else {
					t.Logf("%s theme: %s on %s: %.2f:1", choice, fgName, bgName, c)
				}
			}
		}
	}
}

// flatten composites a translucent colour over an opaque one.
func flatten(c, under color.Color) color.Color {
	r, g, b, a := c.RGBA()
	ur, ug, ub, _ := under.RGBA()
	k := 1 - float64(a)/0xffff
	f := func(v, u uint32) uint8 { return uint8((float64(v) + float64(u)*k) / 0xffff * 255) }
	return color.NRGBA{f(r, ur), f(g, ug), f(b, ub), 0xff}
}
