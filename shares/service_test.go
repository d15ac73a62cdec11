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
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/internal/ratelimit"
	"github.com/peerdesk/peerdesk/internal/testlog"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

func TestServiceListStatRead(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "pw")
	e.addShare(access.Share{Name: "docs", Access: map[string]access.Right{"alice": access.RightRO}}, "")
	data := randomBytes(t, 1<<20+12345)
	writeFile(t, e.shareDir, "b.bin", data)
	writeFile(t, e.shareDir, "a.txt", []byte("hello"))
	writeFile(t, e.shareDir, ".hidden", []byte("h"))
	writeFile(t, e.shareDir, ".peerdesk-0123456789abcdef.part", []byte("partial"))
	writeFile(t, e.shareDir, "sub/c.txt", []byte("c"))
	os.Symlink("a.txt", filepath.Join(e.shareDir, "link-in"))
	tg := e.target(access.Credentials{User: "alice", Password: "pw"})
	ctx := e.ctx()

	ents, err := e.client.List(ctx, tg, "docs", "", false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, en := range ents {
		names = append(names, en.Name)
	}
	if got := strings.Join(names, ","); got != "a.txt,b.bin,link-in,sub" {
		t.Fatalf("list = %s", got)
	}
	if ents[1].Size != int64(len(data)) || ents[3].Dir != true || ents[1].Mtime.IsZero() {
		t.Fatalf("entries = %+v", ents)
	}
	ents, _ = e.client.List(ctx, tg, "docs", "", true)
	if len(ents) != 5 || ents[0].Name != ".hidden" {
		t.Fatalf("hidden list = %+v", ents)
	}
	ents, err = e.client.List(ctx, tg, "docs", "a.txt", false)
	if err != nil || len(ents) != 1 || ents[0].Name != "a.txt" || ents[0].Size != 5 {
		t.Fatalf("list of a file = %+v, %v", ents, err)
	}

	st, err := e.client.Stat(ctx, tg, "docs", "b.bin")
	if err != nil || st.SHA256 != sumHex(data) || st.Size != int64(len(data)) {
		t.Fatalf("stat = %+v, %v", st, err)
	}
	st, err = e.client.Stat(ctx, tg, "docs", "sub")
	if err != nil || !st.Dir || st.SHA256 != "" {
		t.Fatalf("stat dir = %+v, %v", st, err)
	}
	if _, err := e.client.Stat(ctx, tg, "docs", "nope"); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("stat missing: %v", err)
	}
	req := pathRequest{Auth: tg.Auth, Share: "docs", Path: ".hidden"}
	if _, err := e.clientEP.Call(ctx, e.serverID, tg.Addrs, OpStat, req, nil); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("hidden file served without the flag: %v", err)
	}
	if st, err := e.client.Stat(ctx, tg, "docs", ".hidden"); err != nil || st.Size != 1 {
		t.Fatalf("hidden file named explicitly: %+v, %v", st, err)
	}
	req.Path, req.Hidden = ".peerdesk-0123456789abcdef.part", true
	if _, err := e.clientEP.Call(ctx, e.serverID, tg.Addrs, OpStat, req, nil); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("temp file served: %v", err)
	}

	for _, tc := range []struct{ off, n int64 }{{0, 0}, {1000, 0}, {500000, 4096}, {int64(len(data)) - 1, 0}, {int64(len(data)), 0}, {7, 1}} {
		var buf bytes.Buffer
		meta, n, err := e.client.ReadRange(ctx, tg, "docs", "b.bin", tc.off, tc.n, &buf)
		if err != nil {
			t.Fatalf("read %d+%d: %v", tc.off, tc.n, err)
		}
		want := data[tc.off:]
		if tc.n > 0 {
			want = want[:tc.n]
		}
		if n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) || meta.Size != int64(len(data)) {
			t.Fatalf("read %d+%d: %d bytes, meta %+v", tc.off, tc.n, n, meta)
		}
		if meta.SHA256 != sumHex(data) {
			t.Fatalf("read after stat lacks the cached sum: %+v", meta)
		}
	}
	if _, _, err := e.client.ReadRange(ctx, tg, "docs", "b.bin", int64(len(data))+1, 0, io.Discard); err == nil {
		t.Fatal("read beyond the end accepted")
	}
	if _, _, err := e.client.ReadRange(ctx, tg, "docs", "sub", 0, 0, io.Discard); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("read of a folder: %v", err)
	}
	var buf bytes.Buffer
	if _, _, err := e.client.ReadRange(ctx, tg, "docs", "link-in", 0, 0, &buf); err != nil || buf.String() != "hello" {
		t.Fatalf("symlink inside the share: %q, %v", buf.String(), err)
	}

	tree, err := e.client.Tree(ctx, tg, "docs", "")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, te := range tree {
		paths = append(paths, te.Path)
	}
	if got := strings.Join(paths, ","); got != "a.txt,b.bin,sub,sub/c.txt" {
		t.Fatalf("tree = %s (symlinks, hidden and temp files must be skipped)", got)
	}
}

func TestServiceRightsOverTransport(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "pw")
	e.addShare(access.Share{Name: "ro", Access: map[string]access.Right{"alice": access.RightRO}}, "")
	e.addShare(access.Share{Name: "drop", Path: mkdir(t, e.shareDir, "drop"), Access: map[string]access.Right{"alice": access.RightWO}}, "")
	e.addShare(access.Share{Name: "locked", Path: mkdir(t, e.shareDir, "locked"), Access: map[string]access.Right{"alice": access.RightRW}}, "letmein")
	ctx := e.ctx()
	local := writeFile(t, t.TempDir(), "f.txt", []byte("payload"))
	alice := e.target(access.Credentials{User: "alice", Password: "pw"})

	if _, err := e.client.Put(ctx, alice, "ro", "f.txt", local, PutOptions{}); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("put into ro: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.shareDir, "f.txt")); err == nil {
		t.Fatal("refused put left a file")
	}
	if err := e.client.Mkdir(ctx, alice, "ro", "x"); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("mkdir in ro: %v", err)
	}
	if res, err := e.client.Put(ctx, alice, "drop", "f.txt", local, PutOptions{}); err != nil || res.Name != "f.txt" {
		t.Fatalf("put into drop box: %+v, %v", res, err)
	}
	if _, err := e.client.List(ctx, alice, "drop", "", false); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("list of drop box: %v", err)
	}
	if _, _, err := e.client.ReadRange(ctx, alice, "drop", "f.txt", 0, 0, io.Discard); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("read from drop box: %v", err)
	}
	if _, err := e.client.List(ctx, alice, "locked", "", false); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("locked share without its password: %v", err)
	}
	withPw := e.target(access.Credentials{User: "alice", Password: "pw", SharePassword: "letmein"})
	if _, err := e.client.List(ctx, withPw, "locked", "", false); err != nil {
		t.Fatalf("locked share with its password: %v", err)
	}
	wrong := e.target(access.Credentials{User: "alice", Password: "bad"})
	if _, err := e.client.ListShares(ctx, wrong, false); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("list shares, wrong password: %v", err)
	}
	if _, err := e.client.List(ctx, alice, "nosuch", "", false); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("missing share: %v", err)
	}
	recs, _ := e.svc.AuditLog().Read(0)
	var refusals []string
	for _, r := range recs {
		if !r.Allowed {
			refusals = append(refusals, string(r.Action)+" "+r.Resource)
		}
	}
	for _, want := range []string{"write ro", "read drop", "login locked", "login "} {
		if !slices.Contains(refusals, want) {
			t.Errorf("refusal %q not audited; refusals: %q", want, refusals)
		}
	}
}

func mkdir(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServicePutConflictAndReplace(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "pw")
	e.addShare(access.Share{Name: "up", Access: map[string]access.Right{"bob": access.RightRW}}, "")
	ctx := e.ctx()
	tg := e.target(access.Credentials{User: "bob", Password: "pw"})
	if err := e.client.Mkdir(ctx, tg, "up", "reports/2026"); err != nil {
		t.Fatal(err)
	}
	if err := e.client.Mkdir(ctx, tg, "up", "reports/2026"); err != nil {
		t.Fatalf("mkdir of an existing folder: %v", err)
	}
	dir := t.TempDir()
	var names []string
	for i := range 3 {
		local := writeFile(t, dir, "r.pdf", []byte(fmt.Sprintf("version %d", i)))
		res, err := e.client.Put(ctx, tg, "up", "reports/2026/r.pdf", local, PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, res.Name)
	}
	if got := strings.Join(names, "|"); got != "reports/2026/r.pdf|reports/2026/r (1).pdf|reports/2026/r (2).pdf" {
		t.Fatalf("names = %s", got)
	}
	old, _ := os.ReadFile(filepath.Join(e.shareDir, "reports/2026/r.pdf"))
	if string(old) != "version 0" {
		t.Fatalf("first file overwritten: %q", old)
	}
	mtime := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	local := writeFile(t, dir, "r.pdf", []byte("replacement"))
	os.Chtimes(local, mtime, mtime)
	res, err := e.client.Put(ctx, tg, "up", "reports/2026/r.pdf", local, PutOptions{Replace: true})
	if err != nil || res.Name != "reports/2026/r.pdf" {
		t.Fatalf("replace: %+v, %v", res, err)
	}
	got, _ := os.ReadFile(filepath.Join(e.shareDir, "reports/2026/r.pdf"))
	fi, _ := os.Stat(filepath.Join(e.shareDir, "reports/2026/r.pdf"))
	if string(got) != "replacement" || !fi.ModTime().Equal(mtime) {
		t.Fatalf("replaced file %q, mtime %v", got, fi.ModTime())
	}
	// A folder of the target's name is never replaced.
	mkdir(t, e.shareDir, "reports/folder")
	res, err = e.client.Put(ctx, tg, "up", "reports/folder", local, PutOptions{Replace: true})
	if err != nil || res.Name != "reports/folder (1)" {
		t.Fatalf("put over a folder: %+v, %v", res, err)
	}
	// Into a missing folder: not found, nothing created.
	if _, err := e.client.Put(ctx, tg, "up", "nope/x.txt", local, PutOptions{}); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("put into a missing folder: %v", err)
	}
	// Empty files work too.
	empty := writeFile(t, dir, "empty", nil)
	if res, err := e.client.Put(ctx, tg, "up", "empty", empty, PutOptions{}); err != nil || !res.Complete {
		t.Fatalf("empty file: %+v, %v", res, err)
	}
	assertNoTemp(t, e.shareDir)
}

// assertNoTemp fails if a partial upload is left below dir.
func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && isTempName(d.Name()) {
			t.Errorf("temp file left: %s", p)
		}
		return nil
	})
}

// startPut opens an fs.put.data exchange by hand and sends the first n
// bytes of data, then leaves the body unfinished.
func startPut(t *testing.T, e *env, tg access.Target, share, p string, data []byte, n int) *transport.Stream {
	t.Helper()
	ctx := e.ctx()
	req := putRequest{pathRequest: pathRequest{Auth: tg.Auth, Share: share, Path: p}, Size: int64(len(data)), SHA256: sumHex(data)}
	st, err := e.clientEP.Open(ctx, tg.ID, tg.Addrs, OpPutData, req)
	if err != nil {
		t.Fatal(err)
	}
	var ready offsetResponse
	if err := st.ReadResponse(OpPutData, &ready); err != nil {
		t.Fatal(err)
	}
	for off := int(ready.Offset); off < n; {
		end := min(off+transport.MaxPayloadSize, n)
		if err := st.WriteFrame(transport.FrameData, data[off:end]); err != nil {
			t.Fatal(err)
		}
		off = end
	}
	return st
}

func (e *env) uploadsIdle() bool {
	e.svc.mu.Lock()
	defer e.svc.mu.Unlock()
	return len(e.svc.uploads) == 0
}

func TestServicePutResume(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "pw")
	e.addShare(access.Share{Name: "up", Access: map[string]access.Right{"bob": access.RightRW}}, "")
	ctx := e.ctx()
	tg := e.target(access.Credentials{User: "bob", Password: "pw"})
	data := randomBytes(t, 3<<20+777)
	temp := filepath.Join(e.shareDir, tempPrefix+sumHex(data)[:16]+tempSuffix)
	final := filepath.Join(e.shareDir, "big.bin")

	// The connection breaks after about 1 MiB.
	startPut(t, e, tg, "up", "big.bin", data, 1<<20)
	waitFor(t, "partial data on disk", func() bool {
		fi, err := os.Stat(temp)
		return err == nil && fi.Size() == 1<<20
	})
	e.clientEP.Drop(e.serverID)
	waitFor(t, "the server to give up the broken upload", e.uploadsIdle)
	if _, err := os.Stat(final); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a partial upload appeared under its final name")
	}
	ents, _ := e.client.List(ctx, tg, "up", "", true)
	if len(ents) != 0 {
		t.Fatalf("temp file listed: %+v", ents)
	}

	local := writeFile(t, t.TempDir(), "big.bin", data)
	var first int64 = -1
	res, err := e.client.Put(ctx, tg, "up", "big.bin", local, PutOptions{Progress: func(n int64) {
		if first < 0 {
			first = n
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if first != 1<<20 {
		t.Fatalf("resumed at %d, want %d", first, 1<<20)
	}
	got, _ := os.ReadFile(final)
	if res.Name != "big.bin" || !bytes.Equal(got, data) {
		t.Fatalf("resumed upload: %+v, %d bytes, equal=%v", res, len(got), bytes.Equal(got, data))
	}
	assertNoTemp(t, e.shareDir)
}

// All bytes arrived but not the end of the body: the next attempt sends no
// data and only verifies and names the file.
func TestServicePutResumeComplete(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "pw")
	e.addShare(access.Share{Name: "up", Access: map[string]access.Right{"bob": access.RightRW}}, "")
	tg := e.target(access.Credentials{User: "bob", Password: "pw"})
	data := randomBytes(t, 500000)
	temp := filepath.Join(e.shareDir, tempPrefix+sumHex(data)[:16]+tempSuffix)
	startPut(t, e, tg, "up", "f.bin", data, len(data))
	waitFor(t, "all data on disk", func() bool {
		fi, err := os.Stat(temp)
		return err == nil && fi.Size() == int64(len(data))
	})
	e.clientEP.Drop(e.serverID)
	waitFor(t, "the server to give up the broken upload", e.uploadsIdle)
	var progress []int64
	res, err := e.client.Put(e.ctx(), tg, "up", "f.bin", writeFile(t, t.TempDir(), "f.bin", data), PutOptions{Progress: func(n int64) { progress = append(progress, n) }})
	if err != nil || res.Name != "f.bin" {
		t.Fatalf("%+v, %v", res, err)
	}
	if len(progress) != 2 || progress[0] != int64(len(data)) {
		t.Fatalf("progress %v: data was sent again", progress)
	}
	if got, _ := os.ReadFile(filepath.Join(e.shareDir, "f.bin")); !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
}

func TestServicePutResumeAfterRestart(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "pw")
	e.addShare(access.Share{Name: "up", Access: map[string]access.Right{"bob": access.RightRW}}, "")
	tg := e.target(access.Credentials{User: "bob", Password: "pw"})
	data := randomBytes(t, 2<<20)
	temp := filepath.Join(e.shareDir, tempPrefix+sumHex(data)[:16]+tempSuffix)
	startPut(t, e, tg, "up", "x.bin", data, 700000)
	waitFor(t, "partial data on disk", func() bool {
		fi, err := os.Stat(temp)
		return err == nil && fi.Size() >= 700000
	})
	// The serving peer stops (its process dies) and a new one starts on the
	// same home and share.
	e.server.Close()
	e.svc.Close()
	e2 := newEnvAt(t, e.home, e.shareDir, e.inbox)
	tg2 := e2.target(access.Credentials{User: "bob", Password: "pw"})
	local := writeFile(t, t.TempDir(), "x.bin", data)
	var first int64 = -1
	if _, err := e2.client.Put(e2.ctx(), tg2, "up", "x.bin", local, PutOptions{Progress: func(n int64) {
		if first < 0 {
			first = n
		}
	}}); err != nil {
		t.Fatal(err)
	}
	if first < 700000 {
		t.Fatalf("after restart resumed at %d", first)
	}
	got, _ := os.ReadFile(filepath.Join(e.shareDir, "x.bin"))
	if !bytes.Equal(got, data) {
		t.Fatal("content differs after resume")
	}
}

// newEnvAt starts a serving peer on an existing home and share folder.
func newEnvAt(t *testing.T, home, shareDir, inbox string) *env {
	t.Helper()
	e := newEnv(t)
	e.server.Close()
	e.svc.Close()
	svc, err := NewService(ServiceConfig{Home: home, Inbox: inbox, Logger: testlog.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	mux := transport.NewMux()
	svc.Register(mux)
	e.svc, e.home, e.shareDir, e.inbox = svc, home, shareDir, inbox
	e.server, e.serverID = testEndpoint(t, mux)
	return e
}

func TestServicePutHashMismatch(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "pw")
	e.addShare(access.Share{Name: "up", Access: map[string]access.Right{"bob": access.RightRW}}, "")
	ctx := e.ctx()
	tg := e.target(access.Credentials{User: "bob", Password: "pw"})
	data := randomBytes(t, 200000)
	local := writeFile(t, t.TempDir(), "f.bin", data)
	// The announced hash is not the content's.
	_, err := e.client.Put(ctx, tg, "up", "f.bin", local, PutOptions{SHA256: sumHex([]byte("something else"))})
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("err = %v, want ErrHashMismatch", err)
	}
	if _, err := os.Stat(filepath.Join(e.shareDir, "f.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("corrupt upload got its final name")
	}
	assertNoTemp(t, e.shareDir)
	// And the right hash then works from zero.
	if _, err := e.client.Put(ctx, tg, "up", "f.bin", local, PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestServiceSendOffer(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	tg := e.target(access.Credentials{})
	src := t.TempDir()
	a := randomBytes(t, 100000)
	b := randomBytes(t, 3000)
	var files []LocalFile
	for _, f := range []struct {
		name string
		data []byte
	}{{"a.bin", a}, {"Photos/2024/b.jpg", b}} {
		lf, err := NewLocalFile(ctx, writeFile(t, src, f.name, f.data), f.name)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, lf)
	}
	offered := []OfferFile{files[0].OfferFile, files[1].OfferFile}

	// Declined.
	e.accept = func(Offer) bool { return false }
	res, err := e.client.Offer(ctx, tg, offered)
	if err != nil || res.Accepted || res.OfferID != "" {
		t.Fatalf("declined offer: %+v, %v", res, err)
	}
	if _, err := e.client.SendFile(ctx, tg, "made-up", 0, files[0], nil); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("data without an accepted offer: %v", err)
	}

	// Accepted.
	e.accept = func(o Offer) bool { return len(o.Files) == 2 && o.Total == 103000 && o.PeerName != "" }
	res, err = e.client.Offer(ctx, tg, offered)
	if err != nil || !res.Accepted || res.Receiver != "server" {
		t.Fatalf("accepted offer: %+v, %v", res, err)
	}
	writeFile(t, e.inbox, "a.bin", []byte("already here"))
	for i, lf := range files {
		r, err := e.client.SendFile(ctx, tg, res.OfferID, i, lf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"a (1).bin", "Photos/2024/b.jpg"}[i]; r.Name != want {
			t.Fatalf("file %d landed as %q, want %q", i, r.Name, want)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(e.inbox, "a (1).bin")); !bytes.Equal(got, a) {
		t.Fatal("a.bin differs")
	}
	if got, _ := os.ReadFile(filepath.Join(e.inbox, "Photos/2024/b.jpg")); !bytes.Equal(got, b) {
		t.Fatal("b.jpg differs")
	}
	// The offer is closed once every file arrived.
	if _, err := e.client.SendFile(ctx, tg, res.OfferID, 0, files[0], nil); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("finished offer still open: %v", err)
	}
	recs, _ := e.svc.AuditLog().Read(0)
	var sends []string
	for _, r := range recs {
		if r.Action == access.ActionSend {
			sends = append(sends, fmt.Sprint(r.Allowed, " ", r.Resource))
		}
	}
	if got := strings.Join(sends, "|"); got != "false inbox|true inbox|true inbox/a (1).bin|true inbox/Photos/2024/b.jpg" {
		t.Fatalf("send audit = %s", got)
	}
}

// TestServiceSendRecordsReceives (R2 7/7 item 2): every file pushed to a
// peer is a receive in its transfer history, from the first byte on, with
// where it landed; the receiver can cancel one there, and the sender hears
// it.
func TestServiceSendRecordsReceives(t *testing.T) {
	history := transfer.NewManager(t.TempDir(), testlog.Logger())
	e := newEnv(t, envOptions{transfers: history})
	ctx := e.ctx()
	tg := e.target(access.Credentials{})
	src := t.TempDir()
	small, err := NewLocalFile(ctx, writeFile(t, src, "minutes.txt", randomBytes(t, 300000)), "minutes.txt")
	if err != nil {
		t.Fatal(err)
	}
	big, err := NewLocalFile(ctx, writeFile(t, src, "video.mp4", randomBytes(t, 96<<20)), "video.mp4")
	if err != nil {
		t.Fatal(err)
	}
	e.accept = func(Offer) bool { return true }
	res, err := e.client.Offer(ctx, tg, []OfferFile{small.OfferFile, big.OfferFile})
	if err != nil || !res.Accepted {
		t.Fatalf("offer: %+v, %v", res, err)
	}
	if _, err := e.client.SendFile(ctx, tg, res.OfferID, 0, small, nil); err != nil {
		t.Fatal(err)
	}
	list := history.List()
	if len(list) != 1 {
		t.Fatalf("history after one receive: %+v", list)
	}
	r := list[0]
	if r.Kind != transfer.KindReceive || r.State != transfer.StateDone || r.Peer == "" || r.Path != "minutes.txt" ||
		r.Local != filepath.Join(e.inbox, "minutes.txt") || r.Bytes != 300000 || r.Total != 300000 {
		t.Fatalf("the receive in the history: %+v", r)
	}

	// The person cancels the big one while it arrives.
	sent := make(chan error, 1)
	go func() {
		_, err := e.client.SendFile(ctx, tg, res.OfferID, 1, big, nil)
		sent <- err
	}()
	var running transfer.Info
	deadline := time.Now().Add(10 * time.Second)
	for running.ID == "" && time.Now().Before(deadline) {
		for _, in := range history.List() {
			if in.Kind == transfer.KindReceive && in.State == transfer.StateRunning && in.Bytes > 0 {
				running = in
			}
		}
		time.Sleep(time.Millisecond)
	}
	if running.ID == "" || running.Path != "video.mp4" || running.Total != 96<<20 {
		t.Fatalf("no running receive of video.mp4 to cancel: %+v", history.List())
	}
	if err := history.Cancel(running.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err == nil {
		t.Fatal("the sender's send went through although the receiver canceled it")
	}
	for _, in := range history.List() {
		if in.ID == running.ID && in.State != transfer.StateCanceled {
			t.Errorf("the canceled receive reads %s: %+v", in.State, in)
		}
	}
	if _, err := os.Stat(filepath.Join(e.inbox, "video.mp4")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a canceled receive left video.mp4 in the inbox: %v", err)
	}
}

func TestServiceSendHostileNames(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	tg := e.target(access.Credentials{})
	outside := t.TempDir()
	os.MkdirAll(e.inbox, 0o755)
	os.Symlink(outside, filepath.Join(e.inbox, "evil"))
	e.accept = func(Offer) bool { return true }
	sum := sumHex([]byte("x"))
	for _, name := range []string{"../x", "/etc/passwd", "a/../../x", `..\x`, "C:/x", "", ".", "a/", ".peerdesk-0123456789abcdef.part", "CON", "x\x00y"} {
		req := offerRequest{Files: []OfferFile{{Name: name, Size: 1, SHA256: sum}}, Total: 1}
		var res OfferResult
		_, err := e.clientEP.Call(ctx, e.serverID, tg.Addrs, OpSendOffer, req, &res)
		if err == nil && name != "a/" {
			t.Errorf("offer of %q accepted: %+v", name, res)
		}
	}
	for _, bad := range [][]OfferFile{
		{{Name: "a", Size: 1, SHA256: sum}, {Name: "A", Size: 1, SHA256: sum}},
		{{Name: "a", Size: 1, SHA256: sum}, {Name: "a/b", Size: 1, SHA256: sum}},
		{{Name: "a", Size: -1, SHA256: sum}},
		{{Name: "a", Size: 1, SHA256: "nothex"}},
	} {
		req := offerRequest{Files: bad}
		for _, f := range bad {
			req.Total += f.Size
		}
		if _, err := e.clientEP.Call(ctx, e.serverID, tg.Addrs, OpSendOffer, req, nil); err == nil {
			t.Errorf("offer %+v accepted", bad)
		}
	}
	// A name through a symlink in the inbox is accepted as a name, but the
	// data never lands outside.
	lf, _ := NewLocalFile(ctx, writeFile(t, t.TempDir(), "x", []byte("x")), "evil/x")
	res, err := e.client.Offer(ctx, tg, []OfferFile{lf.OfferFile})
	if err != nil || !res.Accepted {
		t.Fatalf("offer: %+v %v", res, err)
	}
	if _, err := e.client.SendFile(ctx, tg, res.OfferID, 0, lf, nil); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("send through a symlink: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("file written outside the inbox: %v", ents)
	}
}

func TestServiceSendLargeOffer(t *testing.T) {
	e := newEnv(t)
	e.accept = func(o Offer) bool { return len(o.Files) == 2000 }
	files := make([]OfferFile, 2000)
	for i := range files {
		files[i] = OfferFile{Name: fmt.Sprintf("dir/file-%04d.txt", i), Size: 1, SHA256: sumHex([]byte{byte(i)})}
	}
	res, err := e.client.Offer(e.ctx(), e.target(access.Credentials{}), files)
	if err != nil || !res.Accepted {
		t.Fatalf("offer of 2000 files (sent as a body): %+v, %v", res, err)
	}
}

func TestServiceSearch(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "pw")
	e.addShare(access.Share{Name: "mine", Path: mkdir(t, e.shareDir, "mine"), Access: map[string]access.Right{"alice": access.RightRO}}, "")
	e.addShare(access.Share{Name: "pub", Path: mkdir(t, e.shareDir, "pub"), Guest: access.RightRO}, "")
	e.addShare(access.Share{Name: "other", Path: mkdir(t, e.shareDir, "other")}, "")
	e.addShare(access.Share{Name: "drop", Path: mkdir(t, e.shareDir, "drop"), Guest: access.RightWO}, "")
	e.addShare(access.Share{Name: "pwd", Path: mkdir(t, e.shareDir, "pwd"), Guest: access.RightRO}, "sesame")
	for _, p := range []string{"mine/Budget-2026.xlsx", "mine/deep/a/b/budget.txt", "pub/budget.pdf", "pub/.budget-hidden", "other/budget.doc", "drop/budget.zip", "pwd/budget.key", "pub/notes.txt"} {
		writeFile(t, e.shareDir, p, []byte("x"))
	}
	ctx := e.ctx()
	find := func(creds access.Credentials, pattern string) string {
		hits, err := e.client.Search(ctx, e.target(creds), pattern)
		if err != nil {
			return "error: " + err.Error()
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.Share+":"+h.Path)
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	alice := access.Credentials{User: "alice", Password: "pw"}
	for _, tc := range []struct {
		creds         access.Credentials
		pattern, want string
	}{
		{alice, "budget", "mine:Budget-2026.xlsx,mine:deep/a/b/budget.txt,pub:budget.pdf"},
		{alice, "BUDGET*.txt", "mine:deep/a/b/budget.txt"},
		{access.Credentials{}, "budget", "pub:budget.pdf"},
		{access.Credentials{SharePassword: "sesame"}, "*.key", "pwd:budget.key"},
		{access.Credentials{}, "*.key", ""},
		{alice, "nomatch", ""},
	} {
		if got := find(tc.creds, tc.pattern); got != tc.want {
			t.Errorf("search %q as %q = %s, want %s", tc.pattern, tc.creds.User, got, tc.want)
		}
	}
	if got := find(access.Credentials{User: "alice", Password: "bad"}, "budget"); !strings.HasPrefix(got, "error") {
		t.Errorf("search with a wrong password: %s", got)
	}
	if got := find(alice, "[bad"); !strings.HasPrefix(got, "error") {
		t.Errorf("bad glob: %s", got)
	}
}

func TestServiceList10000(t *testing.T) {
	e := newEnv(t)
	e.addShare(access.Share{Name: "big", Guest: access.RightRO}, "")
	const n = 10000
	for i := range n {
		if err := os.WriteFile(filepath.Join(e.shareDir, fmt.Sprintf("file-%05d.dat", i)), make([]byte, i%97), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := e.ctx()
	tg := e.target(access.Credentials{})
	if _, err := e.client.ListShares(ctx, tg, false); err != nil { // session up
		t.Fatal(err)
	}
	start := time.Now()
	ents, err := e.client.List(ctx, tg, "big", "", false)
	d := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != n {
		t.Fatalf("%d entries, want %d", len(ents), n)
	}
	for i, en := range ents {
		if en.Name != fmt.Sprintf("file-%05d.dat", i) || en.Size != int64(i%97) || en.Dir {
			t.Fatalf("entry %d = %+v", i, en)
		}
	}
	t.Logf("listing %d entries over loopback: %v", n, d)
	if d > 3*time.Second {
		t.Fatalf("listing took %v", d)
	}
	tree, err := e.client.Tree(ctx, tg, "big", "")
	if err != nil || len(tree) != n {
		t.Fatalf("tree: %d, %v", len(tree), err)
	}
}

// TestServiceDiskFull fills a small tmpfs inbox (needs root to mount; the
// namespace test bed covers the same with the real binary).
func TestServiceDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	e := newEnv(t)
	if err := os.MkdirAll(e.inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", e.inbox).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", e.inbox).Run() })
	e.accept = func(Offer) bool { return true }
	ctx := e.ctx()
	tg := e.target(access.Credentials{})
	data := randomBytes(t, 3<<20)
	lf, _ := NewLocalFile(ctx, writeFile(t, t.TempDir(), "big.bin", data), "big.bin")
	res, err := e.client.Offer(ctx, tg, []OfferFile{lf.OfferFile})
	if err != nil || !res.Accepted {
		t.Fatal(res, err)
	}
	_, err = e.client.SendFile(ctx, tg, res.OfferID, 0, lf, nil)
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("err = %v, want ErrDiskFull", err)
	}
	if _, err := os.Stat(filepath.Join(e.inbox, "big.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("final name exists after disk full")
	}
	// The partial data is kept to resume once there is room.
	ents, _ := os.ReadDir(e.inbox)
	if len(ents) != 1 || !isTempName(ents[0].Name()) {
		t.Fatalf("inbox after disk full: %v", ents)
	}
	t.Logf("client error: %v", err)
}

func TestClientRefusesHostileTree(t *testing.T) {
	mux := transport.NewMux()
	mux.Handle(OpTree, func(ctx context.Context, req transport.Request, s *transport.Stream) {
		_ = s.Respond([]TreeEntry{{Path: "ok.txt"}, {Path: "../../.bashrc"}})
	})
	server, id := testEndpoint(t, mux)
	clientEP, _ := testEndpoint(t, nil)
	c := Client{Caller: clientEP}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Tree(ctx, access.Target{ID: id, Addrs: []string{server.Addr().String()}}, "s", "")
	if !errors.Is(err, ErrBadPath) {
		t.Fatalf("hostile tree: %v", err)
	}
}

// TestChunkSums: fs.chunks answers the file's SHA-256 and each 8 MiB
// chunk's, after the same access check as a read; not for folders, and
// not without the right.
func TestChunkSums(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", "pw")
	e.addShare(access.Share{Name: "docs", Access: map[string]access.Right{"alice": access.RightRO}}, "")
	data := randomBytes(t, 2*ChunkSumSize+5)
	writeFile(t, e.shareDir, "big.bin", data)
	writeFile(t, e.shareDir, "empty", nil)
	writeFile(t, e.shareDir, "sub/x", []byte("x"))
	ctx := e.ctx()
	tg := e.target(access.Credentials{User: "alice", Password: "pw"})
	meta, sums, err := e.client.Chunks(ctx, tg, "docs", "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if meta.SHA256 != sumHex(data) || meta.Count != 3 || len(sums) != 3 {
		t.Fatalf("meta %+v, %d sums", meta, len(sums))
	}
	for i, s := range sums {
		chunk := data[i*ChunkSumSize : min(len(data), (i+1)*ChunkSumSize)]
		if s != sha256.Sum256(chunk) {
			t.Errorf("chunk %d: wrong sum", i)
		}
	}
	// Cached: a second ask gives the same.
	if _, again, err := e.client.Chunks(ctx, tg, "docs", "big.bin"); err != nil || len(again) != 3 || again[2] != sums[2] {
		t.Fatalf("second ask: %v", err)
	}
	if meta, sums, err := e.client.Chunks(ctx, tg, "docs", "empty"); err != nil || meta.Count != 0 || len(sums) != 0 {
		t.Fatalf("empty file: %+v %d %v", meta, len(sums), err)
	}
	if _, _, err := e.client.Chunks(ctx, tg, "docs", "sub"); !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("a folder: %v", err)
	}
	if _, _, err := e.client.Chunks(ctx, e.target(access.Credentials{User: "alice", Password: "wrong"}), "docs", "big.bin"); !errors.Is(err, transport.ErrAccessDenied) {
		t.Fatalf("a wrong password: %v", err)
	}
}

// backgroundPlane records, per body sent, whether it went in background
// mode, and moves it as the default plane does.
type backgroundPlane struct {
	transport.BulkDataPlane
	mu   sync.Mutex
	sent []bool
}

func (p *backgroundPlane) SendBody(ctx context.Context, s *transport.Stream, r io.Reader) (int64, error) {
	p.mu.Lock()
	p.sent = append(p.sent, transport.IsBackground(ctx))
	p.mu.Unlock()
	return p.BulkDataPlane.SendBody(ctx, s, r)
}

func (p *backgroundPlane) take() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sent
	p.sent = nil
	return s
}

// Background mode (R2 6/7) is the receiving peer's choice as much as the
// sender's: a download asks the owner to send in background, an upload's
// receiver tells the sender to, and a sender in background mode sends so
// whatever the other side says.
func TestBackgroundModeReachesTheSender(t *testing.T) {
	serverPlane, clientPlane := &backgroundPlane{}, &backgroundPlane{}
	serverLimits, clientLimits := &ratelimit.Limits{}, &ratelimit.Limits{}
	e := newEnv(t, envOptions{serverPlane: serverPlane, clientPlane: clientPlane, serverLimits: serverLimits, clientLimits: clientLimits})
	e.addShare(access.Share{Name: "docs", Guest: access.RightRW}, "")
	data := bytes.Repeat([]byte("peerdesk"), 1<<16)
	writeFile(t, e.shareDir, "a.bin", data)
	local := writeFile(t, t.TempDir(), "up.bin", data)
	ctx, tg := e.ctx(), e.target(access.Credentials{})
	read := func() {
		t.Helper()
		if _, _, err := e.client.ReadRange(ctx, tg, "docs", "a.bin", 0, 0, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	put := func() {
		t.Helper()
		if _, err := e.client.Put(ctx, tg, "docs", "up.bin", local, PutOptions{Replace: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name             string
		server, client   bool
		wantRead, wantUp bool
	}{
		{"neither", false, false, false, false},
		{"the client", false, true, true, true},
		{"the server", true, false, true, true},
		{"both", true, true, true, true},
	} {
		serverLimits.SetBackground(tc.server)
		clientLimits.SetBackground(tc.client)
		read()
		if got := serverPlane.take(); !slices.Equal(got, []bool{tc.wantRead}) {
			t.Errorf("%s in background mode: the owner sent the download's body in background %v, want [%v]", tc.name, got, tc.wantRead)
		}
		put()
		if got := clientPlane.take(); !slices.Equal(got, []bool{tc.wantUp}) {
			t.Errorf("%s in background mode: the client sent the upload's body in background %v, want [%v]", tc.name, got, tc.wantUp)
		}
	}
}
