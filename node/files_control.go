package node

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/shares"
)

// LsArgs, GetArgs, ... are the control ops' arguments: the CLI's view of
// the remote commands.
type (
	LsArgs struct {
		Target RemotePath `json:"target"`
		Creds  Creds      `json:"creds"`
		Hidden bool       `json:"hidden,omitempty"`
	}
	GetArgs struct {
		Source RemotePath `json:"source"`
		Creds  Creds      `json:"creds"`
		GetOptions
	}
	PutArgs struct {
		Locals  []string   `json:"locals"`
		Target  RemotePath `json:"target"`
		Creds   Creds      `json:"creds"`
		Replace bool       `json:"replace,omitempty"`
	}
	SendArgs struct {
		Peer  string   `json:"peer"`
		Files []string `json:"files"`
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
	handle := func(op string, fn func(ctx context.Context, args json.RawMessage) (any, error)) {
		n.HandleControl(op, func(ctx context.Context, _ string, args json.RawMessage) (any, error) { return fn(ctx, args) })
	}
	handle(OpLs, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a LsArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return n.Browse(ctx, a.Target, a.Creds, a.Hidden)
	})
	handle(OpGet, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a GetArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return n.Get(ctx, a.Source, a.Creds, a.GetOptions, emitProgress(ctx))
	})
	handle(OpPut, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a PutArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return n.Put(ctx, a.Locals, a.Target, a.Creds, a.Replace, emitProgress(ctx))
	})
	handle(OpSend, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a SendArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return n.Send(ctx, a.Peer, a.Files, emitProgress(ctx))
	})
	handle(OpSearch, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a SearchArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return n.Search(ctx, a.Pattern, a.Creds, a.Peer)
	})
	handle(OpTransfers, func(context.Context, json.RawMessage) (any, error) {
		return n.transfers.List(), nil
	})
	handle(OpTransfersCancel, func(_ context.Context, raw json.RawMessage) (any, error) {
		var a struct {
			ID string `json:"id"`
		}
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return nil, n.transfers.Cancel(a.ID)
	})
	handle(OpLog, func(_ context.Context, raw json.RawMessage) (any, error) {
		var a LogArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return n.files.AuditLog().Read(a.Limit)
	})
}

// ReadAuditLog reads the newest limit records of the home's audit log
// with no peer running.
func (s *State) ReadAuditLog(limit int) ([]shares.AuditRecord, error) {
	l, err := shares.OpenAuditLog(s.Home, shares.AuditConfig{})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer l.Close()
	return l.Read(limit)
}
