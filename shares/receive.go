package shares

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// incoming is a file being received into a share (fs.put.data) or the
// inbox (send.data). Both go through receive, so both keep partial data
// under the same temp name, resume the same way, verify the same way and
// never overwrite silently.
type incoming struct {
	root *os.Root
	// where names the root in logs, messages and the upload lock
	// ("share docs", "inbox").
	where string
	// target is the cleaned, non-empty path relative to root.
	target  string
	size    int64
	sha256  string // lower-case hex
	mtime   time.Time
	replace bool
	// makeParents creates missing folders (the inbox); a share upload
	// needs its folder to exist.
	makeParents bool
	// progress, if set, hears how many bytes of the file are held: once
	// what was kept from before, then as bytes arrive.
	progress func(held int64)
}

func (in incoming) temp() string { return tempPath(in.target, in.sha256) }

// prepare checks the target's folder (creating it for the inbox) and
// returns how many bytes of the file are already held.
func (in incoming) prepare() (int64, error) {
	dir := parentRel(in.target)
	if in.makeParents {
		if err := mkdirAll(in.root, dir); err != nil {
			return 0, fsErr(err, in.where, dir)
		}
	} else if dir != "" {
		fi, err := in.root.Stat(dir)
		if err != nil {
			return 0, fsErr(err, in.where, dir)
		}
		if !fi.IsDir() {
			return 0, fmt.Errorf("%w: %s: %s is not a folder", transport.ErrNotFound, in.where, dir)
		}
	}
	fi, err := in.root.Lstat(in.temp())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, fsErr(err, in.where, in.temp())
	case !fi.Mode().IsRegular():
		return 0, fmt.Errorf("%w: %s: partial upload %s is not a regular file", ErrBadPath, in.where, in.temp())
	case fi.Size() > in.size:
		return 0, nil // stale; receive truncates it
	}
	return fi.Size(), nil
}

// hashingWriter writes to a file and hashes exactly what was written.
type hashingWriter struct {
	f        *os.File
	h        hash.Hash
	n        int64
	held     int64
	progress func(int64)
}

func (w *hashingWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if w.progress != nil {
		w.progress(w.held + w.n)
	}
	return n, err
}

// receive takes one file's body from s: it answers "ready" with the offset
// it holds, appends what the sender sends from there to the temp file,
// fsyncs, and once the file is whole verifies its SHA-256 and gives it its
// final name. A broken transfer leaves the temp file to resume from; a hash
// mismatch deletes it; a full disk keeps it (resumable once there is room)
// and reports ErrDiskFull.
func (svc *Service) receive(ctx context.Context, s *transport.Stream, in incoming) (PutResult, error) {
	lockKey := in.where + "\x00" + in.temp()
	ctx, release, err := svc.lockUpload(ctx, lockKey, s.Peer().ID)
	if errors.Is(err, access.ErrBusy) {
		return PutResult{}, fmt.Errorf("%w: %s: this file is being received already; retry shortly", err, in.where)
	}
	if err != nil {
		return PutResult{}, err
	}
	defer release()

	held, err := in.prepare()
	if err != nil {
		return PutResult{}, err
	}
	f, err := in.root.OpenFile(in.temp(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return PutResult{}, fsErr(err, in.where, in.temp())
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return PutResult{}, fsErr(err, in.where, in.temp())
	}
	if !fi.Mode().IsRegular() {
		return PutResult{}, fmt.Errorf("%w: %s: partial upload %s is not a regular file", ErrBadPath, in.where, in.temp())
	}
	held = fi.Size()
	if held > in.size {
		if err := f.Truncate(0); err != nil {
			return PutResult{}, fsErr(err, in.where, in.temp())
		}
		held = 0
	}
	// The hash covers the whole file: what is already held, then what
	// arrives, so nothing is read twice.
	w := &hashingWriter{f: f, h: sha256.New()}
	if held > 0 {
		if _, err := io.CopyBuffer(w.h, io.NewSectionReader(f, 0, held), make([]byte, 256<<10)); err != nil {
			return PutResult{}, fsErr(err, in.where, in.temp())
		}
	}
	if _, err := f.Seek(held, io.SeekStart); err != nil {
		return PutResult{}, fsErr(err, in.where, in.temp())
	}
	if err := s.Respond(offsetResponse{Offset: held, Background: svc.cfg.Limits.Background()}); err != nil {
		return PutResult{}, err
	}
	if in.progress != nil {
		in.progress(held)
		w.held, w.progress = held, in.progress
	}

	if held < in.size {
		_, rerr := s.ReceiveBody(ctx, svc.cfg.Limits.Download().Writer(ctx, w), in.size-held)
		if rerr != nil && errors.Is(context.Cause(ctx), errSuperseded) {
			rerr = errSuperseded
		}
		serr := f.Sync()
		got := held + w.n
		switch {
		case rerr != nil && isNoSpace(rerr), rerr == nil && serr != nil && isNoSpace(serr):
			return PutResult{Offset: got}, fmt.Errorf("%w: %s has no room for %s (%d of %d bytes kept to resume)", ErrDiskFull, in.where, in.target, got, in.size)
		case rerr != nil:
			return PutResult{Offset: got}, fmt.Errorf("receive %s into %s at %d of %d bytes: %w", in.target, in.where, got, in.size, rerr)
		case serr != nil:
			return PutResult{Offset: got}, fsErr(serr, in.where, in.temp())
		}
		if got < in.size {
			// The sender sent one chunk and will send the rest later.
			return PutResult{Offset: got}, nil
		}
	} else if err := f.Sync(); err != nil {
		return PutResult{}, fsErr(err, in.where, in.temp())
	}

	if sum := hex.EncodeToString(w.h.Sum(nil)); sum != in.sha256 {
		f.Close()
		f = nil
		if err := in.root.Remove(in.temp()); err != nil {
			svc.log.Warn("cannot remove corrupt partial file", "where", in.where, "path", in.temp(), "err", err)
		}
		return PutResult{}, fmt.Errorf("%w: %s: %s arrived with sha-256 %s, expected %s; partial data deleted", ErrHashMismatch, in.where, in.target, sum[:16], in.sha256[:16])
	}
	err = f.Close()
	f = nil
	if err != nil {
		return PutResult{}, fsErr(err, in.where, in.temp())
	}
	if !in.mtime.IsZero() {
		if err := setMtimeInRoot(in.root, in.temp(), in.mtime); err != nil {
			svc.log.Warn("cannot set mtime", "where", in.where, "path", in.target, "err", err)
		}
	}
	final, err := placeFile(in.root, in.temp(), in.target, in.replace)
	if err != nil {
		return PutResult{}, fsErr(err, in.where, in.target)
	}
	syncDir(in.root, parentRel(final))
	return PutResult{Offset: in.size, Complete: true, Name: final}, nil
}

// placeFile gives the verified temp file its final name: target itself
// when free (or when replace is set and target is a regular file), else
// the first free "name (N).ext".
func placeFile(root *os.Root, temp, target string, replace bool) (string, error) {
	if replace {
		fi, err := root.Lstat(target)
		switch {
		case errors.Is(err, fs.ErrNotExist), err == nil && fi.Mode().IsRegular():
			if err := renameInRoot(root, temp, target); err != nil {
				return "", err
			}
			return target, nil
		case err != nil:
			return "", err
		}
		// A folder or a symlink of that name is never replaced.
	}
	dir, base := parentRel(target), baseName(target)
	for i := 0; i < 10000; i++ {
		name := conflictName(base, i)
		if len(name) > MaxNameBytes {
			return "", fmt.Errorf("%w: no free name for %s", fs.ErrExist, base)
		}
		cand := joinRel(dir, name)
		err := renameNoReplace(root, temp, cand)
		if err == nil {
			return cand, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%w: no free name for %s", fs.ErrExist, base)
}

// conflictName is base for i == 0, else "stem (i).ext" ("report (1).pdf",
// "archive.tar (2).gz", ".profile (1)").
func conflictName(base string, i int) string {
	if i == 0 {
		return base
	}
	stem, ext := base, ""
	if dot := strings.LastIndexByte(base, '.'); dot > 0 {
		stem, ext = base[:dot], base[dot:]
	}
	return stem + " (" + strconv.Itoa(i) + ")" + ext
}
