package app

import (
	"context"
	"errors"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/peerdesk/peerdesk/transport"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/shares/transfer"
)

// transferList is what the Transfers screen needs from the core: the
// list `peerdesk transfers` prints, its updates, and cancel.
type transferList interface {
	TransferList() []transfer.Info
	SubscribeTransfers() (<-chan transfer.Info, func())
	CancelTransfer(id string) error
}

// transfersScreen is the Transfers tab: running transfers with progress,
// rate and ETA on top, then the history, newest first.
type transfersScreen struct {
	svc   services
	app   fyne.App
	win   fyne.Window
	list  *widget.List
	byID  map[string]transfer.Info
	rows  []transfer.Info
	dirty bool
	stop  func()
	done  chan struct{}
	// idOf finds a peer's id by the name the history keeps (nil: none).
	idOf func(name string) (string, bool)
	// rowButtons are the rows' buttons (the list reuses them) and what
	// each does now, for TransfersState's focus.
	rowButtons map[*widget.Button]rowButton
}

// rowButton is what a row's button acts on: a transfer, and how.
type rowButton struct{ id, kind string }

func newTransfersScreen(svc services, a fyne.App, win fyne.Window) *transfersScreen {
	return &transfersScreen{svc: svc, app: a, win: win, byID: map[string]transfer.Info{}, rowButtons: map[*widget.Button]rowButton{}}
}

func (s *transfersScreen) view() fyne.CanvasObject {
	s.list = widget.NewList(
		func() int { return len(s.rows) },
		s.newRow,
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(s.rows) {
				s.setRow(o.(*fyne.Container), s.rows[i])
			}
		},
	)
	s.follow()
	return s.list
}

// follow loads the list and applies updates; a burst of updates costs one
// redraw, since the UI goroutine folds whatever arrived meanwhile.
func (s *transfersScreen) follow() {
	updates, stop := s.svc.transfers.SubscribeTransfers()
	s.stop = stop
	for _, in := range s.svc.transfers.TransferList() {
		s.byID[in.ID] = in
	}
	s.resort()
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		for in := range updates {
			s.svc.onUI(func() {
				s.byID[in.ID] = in
				if !s.dirty {
					s.dirty = true
					s.svc.onUI(s.resort)
				}
			})
		}
	}()
}

// resort orders running transfers first, then the rest newest first.
func (s *transfersScreen) resort() {
	s.dirty = false
	s.rows = s.rows[:0]
	for _, in := range s.byID {
		s.rows = append(s.rows, in)
	}
	slices.SortFunc(s.rows, func(a, b transfer.Info) int {
		// Running and queued transfers come first: they are what can be
		// acted on.
		ar := a.State == transfer.StateRunning || a.State == transfer.StateQueued
		br := b.State == transfer.StateRunning || b.State == transfer.StateQueued
		if ar != br {
			if ar {
				return -1
			}
			return 1
		}
		return b.Started.Compare(a.Started)
	})
	if len(s.rows) > 300 {
		s.rows = s.rows[:300]
	}
	s.list.Refresh()
}

func (s *transfersScreen) newRow() fyne.CanvasObject {
	title := widget.NewLabel("")
	title.Truncation = fyne.TextTruncateEllipsis
	bar := widget.NewProgressBar()
	status := widget.NewLabel("")
	status.Truncation = fyne.TextTruncateEllipsis
	cancel := widget.NewButtonWithIcon("", theme.CancelIcon(), nil)
	retry := widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), nil)
	open := widget.NewButtonWithIcon("", theme.FolderOpenIcon(), nil)
	buttons := container.NewHBox(cancel, retry, open)
	return container.NewBorder(nil, nil, nil, buttons, container.NewVBox(title, bar, status))
}

// kindLabel says which way a transfer goes.
func kindLabel(k transfer.Kind) string {
	switch k {
	case transfer.KindDownload:
		return "↓ from"
	case transfer.KindUpload:
		return "↑ to"
	case transfer.KindSend:
		return "→ sent to"
	case transfer.KindReceive:
		return "← received from"
	}
	return string(k)
}

// transferStatus is a transfer's state line: bytes, rate and ETA while it
// runs, else how it ended (in words, for failures).
func transferStatus(in transfer.Info) string {
	status := transferState(in)
	if len(in.Dropped) > 0 {
		status += " · " + strings.Join(in.Dropped, ", ") + " sent wrong data and was left out"
	}
	return status
}

func transferState(in transfer.Info) string {
	size := humanBytes(in.Bytes)
	if in.Total > 0 {
		size += " of " + humanBytes(in.Total)
	}
	switch in.State {
	case transfer.StateRunning:
		parts := []string{size}
		if r := humanRate(in.Rate); r != "" {
			parts = append(parts, r)
		}
		if e := humanETA(in.ETA); e != "" {
			parts = append(parts, e)
		}
		return strings.Join(parts, " · ")
	case transfer.StateDone:
		return "Done · " + size + " · " + humanTime(in.Ended)
	case transfer.StateCanceled:
		return "Canceled · " + size
	case transfer.StateQueued:
		return "Queued · " + humanBytes(in.Total) + " · sent when " + in.Peer + " is back online"
	}
	return "Failed · " + transferFailure(in)
}

// transferFailure words a failure recorded in the history by the classes
// it keeps (its message is never read for that).
func transferFailure(in transfer.Info) string {
	if slices.Contains(in.Classes, transfer.ClassInterrupted) {
		return "Interrupted when Peerdesk stopped. Run it again: it continues where it stopped."
	}
	var errs []error
	for _, name := range in.Classes {
		if s, ok := transport.SentinelOf(name); ok {
			errs = append(errs, s)
		}
	}
	if len(errs) == 0 {
		return genericMessage
	}
	return humanError(errors.Join(errs...))
}

func (s *transfersScreen) setRow(c *fyne.Container, in transfer.Info) {
	box := c.Objects[0].(*fyne.Container)
	buttons := c.Objects[1].(*fyne.Container)
	box.Objects[0].(*widget.Label).SetText(path.Base(in.Path) + "   " + kindLabel(in.Kind) + " " + in.Peer)
	bar := box.Objects[1].(*widget.ProgressBar)
	if in.Total > 0 {
		bar.SetValue(float64(in.Bytes) / float64(in.Total))
	} else if in.State == transfer.StateDone {
		bar.SetValue(1)
	} else {
		bar.SetValue(0)
	}
	box.Objects[2].(*widget.Label).SetText(transferStatus(in))
	cancel := buttons.Objects[0].(*widget.Button)
	retry := buttons.Objects[1].(*widget.Button)
	open := buttons.Objects[2].(*widget.Button)
	cancel.OnTapped = func() {
		if err := s.svc.transfers.CancelTransfer(in.ID); err != nil {
			showError(s.win, "cancel", err)
		}
	}
	retry.OnTapped = func() { s.retry(in) }
	open.OnTapped = func() { s.openFolder(in) }
	s.rowButtons[cancel] = rowButton{in.ID, "cancel"}
	s.rowButtons[retry] = rowButton{in.ID, "retry"}
	s.rowButtons[open] = rowButton{in.ID, "open"}
	show(cancel, canCancel(in))
	show(retry, s.showsRetry(in))
	show(open, in.Local != "" && in.State != transfer.StateQueued && (in.Kind == transfer.KindDownload || in.Kind == transfer.KindReceive || in.State != transfer.StateRunning))
}

func show(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// canCancel: running transfers and queued sends can be stopped.
func canCancel(in transfer.Info) bool {
	return in.State == transfer.StateRunning || in.State == transfer.StateQueued
}

// showsRetry: a failed or canceled transfer that can be started again.
func (s *transfersScreen) showsRetry(in transfer.Info) bool {
	return (in.State == transfer.StateFailed || in.State == transfer.StateCanceled) && s.canRetry(in)
}

// canRetry: downloads, uploads and sends can be started again; a
// received file is up to its sender.
func (s *transfersScreen) canRetry(in transfer.Info) bool {
	switch in.Kind {
	case transfer.KindDownload, transfer.KindUpload:
		return s.svc.files != nil
	case transfer.KindSend:
		return s.svc.send != nil
	}
	return false
}

// retry starts a failed or canceled transfer again; a download resumes
// from its partial data. Credentials are the session's login for the peer
// (the one Files used), else the keyring's.
func (s *transfersScreen) retry(in transfer.Info) {
	peer, _, _ := strings.Cut(in.Peer, "+") // a multi-source download names several
	share, p, _ := strings.Cut(in.Path, "/")
	var creds node.Creds
	if in.PeerID != "" {
		peer = in.PeerID // a queued send knows its peer's id
	} else if s.idOf != nil {
		if id, ok := s.idOf(peer); ok {
			peer = id
			creds, _ = s.svc.logins.Get(id)
		}
	}
	s.svc.bg(func() {
		ctx := context.Background()
		var err error
		switch in.Kind {
		case transfer.KindDownload:
			_, err = s.svc.files.Get(ctx, remote.Path{Peer: peer, Share: share, Path: p}, creds, remote.GetOptions{Dest: in.Local}, nil)
		case transfer.KindUpload:
			_, err = s.svc.files.Put(ctx, []string{in.Local}, remote.Path{Peer: peer, Share: share, Path: path.Dir(p)}, creds, false, nil)
		case transfer.KindSend:
			files := in.Files // a queued send's files; a send's one file
			if len(files) == 0 {
				files = []string{in.Local}
			}
			_, err = s.svc.send.Send(ctx, peer, files, nil)
		}
		if err != nil {
			s.svc.onUI(func() { showError(s.win, "retry "+path.Base(in.Path), err) })
		}
	})
}

// openFolder shows the folder holding the transfer's local file in the
// file manager.
func (s *transfersScreen) openFolder(in transfer.Info) {
	u := storage.NewFileURI(filepath.Dir(in.Local))
	if err := s.app.OpenURL(mustURL(u.String())); err != nil {
		showError(s.win, "open the folder", err)
	}
}

// close ends the subscription and waits for its goroutine.
func (s *transfersScreen) close() {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
}
