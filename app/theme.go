package app

import (
	"image/color"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/peerdesk/peerdesk/assets"
)

// Theme choices in Settings, kept in the app's preferences (a choice of
// this desktop's look, not of the peer, so the daemon has no part in it).
const (
	prefTheme   = "theme"
	themeSystem = "System"
	themeLight  = "Light"
	themeDark   = "Dark"
)

// appTheme is Fyne's default theme with Peerdesk's colours from
// assets/theme.json, shown light or dark as the person chose (or as the
// system says).
type appTheme struct {
	fyne.Theme
	variant *fyne.ThemeVariant
}

func newAppTheme(choice string) fyne.Theme {
	base, err := theme.FromJSONWithFallback(string(assets.ThemeJSON()), theme.DefaultTheme())
	if err != nil {
		slog.Warn("gui: theme colours unreadable, using the default", "err", err)
		base = theme.DefaultTheme()
	}
	t := &appTheme{Theme: base}
	switch choice {
	case themeLight:
		v := theme.VariantLight
		t.variant = &v
	case themeDark:
		v := theme.VariantDark
		t.variant = &v
	}
	return t
}

func (t *appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.variant != nil {
		v = *t.variant
	}
	return t.Theme.Color(n, v)
}

// applyTheme sets the chosen theme on the app and remembers the choice.
func applyTheme(a fyne.App, choice string) {
	a.Preferences().SetString(prefTheme, choice)
	a.Settings().SetTheme(newAppTheme(choice))
}
