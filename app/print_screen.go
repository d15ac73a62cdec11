package app

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares/remote"
)

// printService is what the Print screen needs: `peerdesk printers PEER`,
// `peerdesk print PEER:PRINTER FILE --copies N --wait` and `peerdesk
// printer add PEER:PRINTER`.
type printService interface {
	Printers(ctx context.Context, ref string, creds node.Creds) ([]node.PrinterInfo, error)
	Print(ctx context.Context, rp remote.Path, file string, creds node.Creds, opt node.PrintOptions, progress func(node.PrintJob)) (node.PrintJob, error)
	PrinterAdd(ctx context.Context, rp remote.Path, creds node.Creds) (node.AddedPrinterInfo, error)
}

// printJobTimeout bounds how long the screen follows a job.
const printJobTimeout = 10 * time.Minute

// printScreen is the Print tab: choose a PC's shared printer, a file and
// the copies, then follow the job's state.
type printScreen struct {
	svc      services
	peers    *peersModel
	win      fyne.Window
	peerSel  *widget.Select
	peerIDs  map[string]string
	printers []node.PrinterInfo
	prSel    *widget.Select
	file     *widget.Entry
	copies   *widget.Entry
	status   *widget.Label
	print    *widget.Button
	add      *widget.Button
	login    *widget.Button
	// wantPrinter is the printer to choose once the PC's list is in
	// (gui.show's PC:PRINTER).
	wantPrinter string
}

func newPrintScreen(svc services, peers *peersModel, win fyne.Window) *printScreen {
	return &printScreen{svc: svc, peers: peers, win: win, peerIDs: map[string]string{}}
}

func (s *printScreen) view() fyne.CanvasObject {
	s.peerSel = widget.NewSelect(nil, func(label string) {
		s.login.Enable()
		s.loadPrinters(s.peerIDs[label])
	})
	// Printers other than guests' need an account of their PC.
	s.login = widget.NewButton("Log in…", s.logIn)
	s.login.Disable()
	s.peerSel.PlaceHolder = "Choose a PC…"
	s.peers.onChange(s.syncPeers)
	s.prSel = widget.NewSelect(nil, func(string) { s.sync() })
	s.prSel.PlaceHolder = "Choose a printer…"
	s.file = widget.NewEntry()
	s.file.SetPlaceHolder("a PDF, text or image file")
	s.file.OnChanged = func(string) { s.sync() }
	pick := widget.NewButtonWithIcon("", theme.FileIcon(), func() {
		pickFiles(s.win, s.svc, pickRequest{title: "Choose a file to print", accept: "Choose"}, func(paths []string) {
			s.file.SetText(paths[0])
		})
	})
	s.copies = widget.NewEntry()
	s.copies.SetText("1")
	s.copies.Validator = func(v string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 1 || n > 99 {
			return fmt.Errorf("1 to 99 copies")
		}
		return nil
	}
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.print = widget.NewButtonWithIcon("Print", theme.DocumentPrintIcon(), s.submit)
	s.print.Importance = widget.HighImportance
	// Every program's print dialog then lists the printer.
	s.add = widget.NewButtonWithIcon("Add to my printers", theme.ContentAddIcon(), s.addToMyPrinters)
	form := widget.NewForm(
		widget.NewFormItem("PC", container.NewBorder(nil, nil, nil, s.login, s.peerSel)),
		widget.NewFormItem("Printer", s.prSel),
		widget.NewFormItem("File", container.NewBorder(nil, nil, nil, pick, s.file)),
		widget.NewFormItem("Copies", s.copies),
	)
	s.syncPeers()
	s.sync()
	return container.NewVBox(form, container.NewHBox(s.print, s.add), s.status)
}

func (s *printScreen) syncPeers() {
	clear(s.peerIDs)
	var opts []string
	for _, r := range onlineRows(s.peers) {
		label := shortName(r.Name, maxButtonName) + " (" + shortID(r.ID) + ")"
		s.peerIDs[label] = r.ID
		opts = append(opts, label)
	}
	s.peerSel.SetOptions(opts)
}

func (s *printScreen) sync() {
	if s.prSel.Selected != "" && strings.TrimSpace(s.file.Text) != "" {
		s.print.Enable()
	} else {
		s.print.Disable()
	}
	if s.prSel.Selected != "" {
		s.add.Enable()
	} else {
		s.add.Disable()
	}
}

// addToMyPrinters adds the chosen printer to this PC's print system.
func (s *printScreen) addToMyPrinters() {
	peer := s.peerIDs[s.peerSel.Selected]
	i := s.prSel.SelectedIndex()
	if peer == "" || i < 0 || i >= len(s.printers) {
		return
	}
	printer := s.printers[i].Name
	creds := s.creds(peer)
	s.add.Disable()
	s.status.SetText("Adding " + printer + " to this PC's printers…")
	s.svc.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		added, err := s.svc.print.PrinterAdd(ctx, remote.Path{Peer: peer, Share: printer}, creds)
		cancel()
		s.svc.onUI(func() {
			s.sync()
			if err != nil {
				s.status.SetText(humanError(err))
				showError(s.win, "add "+printer+" to my printers", err)
				return
			}
			s.status.SetText(fmt.Sprintf("%s is now printer %q: every program's print dialog lists it.", printer, added.Queue))
		})
	})
}

// choose picks PC (a name or an id) in the chooser, which lists its
// printers with the session's login, and then PRINTER if given.
func (s *printScreen) choose(pc, printer string) {
	id, ok := s.peers.resolve(pc)
	for label, lid := range s.peerIDs {
		if ok && lid == id {
			s.wantPrinter = printer
			s.peerSel.SetSelected(label)
			return
		}
	}
}

// state is what the Print screen shows now; focused is the window's
// focused widget.
func (s *printScreen) state(focused fyne.Focusable) *PrintState {
	st := &PrintState{PC: s.peerSel.Selected, Printers: append([]string{}, s.prSel.Options...), Printer: s.prSel.Selected,
		File: s.file.Text, Status: s.status.Text, CanPrint: !s.print.Disabled()}
	switch focused {
	case s.file:
		st.Focus = "file"
	case s.copies:
		st.Focus = "copies"
	case s.print:
		st.Focus = "print"
	case s.add:
		st.Focus = "add"
	}
	return st
}

// printerLabel names a printer with its state: "Office (paused)".
func printerLabel(p node.PrinterInfo) string {
	name := shortName(p.Name, maxButtonName)
	if p.State == "" || p.State == "idle" {
		return name
	}
	return name + " (" + p.State + ")"
}

// creds are the session's login for peer (shared with Files), else the
// keyring's, else guest.
func (s *printScreen) creds(peer string) node.Creds {
	c, _ := s.svc.logins.Get(peer)
	return c
}

// logIn asks for an account of the chosen PC and lists its printers again
// with it.
func (s *printScreen) logIn() {
	label := s.peerSel.Selected
	peer := s.peerIDs[label]
	if peer == "" {
		return
	}
	name, _, _ := strings.Cut(label, " (")
	askLogin(s.win, s.svc, peer, name, nil, func(node.Creds) { s.loadPrinters(peer) })
}

func (s *printScreen) loadPrinters(peer string) {
	if peer == "" {
		return
	}
	s.status.SetText("Asking for its printers…")
	creds := s.creds(peer)
	s.svc.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), browseTimeout)
		list, err := s.svc.print.Printers(ctx, peer, creds)
		cancel()
		s.svc.onUI(func() {
			s.printers = list
			var opts []string
			for _, p := range list {
				opts = append(opts, printerLabel(p))
			}
			s.prSel.ClearSelected()
			s.prSel.SetOptions(opts)
			switch {
			case err != nil:
				s.status.SetText(humanError(err))
			case len(list) == 0:
				s.status.SetText("This PC shares no printer you may use.")
			default:
				s.status.SetText("")
				// The first, or the one gui.show named.
				s.prSel.SetSelectedIndex(max(0, slices.IndexFunc(list, func(p node.PrinterInfo) bool { return p.Name == s.wantPrinter })))
			}
			s.wantPrinter = ""
			s.sync()
		})
	})
}

// submit sends the file to the printer and follows the job to its end.
func (s *printScreen) submit() {
	peer := s.peerIDs[s.peerSel.Selected]
	i := s.prSel.SelectedIndex()
	if peer == "" || i < 0 || i >= len(s.printers) {
		return
	}
	if err := s.copies.Validate(); err != nil {
		s.status.SetText("Copies: 1 to 99.")
		return
	}
	copies, _ := strconv.Atoi(strings.TrimSpace(s.copies.Text))
	file := strings.TrimSpace(s.file.Text)
	printer := s.printers[i].Name
	rp := remote.Path{Peer: peer, Share: printer}
	creds := s.creds(peer)
	s.print.Disable()
	s.status.SetText("Sending " + filepath.Base(file) + " to " + printer + "…")
	s.svc.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), printJobTimeout)
		defer cancel()
		job, err := s.svc.print.Print(ctx, rp, file, creds, node.PrintOptions{Copies: copies, Wait: true}, func(j node.PrintJob) {
			s.svc.onUI(func() { s.status.SetText(jobLine(j)) })
		})
		s.svc.onUI(func() {
			s.sync()
			if err != nil {
				s.status.SetText(humanError(err))
				showError(s.win, "print "+filepath.Base(file), err)
				return
			}
			s.status.SetText(jobLine(job))
			fyne.CurrentApp().SendNotification(fyne.NewNotification("Printed", filepath.Base(file)+" on "+printer))
		})
	})
}

// jobLine says where a print job is.
func jobLine(j node.PrintJob) string {
	out := fmt.Sprintf("Job %d on %s: %s", j.JobID, j.Printer, j.State)
	if j.Message != "" {
		out += " — " + j.Message
	}
	return out
}
