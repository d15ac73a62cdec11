package remote

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParsePath(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    Path
		wantErr bool
	}{
		{"desk", Path{Peer: "desk"}, false},
		{"desk:", Path{Peer: "desk"}, false},
		{"desk:docs", Path{Peer: "desk", Share: "docs"}, false},
		{"desk:docs/a/b.pdf", Path{Peer: "desk", Share: "docs", Path: "a/b.pdf"}, false},
		{"Front desk:docs/", Path{Peer: "Front desk", Share: "docs"}, false},
		{":docs", Path{}, true},
		{"", Path{}, true},
	} {
		got, err := ParsePath(c.in)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("ParsePath(%q) = %+v, %v", c.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrUsage) {
			t.Errorf("%q: error %v is not a usage error", c.in, err)
		}
	}
}

func TestDestFor(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "folder")
	os.Mkdir(existing, 0o755)
	for _, c := range []struct {
		dest, base     string
		wantDir, wantN string
	}{
		{existing, "a.pdf", existing, "a.pdf"},
		{filepath.Join(dir, "new.pdf"), "a.pdf", dir, "new.pdf"},
		{filepath.Join(dir, "newdir") + "/", "a.pdf", filepath.Join(dir, "newdir"), "a.pdf"},
		{filepath.Join(dir, "newdir"), "a.pdf", filepath.Join(dir, "newdir"), "a.pdf"},
		{filepath.Join(dir, "plain"), "noext", dir, "plain"},
	} {
		d, n := destFor(c.dest, c.base)
		if d != c.wantDir || n != c.wantN {
			t.Errorf("destFor(%q, %q) = %q, %q; want %q, %q", c.dest, c.base, d, n, c.wantDir, c.wantN)
		}
	}
}

func TestLocalTreeSkipsSymlinks(t *testing.T) {
	dir := t.TempDir()
	top := filepath.Join(dir, "Photos")
	os.MkdirAll(filepath.Join(top, "2024"), 0o755)
	os.WriteFile(filepath.Join(top, "2024", "a.jpg"), []byte("jpeg"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret"), []byte("x"), 0o600)
	os.Symlink(filepath.Join(dir, "secret"), filepath.Join(top, "link"))
	files, err := localTree(top)
	if err != nil {
		t.Fatal(err)
	}
	var rels []string
	for _, f := range files {
		rels = append(rels, f.rel)
	}
	want := []string{"Photos", "Photos/2024", "Photos/2024/a.jpg"}
	if len(rels) != len(want) {
		t.Fatalf("tree %v, want %v", rels, want)
	}
	for i := range want {
		if rels[i] != want[i] {
			t.Fatalf("tree %v, want %v", rels, want)
		}
	}
	if _, err := localTree(filepath.Join(top, "link")); err == nil {
		t.Fatal("a symlink given directly was accepted")
	}
}
