package node

import (
	"context"
	"fmt"
	"strings"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// The local administration of a peer: its accounts and its shares. Each
// operation is a State method, so the CLI runs the same code whether it
// goes through the running peer (control op) or, with none running, edits
// the home itself under the instance lock.

// UserArgs is the argument of the user.* control ops.
type UserArgs struct {
	Name     string `json:"name"`
	Password string `json:"password,omitempty"`
}

// FolderShareArgs is the argument of share.folder: `share folder`.
type FolderShareArgs struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// Allow maps accounts to rights; Guest is the guests' right.
	Allow    map[string]string `json:"allow,omitempty"`
	Guest    string            `json:"guest,omitempty"`
	Password string            `json:"password,omitempty"`
}

// PrinterShareArgs is the argument of share.printer: `share printer`.
type PrinterShareArgs struct {
	Name     string   `json:"name"`
	Queue    string   `json:"queue"`
	Allow    []string `json:"allow,omitempty"`
	Guest    bool     `json:"guest,omitempty"`
	Password string   `json:"password,omitempty"`
}

// AddUser creates a local account.
func (s *State) AddUser(a UserArgs) error {
	if a.Password == "" {
		return fmt.Errorf("%w: an account needs a password", ErrUsage)
	}
	return s.Accounts.Add(a.Name, a.Password)
}

// SetUserPassword changes an account's password.
func (s *State) SetUserPassword(a UserArgs) error {
	if a.Password == "" {
		return fmt.Errorf("%w: empty password", ErrUsage)
	}
	return s.Accounts.SetPassword(a.Name, a.Password)
}

// RemoveUser deletes an account and its rights on every share.
func (s *State) RemoveUser(a UserArgs) error {
	if err := s.Accounts.Remove(a.Name); err != nil {
		return err
	}
	return s.Shares.ForgetAccount(a.Name)
}

// AddFolderShare shares a folder.
func (s *State) AddFolderShare(a FolderShareArgs) (access.ShareInfo, error) {
	sh := access.Share{Name: a.Name, Kind: access.KindFolder, Path: a.Path, Access: map[string]access.Right{}}
	for user, r := range a.Allow {
		right, err := access.ParseRight(r)
		if err != nil {
			return access.ShareInfo{}, err
		}
		if err := s.checkAccount(user); err != nil {
			return access.ShareInfo{}, err
		}
		sh.Access[user] = right
	}
	guest, err := access.ParseRight(a.Guest)
	if err != nil {
		return access.ShareInfo{}, err
	}
	sh.Guest = guest
	return s.Shares.Add(sh, a.Password)
}

// AddPrinterShare shares a local print queue.
func (s *State) AddPrinterShare(a PrinterShareArgs) (access.ShareInfo, error) {
	sh := access.Share{Name: a.Name, Kind: access.KindPrinter, Queue: a.Queue, Access: map[string]access.Right{}}
	for _, user := range a.Allow {
		if err := s.checkAccount(user); err != nil {
			return access.ShareInfo{}, err
		}
		sh.Access[user] = access.RightPrint
	}
	if a.Guest {
		sh.Guest = access.RightPrint
	}
	return s.Shares.Add(sh, a.Password)
}

func (s *State) checkAccount(user string) error {
	if !s.Accounts.Exists(user) {
		return fmt.Errorf("%w: no account %q here (create it with `peerdesk user add %s`)", transport.ErrNotFound, user, user)
	}
	return nil
}

// RemoveShare stops sharing name.
func (s *State) RemoveShare(name string) error { return s.Shares.Remove(name) }

// ParseAllow parses `--allow USER[:ro|rw|wo]` values; a bare USER gets
// def.
func ParseAllow(values []string, def string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range values {
		user, right, ok := strings.Cut(v, ":")
		if !ok {
			right = def
		}
		if _, err := access.ParseRight(right); err != nil {
			return nil, fmt.Errorf("%w: --allow %s: %v", ErrUsage, v, err)
		}
		if err := access.ValidUsername(user); err != nil {
			return nil, fmt.Errorf("%w: --allow %s: %v", ErrUsage, v, err)
		}
		out[user] = right
	}
	return out, nil
}

func (n *Node) registerLocalControl() {
	userOp := func(fn func(UserArgs) error) func(context.Context, UserArgs) (none, error) {
		return func(_ context.Context, a UserArgs) (none, error) { return none{}, fn(a) }
	}
	handle(n, opUserAdd, userOp(n.AddUser))
	handle(n, opUserPasswd, userOp(n.SetUserPassword))
	handle(n, opUserRemove, userOp(n.RemoveUser))
	handle(n, opUserList, func(context.Context, none) ([]access.AccountInfo, error) { return n.Accounts.List(), nil })
	handle(n, opShareFolder, func(_ context.Context, a FolderShareArgs) (access.ShareInfo, error) { return n.AddFolderShare(a) })
	handle(n, opSharePrinter, func(_ context.Context, a PrinterShareArgs) (access.ShareInfo, error) { return n.AddPrinterShare(a) })
	handle(n, opSettings, func(context.Context, none) (SettingsView, error) { return n.SettingsView(), nil })
	handle(n, opSettingsSet, func(_ context.Context, a SettingArgs) (none, error) { return none{}, n.ChangeSetting(a.Key, a.Value) })
	handle(n, opShareList, func(context.Context, none) ([]access.ShareInfo, error) { return n.Shares.Infos(), nil })
	handle(n, opShareRemove, func(_ context.Context, a ShareRemoveArgs) (none, error) { return none{}, n.RemoveShare(a.Name) })
}

// SettingsView is the settings as `peerdesk settings --json` and the
// settings op show them: with the inbox folder files land in.
type SettingsView struct {
	Settings
	InboxDir string `json:"inbox_dir"`
}

// SettingArgs are the arguments of OpSettingsSet.
type SettingArgs struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SettingsView returns the settings under the node's settings lock.
func (n *Node) SettingsView() SettingsView {
	n.settingsMu.Lock()
	defer n.settingsMu.Unlock()
	return SettingsView{Settings: n.Settings, InboxDir: n.InboxDir()}
}

// ChangeSetting changes and saves one setting under the node's lock.
func (n *Node) ChangeSetting(key, value string) error {
	n.settingsMu.Lock()
	defer n.settingsMu.Unlock()
	if err := n.SetSetting(key, value); err != nil {
		return err
	}
	n.applyLimits()
	return nil
}
