package app

import (
	"fyne.io/fyne/v2"

	"github.com/peerdesk/peerdesk/assets"
)

// Icon is the app icon (window, tray, about).
var Icon fyne.Resource = fyne.NewStaticResource("peerdesk.png", assets.IconPNG())
