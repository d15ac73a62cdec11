package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares/transfer"
)

// nodeCore gives the screens the running node's API. Most of it is the
// node's own methods; the rest reaches into the parts the node exposes
// (trust store, share store, transfer manager, audit log), and settings go
// through the node's control ops, which hold its settings lock. Each
// screen declares the small interface it needs; tests give fakes.
type nodeCore struct {
	*node.Node
}

var _ interface {
	peerTrust
	remoteFiles
	shareAdmin
	accountAdmin
	transferList
	auditSource
	settingsStore
	sender
	printService
	sharingSwitch
	networkChecker
} = nodeCore{}

// NetworkCheck runs the node's network check (`peerdesk doctor`).
func (c nodeCore) NetworkCheck(ctx context.Context) node.DoctorReport { return c.Doctor(ctx) }

// TrustOf is the trust store's entry for a peer id.
func (c nodeCore) TrustOf(id string) identity.TrustEntry { return c.Trust.Get(id) }

// Retrust pins (or verifies) a peer's key and reconnects, as the "trust"
// control op does, so a peer whose identity changed comes back now rather
// than at the next liveness probe.
func (c nodeCore) Retrust(ref, fingerprintOrCode string) (identity.TrustEntry, error) {
	e, err := c.TrustPeer(ref, fingerprintOrCode)
	if err != nil {
		return e, err
	}
	c.Endpoint().Drop(e.ID)
	return e, nil
}

// Forget drops a peer's pinned key.
func (c nodeCore) Forget(ref string) error {
	p, err := c.ResolvePeer(ref)
	if err != nil {
		return err
	}
	if err := c.UntrustPeer(ref); err != nil {
		return err
	}
	c.Endpoint().Drop(p.ID)
	return nil
}

// ShareInfos lists this peer's shares.
func (c nodeCore) ShareInfos() []access.ShareInfo { return c.Shares.Infos() }

// AccountNames lists this peer's accounts.
func (c nodeCore) AccountNames() []string {
	var out []string
	for _, a := range c.Accounts.List() {
		out = append(out, a.Name)
	}
	return out
}

// AccountList lists this peer's accounts with their dates.
func (c nodeCore) AccountList() []access.AccountInfo { return c.Accounts.List() }

// UpdateShareAccess replaces who may use a share and how.
func (c nodeCore) UpdateShareAccess(name string, rights map[string]access.Right, guest access.Right) error {
	_, err := c.Shares.Update(name, func(sh *access.Share) error {
		sh.Access = rights
		sh.Guest = guest
		return nil
	})
	return err
}

// SetSharePassword sets ("" removes) a share's resource password.
func (c nodeCore) SetSharePassword(name, password string) error {
	return c.Shares.SetPassword(name, password)
}

// LocalQueues lists this machine's print queues.
func (c nodeCore) LocalQueues(ctx context.Context) ([]printing.Queue, error) {
	return node.LocalPrinters(ctx)
}

// TransferList lists running, then past transfers.
func (c nodeCore) TransferList() []transfer.Info { return c.Transfers().List() }

// SubscribeTransfers follows transfer updates.
func (c nodeCore) SubscribeTransfers() (<-chan transfer.Info, func()) {
	return c.Transfers().Subscribe()
}

// CancelTransfer stops a running transfer (its partial data stays).
func (c nodeCore) CancelTransfer(id string) error { return c.Transfers().Cancel(id) }

// AuditRecords reads the newest records of the audit log.
func (c nodeCore) AuditRecords(limit int) ([]access.AuditRecord, error) {
	return c.Files().AuditLog().Read(limit)
}

// settingsView is the settings as the settings screen shows them.
type settingsView = node.SettingsView

// LoadSettings reads the settings under the node's lock: the app runs in
// the node's process and calls it directly.
func (c nodeCore) LoadSettings(context.Context) (settingsView, error) {
	return c.SettingsView(), nil
}

// ChangeSetting changes and saves one setting under the node's lock.
func (c nodeCore) ChangeSetting(_ context.Context, key, value string) error {
	return c.Node.ChangeSetting(key, value)
}

// controlTimeout bounds a settings or share change.
const controlTimeout = 5 * time.Second

// decodeFiles reads the argument of OpSend.
func decodeFiles(raw json.RawMessage) ([]string, error) {
	var a SendArgs
	if len(raw) == 0 {
		return nil, nil
	}
	err := json.Unmarshal(raw, &a)
	return a.Files, err
}
