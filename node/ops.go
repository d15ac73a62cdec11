package node

import (
	"context"
	"encoding/json"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares/remote"
)

// The control ops: the requests the CLI and a second app start send to the
// running peer over its control socket (package control). Their names are
// declared once here; their argument and answer types once, in the
// contracts below, which both the handlers (handle) and LocalClient
// (localCall) take, so the compiler holds the two sides to the same types.
const (
	OpDoctor          = "doctor"
	OpGet             = "get"
	OpID              = "id"
	OpLog             = "log"
	OpLs              = "ls"
	OpPeerAdd         = "peer.add"
	OpPeerRemove      = "peer.rm"
	OpPeers           = "peers"
	OpPing            = "ping"
	OpPrint           = "print"
	OpPrinters        = "printers"
	OpPrintersLocal   = "printers.local"
	OpPrinterAdd      = "printer.add"
	OpPrinterList     = "printer.list"
	OpPrinterRemove   = "printer.rm"
	OpPut             = "put"
	OpSearch          = "search"
	OpSend            = "send"
	OpSettings        = "settings"
	OpSettingsSet     = "settings.set"
	OpShareFolder     = "share.folder"
	OpShareList       = "share.list"
	OpSharePrinter    = "share.printer"
	OpShareRemove     = "share.rm"
	OpSharingPause    = "sharing.pause"
	OpTransfers       = "transfers"
	OpTransfersCancel = "transfers.cancel"
	OpTrust           = "trust"
	OpUntrust         = "untrust"
	OpUserAdd         = "user.add"
	OpUserList        = "user.list"
	OpUserPasswd      = "user.passwd"
	OpUserRemove      = "user.rm"
)

// The arguments of ops that take one value.
type (
	// ShareRemoveArgs are OpShareRemove's.
	ShareRemoveArgs struct {
		Name string `json:"name"`
	}
	// TransferCancelArgs are OpTransfersCancel's.
	TransferCancelArgs struct {
		ID string `json:"id"`
	}
	// SharingPauseArgs are OpSharingPause's.
	SharingPauseArgs struct {
		Paused bool `json:"paused"`
	}
)

// contract is a control op whose arguments are A and whose answer is R.
type contract[A, R any] string

var (
	opDoctor          = contract[none, DoctorReport](OpDoctor)
	opGet             = contract[GetArgs, remote.GetResult](OpGet)
	opID              = contract[none, IDInfo](OpID)
	opLog             = contract[LogArgs, []access.AuditRecord](OpLog)
	opLs              = contract[LsArgs, remote.Listing](OpLs)
	opPeerAdd         = contract[PeerRef, discovery.Peer](OpPeerAdd)
	opPeerRemove      = contract[PeerRef, none](OpPeerRemove)
	opPeers           = contract[none, []discovery.Peer](OpPeers)
	opPing            = contract[PeerRef, PingResult](OpPing)
	opPrint           = contract[PrintArgs, PrintJob](OpPrint)
	opPrinters        = contract[PrintersArgs, []PrinterInfo](OpPrinters)
	opPrintersLocal   = contract[none, []printing.Queue](OpPrintersLocal)
	opPrinterAdd      = contract[PrinterAddArgs, AddedPrinterInfo](OpPrinterAdd)
	opPrinterList     = contract[none, []AddedPrinterInfo](OpPrinterList)
	opPrinterRemove   = contract[PrinterRemoveArgs, none](OpPrinterRemove)
	opPut             = contract[PutArgs, []remote.PutResult](OpPut)
	opSearch          = contract[SearchArgs, []remote.SearchHit](OpSearch)
	opSend            = contract[SendArgs, remote.SendResult](OpSend)
	opSettings        = contract[none, SettingsView](OpSettings)
	opSettingsSet     = contract[SettingArgs, none](OpSettingsSet)
	opShareFolder     = contract[FolderShareArgs, access.ShareInfo](OpShareFolder)
	opShareList       = contract[none, []access.ShareInfo](OpShareList)
	opSharePrinter    = contract[PrinterShareArgs, access.ShareInfo](OpSharePrinter)
	opShareRemove     = contract[ShareRemoveArgs, none](OpShareRemove)
	opSharingPause    = contract[SharingPauseArgs, none](OpSharingPause)
	opTransfers       = contract[none, []Progress](OpTransfers)
	opTransfersCancel = contract[TransferCancelArgs, none](OpTransfersCancel)
	opTrust           = contract[PeerRef, identity.TrustEntry](OpTrust)
	opUntrust         = contract[PeerRef, none](OpUntrust)
	opUserAdd         = contract[UserArgs, none](OpUserAdd)
	opUserList        = contract[none, []access.AccountInfo](OpUserList)
	opUserPasswd      = contract[UserArgs, none](OpUserPasswd)
	opUserRemove      = contract[UserArgs, none](OpUserRemove)
)

// none is the arguments of an op that takes none, or the answer of one
// that answers nothing (sent as null).
type none = struct{}

// handle registers fn as the handler of control op: the arguments are
// decoded into A (a usage error if they do not fit), the answer R is sent
// back (null for none).
func handle[A, R any](n *Node, op contract[A, R], fn func(context.Context, A) (R, error)) {
	n.HandleControl(string(op), func(ctx context.Context, _ string, raw json.RawMessage) (any, error) {
		var a A
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		r, err := fn(ctx, a)
		if err != nil {
			return nil, err
		}
		if _, void := any(r).(none); void {
			return nil, nil
		}
		return r, nil
	})
}
