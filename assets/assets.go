// Package assets holds the files the desktop app ships with: its icon and
// its theme's colours (theme.json, Fyne's JSON theme format).
// It imports only the standard library so that any package, including the
// nogui build, may use it; the Fyne resource wrapper lives in app/.
package assets

import _ "embed"

//go:generate go run gen_icon.go

//go:embed icon.png
var iconPNG []byte

// IconPNG returns the app icon, a 256×256 PNG. Callers must not modify it.
func IconPNG() []byte { return iconPNG }

//go:embed theme.json
var themeJSON []byte

// ThemeJSON returns the app's colours in Fyne's JSON theme format.
func ThemeJSON() []byte { return themeJSON }
