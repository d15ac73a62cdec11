package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/node"
)

// activity is the strip under a screen that says what a download or
// upload started there is doing: what and how far while it runs, what it
// did when it ends, with Open folder for what arrived. A notification
// alone is easy to miss (or not shown at all by the desktop), so the
// screen the user acted on answers too. UI goroutine only.
type activity struct {
	label *widget.Label
	bar   *widget.ProgressBar
	open  *widget.Button
	box   *fyne.Container

	dir  string
	done map[string]node.Progress // by transfer id: files of the running action
}

func newActivity() *activity {
	a := &activity{label: widget.NewLabel(""), bar: widget.NewProgressBar()}
	a.label.Wrapping = fyne.TextWrapWord
	a.open = widget.NewButtonWithIcon("Open folder", theme.FolderOpenIcon(), func() {
		if a.dir == "" {
			return
		}
		if err := fyne.CurrentApp().OpenURL(mustURL(storage.NewFileURI(a.dir).String())); err != nil {
			a.label.SetText("Could not open " + a.dir + ": " + humanError(err))
		}
	})
	a.box = container.NewBorder(nil, a.bar, nil, a.open, a.label)
	a.box.Hide()
	return a
}

// start says that an action began.
func (a *activity) start(text string) {
	a.done, a.dir = map[string]node.Progress{}, ""
	a.label.SetText(text)
	a.bar.SetValue(0)
	a.bar.Show()
	a.open.Hide()
	a.box.Show()
}

// progress moves the bar: the bytes of every file of the action so far
// over their sizes.
func (a *activity) progress(p node.Progress) {
	if a.done == nil || p.ID == "" {
		return
	}
	a.done[p.ID] = p
	var got, total int64
	for _, f := range a.done {
		got, total = got+f.Bytes, total+f.Total
	}
	if total > 0 {
		a.bar.SetValue(float64(got) / float64(total))
	}
}

// finish says how the action ended; dir (if any) is where its files are.
func (a *activity) finish(text, dir string) {
	a.done, a.dir = nil, dir
	a.label.SetText(text)
	a.bar.Hide()
	if dir != "" {
		a.open.Show()
	} else {
		a.open.Hide()
	}
	a.box.Show()
}
