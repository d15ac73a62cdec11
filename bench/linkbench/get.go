//go:build unix

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/internal/ratelimit"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// The `get` measurement: the server shares a folder holding one file
// through the real file service (shares.Service); the client downloads it
// as `peerdesk get` does (shares.Client as the source of
// transfer.Download: 8 MiB ranges, written to a partial file, fsynced,
// SHA-256 verified from disk, renamed into place). The TLS/TCP baseline
// gets the same file into the same kind of partial file and pays the same
// fsync, verification and rename. Both ends keep files in /dev/shm where
// it exists, so the disk does not set the pace.

const (
	getShare = "bench"
	getFile  = "big.bin"
)

// scratchDir makes a temporary folder in memory if the system has one.
func scratchDir() (string, error) {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "linkbench-"); err == nil {
			return d, nil
		}
	}
	return os.MkdirTemp("", "linkbench-")
}

// serveShare writes a file of n pattern bytes into dir/share and
// registers a file service sharing that folder read-only with guests.
func serveShare(dir string, n int64, pattern []byte, mux *transport.Mux, log *slog.Logger) (*shares.Service, string, error) {
	folder := filepath.Join(dir, "share")
	if err := os.MkdirAll(folder, 0o700); err != nil {
		return nil, "", err
	}
	path := filepath.Join(folder, getFile)
	f, err := os.Create(path)
	if err != nil {
		return nil, "", err
	}
	if _, err := io.Copy(f, io.LimitReader(&patternReader{pattern: pattern}, n)); err != nil {
		f.Close()
		return nil, "", err
	}
	if err := f.Close(); err != nil {
		return nil, "", err
	}
	svc, err := shares.NewService(shares.ServiceConfig{Home: filepath.Join(dir, "home"), Name: "linkbench", Logger: log})
	if err != nil {
		return nil, "", err
	}
	if _, err := svc.Shares().Add(access.Share{Name: getShare, Kind: access.KindFolder, Path: folder, Guest: access.RightRO}, ""); err != nil {
		svc.Close()
		return nil, "", err
	}
	svc.Register(mux)
	return svc, path, nil
}

// shareSource is transfer.Source over shares.Client, as node's.
type shareSource struct {
	c shares.Client
	t access.Target
}

func (s shareSource) Name() string { return "server" }

func (s shareSource) ReadRange(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	_, got, err := s.c.ReadRange(ctx, s.t, getShare, getFile, off, n, w)
	return got, err
}

// getOurs downloads the shared file into dir and removes it after.
func getOurs(ctx context.Context, ep *transport.Endpoint, t access.Target, dir string, background bool) (int64, error) {
	c := shares.Client{Caller: ep, Limits: &ratelimit.Limits{}}
	c.Limits.SetBackground(background)
	st, err := c.Stat(ctx, t, getShare, getFile)
	if err != nil {
		return 0, err
	}
	res, err := transfer.Download(ctx, transfer.Request{
		Remote:  transfer.Remote{Size: st.Size, MTime: st.Mtime, SHA256: st.SHA256},
		Sources: []transfer.Source{shareSource{c: c, t: t}},
		Dir:     dir, Name: getFile, Replace: true, Background: background,
	})
	if err != nil {
		return 0, err
	}
	if err := os.Remove(res.Path); err != nil {
		return 0, err
	}
	return st.Size, nil
}

// receiveVerified writes n bytes from r to a partial file in dir, fsyncs
// it, checks its SHA-256 from disk against want and renames it into place
// (then removes it): what transfer.Download does after the network.
func receiveVerified(r io.Reader, n int64, dir, want string) error {
	part := filepath.Join(dir, ".tls-"+getFile+".part")
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(part)
	defer f.Close()
	got, err := io.CopyBuffer(f, io.LimitReader(r, n), make([]byte, copyBuffer))
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("received %d of %d bytes", got, n)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != want {
		return fmt.Errorf("TLS download hashes to %s…, want %s…", sum[:12], want[:12])
	}
	final := filepath.Join(dir, getFile)
	if err := os.Rename(part, final); err != nil {
		return err
	}
	return os.Remove(final)
}
