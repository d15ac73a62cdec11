package app

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/shares/transfer"
)

// sender pushes files to a peer, which accepts or declines; to a peer
// that is offline it queues them until the peer is back.
type sender interface {
	Send(ctx context.Context, ref string, files []string, progress func(node.Progress)) (remote.SendResult, error)
	QueueSend(ref string, files []string) (transfer.Info, error)
}

// peerPicker is the open "send to which peer?" dialog.
type peerPicker struct {
	files  []string
	rows   []peerRow
	list   *widget.List
	send   *widget.Button
	chosen int
	d      dialog.Dialog
}

// onlineRows are the peers files can be sent to now.
func onlineRows(m *peersModel) []peerRow {
	var out []peerRow
	for i := 0; i < m.len(); i++ {
		if r, ok := m.row(i); ok && r.Online && r.Trust != "changed" {
			out = append(out, r)
		}
	}
	return out
}

// sendableRows are the peers files can be sent to: those online first
// (sent now), then the others known here (queued until they are back);
// never one whose identity changed.
func sendableRows(m *peersModel) []peerRow {
	out := onlineRows(m)
	for i := 0; i < m.len(); i++ {
		if r, ok := m.row(i); ok && !r.Online && r.Trust != "changed" {
			out = append(out, r)
		}
	}
	return out
}

// filesSummary names the files in a sentence: "report.pdf", "3 items".
func filesSummary(files []string) string {
	if len(files) == 1 {
		return filepath.Base(files[0])
	}
	names := make([]string, 0, 3)
	for i, f := range files {
		if i == 3 {
			names = append(names, "…")
			break
		}
		names = append(names, filepath.Base(f))
	}
	return fmt.Sprintf("%d items (%s)", len(files), strings.Join(names, ", "))
}

// pickPeer raises the peer picker for files (from the file manager's
// "Send to", a drop on the window, or the tray).
func (w *mainWindow) pickPeer(files []string) {
	if w.picker != nil {
		// Explorer's context menu starts one `peerdesk send` per selected
		// item, so hand-offs that arrive while the picker is open add to
		// it rather than replace it.
		files = mergeFiles(w.picker.files, files)
		old := w.picker
		w.picker = nil
		old.d.Hide()
	}
	p := &peerPicker{files: files, rows: sendableRows(w.peers), chosen: -1}
	p.list = widget.NewList(
		func() int { return len(p.rows) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) {
			r := p.rows[i]
			text, _ := trustLabel(r.Trust)
			if !r.Online {
				text = "offline: sent when it is back"
			}
			o.(*widget.Label).SetText(shortName(r.Name, maxButtonName) + "  (" + text + ")")
		},
	)
	p.list.OnSelected = func(i widget.ListItemID) { p.chosen = i; p.send.Enable() }
	p.send = widget.NewButton("Send", func() {
		if p.chosen >= 0 && p.chosen < len(p.rows) {
			r := p.rows[p.chosen]
			p.d.Hide()
			w.sendTo(r.ID, r.Name, p.files, r.Online)
		}
	})
	p.send.Importance = widget.HighImportance
	p.send.Disable()
	cancel := widget.NewButton("Cancel", func() { p.d.Hide() })

	head := widget.NewLabel("Send " + filesSummary(files) + " to:")
	head.Wrapping = fyne.TextWrapWord
	var body fyne.CanvasObject = p.list
	if len(p.rows) == 0 {
		body = widget.NewLabel("No other PC is known here yet. PCs show up on the Peers tab when they are on the network.")
	}
	content := container.NewBorder(head, container.NewHBox(cancel, p.send), nil, nil, body)
	p.d = dialog.NewCustomWithoutButtons("Send to peer", content, w.win)
	p.d.SetOnClosed(func() {
		if w.picker == p {
			w.picker = nil
			w.publish()
		}
	})
	p.d.Resize(fyne.NewSize(420, 360))
	w.show()
	w.picker = p
	p.d.Show()
	w.publish()
}

// chooseFilesFor asks for files (several at once), then sends them to the
// peer.
func (w *mainWindow) chooseFilesFor(id, name string) {
	w.show()
	pickFiles(w.win, w.svc, pickRequest{title: "Send files to " + name, accept: "Send", multiple: true}, func(paths []string) {
		online := false
		if p, ok := w.peers.peers[id]; ok {
			online = p.Online
		}
		w.sendTo(id, name, paths, online)
	})
}

// sendTo sends files in the background; progress shows on Transfers.
func (w *mainWindow) sendTo(id, name string, files []string, online bool) {
	if w.svc.send == nil {
		return
	}
	if !online {
		in, err := w.svc.send.QueueSend(id, files)
		if err != nil {
			showError(w.win, "queue the files for "+name, err)
			return
		}
		w.notify("Queued for "+name, filesSummary(files)+": sent when "+name+" is back online (Transfers shows it, "+humanBytes(in.Total)+").")
		return
	}
	w.notify("Sending to "+name, filesSummary(files)+": waiting for "+name+" to accept.")
	w.svc.bg(func() {
		res, err := w.svc.send.Send(context.Background(), id, files, nil)
		w.svc.onUI(func() {
			if err != nil {
				showError(w.win, "send to "+name, err)
				return
			}
			w.notify("Sent to "+res.Receiver, fmt.Sprintf("%d file(s), %s", len(res.Files), humanBytes(res.Bytes)))
		})
	})
}

// notify shows a desktop notification.
func (w *mainWindow) notify(title, text string) {
	w.app.SendNotification(fyne.NewNotification(title, text))
	w.notified = append(w.notified, title+": "+text)
	if len(w.notified) > maxNotified {
		w.notified = slices.Delete(w.notified, 0, len(w.notified)-maxNotified)
	}
	w.publish()
}

// maxNotified bounds the notifications WindowState repeats.
const maxNotified = 8

// mergeFiles is a followed by the paths of b it lacks, in order.
func mergeFiles(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, f := range b {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
