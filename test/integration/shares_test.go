package integration

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/test/netns"
)

const (
	alicePW = "correct horse battery"
	sharePW = "docs-secret"
)

// cli runs a peerdesk command on p with extra environment.
func (p *peer) cli(env []string, args ...string) (string, string, int) {
	p.t.Helper()
	return p.host.RunWith(p.t, netns.RunOptions{Env: env, Timeout: 5 * time.Minute}, p.bin, args...)
}

// data is a folder of p's machine outside its peerdesk home (a share may
// not contain the home, which holds the keys).
func (p *peer) data(parts ...string) string {
	return filepath.Join(append([]string{p.host.Home + "-data"}, parts...)...)
}

// must runs a command that has to succeed.
func (p *peer) must(env []string, args ...string) string {
	p.t.Helper()
	out, errOut, code := p.cli(env, args...)
	if code != 0 {
		p.t.Fatalf("%s: peerdesk %s: exit %d\nstdout: %s\nstderr: %s", p.host.Name, strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func creds(user, pw, sharePW string) []string {
	env := []string{"PEERDESK_PASSWORD=" + pw}
	if sharePW != "" {
		env = append(env, "PEERDESK_SHARE_PASSWORD="+sharePW)
	}
	return append(env, "PEERDESK_USER="+user)
}

// writeRandom creates a file of size random bytes and returns its SHA-256.
func writeRandom(t testing.TB, path string, size int64) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type auditRecord struct {
	PeerID   string `json:"peer_id"`
	Account  string `json:"account"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Allowed  bool   `json:"allowed"`
	Detail   string `json:"detail"`
}

func (p *peer) audit() []auditRecord {
	p.t.Helper()
	var recs []auditRecord
	if err := json.Unmarshal([]byte(p.must(nil, "log", "--json")), &recs); err != nil {
		p.t.Fatal(err)
	}
	return recs
}

type transferRow struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	State   string `json:"state"`
	Bytes   int64  `json:"bytes"`
	Total   int64  `json:"total"`
	Resumed int64  `json:"resumed"`
	Error   string `json:"error"`
}

// getResult is `get --json`.
type getResult struct {
	Files []struct {
		Path      string           `json:"path"`
		Size      int64            `json:"size"`
		Resumed   int64            `json:"resumed"`
		Fetched   int64            `json:"fetched"`
		SHA256    string           `json:"sha256"`
		PerSource map[string]int64 `json:"per_source"`
		Dropped   []string         `json:"dropped"`
	} `json:"files"`
	Bytes   int64 `json:"bytes"`
	Fetched int64 `json:"fetched"`
}

// officeBed starts n peers that see each other; peer 0 owns a "docs"
// share (alice ro + share password) and a "drop" share (alice rw), and
// has an account bob with no rights.
func officeBed(t *testing.T, n int) ([]*peer, string) {
	t.Helper()
	return officeBedWith(t, n, nil)
}

// officeBedWith is officeBed with prepare run before the daemons start
// (mounts must exist before `ip netns exec` copies the mount table).
func officeBedWith(t *testing.T, n int, prepare func([]*peer)) ([]*peer, string) {
	t.Helper()
	bed := netns.New(t, n)
	bin := netns.PeerdeskBinary(t)
	ps := newPeers(t, bed, bin)
	owner := ps[0]
	docs := owner.data("docs")
	drop := owner.data("drop")
	for _, d := range []string{docs, drop} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	owner.must([]string{"PEERDESK_PASSWORD=" + alicePW}, "user", "add", "alice")
	owner.must([]string{"PEERDESK_PASSWORD=bob-pass"}, "user", "add", "bob")
	owner.must([]string{"PEERDESK_SHARE_PASSWORD=" + sharePW}, "share", "folder", "docs", docs, "--allow", "alice:ro", "--password")
	owner.must(nil, "share", "folder", "drop", drop, "--allow", "alice:rw")
	if prepare != nil {
		prepare(ps)
	}
	for _, p := range ps {
		p.start()
	}
	for i, p := range ps {
		others := append(append([]*peer{}, ps[:i]...), ps[i+1:]...)
		waitUntil(t, 5*time.Second, func() (bool, string) { return seesOnline(p, others...) })
	}
	return ps, docs
}

func TestSharesAccessDownloadAndRefusals(t *testing.T) {
	ps, docs := officeBed(t, 2)
	owner, client := ps[0], ps[1]
	sum := writeRandom(t, filepath.Join(docs, "big.bin"), 200<<20)
	writeRandom(t, filepath.Join(docs, "sub", "deep", "small.txt"), 1000)
	alice := creds("alice", alicePW, sharePW)
	target := owner.host.Name

	// Shares visible to alice, then the folder's entries.
	out := client.must(alice, "ls", target, "--json")
	if !strings.Contains(out, `"docs"`) {
		t.Fatalf("ls %s: %s", target, out)
	}
	var entries []struct {
		Name string `json:"name"`
		Size int64  `json:"size"`
		Dir  bool   `json:"dir"`
	}
	if err := json.Unmarshal([]byte(client.must(alice, "ls", target+":docs", "--json")), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Name != "big.bin" || entries[0].Size != 200<<20 || !entries[1].Dir {
		t.Fatalf("entries %+v", entries)
	}

	// 200 MiB arrive hash-identical.
	dest := filepath.Join(client.host.Home, "got")
	start := time.Now()
	var res getResult
	if err := json.Unmarshal([]byte(client.must(alice, "get", target+":docs/big.bin", dest, "--json")), &res); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if got := fileSum(t, filepath.Join(dest, "big.bin")); got != sum {
		t.Fatalf("downloaded file differs: %s vs %s", got, sum)
	}
	t.Logf("MEASURED get of 200 MiB: %v (%.1f MB/s incl. CLI start and verify)", took.Round(time.Millisecond), float64(200<<20)/took.Seconds()/1e6)

	// A folder keeps its tree.
	client.must(alice, "get", target+":docs/sub", dest)
	if _, err := os.Stat(filepath.Join(dest, "sub", "deep", "small.txt")); err != nil {
		t.Fatalf("folder download lost its tree: %v", err)
	}

	// Refusals: exit 3, nothing transferred, recorded on the owner.
	refusals := []struct {
		name string
		env  []string
	}{
		{"wrong account password", creds("alice", "wrong", sharePW)},
		{"wrong share password", creds("alice", alicePW, "wrong")},
		{"account not allowed", creds("bob", "bob-pass", sharePW)},
	}
	before := len(owner.audit())
	for _, r := range refusals {
		out, errOut, code := client.cli(r.env, "get", target+":docs/big.bin", filepath.Join(client.host.Home, "refused"))
		if code != 3 {
			t.Errorf("%s: exit %d, want 3: %s %s", r.name, code, out, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(client.host.Home, "refused")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(client.host.Home, "refused"))
		if len(entries) > 0 {
			t.Errorf("refused gets left files: %v", entries)
		}
	}
	recs := owner.audit()
	denied := 0
	for _, r := range recs[before:] {
		if !r.Allowed && r.PeerID == client.id.ID {
			denied++
		}
	}
	if denied < len(refusals) {
		t.Errorf("owner's audit log has %d refusals of the client, want %d: %+v", denied, len(refusals), recs[before:])
	}

	// Paused sharing refuses the right account too, until resumed.
	owner.must(nil, "share", "pause")
	if out, errOut, code := client.cli(alice, "ls", target+":docs"); code == 0 || !strings.Contains(errOut, "paused") {
		t.Errorf("ls while sharing is paused: exit %d: %s %s", code, out, errOut)
	}
	owner.must(nil, "share", "resume")
	client.must(alice, "ls", target+":docs")
}

func TestPutReadOnlyAndReadWrite(t *testing.T) {
	ps, docs := officeBed(t, 2)
	owner, client := ps[0], ps[1]
	target := owner.host.Name
	alice := creds("alice", alicePW, sharePW)
	local := filepath.Join(client.host.Home, "report.bin")
	sum := writeRandom(t, local, 64<<20)

	if out, errOut, code := client.cli(alice, "put", local, target+":docs/"); code != 3 {
		t.Fatalf("put into a read-only share: exit %d: %s %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(docs, "report.bin")); err == nil {
		t.Fatal("put into a read-only share created the file")
	}

	// While the upload runs, the final name never shows a partial file.
	drop := owner.data("drop")
	stop := make(chan struct{})
	partialSeen := make(chan string, 1)
	go func() {
		for {
			select {
			case <-stop:
				close(partialSeen)
				return
			default:
			}
			if info, err := os.Stat(filepath.Join(drop, "report.bin")); err == nil && info.Size() != 64<<20 {
				partialSeen <- fmt.Sprintf("final name with %d bytes", info.Size())
				close(partialSeen)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	client.must(alice, "put", local, target+":drop/")
	close(stop)
	if msg, ok := <-partialSeen; ok {
		t.Fatal(msg)
	}
	if got := fileSum(t, filepath.Join(drop, "report.bin")); got != sum {
		t.Fatal("uploaded file differs")
	}
	// A second put never overwrites.
	client.must(alice, "put", local, target+":drop/")
	if _, err := os.Stat(filepath.Join(drop, "report (1).bin")); err != nil {
		t.Fatalf("second upload: %v", err)
	}
}

// TestResumeAfterKill kills the downloading peer, then the serving peer,
// halfway through a 200 MiB download; each time the next get resumes.
func TestResumeAfterKill(t *testing.T) {
	ps, docs := officeBed(t, 2)
	owner, client := ps[0], ps[1]
	target := owner.host.Name
	alice := creds("alice", alicePW, sharePW)
	const size = 200 << 20
	sum := writeRandom(t, filepath.Join(docs, "big.bin"), size)
	dest := filepath.Join(client.host.Home, "got")

	for _, victim := range []*peer{client, owner} {
		t.Logf("killing %s mid-transfer", victim.host.Name)
		os.RemoveAll(dest)
		cmd := client.host.Command(t.Context(), client.bin, "get", target+":docs/big.bin", dest)
		cmd.Env = append(cmd.Env, alice...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		getDone := make(chan error, 1)
		go func() { getDone <- cmd.Wait() }()
		// Wait until the partial file holds over a third of the data.
		netns.WaitFor(t, 2*time.Minute, 20*time.Millisecond, func() (bool, string) {
			n := partialBytes(dest)
			return n > size/3, fmt.Sprintf("partial holds %d bytes", n)
		})
		victim.proc.Kill()
		if err := <-getDone; err == nil {
			t.Fatal("get succeeded although a peer was killed mid-transfer")
		}
		if _, err := os.Stat(filepath.Join(dest, "big.bin")); err == nil {
			t.Fatal("the final name appeared after an interrupted transfer")
		}
		kept := partialBytes(dest)
		victim.start()
		waitUntil(t, 15*time.Second, func() (bool, string) { return seesOnline(client, owner) })
		var res getResult
		if err := json.Unmarshal([]byte(client.must(alice, "get", target+":docs/big.bin", dest, "--json")), &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Files) != 1 || res.Files[0].Resumed == 0 || res.Fetched >= size {
			t.Fatalf("no resume: %+v (partial had %d bytes)", res, kept)
		}
		t.Logf("MEASURED resume after killing %s: %d of %d bytes already there, fetched %d", victim.host.Name, res.Files[0].Resumed, size, res.Fetched)
		if got := fileSum(t, filepath.Join(dest, "big.bin")); got != sum {
			t.Fatal("resumed file differs")
		}
	}
}

// partialBytes is the size of the transfer's partial files in dir.
func partialBytes(dir string) int64 {
	entries, _ := os.ReadDir(dir)
	var n int64
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".peerdesk-") && strings.HasSuffix(e.Name(), ".part") {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
	}
	return n
}

func TestPathAttacksRefused(t *testing.T) {
	ps, docs := officeBed(t, 2)
	owner, client := ps[0], ps[1]
	target := owner.host.Name
	alice := creds("alice", alicePW, sharePW)
	writeRandom(t, filepath.Join(docs, "ok.txt"), 10)
	secret := filepath.Join(owner.host.Home, "secret.txt")
	if err := os.WriteFile(secret, []byte("top secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustSymlink(t, secret, filepath.Join(docs, "link-out"))
	mustSymlink(t, "/etc", filepath.Join(docs, "etc-link"))
	mustSymlink(t, "loop-b", filepath.Join(docs, "loop-a"))
	mustSymlink(t, "loop-a", filepath.Join(docs, "loop-b"))
	mustSymlink(t, "..", filepath.Join(docs, "up"))

	attacks := []string{
		"../secret.txt", "../../etc/passwd", "sub/../../secret.txt", "./../secret.txt",
		"..", "../", "/etc/passwd", "//etc/passwd", "/../secret.txt",
		`..\secret.txt`, `..\\secret.txt`, `C:\Windows\win.ini`, `C:/Windows/win.ini`, `\\server\share\x`,
		"link-out", "etc-link/passwd", "etc-link", "loop-a", "loop-b/x", "up/secret.txt", "up",
		"sub/./../../secret.txt", ".../../secret.txt",
		"CON", "con.txt", "NUL", "PRN.pdf", "AUX", "COM1", "lpt9.doc", "COM1.txt",
		"what?.txt", "a<b", "a>b", `a"b`, "a|b", "a:b", "*",
		"trailingdot.", "trailingspace ",
		strings.Repeat("a", 300), strings.Repeat("d/", 2100) + "x",
		"%2e%2e/secret.txt", "..%2fsecret.txt", "%2e%2e%2fsecret.txt", "..%5csecret.txt",
		"\u2024\u2024/secret.txt", "ok.txt/../../secret.txt", ".peerdesk-0123456789abcdef.part",
		"line\nbreak", "tab\tname",
	}
	if len(attacks) < 40 {
		t.Fatalf("only %d attacks", len(attacks))
	}
	dest := filepath.Join(client.host.Home, "loot")
	for _, a := range attacks {
		for _, cmd := range [][]string{
			{"get", target + ":docs/" + a, dest},
			{"ls", target + ":docs/" + a},
		} {
			out, errOut, code := client.cli(alice, cmd...)
			if code != 3 && code != 4 {
				t.Errorf("%s %q: exit %d, want 3 or 4\nstdout: %.200s\nstderr: %.200s", cmd[0], a, code, out, errOut)
			}
			if strings.Contains(out, "top secret") || strings.Contains(out, "root:") {
				t.Errorf("%s %q leaked data", cmd[0], a)
			}
		}
	}
	filepath.WalkDir(dest, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			t.Errorf("attack fetched %s: %.40q", path, b)
		}
		return nil
	})
	t.Logf("MEASURED %d path attacks refused for both get and ls", len(attacks))
}

func mustSymlink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := os.Symlink(oldname, newname); err != nil {
		t.Fatal(err)
	}
}

// mountTmpfs mounts a small tmpfs at dir for the rest of the test.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
}

func TestDiskFullOnReceiver(t *testing.T) {
	var small, ownerSmall string
	ps, docs := officeBedWith(t, 2, func(ps []*peer) {
		small = filepath.Join(ps[1].host.Home, "small-disk")
		mountTmpfs(t, small, "16m")
		ownerSmall = ps[0].data("drop-small")
		mountTmpfs(t, ownerSmall, "8m")
		ps[0].must(nil, "share", "folder", "tiny", ownerSmall, "--allow", "alice:rw")
	})
	owner, client := ps[0], ps[1]
	target := owner.host.Name
	alice := creds("alice", alicePW, sharePW)
	writeRandom(t, filepath.Join(docs, "big.bin"), 48<<20)

	out, errOut, code := client.cli(alice, "get", target+":docs/big.bin", small)
	if code == 0 {
		t.Fatalf("get onto a full disk succeeded: %s", out)
	}
	if !strings.Contains(strings.ToLower(errOut), "no space") && !strings.Contains(strings.ToLower(errOut), "disk") {
		t.Errorf("unclear error: %s", errOut)
	}
	t.Logf("get onto a full disk: exit %d: %s", code, strings.TrimSpace(errOut))
	if _, err := os.Stat(filepath.Join(small, "big.bin")); err == nil {
		t.Fatal("a file with the final name exists on the full disk")
	}
	// The owner saw the read, and its log says so.
	var served bool
	for _, r := range owner.audit() {
		if r.Action == "read" && strings.Contains(r.Resource, "big.bin") {
			served = true
		}
	}
	if !served {
		t.Error("owner's audit log does not show the read")
	}

	// Uploading into a full share: same rules on the owner's side.
	local := filepath.Join(client.host.Home, "up.bin")
	writeRandom(t, local, 20<<20)
	out, errOut, code = client.cli(alice, "put", local, target+":tiny/")
	if code == 0 {
		t.Fatalf("put onto a full share succeeded: %s", out)
	}
	if !strings.Contains(strings.ToLower(errOut), "space") && !strings.Contains(strings.ToLower(errOut), "disk") {
		t.Errorf("unclear put error: %s", errOut)
	}
	t.Logf("put onto a full share: exit %d: %s", code, strings.TrimSpace(errOut))
	if _, err := os.Stat(filepath.Join(ownerSmall, "up.bin")); err == nil {
		t.Fatal("the owner shows the final name of a failed upload")
	}
}

func TestPushSendAcceptAndRefuse(t *testing.T) {
	ps, _ := officeBed(t, 2)
	receiver, sender := ps[0], ps[1]
	inbox := filepath.Join(receiver.host.Home, "Inbox")
	receiver.must(nil, "settings", "set", "inbox", inbox)
	local := filepath.Join(sender.host.Home, "hello.pdf")
	sum := writeRandom(t, local, 3<<20)

	// Auto-accept is off: the headless receiver refuses.
	if out, errOut, code := sender.cli(nil, "send", receiver.host.Name, local); code != 3 {
		t.Fatalf("send with auto-accept off: exit %d: %s %s", code, out, errOut)
	}
	if entries, _ := os.ReadDir(inbox); len(entries) > 0 {
		t.Fatalf("refused send left %v", entries)
	}
	receiver.must(nil, "settings", "set", "auto-accept", "true")
	// Auto-accept takes files only from verified peers: every first contact
	// pins, so "pinned" would mean any stranger on the LAN (M4).
	if out, errOut, code := sender.cli(nil, "send", receiver.host.Name, local); code != 3 {
		t.Fatalf("send from a merely pinned peer with auto-accept on: exit %d: %s %s", code, out, errOut)
	}
	receiver.must(nil, "trust", sender.id.ID, "--fingerprint", sender.id.Code)
	sender.must(nil, "send", receiver.host.Name, local)
	if got := fileSum(t, filepath.Join(inbox, "hello.pdf")); got != sum {
		t.Fatal("sent file differs")
	}
	// Sending again lands beside it, never over it.
	sender.must(nil, "send", receiver.host.Name, local)
	if _, err := os.Stat(filepath.Join(inbox, "hello (1).pdf")); err != nil {
		t.Fatal(err)
	}
	// A refused sender's audit: the receiver logged the refusal.
	var refused bool
	for _, r := range receiver.audit() {
		if r.Action == "send" && !r.Allowed {
			refused = true
		}
	}
	if !refused {
		t.Error("receiver's audit log lacks the refused send")
	}
	// A folder's hidden entries stay behind (receivers refuse hidden
	// names); the sender is told.
	project := filepath.Join(sender.host.Home, "project")
	writeRandom(t, filepath.Join(project, "plan.txt"), 1<<10)
	writeRandom(t, filepath.Join(project, ".git", "config"), 1<<10)
	writeRandom(t, filepath.Join(project, ".env"), 1<<10)
	if out := sender.must(nil, "send", receiver.host.Name, project); !strings.Contains(out, "2 hidden file(s) left out") {
		t.Errorf("send of a folder with hidden entries said %q", out)
	}
	if _, err := os.Stat(filepath.Join(inbox, "project", "plan.txt")); err != nil {
		t.Error(err)
	}
	for _, hidden := range []string{".git", ".env"} {
		if _, err := os.Stat(filepath.Join(inbox, "project", hidden)); err == nil {
			t.Errorf("%s arrived", hidden)
		}
	}
}

func TestSearchAndMultiSource(t *testing.T) {
	ps, docs := officeBed(t, 3)
	a, b, client := ps[0], ps[1], ps[2]
	sum := writeRandom(t, filepath.Join(docs, "video", "training.mp4"), 96<<20)
	// b shares the same file under its own account setup.
	bdocs := b.data("media")
	os.MkdirAll(bdocs, 0o755)
	copyFile(t, filepath.Join(docs, "video", "training.mp4"), filepath.Join(bdocs, "training.mp4"))
	b.must([]string{"PEERDESK_PASSWORD=" + alicePW}, "user", "add", "alice")
	b.must([]string{"PEERDESK_SHARE_PASSWORD=" + sharePW}, "share", "folder", "media", bdocs, "--allow", "alice:ro", "--password")
	alice := creds("alice", alicePW, sharePW)

	var hits []struct {
		Peer  string `json:"peer"`
		Share string `json:"share"`
		Path  string `json:"path"`
		Size  int64  `json:"size"`
	}
	// Accounts are per PC: the client logs in to b once (ls), and b is
	// then asked with b's own credentials; the typed ones go to a only.
	client.must(alice, "ls", b.host.Name+":media")
	if err := json.Unmarshal([]byte(client.must(alice, "search", "training", "--peer", a.host.Name, "--json")), &hits); err != nil {
		t.Fatal(err)
	}
	peersHit := map[string]bool{}
	for _, h := range hits {
		peersHit[h.Peer] = true
	}
	if !peersHit[a.host.Name] || !peersHit[b.host.Name] {
		t.Fatalf("search hits %+v, want both %s and %s", hits, a.host.Name, b.host.Name)
	}

	dest := filepath.Join(client.host.Home, "got")
	var res getResult
	if err := json.Unmarshal([]byte(client.must(alice, "get", a.host.Name+":docs/video/training.mp4", dest, "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if got := fileSum(t, filepath.Join(dest, "training.mp4")); got != sum {
		t.Fatal("multi-source download differs")
	}
	if len(res.Files) != 1 || len(res.Files[0].PerSource) < 2 {
		t.Fatalf("not multi-source: %+v", res)
	}
	for src, n := range res.Files[0].PerSource {
		if n == 0 {
			t.Errorf("source %s delivered nothing", src)
		}
	}
	t.Logf("MEASURED multi-source split: %v", res.Files[0].PerSource)
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFailedLoginsRateLimited(t *testing.T) {
	ps, _ := officeBed(t, 3)
	owner, attacker, colleague := ps[0], ps[1], ps[2]
	target := owner.host.Name
	bad := creds("alice", "guess", sharePW)
	start := time.Now()
	var limited int
	for i := 0; i < 20; i++ {
		_, errOut, code := attacker.cli(bad, "ls", target+":docs")
		if code != 3 {
			t.Fatalf("wrong password %d: exit %d: %s", i, code, errOut)
		}
		if strings.Contains(errOut, "too many") {
			limited++
		}
	}
	t.Logf("MEASURED 20 wrong passwords: %d refused by the rate limit, %v", limited, time.Since(start).Round(time.Millisecond))
	if limited < 10 {
		t.Fatalf("only %d of 20 wrong passwords hit the rate limit", limited)
	}
	// The right password from the same peer is still blocked for now...
	if _, errOut, code := attacker.cli(creds("alice", alicePW, sharePW), "ls", target+":docs"); code != 3 || !strings.Contains(errOut, "too many") {
		t.Errorf("right password from the blocked peer: exit %d: %s", code, errOut)
	}
	// ...but works from another peer.
	colleague.must(creds("alice", alicePW, sharePW), "ls", target+":docs")
	// Every failed login is accounted for: the first of a minute as a
	// record, the rest alike in one summary with their count.
	var logins int
	for _, r := range owner.audit() {
		if r.Action == "login" && !r.Allowed && r.PeerID == attacker.id.ID {
			var more int
			if _, err := fmt.Sscanf(r.Detail, "%d more refusals", &more); err == nil {
				logins += more
			} else {
				logins++
			}
		}
	}
	if logins < 20 {
		t.Errorf("owner logged %d failed logins of the attacker, want 20", logins)
	}
}
