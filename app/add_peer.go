package app

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/node"
)

// peerAdder adds a PC by address (`peerdesk peer add`): what a network
// without multicast, another subnet or a VPN needs, and what Peerdesk's
// own errors tell people to do.
type peerAdder interface {
	AddPeer(ctx context.Context, addr string) (discovery.Peer, error)
}

// addPeerTimeout bounds the first attempt to reach a PC added by address.
const addPeerTimeout = 15 * time.Second

// peerAddress turns what a person typed into HOST:PORT: an IP address or
// a DNS name, with Peerdesk's default port unless one is given.
func peerAddress(typed string) string {
	s := strings.TrimSpace(typed)
	if s == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), strconv.Itoa(node.DefaultPort))
}

// addPeerForm is the "Add PC by address…" dialog's content: the address
// stays as typed when it is refused, and the error is said in the dialog.
type addPeerForm struct {
	svc    services
	entry  *widget.Entry
	status *widget.Label
	add    *widget.Button
	done   func(discovery.Peer)
}

func newAddPeerForm(svc services, done func(discovery.Peer)) *addPeerForm {
	f := &addPeerForm{svc: svc, done: done}
	f.entry = widget.NewEntry()
	f.entry.SetPlaceHolder("192.168.1.20 or desk-2.office.lan (port " + strconv.Itoa(node.DefaultPort) + " unless given)")
	f.entry.OnSubmitted = func(string) { f.submit() }
	f.status = widget.NewLabel("")
	f.status.Wrapping = fyne.TextWrapWord
	f.add = widget.NewButton("Add", f.submit)
	f.add.Importance = widget.HighImportance
	return f
}

func (f *addPeerForm) view() fyne.CanvasObject {
	intro := widget.NewLabel("The PC's address or name, for PCs that are not found by themselves (another subnet, a VPN, a network without multicast).")
	intro.Wrapping = fyne.TextWrapWord
	return container.NewVBox(intro, f.entry, container.NewHBox(f.add), f.status)
}

func (f *addPeerForm) submit() {
	addr := peerAddress(f.entry.Text)
	if addr == "" {
		f.status.SetText("Type the PC's address or name.")
		return
	}
	f.add.Disable()
	f.status.SetText("Reaching " + addr + "…")
	f.svc.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), addPeerTimeout)
		p, err := f.svc.adder.AddPeer(ctx, addr)
		cancel()
		f.svc.onUI(func() {
			f.add.Enable()
			if err != nil {
				f.status.SetText(addPeerError(addr, err))
				return
			}
			name := p.Name
			if name == "" {
				name = addr
			}
			f.status.SetText("Added " + name + ".")
			if f.done != nil {
				f.done(p)
			}
		})
	})
}

// showAddPeer opens the "Add PC by address…" dialog; it closes once the
// PC answered.
func (w *mainWindow) showAddPeer() {
	var d dialog.Dialog
	f := newAddPeerForm(w.svc, func(discovery.Peer) {
		if d != nil {
			d.Hide()
		}
	})
	d = dialog.NewCustom("Add PC by address", "Close", f.view(), w.win)
	d.Resize(fyne.NewSize(520, 220))
	d.Show()
	w.win.Canvas().Focus(f.entry)
}

// addPeerError says why a PC added by address is not there yet, and what
// to do: a name that resolves to nothing, or a PC that does not answer
// (remembered all the same, and tried again by itself).
func addPeerError(addr string, err error) string {
	host, port, _ := net.SplitHostPort(addr)
	switch {
	case errors.Is(err, node.ErrUsage):
		return humanError(err)
	case errors.Is(err, node.ErrPeerNotFound):
		return "No computer is known by the name " + host + ". Check the name, or type its IP address."
	}
	return addr + " does not answer yet. It is remembered and tried again by itself: check that Peerdesk runs there and that its firewall lets UDP port " + port + " in."
}
