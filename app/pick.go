package app

import (
	"context"
	"errors"
	"log/slog"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
)

// pickRequest is what to ask the file chooser for.
type pickRequest struct {
	title    string // says where the files go: "Upload to Front desk:docs"
	accept   string // the button: "Upload", "Send"
	multiple bool   // several files at once
	folder   bool   // a folder instead of files
}

// errNoPortal: the desktop offers no file chooser of its own.
var errNoPortal = errors.New("no desktop file chooser")

// pickFiles asks for files (or a folder) with the desktop's own chooser
// where it has one, else with Fyne's, and calls then with the paths on
// the UI goroutine (not at all when the person canceled).
func pickFiles(win fyne.Window, svc services, p pickRequest, then func(paths []string)) {
	ask := svc.picker
	if ask == nil {
		ask = portalPick
	}
	svc.bg(func() {
		paths, err := ask(context.Background(), p)
		svc.onUI(func() {
			switch {
			case errors.Is(err, errNoPortal):
				slog.Debug("gui: no desktop file chooser, using Fyne's", "err", err)
				fynePick(win, p, then)
			case err != nil:
				showError(win, "choose files", err)
			case len(paths) > 0:
				then(paths)
			}
		})
	})
}

// fynePick is Fyne's own dialog: one file, or one folder.
func fynePick(win fyne.Window, p pickRequest, then func([]string)) {
	if p.folder {
		d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
			if err == nil && dir != nil {
				then([]string{dir.Path()})
			}
		}, win)
		d.SetTitleText(p.title)
		if p.accept != "" {
			d.SetConfirmText(p.accept)
		}
		d.Show()
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		then([]string{path})
	}, win)
	d.SetTitleText(p.title)
	if p.accept != "" {
		d.SetConfirmText(p.accept)
	}
	d.Show()
}
