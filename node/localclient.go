package node

import (
	"context"
	"encoding/json"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares/remote"
)

// LocalClient asks the peer running for a home over its control socket:
// one method per control op (the shape of tailscale's LocalClient), with
// the argument and answer types the op's handler declares. Every method
// returns control.ErrNotRunning when no peer runs for Home, and the
// peer's failures as *control.Error, which errors.Is matches against the
// sentinels of the class it carries (docs/errors.md).
type LocalClient struct {
	Home string
}

// localCall sends op with a to the running peer and decodes its answer.
// onEvent, if not nil, receives the progress events sent before it.
func localCall[A, R any](ctx context.Context, c LocalClient, op contract[A, R], a A, onEvent func(json.RawMessage)) (R, error) {
	var r R
	var args any = a
	if _, void := args.(none); void {
		args = nil
	}
	var out any = &r
	if _, void := any(r).(none); void {
		out = nil
	}
	err := control.CallEvents(ctx, c.Home, string(op), args, out, onEvent)
	return r, err
}

// events turns a typed progress callback into the raw one control takes;
// events that do not decode as E are skipped.
func events[E any](fn func(E)) func(json.RawMessage) {
	if fn == nil {
		return nil
	}
	return func(raw json.RawMessage) {
		var e E
		if json.Unmarshal(raw, &e) == nil {
			fn(e)
		}
	}
}

// ID is the running peer's identity.
func (c LocalClient) ID(ctx context.Context) (IDInfo, error) {
	return localCall(ctx, c, opID, none{}, nil)
}

// Peers is the peer table.
func (c LocalClient) Peers(ctx context.Context) ([]discovery.Peer, error) {
	return localCall(ctx, c, opPeers, none{}, nil)
}

// AddPeer adds the peer answering at addr (an address or a DNS name).
func (c LocalClient) AddPeer(ctx context.Context, addr string) (discovery.Peer, error) {
	return localCall(ctx, c, opPeerAdd, PeerRef{Addr: addr}, nil)
}

// RemovePeer forgets a peer added by address.
func (c LocalClient) RemovePeer(ctx context.Context, peer string) error {
	_, err := localCall(ctx, c, opPeerRemove, PeerRef{Peer: peer}, nil)
	return err
}

// Trust pins peer's key; fingerprint confirms a changed one.
func (c LocalClient) Trust(ctx context.Context, peer, fingerprint string) (identity.TrustEntry, error) {
	return localCall(ctx, c, opTrust, PeerRef{Peer: peer, Fingerprint: fingerprint}, nil)
}

// Untrust forgets peer's pinned key.
func (c LocalClient) Untrust(ctx context.Context, peer string) error {
	_, err := localCall(ctx, c, opUntrust, PeerRef{Peer: peer}, nil)
	return err
}

// Ping measures a round trip to peer.
func (c LocalClient) Ping(ctx context.Context, peer string) (PingResult, error) {
	return localCall(ctx, c, opPing, PeerRef{Peer: peer}, nil)
}

// AddUser creates a local account.
func (c LocalClient) AddUser(ctx context.Context, a UserArgs) error {
	_, err := localCall(ctx, c, opUserAdd, a, nil)
	return err
}

// SetUserPassword changes a local account's password.
func (c LocalClient) SetUserPassword(ctx context.Context, a UserArgs) error {
	_, err := localCall(ctx, c, opUserPasswd, a, nil)
	return err
}

// RemoveUser deletes a local account.
func (c LocalClient) RemoveUser(ctx context.Context, a UserArgs) error {
	_, err := localCall(ctx, c, opUserRemove, a, nil)
	return err
}

// Users lists the local accounts.
func (c LocalClient) Users(ctx context.Context) ([]access.AccountInfo, error) {
	return localCall(ctx, c, opUserList, none{}, nil)
}

// ShareFolder shares a folder (or changes its share).
func (c LocalClient) ShareFolder(ctx context.Context, a FolderShareArgs) (access.ShareInfo, error) {
	return localCall(ctx, c, opShareFolder, a, nil)
}

// SharePrinter shares a local printer (or changes its share).
func (c LocalClient) SharePrinter(ctx context.Context, a PrinterShareArgs) (access.ShareInfo, error) {
	return localCall(ctx, c, opSharePrinter, a, nil)
}

// Shares lists this peer's shares.
func (c LocalClient) Shares(ctx context.Context) ([]access.ShareInfo, error) {
	return localCall(ctx, c, opShareList, none{}, nil)
}

// RemoveShare stops sharing name.
func (c LocalClient) RemoveShare(ctx context.Context, name string) error {
	_, err := localCall(ctx, c, opShareRemove, ShareRemoveArgs{Name: name}, nil)
	return err
}

// PauseSharing pauses or resumes serving every share.
func (c LocalClient) PauseSharing(ctx context.Context, paused bool) error {
	_, err := localCall(ctx, c, opSharingPause, SharingPauseArgs{Paused: paused}, nil)
	return err
}

// Settings are the peer's settings.
func (c LocalClient) Settings(ctx context.Context) (SettingsView, error) {
	return localCall(ctx, c, opSettings, none{}, nil)
}

// SetSetting changes one setting.
func (c LocalClient) SetSetting(ctx context.Context, key, value string) error {
	_, err := localCall(ctx, c, opSettingsSet, SettingArgs{Key: key, Value: value}, nil)
	return err
}

// Ls lists a folder of another peer's share (or its shares).
func (c LocalClient) Ls(ctx context.Context, a LsArgs) (remote.Listing, error) {
	return localCall(ctx, c, opLs, a, nil)
}

// Get downloads from another peer's share; progress (may be nil) follows
// each file.
func (c LocalClient) Get(ctx context.Context, a GetArgs, progress func(Progress)) (remote.GetResult, error) {
	return localCall(ctx, c, opGet, a, events(progress))
}

// Put uploads into another peer's share.
func (c LocalClient) Put(ctx context.Context, a PutArgs, progress func(Progress)) ([]remote.PutResult, error) {
	return localCall(ctx, c, opPut, a, events(progress))
}

// Send offers files to another peer, which asks its user.
func (c LocalClient) Send(ctx context.Context, a SendArgs, progress func(Progress)) (remote.SendResult, error) {
	return localCall(ctx, c, opSend, a, events(progress))
}

// Search looks for names on the peers online.
func (c LocalClient) Search(ctx context.Context, a SearchArgs) ([]remote.SearchHit, error) {
	return localCall(ctx, c, opSearch, a, nil)
}

// Transfers is the transfer history, the running ones first.
func (c LocalClient) Transfers(ctx context.Context) ([]Progress, error) {
	return localCall(ctx, c, opTransfers, none{}, nil)
}

// CancelTransfer stops a running transfer.
func (c LocalClient) CancelTransfer(ctx context.Context, id string) error {
	_, err := localCall(ctx, c, opTransfersCancel, TransferCancelArgs{ID: id}, nil)
	return err
}

// Log is the newest limit records of the audit log.
func (c LocalClient) Log(ctx context.Context, limit int) ([]access.AuditRecord, error) {
	return localCall(ctx, c, opLog, LogArgs{Limit: limit}, nil)
}

// Printers lists another peer's shared printers.
func (c LocalClient) Printers(ctx context.Context, a PrintersArgs) ([]PrinterInfo, error) {
	return localCall(ctx, c, opPrinters, a, nil)
}

// LocalPrinters lists this machine's printers.
func (c LocalClient) LocalPrinters(ctx context.Context) ([]printing.Queue, error) {
	return localCall(ctx, c, opPrintersLocal, none{}, nil)
}

// AddPrinter adds another peer's printer to this machine's printers.
func (c LocalClient) AddPrinter(ctx context.Context, a PrinterAddArgs) (AddedPrinterInfo, error) {
	return localCall(ctx, c, opPrinterAdd, a, nil)
}

// AddedPrinters lists the printers added from other peers.
func (c LocalClient) AddedPrinters(ctx context.Context) ([]AddedPrinterInfo, error) {
	return localCall(ctx, c, opPrinterList, none{}, nil)
}

// RemovePrinter removes an added printer (its queue or PEER:PRINTER).
func (c LocalClient) RemovePrinter(ctx context.Context, ref string) error {
	_, err := localCall(ctx, c, opPrinterRemove, PrinterRemoveArgs{Ref: ref}, nil)
	return err
}

// Print prints a file on another peer's printer; progress (may be nil)
// follows the job's states while a.Wait.
func (c LocalClient) Print(ctx context.Context, a PrintArgs, progress func(PrintJob)) (PrintJob, error) {
	return localCall(ctx, c, opPrint, a, events(progress))
}

// Doctor checks the network as `peerdesk doctor` does.
func (c LocalClient) Doctor(ctx context.Context) (DoctorReport, error) {
	return localCall(ctx, c, opDoctor, none{}, nil)
}
