package app

import (
	"fmt"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/node"
)

// accountAdmin is what the Accounts screen needs: `peerdesk user ...`.
type accountAdmin interface {
	AccountList() []access.AccountInfo
	AddUser(a node.UserArgs) error
	SetUserPassword(a node.UserArgs) error
	RemoveUser(a node.UserArgs) error
}

// accountsScreen is the Accounts tab: this peer's local accounts, which
// people on other PCs log in with.
type accountsScreen struct {
	svc    services
	win    fyne.Window
	list   *widget.List
	rows   []access.AccountInfo
	chosen int
	passwd *widget.Button
	remove *widget.Button
}

func newAccountsScreen(svc services, win fyne.Window) *accountsScreen {
	return &accountsScreen{svc: svc, win: win, chosen: -1}
}

func (s *accountsScreen) view() fyne.CanvasObject {
	s.list = widget.NewList(
		func() int { return len(s.rows) },
		func() fyne.CanvasObject {
			return container.NewBorder(nil, nil, widget.NewIcon(theme.AccountIcon()), nil, widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(s.rows) {
				return
			}
			a := s.rows[i]
			o.(*fyne.Container).Objects[0].(*widget.Label).SetText(a.Name + "    created " + humanTime(a.Created) + ", password changed " + humanTime(a.PasswordChanged))
		},
	)
	s.list.OnSelected = func(i widget.ListItemID) { s.chosen = i; s.sync() }
	s.list.OnUnselected = func(widget.ListItemID) { s.chosen = -1; s.sync() }
	add := widget.NewButtonWithIcon("Add account…", theme.ContentAddIcon(), s.add)
	s.passwd = widget.NewButtonWithIcon("Change password…", theme.SettingsIcon(), s.changePassword)
	s.remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), s.confirmRemove)
	hint := widget.NewLabel("People on other PCs log in with these accounts to use the shares you allow them (My shares → Access).")
	hint.Wrapping = fyne.TextWrapWord
	s.reload()
	return container.NewBorder(container.NewVBox(container.NewHBox(add, s.passwd, s.remove), hint), nil, nil, nil, s.list)
}

func (s *accountsScreen) reload() {
	s.rows = s.svc.accounts.AccountList()
	if s.chosen >= len(s.rows) {
		s.chosen = -1
		s.list.UnselectAll()
	}
	s.list.Refresh()
	s.sync()
}

func (s *accountsScreen) sync() {
	if s.chosen >= 0 {
		s.passwd.Enable()
		s.remove.Enable()
	} else {
		s.passwd.Disable()
		s.remove.Disable()
	}
}

// passwordItems are a password and its confirmation, checked to match.
func passwordItems() (*widget.Entry, []*widget.FormItem) {
	pw := widget.NewPasswordEntry()
	pw.Validator = checkNewPassword
	again := widget.NewPasswordEntry()
	again.Validator = func(s string) error {
		if s != pw.Text {
			return errMismatch
		}
		return nil
	}
	return pw, []*widget.FormItem{
		widget.NewFormItem("Password", pw),
		widget.NewFormItem("Again", again),
	}
}

// minPasswordRunes is the shortest account password the app accepts:
// people on other PCs guess at it, slowed only by the rate limit.
const minPasswordRunes = 8

var errShortPassword = fmt.Errorf("at least %d characters", minPasswordRunes)

func checkNewPassword(s string) error {
	if utf8.RuneCountInString(s) < minPasswordRunes {
		return errShortPassword
	}
	return nil
}

// askNewAccount asks for a new account's name and password, checking both
// as they are typed (the Add button waits for valid ones, nothing typed
// is lost), creates it and calls then with its name.
func askNewAccount(win fyne.Window, svc services, then func(name string)) {
	name := widget.NewEntry()
	name.SetPlaceHolder("e.g. alice")
	name.Validator = access.ValidUsername
	pw, items := passwordItems()
	hint := widget.NewLabel("Names: a-z, 0-9, '.', '_' and '-'. Passwords: at least 8 characters.")
	hint.Wrapping = fyne.TextWrapWord
	items = append([]*widget.FormItem{widget.NewFormItem("Name", name)}, items...)
	items = append(items, widget.NewFormItem("", hint))
	d := dialog.NewForm("Add an account", "Add", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		if err := svc.accounts.AddUser(node.UserArgs{Name: name.Text, Password: pw.Text}); err != nil {
			showError(win, "add account "+name.Text, err)
			return
		}
		then(name.Text)
	}, win)
	d.Resize(fyne.NewSize(460, d.MinSize().Height))
	d.Show()
	win.Canvas().Focus(name)
}

func (s *accountsScreen) add() {
	askNewAccount(s.win, s.svc, func(string) { s.reload() })
}

func (s *accountsScreen) changePassword() {
	if s.chosen < 0 {
		return
	}
	name := s.rows[s.chosen].Name
	pw, items := passwordItems()
	d := dialog.NewForm("New password for "+name, "Change", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		if err := s.svc.accounts.SetUserPassword(node.UserArgs{Name: name, Password: pw.Text}); err != nil {
			showError(s.win, "change the password of "+name, err)
		}
		s.reload()
	}, s.win)
	d.Resize(fyne.NewSize(460, d.MinSize().Height))
	d.Show()
	s.win.Canvas().Focus(pw)
}

func (s *accountsScreen) confirmRemove() {
	if s.chosen < 0 {
		return
	}
	name := s.rows[s.chosen].Name
	dialog.ShowConfirm("Remove "+name+"?", "Whoever uses this account can no longer reach your shares with it.", func(ok bool) {
		if !ok {
			return
		}
		if err := s.svc.accounts.RemoveUser(node.UserArgs{Name: name}); err != nil {
			showError(s.win, "remove account "+name, err)
		}
		s.reload()
	}, s.win)
}
