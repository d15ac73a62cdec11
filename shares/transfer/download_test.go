package transfer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// memSource serves a byte slice; failAfter > 0 makes it fail once that
// many bytes have gone out (a peer vanishing mid-transfer).
type memSource struct {
	name      string
	data      []byte
	failAfter int64
	sent      atomic.Int64
	corrupt   bool
}

func (s *memSource) Name() string { return s.name }

func (s *memSource) ReadRange(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b := s.data[off : off+n]
	if s.corrupt {
		b = bytes.Clone(b)
		b[0] ^= 0xff
	}
	var done int64
	for len(b) > 0 {
		step := min(int64(len(b)), 256<<10)
		if s.failAfter > 0 && s.sent.Load()+step > s.failAfter {
			return done, fmt.Errorf("%s: connection lost", s.name)
		}
		m, err := w.Write(b[:step])
		done += int64(m)
		s.sent.Add(int64(m))
		if err != nil {
			return done, err
		}
		b = b[step:]
	}
	return done, nil
}

func randomFile(t *testing.T, size int) ([]byte, Remote) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	sum := sha256.Sum256(b)
	return b, Remote{Size: int64(size), SHA256: hex.EncodeToString(sum[:]), MTime: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func TestDownloadSingleSource(t *testing.T) {
	data, remote := randomFile(t, 3*ChunkSize+12345)
	dir := t.TempDir()
	var last int64
	res, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{&memSource{name: "a", data: data}}, Dir: dir, Name: "f.bin",
		Progress: func(done, total int64) { last = done }})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(res.Path)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
	if last != remote.Size {
		t.Fatalf("last progress %d, want %d", last, remote.Size)
	}
	info, _ := os.Stat(res.Path)
	if !info.ModTime().Equal(remote.MTime) {
		t.Errorf("mtime %v, want %v", info.ModTime(), remote.MTime)
	}
	assertNoPartials(t, dir)
}

func TestDownloadResumesAfterSourceVanishes(t *testing.T) {
	data, remote := randomFile(t, 10*ChunkSize)
	dir := t.TempDir()
	flaky := &memSource{name: "a", data: data, failAfter: 6*ChunkSize + 100}
	_, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{flaky}, Dir: dir, Name: "f.bin"})
	if !errors.Is(err, ErrNoSource) {
		t.Fatalf("err = %v, want ErrNoSource", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "f.bin")); !os.IsNotExist(err) {
		t.Fatal("a partial download appeared under the final name")
	}
	// The next try (a new process, as after a restart) fetches only the rest.
	again := &memSource{name: "a", data: data}
	res, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{again}, Dir: dir, Name: "f.bin"})
	if err != nil {
		t.Fatal(err)
	}
	// The source failed after 6 chunks and 100 bytes; with
	// fetchesPerSource chunks in flight at once, the bytes of the one or
	// two it had not finished are fetched again, whole chunks are not.
	if res.Resumed < (6-fetchesPerSource+1)*ChunkSize || res.Resumed > 6*ChunkSize || res.Resumed+res.Fetched != remote.Size {
		t.Fatalf("resumed %d fetched %d, want %d to %d resumed and the rest fetched", res.Resumed, res.Fetched, (6-fetchesPerSource+1)*ChunkSize, 6*ChunkSize)
	}
	got, _ := os.ReadFile(res.Path)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs after resume")
	}
	assertNoPartials(t, dir)
}

func TestDownloadMultiSource(t *testing.T) {
	data, remote := randomFile(t, 12*ChunkSize+7)
	dir := t.TempDir()
	a, b := &memSource{name: "a", data: data}, &memSource{name: "b", data: data}
	res, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{a, b}, Dir: dir, Name: "f.bin"})
	if err != nil {
		t.Fatal(err)
	}
	if res.PerSource["a"] == 0 || res.PerSource["b"] == 0 || res.PerSource["a"]+res.PerSource["b"] != remote.Size {
		t.Fatalf("per source %v", res.PerSource)
	}
	got, _ := os.ReadFile(res.Path)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
}

func TestDownloadSurvivesOneSourceFailing(t *testing.T) {
	data, remote := randomFile(t, 8*ChunkSize)
	dir := t.TempDir()
	bad := &memSource{name: "bad", data: data, failAfter: ChunkSize / 2}
	good := &memSource{name: "good", data: data}
	res, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{bad, good}, Dir: dir, Name: "f.bin"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(res.Path)
	if !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
}

func TestDownloadHashMismatchDiscards(t *testing.T) {
	data, remote := randomFile(t, ChunkSize+1)
	dir := t.TempDir()
	_, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{&memSource{name: "a", data: data, corrupt: true}}, Dir: dir, Name: "f.bin"})
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("err = %v, want ErrHashMismatch", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

func chunkSums(data []byte) [][sha256.Size]byte {
	var out [][sha256.Size]byte
	for off := 0; off < len(data); off += ChunkSize {
		out = append(out, sha256.Sum256(data[off:min(len(data), off+ChunkSize)]))
	}
	return out
}

// TestDownloadDropsALyingSource: with the owner's chunk sums, a source
// that sends other bytes is caught at its first chunks and dropped, its
// chunk comes from the honest source, and every good chunk counts; without
// them the same lie spoils the whole download.
func TestDownloadDropsALyingSource(t *testing.T) {
	data, remote := randomFile(t, 16*ChunkSize+99)
	dir := t.TempDir()
	honest, liar := &memSource{name: "owner", data: data}, &memSource{name: "liar", data: data, corrupt: true}
	res, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{liar, honest}, Dir: dir, Name: "f.bin", ChunkSums: chunkSums(data)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(res.Path); !bytes.Equal(got, data) {
		t.Fatal("content differs")
	}
	if res.PerSource["liar"] != 0 || res.PerSource["owner"] != remote.Size || len(res.Dropped) != 1 || res.Dropped[0] != "liar" {
		t.Fatalf("per source %v, dropped %v: want every byte from the owner, the liar dropped", res.PerSource, res.Dropped)
	}
	if sent := liar.sent.Load(); sent > fetchesPerSource*ChunkSize {
		t.Errorf("the liar was let send %d bytes, more than the first chunks it was asked for at once (%d)", sent, fetchesPerSource)
	}
	assertNoPartials(t, dir)

	// Without chunk sums: the whole file fails its check.
	_, err = Download(context.Background(), Request{Remote: remote, Sources: []Source{&memSource{name: "liar", data: data, corrupt: true}, &memSource{name: "owner", data: data}}, Dir: t.TempDir(), Name: "f.bin"})
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("without chunk sums: %v, want ErrHashMismatch", err)
	}
	// Sums of another size are not used (nothing to check against).
	res, err = Download(context.Background(), Request{Remote: remote, Sources: []Source{honest}, Dir: t.TempDir(), Name: "f.bin", ChunkSums: chunkSums(data)[:3]})
	if err != nil || len(res.Dropped) != 0 {
		t.Fatalf("mismatched sums list: %v %v", res, err)
	}
}

func TestDownloadNeverOverwrites(t *testing.T) {
	data, remote := randomFile(t, 1000)
	dir := t.TempDir()
	for _, n := range []string{"report.pdf", "report (1).pdf"} {
		os.WriteFile(filepath.Join(dir, n), []byte("mine"), 0o644)
	}
	res, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{&memSource{name: "a", data: data}}, Dir: dir, Name: "report.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(res.Path) != "report (2).pdf" {
		t.Fatalf("landed as %s", res.Path)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "report.pdf")); string(b) != "mine" {
		t.Fatal("existing file overwritten")
	}
	res, err = Download(context.Background(), Request{Remote: remote, Sources: []Source{&memSource{name: "a", data: data}}, Dir: dir, Name: "report.pdf", Replace: true})
	if err != nil || filepath.Base(res.Path) != "report.pdf" {
		t.Fatalf("replace: %v %v", res.Path, err)
	}
}

func TestDownloadEmptyFile(t *testing.T) {
	_, remote := randomFile(t, 0)
	dir := t.TempDir()
	res, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{&memSource{name: "a"}}, Dir: dir, Name: "empty"})
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(res.Path); err != nil || info.Size() != 0 {
		t.Fatalf("%v %v", info, err)
	}
}

func TestConflictName(t *testing.T) {
	for _, c := range []struct {
		in   string
		i    int
		want string
	}{
		{"a.txt", 0, "a.txt"},
		{"a.txt", 1, "a (1).txt"},
		{"archive.tar.gz", 2, "archive (2).tar.gz"},
		{".bashrc", 1, ".bashrc (1)"},
		{"noext", 3, "noext (3)"},
		{"a.b.c", 1, "a.b (1).c"},
	} {
		if got := ConflictName(c.in, c.i); got != c.want {
			t.Errorf("ConflictName(%q,%d) = %q, want %q", c.in, c.i, got, c.want)
		}
	}
}

func TestManagerHistory(t *testing.T) {
	home := t.TempDir()
	m := NewManager(home, nil)
	events, stop := m.Subscribe()
	defer stop()
	task := m.Start(context.Background(), KindDownload, "desk-2", "docs/a.pdf", "", 100)
	task.Progress(50, 100)
	ok := m.Start(context.Background(), KindDownload, "desk-2", "docs/b.pdf", "", 10)
	ok.Finish("/tmp/b.pdf", nil)
	if err := m.Cancel(task.ID()); err != nil {
		t.Fatal(err)
	}
	<-task.Ctx.Done()
	info := task.Finish("", task.Ctx.Err())
	if info.State != StateCanceled {
		t.Fatalf("state %s", info.State)
	}
	if len(events) == 0 {
		t.Fatal("no events")
	}
	// Reloaded from disk.
	list := NewManager(home, nil).List()
	if len(list) != 2 || list[0].Path != "docs/a.pdf" || list[1].State != StateDone {
		t.Fatalf("history %+v", list)
	}
	if fi, _ := os.Stat(filepath.Join(home, "transfers.json")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

func assertNoPartials(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if IsPartial(e.Name()) {
			t.Errorf("partial file left: %s", e.Name())
		}
	}
}

// Two downloads of the same content into one folder at once (the partial
// file is named after the content) each keep their own partial file; both
// end in place and verified. They shared one before, and all but one
// failed to rename it.
func TestConcurrentDownloadsOfTheSameContent(t *testing.T) {
	data, remote := randomFile(t, 2*ChunkSize+99)
	dir := t.TempDir()
	const n = 4
	errc := make(chan error, n)
	paths := make(chan string, n)
	for i := range n {
		go func() {
			res, err := Download(context.Background(), Request{Remote: remote, Sources: []Source{&memSource{name: "a", data: data}}, Dir: dir, Name: fmt.Sprintf("copy-%d.bin", i)})
			paths <- res.Path
			errc <- err
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Error(err)
		}
		if p := <-paths; p != "" {
			if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
				t.Errorf("%s differs", p)
			}
		}
	}
	assertNoPartials(t, dir)
}
