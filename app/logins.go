package app

import (
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/node"
)

// logins are the credentials given for each remote PC in this session,
// one per PC and shared by every screen (Files, Print, Transfers' Retry),
// with the OS keyring behind them for what was remembered across sessions.
// Memory only: Peerdesk never writes a password to a file of its own.
type logins struct {
	mu    sync.Mutex
	m     map[string]node.Creds
	store credStore
	// loggedOut, if set, tells the core of a log out, so that it stops
	// using the credentials too (searches, other download sources).
	loggedOut func(peer string)
}

func newLogins(store credStore) *logins {
	return &logins{m: map[string]node.Creds{}, store: store}
}

// Get returns the credentials for peer: this session's, else the
// keyring's, else guest (ok false). A nil *logins knows none.
func (l *logins) Get(peer string) (node.Creds, bool) {
	if l == nil {
		return node.Creds{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.m[peer]; ok {
		return c, true
	}
	if l.store != nil {
		if c, ok := l.store.Load(peer); ok {
			l.m[peer] = c
			return c, true
		}
	}
	return node.Creds{}, false
}

// Set makes c the session's login for peer.
func (l *logins) Set(peer string, c node.Creds) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[peer] = c
}

// LogOut makes peer's login guest for the rest of the session and forgets
// the password the keyring kept for it.
func (l *logins) LogOut(peer string) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	l.m[peer] = node.Creds{}
	store, loggedOut := l.store, l.loggedOut
	l.mu.Unlock()
	if loggedOut != nil {
		loggedOut(peer)
	}
	if store != nil {
		return store.Forget(peer)
	}
	return nil
}

// askLogin asks for an account of a PC (and a share password), keeps it
// as the session's login for that PC, in the keyring too when ticked, and
// calls then with it. After a refusal, refused says why inside the dialog
// and what was typed is still there (the account password too: a share
// password may be what was missing), with the cursor in the password.
func askLogin(win fyne.Window, svc services, peer, peerName string, refused error, then func(node.Creds)) {
	cur, _ := svc.logins.Get(peer)
	user := newFormEntry()
	user.SetText(cur.User)
	user.SetPlaceHolder("guest")
	pw := newFormPasswordEntry()
	sharePW := newFormPasswordEntry()
	sharePW.SetPlaceHolder("only if the share has one")
	if refused != nil {
		pw.SetText(cur.Password)
		sharePW.SetText(cur.SharePassword)
	}
	remember := widget.NewCheck("Remember in the system keyring", nil)
	if svc.creds == nil {
		remember.Disable()
	}
	var items []*widget.FormItem
	if refused != nil {
		why := widget.NewLabel(humanError(refused))
		why.Importance = widget.DangerImportance
		why.Wrapping = fyne.TextWrapWord
		items = append(items, widget.NewFormItem("", why))
	}
	items = append(items,
		widget.NewFormItem("Account", user),
		widget.NewFormItem("Password", pw),
		widget.NewFormItem("Share password", sharePW),
		widget.NewFormItem("", remember),
	)
	d := dialog.NewForm("Log in to "+peerName, "Log in", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		c := node.Creds{User: strings.TrimSpace(user.Text), Password: pw.Text, SharePassword: sharePW.Text}
		svc.logins.Set(peer, c)
		if remember.Checked && svc.creds != nil {
			if err := svc.creds.Save(peer, c); err != nil {
				dialog.ShowInformation("Not remembered", "This system has no keyring to keep the password in; Peerdesk remembers it until it quits.", win)
			}
		}
		then(c)
	}, win)
	bindFormKeys(d, user, pw, sharePW)
	d.Resize(fyne.NewSize(460, d.MinSize().Height))
	if svc.dialogs != nil {
		open := &loginDialog{title: "Log in to " + peerName, user: user, pw: pw, sharePW: sharePW}
		if refused != nil {
			open.why = humanError(refused)
		}
		svc.dialogs.login = open
		d.SetOnClosed(func() {
			if svc.dialogs.login == open {
				svc.dialogs.login = nil
			}
		})
	}
	d.Show()
	focus := user
	if refused != nil || cur.User != "" {
		focus = pw
	}
	win.Canvas().Focus(focus)
}
