package node

// The control ops: the requests the CLI and a second app start send to the
// running peer over its control socket (package control). Declared once,
// used by the handlers here and by their callers.
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
