package app

import (
	"context"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/printing"
)

// shareAdmin is what the My shares screen needs from the core: the same
// operations as `peerdesk share ...`.
type shareAdmin interface {
	ShareInfos() []access.ShareInfo
	AccountNames() []string
	AddFolderShare(a node.FolderShareArgs) (access.ShareInfo, error)
	AddPrinterShare(a node.PrinterShareArgs) (access.ShareInfo, error)
	RemoveShare(name string) error
	UpdateShareAccess(name string, access map[string]access.Right, guest access.Right) error
	SetSharePassword(name, password string) error
	LocalQueues(ctx context.Context) ([]printing.Queue, error)
}

// sharesScreen is the My shares tab: this peer's folders and printers,
// with who may use them.
type sharesScreen struct {
	svc    services
	win    fyne.Window
	list   *widget.List
	infos  []access.ShareInfo
	chosen int
	edit   *widget.Button
	remove *widget.Button
	// editor is the open access editor (tests fill and submit it).
	editor *accessEditor
}

func newSharesScreen(svc services, win fyne.Window) *sharesScreen {
	return &sharesScreen{svc: svc, win: win, chosen: -1}
}

func (s *sharesScreen) view() fyne.CanvasObject {
	s.list = widget.NewList(
		func() int { return len(s.infos) },
		func() fyne.CanvasObject {
			title := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			detail := widget.NewLabel("")
			detail.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, widget.NewIcon(nil), nil, container.NewVBox(title, detail))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(s.infos) {
				return
			}
			sh := s.infos[i]
			c := o.(*fyne.Container)
			box := c.Objects[0].(*fyne.Container)
			icon := c.Objects[1].(*widget.Icon)
			box.Objects[0].(*widget.Label).SetText(sh.Name)
			box.Objects[1].(*widget.Label).SetText(shareSummary(sh))
			if sh.Kind == access.KindPrinter {
				icon.SetResource(theme.DocumentPrintIcon())
			} else {
				icon.SetResource(theme.FolderIcon())
			}
		},
	)
	s.list.OnSelected = func(i widget.ListItemID) { s.chosen = i; s.syncButtons() }
	s.list.OnUnselected = func(widget.ListItemID) { s.chosen = -1; s.syncButtons() }
	addFolder := widget.NewButtonWithIcon("Share a folder…", theme.FolderNewIcon(), s.chooseFolder)
	addPrinter := widget.NewButtonWithIcon("Share a printer…", theme.DocumentPrintIcon(), s.choosePrinter)
	s.edit = widget.NewButtonWithIcon("Access…", theme.AccountIcon(), func() { s.editAccess(s.chosen) })
	s.remove = widget.NewButtonWithIcon("Stop sharing", theme.DeleteIcon(), s.confirmRemove)
	s.reload()
	tools := container.NewHBox(addFolder, addPrinter, s.edit, s.remove)
	return container.NewBorder(tools, nil, nil, nil, s.list)
}

// shareSummary says in one line what a share is and who may use it.
func shareSummary(sh access.ShareInfo) string {
	var where string
	if sh.Kind == access.KindPrinter {
		where = "printer " + sh.Queue
	} else {
		where = sh.Path
	}
	var who []string
	for _, acc := range slices.Sorted(maps.Keys(sh.Access)) {
		who = append(who, acc+" ("+rightLabel(sh.Access[acc])+")")
	}
	if sh.Guest != "" && sh.Guest != access.RightNone {
		who = append(who, "guests ("+rightLabel(sh.Guest)+")")
	}
	if len(who) == 0 {
		who = []string{"nobody yet"}
	}
	out := where + " — " + strings.Join(who, ", ")
	if sh.Password {
		out += " — password"
	}
	return out
}

func (s *sharesScreen) reload() {
	s.infos = s.svc.shares.ShareInfos()
	sort.Slice(s.infos, func(i, j int) bool { return s.infos[i].Name < s.infos[j].Name })
	if s.chosen >= len(s.infos) {
		s.chosen = -1
		s.list.UnselectAll()
	}
	s.list.Refresh()
	s.syncButtons()
}

func (s *sharesScreen) syncButtons() {
	if s.chosen >= 0 {
		s.edit.Enable()
		s.remove.Enable()
	} else {
		s.edit.Disable()
		s.remove.Disable()
	}
}

var notShareName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// suggestName turns a folder or queue name into a valid share name.
func suggestName(base string) string {
	n := strings.Trim(notShareName.ReplaceAllString(base, "-"), "-.")
	if len(n) > 64 {
		n = n[:64]
	}
	if n == "" {
		n = "share"
	}
	return n
}

func (s *sharesScreen) chooseFolder() {
	pickFiles(s.win, s.svc, pickRequest{title: "Choose a folder to share", accept: "Share", folder: true}, func(paths []string) {
		s.addFolder(paths[0])
	})
}

// shareNameEntry is the share name field, checked as it is typed: the
// Share button waits for a valid name, and nothing typed is lost.
func shareNameEntry(suggested string) *widget.Entry {
	name := widget.NewEntry()
	name.Validator = func(v string) error { return access.ValidShareName(strings.TrimSpace(v)) }
	name.SetText(suggested)
	return name
}

// addFolder asks for the share's name, then shares the folder; access is
// set in the editor that opens next.
func (s *sharesScreen) addFolder(dir string) {
	name := shareNameEntry(suggestName(filepath.Base(dir)))
	d := dialog.NewForm("Share "+dir, "Share", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Share name", name),
	}, func(ok bool) {
		if !ok {
			return
		}
		info, err := s.svc.shares.AddFolderShare(node.FolderShareArgs{Name: strings.TrimSpace(name.Text), Path: dir})
		if err != nil {
			showError(s.win, "share "+dir, err)
			return
		}
		s.reload()
		s.editAccess(s.indexOf(info.Name))
	}, s.win)
	d.Resize(fyne.NewSize(460, d.MinSize().Height))
	d.Show()
	s.win.Canvas().Focus(name)
}

func (s *sharesScreen) choosePrinter() {
	s.svc.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
		queues, err := s.svc.shares.LocalQueues(ctx)
		cancel()
		s.svc.onUI(func() {
			if err != nil {
				showError(s.win, "list this PC's printers", err)
				return
			}
			s.addPrinter(queues)
		})
	})
}

func (s *sharesScreen) addPrinter(queues []printing.Queue) {
	if len(queues) == 0 {
		dialog.ShowInformation("No printers", "This PC has no printer to share.", s.win)
		return
	}
	var names []string
	for _, q := range queues {
		names = append(names, q.Name)
	}
	name := shareNameEntry("")
	queue := widget.NewSelect(names, func(q string) { name.SetText(suggestName(q)) })
	queue.SetSelectedIndex(0)
	d := dialog.NewForm("Share a printer", "Share", "Cancel", []*widget.FormItem{
		widget.NewFormItem("Printer", queue),
		widget.NewFormItem("Share name", name),
	}, func(ok bool) {
		if !ok || queue.Selected == "" {
			return
		}
		info, err := s.svc.shares.AddPrinterShare(node.PrinterShareArgs{Name: strings.TrimSpace(name.Text), Queue: queue.Selected})
		if err != nil {
			showError(s.win, "share printer "+queue.Selected, err)
			return
		}
		s.reload()
		s.editAccess(s.indexOf(info.Name))
	}, s.win)
	d.Resize(fyne.NewSize(460, d.MinSize().Height))
	d.Show()
}

func (s *sharesScreen) indexOf(name string) int {
	for i, sh := range s.infos {
		if sh.Name == name {
			return i
		}
	}
	return -1
}

func (s *sharesScreen) confirmRemove() {
	if s.chosen < 0 {
		return
	}
	name := s.infos[s.chosen].Name
	dialog.ShowConfirm("Stop sharing "+name+"?", "Other PCs can no longer use it. Nothing is deleted.", func(ok bool) {
		if !ok {
			return
		}
		if err := s.svc.shares.RemoveShare(name); err != nil {
			showError(s.win, "stop sharing "+name, err)
		}
		s.reload()
	}, s.win)
}

// accessEditor edits who may use one share: a right per account, the
// guests' right, and the share's password.
type accessEditor struct {
	share    access.ShareInfo
	accounts []string
	rights   map[string]*widget.Select
	guest    *widget.Select
	password *widget.Entry
	clearPW  *widget.Check
}

// rightChoices are the rights offered for a kind of share, as labels.
func rightChoices(k access.Kind) []access.Right {
	if k == access.KindPrinter {
		return []access.Right{access.RightNone, access.RightPrint}
	}
	return []access.Right{access.RightNone, access.RightRO, access.RightRW, access.RightWO}
}

func rightSelect(k access.Kind, cur access.Right) *widget.Select {
	var opts []string
	for _, r := range rightChoices(k) {
		opts = append(opts, rightLabel(r))
	}
	sel := widget.NewSelect(opts, nil)
	if cur == "" {
		cur = access.RightNone
	}
	sel.SetSelected(rightLabel(cur))
	return sel
}

func rightOf(k access.Kind, label string) access.Right {
	for _, r := range rightChoices(k) {
		if rightLabel(r) == label {
			return r
		}
	}
	return access.RightNone
}

// asGuests is an account's choice of no right of its own: it gets what
// guests get. "no access" is an explicit refusal, which holds even where
// guests are let in.
const asGuests = "as guests"

// accountSelect is the right of one account: asGuests, or one of the
// share's rights with "no access" refusing it.
func accountSelect(k access.Kind, cur access.Right, has bool) *widget.Select {
	sel := rightSelect(k, cur)
	sel.Options = append([]string{asGuests}, sel.Options...)
	if !has {
		sel.SetSelected(asGuests)
	}
	return sel
}

func newAccessEditor(sh access.ShareInfo, accounts []string) *accessEditor {
	e := &accessEditor{share: sh, accounts: accounts, rights: map[string]*widget.Select{}}
	for _, a := range accounts {
		r, has := sh.Access[a]
		e.rights[a] = accountSelect(sh.Kind, r, has)
	}
	e.guest = rightSelect(sh.Kind, sh.Guest)
	e.password = widget.NewPasswordEntry()
	if sh.Password {
		e.password.SetPlaceHolder("unchanged")
	} else {
		e.password.SetPlaceHolder("none")
	}
	e.clearPW = widget.NewCheck("Remove the password", nil)
	if !sh.Password {
		e.clearPW.Disable()
	}
	return e
}

func (e *accessEditor) items() []*widget.FormItem {
	var items []*widget.FormItem
	for _, a := range e.accounts {
		items = append(items, widget.NewFormItem("Account "+a, e.rights[a]))
	}
	if len(e.accounts) == 0 {
		items = append(items, widget.NewFormItem("", widget.NewLabel("No accounts yet (Accounts tab).")))
	}
	items = append(items,
		widget.NewFormItem("Guests", e.guest),
		widget.NewFormItem("Share password", e.password),
		widget.NewFormItem("", e.clearPW),
	)
	return items
}

// access is what the editor says: the accounts with a right of their own
// ("no access" included: it refuses the account even where guests are let
// in; "as guests" is left out) and the guests' right.
func (e *accessEditor) access() (map[string]access.Right, access.Right) {
	acc := map[string]access.Right{}
	for _, a := range e.accounts {
		if sel := e.rights[a].Selected; sel != asGuests {
			acc[a] = rightOf(e.share.Kind, sel)
		}
	}
	return acc, rightOf(e.share.Kind, e.guest.Selected)
}

// editAccess opens the access editor of the i-th share.
func (s *sharesScreen) editAccess(i int) {
	if i < 0 || i >= len(s.infos) {
		return
	}
	e := newAccessEditor(s.infos[i], s.svc.shares.AccountNames())
	s.editor = e
	items := e.items()
	var d *dialog.FormDialog
	if len(e.accounts) == 0 && s.svc.accounts != nil {
		// Not a dead end: the account people will log in with is made
		// here, then the editor comes back with it.
		name := e.share.Name
		create := widget.NewButtonWithIcon("Create an account…", theme.ContentAddIcon(), func() {
			d.Hide()
			askNewAccount(s.win, s.svc, func(string) {
				s.reload()
				if j := slices.IndexFunc(s.infos, func(in access.ShareInfo) bool { return in.Name == name }); j >= 0 {
					s.editAccess(j)
				}
			})
		})
		items[0] = widget.NewFormItem("", container.NewVBox(widget.NewLabel("No accounts yet: people on other PCs log in with one."), create))
	}
	d = dialog.NewForm("Who may use "+e.share.Name, "Save", "Cancel", items, func(ok bool) {
		if ok {
			s.saveAccess(e)
		}
		if s.editor == e {
			s.editor = nil
		}
	}, s.win)
	d.Resize(fyne.NewSize(460, 0))
	d.Show()
}

// saveAccess stores what the editor says.
func (s *sharesScreen) saveAccess(e *accessEditor) {
	defer s.reload()
	acc, guest := e.access()
	name := e.share.Name
	if err := s.svc.shares.UpdateShareAccess(name, acc, guest); err != nil {
		showError(s.win, "change access to "+name, err)
		return
	}
	switch {
	case e.clearPW.Checked:
		if err := s.svc.shares.SetSharePassword(name, ""); err != nil {
			showError(s.win, "remove the password of "+name, err)
		}
	case e.password.Text != "":
		if err := s.svc.shares.SetSharePassword(name, e.password.Text); err != nil {
			showError(s.win, "set the password of "+name, err)
		}
	}
}
