package shares

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// TestPathAttacks sends hostile paths straight to the service (bypassing
// the client's own checks) for every op that takes a path, against a real
// share whose folder holds symlinks out of it, to the root of the file
// system and in a loop. Every one must be refused (access denied or not
// found) and nothing outside the share read, listed or written.
func TestPathAttacks(t *testing.T) {
	e := newEnv(t)
	e.addUser("bob", "pw")
	base := filepath.Dir(e.shareDir)
	secret := []byte("TOP-SECRET-OUTSIDE-THE-SHARE")
	outside := mkdir(t, base, "outside")
	writeFile(t, outside, "secret.txt", secret)
	writeFile(t, e.shareDir, "dir/ok.txt", []byte("fine"))
	writeFile(t, e.shareDir, ".env", secret)
	writeFile(t, e.shareDir, ".peerdesk-0123456789abcdef.part", secret)
	for link, target := range map[string]string{
		"escape":   "../outside",
		"escfile":  "../outside/secret.txt",
		"abs":      "/etc",
		"absfile":  filepath.Join(outside, "secret.txt"),
		"loop1":    "loop2",
		"loop2":    "loop1",
		"dir/up":   "..",
		"dir/back": "../../outside",
	} {
		if err := os.Symlink(target, filepath.Join(e.shareDir, link)); err != nil {
			t.Fatal(err)
		}
	}
	e.addShare(access.Share{Name: "s", Access: map[string]access.Right{"bob": access.RightRW}}, "")
	outsideBefore := snapshot(t, base, e.shareDir)

	attacks := []string{
		"..", "../", "../outside/secret.txt", "dir/../../outside/secret.txt", "dir/../..", "./../outside",
		"/etc/passwd", "//etc/passwd", "/", `\\server\share\x`, `C:\Windows\win.ini`, "C:/Windows/win.ini", "c:secret.txt",
		`..\outside\secret.txt`, `dir\..\..\outside`, "..%5coutside",
		"escape/secret.txt", "escape", "escfile", "abs/passwd", "abs", "absfile", "dir/back/secret.txt", "dir/up/../outside",
		"loop1", "loop1/x", "loop2/a/b",
		"%2e%2e/outside/secret.txt", "%2e%2e%2foutside%2fsecret.txt", "..%2foutside%2fsecret.txt", "．．/outside/secret.txt",
		"%252e%252e/outside", "dir/%2e%2e/%2e%2e/outside/secret.txt", ".%2e/outside/secret.txt",
		"dir/\x00/x", "secret.txt\x00.jpg", "dir\n", "\x1b]0;x\x07",
		"CON", "con.txt", "AUX", "NUL.txt", "COM1", "lpt1.log", "dir/prn", "CONOUT$",
		"a:b", "file.txt::$DATA", "x|y", "x?y", "x*", "<x>", `"x"`,
		"...", "..../outside", "dir.", "dir ", strings.Repeat("a", 300), strings.Repeat("a/", 2100) + "x",
		".env", ".peerdesk-0123456789abcdef.part", "dir/../.env",
	}
	// Encodings that only look like traversal are literal names.
	literal := map[string]bool{}
	for _, p := range attacks {
		if strings.Contains(p, "%2") || strings.HasPrefix(p, "．") || strings.HasPrefix(p, ".%2e") {
			literal[p] = true
		}
	}
	if len(attacks) < 40 {
		t.Fatalf("only %d attacks", len(attacks))
	}
	ctx := e.ctx()
	tg := e.target(access.Credentials{User: "bob", Password: "pw"})
	refused := func(op, p string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s %q: served", op, p)
			return
		}
		if !errors.Is(err, transport.ErrAccessDenied) && !errors.Is(err, transport.ErrNotFound) {
			t.Errorf("%s %q: %v (want access denied or not found)", op, p, err)
		}
		if strings.Contains(err.Error(), base) {
			t.Errorf("%s %q: error leaks the owner's path: %v", op, p, err)
		}
	}
	for _, p := range attacks {
		req := pathRequest{Auth: tg.Auth, Share: "s", Path: p}
		var st Entry
		_, err := e.clientEP.Call(ctx, e.serverID, tg.Addrs, OpStat, req, &st)
		refused(OpStat, p, err)

		var raw []byte
		_, err = e.clientEP.Call(ctx, e.serverID, tg.Addrs, OpList, req, &raw)
		refused(OpList, p, err)
		_, err = e.clientEP.Call(ctx, e.serverID, tg.Addrs, OpTree, req, &raw)
		refused(OpTree, p, err)

		stream, err := e.clientEP.Open(ctx, e.serverID, tg.Addrs, OpRead, readRequest{pathRequest: req})
		if err != nil {
			t.Fatal(err)
		}
		var meta ReadMeta
		err = stream.ReadResponse(OpRead, &meta)
		if err == nil {
			var got bytes.Buffer
			stream.ReceiveBody(ctx, &got, -1)
			if bytes.Contains(got.Bytes(), secret) {
				t.Errorf("read %q: served the secret", p)
			}
		}
		stream.Close()
		refused(OpRead, p, err)

		put := putRequest{pathRequest: pathRequest{Auth: tg.Auth, Share: "s", Path: p + "/new.txt"}, Size: 1, SHA256: sumHex([]byte("x"))}
		_, err = e.clientEP.Call(ctx, e.serverID, tg.Addrs, OpPutBegin, put, nil)
		refused(OpPutBegin, p+"/new.txt", err)
		_, err = e.clientEP.Call(ctx, e.serverID, tg.Addrs, OpMkdir, pathRequest{Auth: tg.Auth, Share: "s", Path: p + "/d"}, nil)
		if literal[p] {
			// A literal name: created inside the share, which is fine.
			if err == nil {
				if _, serr := os.Stat(filepath.Join(e.shareDir, filepath.FromSlash(p), "d")); serr != nil {
					t.Errorf("mkdir %q: succeeded but not inside the share: %v", p, serr)
				}
			}
		} else {
			refused(OpMkdir, p+"/d", err)
		}
	}
	// Uploading to the name of a symlink (even with replace) neither follows
	// nor replaces it: the file lands beside it under a new name.
	local := writeFile(t, t.TempDir(), "up.txt", []byte("uploaded"))
	for _, link := range []string{"escape", "escfile", "abs", "absfile", "loop1"} {
		res, err := e.client.Put(ctx, tg, "s", link, local, PutOptions{Replace: true})
		if err != nil || res.Name != link+" (1)" {
			t.Errorf("put onto symlink %s: %+v, %v", link, res, err)
		}
		if fi, err := os.Lstat(filepath.Join(e.shareDir, link)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("symlink %s replaced", link)
		}
	}
	if after := snapshot(t, base, e.shareDir); after != outsideBefore {
		t.Fatalf("outside the share changed:\nbefore %s\nafter  %s", outsideBefore, after)
	}
	t.Logf("%d path attacks × 6 ops refused (%d of them literal names)", len(attacks), len(literal))
}

// snapshot lists everything below base except the share itself.
func snapshot(t *testing.T, base, share string) string {
	t.Helper()
	var out []string
	filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
		if p == share {
			return filepath.SkipDir
		}
		if err == nil {
			out = append(out, p)
		}
		return nil
	})
	return strings.Join(out, "\n")
}
