package node

import (
	"context"
	"fmt"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/shares/remote"
)

// LsArgs, GetArgs, ... are the control ops' arguments: the CLI's view of
// the remote commands.
type (
	LsArgs struct {
		Target remote.Path `json:"target"`
		Creds  Creds       `json:"creds"`
		Hidden bool        `json:"hidden,omitempty"`
	}
	GetArgs struct {
		Source remote.Path `json:"source"`
		Creds  Creds       `json:"creds"`
		remote.GetOptions
	}
	PutArgs struct {
		Locals  []string    `json:"locals"`
		Target  remote.Path `json:"target"`
		Creds   Creds       `json:"creds"`
		Replace bool        `json:"replace,omitempty"`
	}
	SendArgs struct {
		Peer  string   `json:"peer"`
		Files []string `json:"files"`
		// Queue: if the peer is offline, queue the files for when it is
		// back instead of failing.
		Queue bool `json:"queue,omitempty"`
	}
	SearchArgs struct {
		Pattern string `json:"pattern"`
		Creds   Creds  `json:"creds"`
		// Peer is the one peer Creds are for (empty: search as guest).
		Peer string `json:"peer,omitempty"`
	}
	LogArgs struct {
		Limit int `json:"limit"`
	}
)

// emitProgress forwards transfer progress to the control client.
func emitProgress(ctx context.Context) func(Progress) {
	return func(p Progress) { _ = control.Emit(ctx, p) }
}

func (n *Node) registerFilesControl() {
	handle(n, opLs, func(ctx context.Context, a LsArgs) (remote.Listing, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return n.Browse(ctx, a.Target, a.Creds, a.Hidden)
	})
	handle(n, opGet, func(ctx context.Context, a GetArgs) (remote.GetResult, error) {
		return n.Get(ctx, a.Source, a.Creds, a.GetOptions, emitProgress(ctx))
	})
	handle(n, opPut, func(ctx context.Context, a PutArgs) ([]remote.PutResult, error) {
		return n.Put(ctx, a.Locals, a.Target, a.Creds, a.Replace, emitProgress(ctx))
	})
	handle(n, opSend, func(ctx context.Context, a SendArgs) (remote.SendResult, error) {
		if a.Queue {
			return n.SendOrQueue(ctx, a.Peer, a.Files, emitProgress(ctx))
		}
		return n.Send(ctx, a.Peer, a.Files, emitProgress(ctx))
	})
	handle(n, opSearch, func(ctx context.Context, a SearchArgs) ([]remote.SearchHit, error) {
		return n.Search(ctx, a.Pattern, a.Creds, a.Peer)
	})
	handle(n, opTransfers, func(context.Context, none) ([]Progress, error) { return n.transfers.List(), nil })
	handle(n, opTransfersCancel, func(_ context.Context, a TransferCancelArgs) (none, error) {
		return none{}, n.transfers.Cancel(a.ID)
	})
	handle(n, opLog, func(_ context.Context, a LogArgs) ([]access.AuditRecord, error) {
		return n.files.AuditLog().Read(a.Limit)
	})
}

// ReadAuditLog reads the newest limit records of the home's audit log
// with no peer running.
func (s *State) ReadAuditLog(limit int) ([]access.AuditRecord, error) {
	l, err := access.OpenAuditLog(s.Home, access.AuditConfig{})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer l.Close()
	return l.Read(limit)
}
