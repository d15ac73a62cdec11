package node

import (
	"context"
	"time"

	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares/remote"
)

// PrintersArgs and PrintArgs are the arguments of the printers and print
// control ops: the CLI's view of remote printing.
type (
	PrintersArgs struct {
		Peer  string `json:"peer"`
		Creds Creds  `json:"creds"`
	}
	PrinterAddArgs struct {
		Target remote.Path `json:"target"`
		Creds  Creds       `json:"creds"`
	}
	PrinterRemoveArgs struct {
		Ref string `json:"ref"`
	}
	PrintArgs struct {
		Target remote.Path `json:"target"`
		File   string      `json:"file"`
		Creds  Creds       `json:"creds"`
		PrintOptions
		// WaitTimeout bounds how long a Wait follows the job (0: until
		// it ends or the client goes away). A job still waiting then is
		// reported with its state and the printer's message.
		WaitTimeout time.Duration `json:"wait_timeout,omitempty"`
	}
)

func (n *Node) registerPrintControl() {
	handle(n, opPrinters, func(ctx context.Context, a PrintersArgs) ([]PrinterInfo, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return n.Printers(ctx, a.Peer, a.Creds)
	})
	handle(n, opPrinterAdd, func(ctx context.Context, a PrinterAddArgs) (AddedPrinterInfo, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		return n.PrinterAdd(ctx, a.Target, a.Creds)
	})
	handle(n, opPrinterList, func(ctx context.Context, _ none) ([]AddedPrinterInfo, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return n.PrinterList(ctx), nil
	})
	handle(n, opPrinterRemove, func(ctx context.Context, a PrinterRemoveArgs) (none, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return none{}, n.PrinterRemove(ctx, a.Ref)
	})
	handle(n, opPrintersLocal, func(ctx context.Context, _ none) ([]printing.Queue, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return LocalPrinters(ctx)
	})
	// print runs as long as the job is followed; the client's going away
	// (Ctrl-C) ends ctx and the follow, not the job.
	handle(n, opPrint, func(ctx context.Context, a PrintArgs) (PrintJob, error) {
		emit := func(j PrintJob) { _ = control.Emit(ctx, j) }
		if a.WaitTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, a.WaitTimeout)
			defer cancel()
		}
		return n.Print(ctx, a.Target, a.File, a.Creds, a.PrintOptions, emit)
	})
}
