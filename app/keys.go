package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// formEntry is an Entry of a form dialog that the keyboard drives as
// people expect: Enter submits the dialog, Esc cancels it. Fyne's form
// dialog does neither, and a focused entry gets the keys before the
// window does.
type formEntry struct {
	widget.Entry
	submit, cancel func()
}

func newFormEntry() *formEntry {
	e := &formEntry{}
	e.ExtendBaseWidget(e)
	e.OnSubmitted = func(string) {
		if e.submit != nil {
			e.submit()
		}
	}
	return e
}

// newFormPasswordEntry is a password formEntry with the eye button that
// shows what was typed, as Fyne's own password entry has.
func newFormPasswordEntry() *formEntry {
	e := newFormEntry()
	e.Password = true
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	var eye *widget.Button
	eye = widget.NewButtonWithIcon("", theme.VisibilityOffIcon(), func() {
		e.Password = !e.Password
		if e.Password {
			eye.SetIcon(theme.VisibilityOffIcon())
		} else {
			eye.SetIcon(theme.VisibilityIcon())
		}
		e.Refresh()
	})
	eye.Importance = widget.LowImportance
	e.ActionItem = eye
	return e
}

// TypedKey cancels on Esc; every other key is the Entry's (Enter calls
// OnSubmitted, which submits).
func (e *formEntry) TypedKey(ev *fyne.KeyEvent) {
	if ev.Name == fyne.KeyEscape && e.cancel != nil {
		e.cancel()
		return
	}
	e.Entry.TypedKey(ev)
}

// bindFormKeys makes Enter in any of entries submit d and Esc dismiss it.
func bindFormKeys(d *dialog.FormDialog, entries ...*formEntry) {
	for _, e := range entries {
		e.submit = d.Submit
		e.cancel = d.Dismiss
	}
}

// keyTable is a Table the keyboard drives as a file manager's list: Tab
// reaches it, the arrows move, Space or Enter opens (selects) the row,
// Backspace goes back up (Fyne's table knows the arrows and Space only).
type keyTable struct {
	widget.Table
	back func()
}

// TypedKey adds Enter and Backspace to the Table's keys.
func (t *keyTable) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		t.Table.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	case fyne.KeyBackspace:
		if t.back != nil {
			t.back()
		}
	default:
		t.Table.TypedKey(ev)
	}
}
