package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/shares"
)

// acceptPrompt asks the person whether to take files another PC pushes:
// a notification, then a dialog naming the PC (with its trust state), the
// files and their total size. The node calls ask on its own goroutine
// and waits for the answer.
type acceptPrompt struct {
	win    fyne.Window
	onUI   func(func())
	notify func(title, text string)
	show   func() // brings the window up
	inbox  func() string
	// shown, if set, hears the dialog's title when it opens and "" when
	// it closes (the window reports it in WindowState).
	shown func(title string)
}

// offerText describes an offer: who, what, how much.
func offerText(o shares.Offer) (title, body string) {
	who := o.PeerName
	if who == "" {
		who = shortID(o.Peer.ID)
	}
	trust, _ := trustLabel(string(o.Peer.Trust))
	title = fmt.Sprintf("%s (%s) wants to send you %s", who, trust, filesCount(len(o.Files)))
	var names []string
	for i, f := range o.Files {
		if i == 8 {
			names = append(names, fmt.Sprintf("… and %d more", len(o.Files)-i))
			break
		}
		names = append(names, fmt.Sprintf("%s  (%s)", f.Name, humanBytes(f.Size)))
	}
	body = strings.Join(names, "\n") + "\n\nTotal: " + humanBytes(o.Total)
	return title, body
}

func filesCount(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}

// ask shows the offer and returns the person's answer; no answer before
// ctx ends (the sender gave up, or the offer timed out) declines.
func (p *acceptPrompt) ask(ctx context.Context, o shares.Offer) bool {
	answer := make(chan bool, 1)
	var d dialog.Dialog
	title, body := offerText(o)
	p.onUI(func() {
		p.notify("Incoming files", title)
		if p.show != nil {
			p.show()
		}
		text := widget.NewLabel(body)
		text.Wrapping = fyne.TextWrapWord
		where := ""
		if p.inbox != nil {
			where = "Accepted files go to " + p.inbox() + "; progress shows on Transfers."
		}
		hint := widget.NewLabel(where)
		hint.Wrapping = fyne.TextWrapWord
		hint.Importance = widget.LowImportance
		head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		head.Wrapping = fyne.TextWrapWord
		content := container.NewVBox(head, text, hint)
		d = dialog.NewCustomConfirm("Incoming files", "Accept", "Decline", content, func(ok bool) {
			p.setShown("")
			select {
			case answer <- ok:
			default:
			}
		}, p.win)
		d.Resize(fyne.NewSize(480, 0))
		d.Show()
		p.setShown(title)
	})
	select {
	case ok := <-answer:
		return ok
	case <-ctx.Done():
		p.onUI(func() {
			if d != nil {
				d.Hide()
				p.setShown("")
			}
		})
		return false
	}
}

func (p *acceptPrompt) setShown(title string) {
	if p.shown != nil {
		p.shown(title)
	}
}
