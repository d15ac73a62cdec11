package app

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/peerdesk/peerdesk/identity"
)

// peerTrust is what the peer card needs from the core.
type peerTrust interface {
	// TrustOf is the pinned state of a peer id.
	TrustOf(id string) identity.TrustEntry
	// Retrust pins, or with a fingerprint or code, verifies a peer's key
	// (also the key it presents after an identity change).
	Retrust(ref, fingerprintOrCode string) (identity.TrustEntry, error)
	// Forget drops a peer's pinned key.
	Forget(ref string) error
}

// peersScreen is the Peers tab: the table, and a card per peer on a click.
func peersScreen(w *mainWindow) fyne.CanvasObject {
	hint := widget.NewLabel("Click a PC to compare verification codes, browse its shares or send it files.")
	hint.Importance = widget.LowImportance
	var top fyne.CanvasObject
	if w.svc.adder != nil {
		top = container.NewHBox(widget.NewButtonWithIcon("Add PC by address…", theme.ContentAddIcon(), w.showAddPeer))
	}
	table, retheme := peersView(w.peers, w.showPeer)
	w.rethemers = append(w.rethemers, retheme)
	return container.NewBorder(top, hint, nil, nil, table)
}

// peerActions are what a peer card's buttons do.
type peerActions struct {
	verify func(fp string) // the person says the codes match
	forget func()
	browse func()
	send   func()
}

// keyToVerify is the key a person compares codes of: another key offered
// for the peer's id, else the pinned one, else the announced one.
func keyToVerify(r peerRow, e identity.TrustEntry, announced string) string {
	switch {
	case e.Offered != "":
		return e.Offered
	case e.Fingerprint != "":
		return e.Fingerprint
	}
	return announced
}

// peerCard shows a peer's identity and the trust flow for its state.
func peerCard(r peerRow, e identity.TrustEntry, announced, ownCode string, act peerActions) fyne.CanvasObject {
	status, statusImp := statusLabel(r.Online)
	trust, trustImp := trustLabel(string(e.State))
	st := widget.NewLabel(status)
	st.Importance = statusImp
	tr := widget.NewLabel(trust)
	tr.Importance = trustImp
	form := widget.NewForm(
		widget.NewFormItem("Status", st),
		widget.NewFormItem("Trust", tr),
		widget.NewFormItem("Id", widget.NewLabel(r.ID)),
		widget.NewFormItem("Address", widget.NewLabel(orDash(r.Address))),
	)
	fp := keyToVerify(r, e, announced)
	theirCode := identity.VerificationCode(fp)
	code := codeLabel(theirCode, true)
	mine := codeLabel(ownCode, false)

	var flow []fyne.CanvasObject
	switch {
	case e.Offered != "":
		warn := widget.NewLabel(fmt.Sprintf("Another key was offered for %s. It may have been reinstalled — or another PC may be pretending to be it. "+
			"The identity you trusted keeps working; nothing is exchanged with the new key until you decide.", r.Name))
		warn.Wrapping = fyne.TextWrapWord
		warn.Importance = widget.DangerImportance
		old := codeLabel(identity.VerificationCode(e.Fingerprint), false)
		ask := widget.NewLabel("Ask its owner to read the code at the top of their Peerdesk window. Trust the new identity only if it is exactly the new code:")
		ask.Wrapping = fyne.TextWrapWord
		retrust := widget.NewButtonWithIcon("The codes match — trust the new identity", theme.ConfirmIcon(), func() { act.verify(fp) })
		retrust.Importance = widget.DangerImportance
		flow = []fyne.CanvasObject{warn, container.NewHBox(widget.NewLabel("Trusted code:"), old), ask,
			container.NewHBox(widget.NewLabel("New code:"), code), retrust}
	case e.State == identity.TrustVerified:
		ok := widget.NewLabel("Verified: you compared codes with this PC's owner.")
		ok.Importance = widget.SuccessImportance
		flow = []fyne.CanvasObject{ok, container.NewHBox(widget.NewLabel("Its code:"), code)}
	default:
		ask := widget.NewLabel("To be sure this is the right PC, ask its owner to read the code at the top of their Peerdesk window. It must be:")
		ask.Wrapping = fyne.TextWrapWord
		verify := widget.NewButtonWithIcon("The codes match — mark as verified", theme.ConfirmIcon(), func() { act.verify(fp) })
		verify.Importance = widget.HighImportance
		if fp == "" {
			verify.Disable()
		}
		flow = []fyne.CanvasObject{ask, code, container.NewHBox(widget.NewLabel("Yours, for them to check:"), mine), verify}
	}

	browse := widget.NewButtonWithIcon("Browse shares", theme.FolderOpenIcon(), act.browse)
	send := widget.NewButtonWithIcon("Send files…", theme.MailSendIcon(), act.send)
	if !r.Online {
		browse.Disable()
		send.Disable()
	}
	forget := widget.NewButtonWithIcon("Forget its key", theme.DeleteIcon(), act.forget)
	if e.State == identity.TrustNew || e.State == "" {
		forget.Disable()
	}
	buttons := container.NewHBox(browse, send, forget)
	return container.NewVBox(append([]fyne.CanvasObject{form, widget.NewSeparator()}, append(flow, widget.NewSeparator(), buttons)...)...)
}

// showPeer opens the card of the peer in row r.
func (w *mainWindow) showPeer(r peerRow) {
	if w.svc.trust == nil {
		return
	}
	var d dialog.Dialog
	p := w.peers.peers[r.ID]
	e := w.svc.trust.TrustOf(r.ID)
	card := peerCard(r, e, p.Fingerprint, w.self.Code, peerActions{
		verify: func(fp string) {
			d.Hide()
			if _, err := w.svc.trust.Retrust(r.ID, fp); err != nil {
				showError(w.win, "trust "+r.Name, err)
				return
			}
			dialog.ShowInformation("Verified", r.Name+" is now verified.", w.win)
		},
		forget: func() {
			d.Hide()
			dialog.ShowConfirm("Forget "+r.Name+"?", "Its key is forgotten; the next connection pins whatever key it presents.", func(ok bool) {
				if ok {
					if err := w.svc.trust.Forget(r.ID); err != nil {
						showError(w.win, "forget "+r.Name, err)
					}
				}
			}, w.win)
		},
		browse: func() { d.Hide(); w.browsePeer(r.ID) },
		send: func() {
			d.Hide()
			w.chooseFilesFor(r.ID, r.Name)
		},
	})
	d = dialog.NewCustom(r.Name, "Close", card, w.win)
	d.Resize(fyne.NewSize(560, 0))
	d.Show()
}
