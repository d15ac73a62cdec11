package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/node"
)

// headerView shows who this PC is on the network: its name and the code
// people read aloud to verify it from another PC.
func headerView(self node.IDInfo) fyne.CanvasObject {
	logo := canvas.NewImageFromResource(Icon)
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSquareSize(48))

	name := widget.NewLabelWithStyle(self.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.SizeName = theme.SizeNameSubHeadingText
	code := codeLabel(self.Code, false)
	codeLine := container.NewHBox(widget.NewLabel("Your verification code:"), code)

	return container.NewVBox(
		container.NewBorder(nil, nil, logo, nil, container.NewVBox(name, codeLine)),
		widget.NewSeparator(),
	)
}
