package shares

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

func (svc *Service) serveSharesList(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[authRequest](req)
	if err != nil {
		return err
	}
	list, account, err := svc.access.Visible(ctx, s.Peer(), in.Auth, in.All)
	if err != nil {
		return err
	}
	svc.access.Audit(s.Peer(), account, access.ActionList, "", true, fmt.Sprintf("%d shares", len(list)))
	return respondList(ctx, s, list)
}

// authorizePath authorizes a path request and resolves its path, auditing
// a refused path under action.
func (svc *Service) authorizePath(ctx context.Context, s *transport.Stream, in pathRequest, need access.Right, action access.Action) (access.Grant, string, error) {
	g, err := svc.access.Authorize(ctx, s.Peer(), in.Auth, in.Share, need)
	if err != nil {
		return access.Grant{}, "", err
	}
	clean, err := resolve(g.Share.Name, in.Path, in.Hidden)
	if err != nil {
		svc.access.AuditGrant(g, action, resource(g.Share.Name, access.Shorten(in.Path)), false, err.Error())
		return access.Grant{}, "", err
	}
	return g, clean, nil
}

// openTarget authorizes a path request and opens its share's root; the
// caller closes it.
func (svc *Service) openTarget(ctx context.Context, s *transport.Stream, in pathRequest, need access.Right, action access.Action) (access.Grant, *os.Root, string, error) {
	g, clean, err := svc.authorizePath(ctx, s, in, need, action)
	if err != nil {
		return access.Grant{}, nil, "", err
	}
	root, err := svc.openShare(g.Share)
	if err != nil {
		return access.Grant{}, nil, "", err
	}
	return g, root, clean, nil
}

// refuseFS audits a file-system refusal (escape, loop, missing) and returns
// it in its travelling form.
func (svc *Service) refuseFS(g access.Grant, action access.Action, rel string, err error) error {
	err = fsErr(err, g.Share.Name, rel)
	if isPublic(err) {
		svc.access.AuditGrant(g, action, resource(g.Share.Name, rel), false, err.Error())
	}
	return err
}

func (svc *Service) serveList(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[pathRequest](req)
	if err != nil {
		return err
	}
	g, root, clean, err := svc.openTarget(ctx, s, in, access.RightRO, access.ActionList)
	if err != nil {
		return err
	}
	defer root.Close()
	entries, err := listFolder(root, clean, in.Hidden)
	if err != nil {
		return svc.refuseFS(g, access.ActionList, clean, err)
	}
	svc.access.AuditGrant(g, access.ActionList, resource(g.Share.Name, clean), true, fmt.Sprintf("%d entries", len(entries)))
	svc.log.Debug("listed", "peer", g.Peer.ID, "share", g.Share.Name, "entries", len(entries))
	return respondList(ctx, s, entries)
}

// listFolder lists a folder (one ReadDir; os.Root fetches each entry's
// lstat with it) sorted by name. Hidden entries are left out unless asked
// for, temp files always. A symlink shows as what it points to when that
// is inside the share, and not at all otherwise. A file lists as itself.
func listFolder(root *os.Root, clean string, hidden bool) ([]Entry, error) {
	d, err := root.Open(rootName(clean))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return nil, fs.ErrNotExist
		}
		return []Entry{entryOf(baseName(clean), fi)}, nil
	}
	out := []Entry{}
	for {
		ents, err := d.ReadDir(4096)
		for _, de := range ents {
			name := de.Name()
			if isTempName(name) || (!hidden && strings.HasPrefix(name, ".")) {
				continue
			}
			info, ierr := de.Info()
			if ierr != nil {
				continue // gone since
			}
			if info.Mode()&fs.ModeSymlink != 0 {
				// Followed by the root: fails when it leads out or loops.
				if info, ierr = root.Stat(joinRel(clean, name)); ierr != nil {
					continue
				}
			}
			if !info.IsDir() && !info.Mode().IsRegular() {
				continue // devices, pipes, sockets are not shared
			}
			out = append(out, entryOf(name, info))
		}
		if len(out) > MaxListEntries {
			return nil, fmt.Errorf("%w: folder has more than %d entries", transport.ErrProtocol, MaxListEntries)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func entryOf(name string, fi fs.FileInfo) Entry {
	e := Entry{Name: name, Mtime: fi.ModTime().UTC(), Dir: fi.IsDir()}
	if !e.Dir {
		e.Size = fi.Size()
	}
	return e
}

// openRegular opens a file of the share for reading, refusing folders and
// anything but regular files (a pipe would block the reader for ever).
func openRegular(root *os.Root, clean string) (*os.File, fs.FileInfo, error) {
	fi, err := root.Stat(rootName(clean))
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi, nil
	}
	f, err := root.Open(rootName(clean))
	if err != nil {
		return nil, nil, err
	}
	if fi, err = f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fs.ErrNotExist
		}
		return nil, nil, err
	}
	return f, fi, nil
}

func (svc *Service) serveStat(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[pathRequest](req)
	if err != nil {
		return err
	}
	g, root, clean, err := svc.openTarget(ctx, s, in, access.RightRO, access.ActionRead)
	if err != nil {
		return err
	}
	defer root.Close()
	name := baseName(clean)
	if clean == "" {
		name = g.Share.Name
	}
	f, fi, err := openRegular(root, clean)
	if err != nil {
		return svc.refuseFS(g, access.ActionRead, clean, err)
	}
	if f == nil {
		if !fi.IsDir() {
			return svc.refuseFS(g, access.ActionRead, clean, fs.ErrNotExist)
		}
		return s.Respond(entryOf(name, fi))
	}
	defer f.Close()
	e := entryOf(name, fi)
	if e.SHA256, err = svc.hashes.sum(g.Share.Name+"/"+clean, f, fi); err != nil {
		return fsErr(err, g.Share.Name, clean)
	}
	return s.Respond(e)
}

// openReadFile authorizes reading a regular file of a share and opens it;
// done closes what it opened.
func (svc *Service) openReadFile(ctx context.Context, s *transport.Stream, in pathRequest) (access.Grant, *os.File, fs.FileInfo, string, func(), error) {
	g, root, clean, err := svc.openTarget(ctx, s, in, access.RightRO, access.ActionRead)
	if err != nil {
		return g, nil, nil, "", nil, err
	}
	f, fi, err := openRegular(root, clean)
	if err == nil && f == nil {
		err = fmt.Errorf("%w: %s is a folder, not a file", transport.ErrNotFound, resource(g.Share.Name, clean))
	}
	if err != nil {
		root.Close()
		return g, nil, nil, "", nil, svc.refuseFS(g, access.ActionRead, clean, err)
	}
	return g, f, fi, clean, func() { f.Close(); root.Close() }, nil
}

// serveChunks answers fs.chunks: the file's SHA-256 and its chunk sums,
// computed in one read and cached.
func (svc *Service) serveChunks(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[pathRequest](req)
	if err != nil {
		return err
	}
	g, f, fi, clean, done, err := svc.openReadFile(ctx, s, in)
	if err != nil {
		return err
	}
	defer done()
	whole, sums, err := svc.hashes.chunkSums(g.Share.Name+"/"+clean, f, fi)
	if err != nil {
		return fsErr(err, g.Share.Name, clean)
	}
	meta := ChunksMeta{SHA256: whole, Size: fi.Size(), ChunkSize: ChunkSumSize, Count: int64(len(sums) / sha256.Size)}
	if err := s.Respond(meta); err != nil {
		return nil
	}
	if _, err := s.SendBody(ctx, bytes.NewReader(sums)); err != nil {
		return err
	}
	awaitClose(ctx, s)
	return nil
}

func (svc *Service) serveTree(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[pathRequest](req)
	if err != nil {
		return err
	}
	g, root, clean, err := svc.openTarget(ctx, s, in, access.RightRO, access.ActionList)
	if err != nil {
		return err
	}
	defer root.Close()
	entries, err := walkTree(ctx, root, clean, in.Hidden)
	if err != nil {
		return svc.refuseFS(g, access.ActionList, clean, err)
	}
	svc.access.AuditGrant(g, access.ActionList, resource(g.Share.Name, clean), true, fmt.Sprintf("tree of %d entries", len(entries)))
	return respondList(ctx, s, entries)
}

// maxTreeDepth bounds folder nesting in a tree walk.
const maxTreeDepth = 128

// walkTree lists everything below a folder, parents before children, with
// paths relative to it. Symlinks are skipped (never followed), as are
// hidden entries unless asked for, temp files and special files.
func walkTree(ctx context.Context, root *os.Root, clean string, hidden bool) ([]TreeEntry, error) {
	fi, err := root.Stat(rootName(clean))
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return nil, fs.ErrNotExist
		}
		return []TreeEntry{{Path: baseName(clean), Size: fi.Size(), Mtime: fi.ModTime().UTC()}}, nil
	}
	out := []TreeEntry{}
	w := walker{root: root, base: clean, hidden: hidden, fn: func(rel string, fi fs.FileInfo) error {
		e := TreeEntry{Path: rel, Mtime: fi.ModTime().UTC(), Dir: fi.IsDir()}
		if !e.Dir {
			e.Size = fi.Size()
		}
		out = append(out, e)
		if len(out) > MaxListEntries {
			return fmt.Errorf("%w: more than %d entries below the folder", transport.ErrProtocol, MaxListEntries)
		}
		return nil
	}}
	return out, w.walk(ctx, "", 0)
}

// walker visits every folder and regular file below base in name order,
// parents first, without following symlinks. Hidden entries are skipped
// unless hidden is set; temp and special files always.
type walker struct {
	root   *os.Root
	base   string
	hidden bool
	// skipUnreadable passes over folders that cannot be read instead of
	// failing the walk (search does; a folder download must not).
	skipUnreadable bool
	fn             func(rel string, fi fs.FileInfo) error
}

func (w *walker) walk(ctx context.Context, rel string, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("%w: folders nested deeper than %d", transport.ErrProtocol, maxTreeDepth)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := w.root.Open(rootName(joinRel(w.base, rel)))
	if err != nil {
		if w.skipUnreadable {
			return nil
		}
		return err
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil && !w.skipUnreadable {
		return err
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	for _, de := range ents {
		name := de.Name()
		if isTempName(name) || (!w.hidden && strings.HasPrefix(name, ".")) {
			continue
		}
		t := de.Type()
		if t&fs.ModeSymlink != 0 || (!t.IsDir() && !t.IsRegular()) {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue
		}
		child := joinRel(rel, name)
		if err := w.fn(child, info); err != nil {
			return err
		}
		if info.IsDir() {
			if err := w.walk(ctx, child, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func (svc *Service) serveRead(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[readRequest](req)
	if err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	g, f, fi, clean, done, err := svc.openReadFile(ctx, s, in.pathRequest)
	if err != nil {
		return err
	}
	defer done()
	size := fi.Size()
	if in.Offset > size {
		return fmt.Errorf("%w: %s: offset %d beyond the end (%d bytes)", transport.ErrProtocol, OpRead, in.Offset, size)
	}
	length := size - in.Offset
	if in.Length > 0 && in.Length < length {
		length = in.Length
	}
	meta := ReadMeta{Size: size, Mtime: fi.ModTime().UTC(), Length: length}
	// Hashing here would delay the first byte by a full read of the file:
	// only a known sum is sent; fs.stat computes it.
	meta.SHA256, _ = svc.hashes.get(keyOf(g.Share.Name+"/"+clean, fi))
	svc.access.AuditGrant(g, access.ActionRead, resource(g.Share.Name, clean), true, fmt.Sprintf("bytes %d-%d of %d", in.Offset, in.Offset+length, size))
	if err := s.Respond(meta); err != nil {
		return nil
	}
	if in.Background || svc.cfg.Limits.Background() {
		ctx = transport.WithBackground(ctx)
	}
	n, err := s.SendBody(ctx, svc.cfg.Limits.Upload().Reader(ctx, io.NewSectionReader(f, in.Offset, length)))
	if err != nil {
		svc.log.Info("read interrupted", "peer", g.Peer.ID, "share", g.Share.Name, "bytes", n, "err", err)
		return fsErr(err, g.Share.Name, clean)
	}
	svc.log.Debug("read", "peer", g.Peer.ID, "share", g.Share.Name, "bytes", n)
	awaitClose(ctx, s)
	return nil
}

func (svc *Service) serveMkdir(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[pathRequest](req)
	if err != nil {
		return err
	}
	g, root, clean, err := svc.openTarget(ctx, s, in, access.RightWO, access.ActionWrite)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := mkdirAll(root, clean); err != nil {
		return svc.refuseFS(g, access.ActionWrite, clean, err)
	}
	svc.access.AuditGrant(g, access.ActionWrite, resource(g.Share.Name, clean), true, "folder")
	return s.Respond(nil)
}

// putTarget authorizes and checks a put request and opens its share.
func (svc *Service) putTarget(ctx context.Context, s *transport.Stream, op string, in putRequest) (access.Grant, incoming, error) {
	if err := in.validate(op); err != nil {
		return access.Grant{}, incoming{}, err
	}
	if clean, err := CleanPath(in.Path); err == nil && clean == "" {
		return access.Grant{}, incoming{}, fmt.Errorf("%w: %s: a file name is needed", ErrBadPath, op)
	}
	g, root, clean, err := svc.openTarget(ctx, s, in.pathRequest, access.RightWO, access.ActionWrite)
	if err != nil {
		return access.Grant{}, incoming{}, err
	}
	return g, incoming{
		root: root, where: "share " + g.Share.Name, target: clean,
		size: in.Size, sha256: strings.ToLower(in.SHA256), mtime: in.Mtime,
		// A drop box (write-only) never replaces: its users may not even
		// learn what is there (docs/security.md, H4).
		replace: in.Replace && !dropBox(g),
	}, nil
}

// dropBox reports whether g may write but not read: the share is a drop
// box for this caller.
func dropBox(g access.Grant) bool { return !g.Right.Covers(access.RightRO) }

func (svc *Service) servePutBegin(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[putRequest](req)
	if err != nil {
		return err
	}
	g, inc, err := svc.putTarget(ctx, s, OpPutBegin, in)
	if err != nil {
		return err
	}
	defer inc.root.Close()
	held, err := inc.prepare()
	if err != nil {
		return svc.refuseFS(g, access.ActionWrite, inc.target, err)
	}
	return s.Respond(offsetResponse{Offset: held})
}

func (svc *Service) servePutData(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[putRequest](req)
	if err != nil {
		return err
	}
	g, inc, err := svc.putTarget(ctx, s, OpPutData, in)
	if err != nil {
		return err
	}
	defer inc.root.Close()
	res, err := svc.receive(ctx, s, inc)
	if err != nil {
		svc.log.Info("upload stopped", "peer", g.Peer.ID, "share", g.Share.Name, "bytes", res.Offset, "err", err)
		if errors.Is(err, ErrHashMismatch) || errors.Is(err, ErrDiskFull) {
			svc.access.AuditGrant(g, access.ActionWrite, resource(g.Share.Name, inc.target), true, "failed: "+err.Error())
		}
		return err
	}
	if res.Complete {
		detail := fmt.Sprintf("%d bytes", inc.size)
		if dropBox(g) {
			// The uploader is told its own name whatever happened, so
			// that answers do not reveal which names exist; the owner's
			// log says where the file really went.
			switch {
			case res.Name != inc.target && in.Replace:
				detail += fmt.Sprintf(", drop box: replace refused, %s was taken, stored as %s", inc.target, res.Name)
			case res.Name != inc.target:
				detail += fmt.Sprintf(", drop box: %s was taken, stored as %s", inc.target, res.Name)
			default:
				detail += ", drop box"
			}
			res.Name = inc.target
		}
		svc.access.AuditGrant(g, access.ActionWrite, resource(g.Share.Name, res.Name), true, detail)
		svc.log.Info("upload complete", "peer", g.Peer.ID, "share", g.Share.Name, "bytes", inc.size)
	}
	return s.Respond(res)
}
