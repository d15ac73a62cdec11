package access

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStoreLifecycle(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "home")
	dir := filepath.Join(base, "docs")
	os.MkdirAll(dir, 0o755)
	s, err := OpenStore(home)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Add(Share{Name: "Docs", Kind: KindFolder, Path: dir, Access: map[string]Right{"alice": RightRW, "bob": RightWO}, Guest: RightRO}, "sharepw")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Password || info.Guest != RightRO || info.Access["bob"] != RightWO {
		t.Fatalf("info = %+v", info)
	}
	if _, err := s.Add(Share{Name: "docs", Kind: KindFolder, Path: dir}, ""); !errors.Is(err, ErrExists) {
		t.Fatalf("case-insensitive duplicate: %v", err)
	}
	if _, err := s.Add(Share{Name: "Printer", Kind: KindPrinter, Queue: "PDF", Access: map[string]Right{"alice": RightPrint}}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update("docs", func(sh *Share) error { sh.Access["carol"] = RightRO; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetAccount("alice"); err != nil {
		t.Fatal(err)
	}

	s2, err := OpenStore(home)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := s2.Get("DOCS")
	if err != nil {
		t.Fatal(err)
	}
	if sh.Name != "Docs" || sh.Path != dir || sh.Access["carol"] != RightRO || sh.Access["alice"] != "" || !sh.HasPassword() {
		t.Fatalf("reloaded share = %+v", sh)
	}
	if ok, _ := VerifyPassword(sh.PasswordHash, "sharepw"); !ok {
		t.Fatal("share password does not verify")
	}
	if got := s2.List(); len(got) != 2 || got[0].Name != "Docs" || got[1].Name != "Printer" {
		t.Fatalf("List = %+v", got)
	}
	js, _ := json.Marshal(s2.Infos())
	if strings.Contains(string(js), "argon2") || !strings.Contains(string(js), `"password":true`) {
		t.Fatalf("listing leaks or lacks fields: %s", js)
	}
	fi, _ := os.Stat(filepath.Join(home, SharesFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("shares.json mode %v", fi.Mode().Perm())
	}
	if err := s2.SetPassword("docs", ""); err != nil {
		t.Fatal(err)
	}
	if sh, _ := s2.Get("docs"); sh.HasPassword() {
		t.Fatal("password not cleared")
	}
	if err := s2.Remove("docs"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get("docs"); !errors.Is(err, ErrNoShare) {
		t.Fatalf("Get after Remove: %v", err)
	}
}

func TestStoreValidation(t *testing.T) {
	base := t.TempDir()
	home := filepath.Join(base, "home")
	dir := filepath.Join(base, "docs")
	os.MkdirAll(dir, 0o755)
	file := filepath.Join(base, "file.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ := OpenStore(home)
	for name, sh := range map[string]Share{
		"bad name":            {Name: "a/b", Kind: KindFolder, Path: dir},
		"empty name":          {Name: "", Kind: KindFolder, Path: dir},
		"long name":           {Name: strings.Repeat("n", 65), Kind: KindFolder, Path: dir},
		"leading space":       {Name: " x", Kind: KindFolder, Path: dir},
		"colon":               {Name: "a:b", Kind: KindFolder, Path: dir},
		"missing folder":      {Name: "x", Kind: KindFolder, Path: filepath.Join(base, "nope")},
		"file not folder":     {Name: "x", Kind: KindFolder, Path: file},
		"the home":            {Name: "x", Kind: KindFolder, Path: home},
		"holds the home":      {Name: "x", Kind: KindFolder, Path: base},
		"unknown kind":        {Name: "x", Kind: "scanner", Path: dir},
		"print on folder":     {Name: "x", Kind: KindFolder, Path: dir, Access: map[string]Right{"a": RightPrint}},
		"rw on printer":       {Name: "x", Kind: KindPrinter, Queue: "q", Access: map[string]Right{"a": RightRW}},
		"printer no queue":    {Name: "x", Kind: KindPrinter},
		"bad account":         {Name: "x", Kind: KindFolder, Path: dir, Access: map[string]Right{"Bad User": RightRO}},
		"guest account entry": {Name: "x", Kind: KindFolder, Path: dir, Access: map[string]Right{"guest": RightRO}},
		"bad guest right":     {Name: "x", Kind: KindFolder, Path: dir, Guest: "full"},
	} {
		if _, err := s.Add(sh, ""); err == nil {
			t.Errorf("%s: accepted %+v", name, sh)
		}
	}
	os.MkdirAll(home, 0o700)
	if _, err := s.Add(Share{Name: "ok", Kind: KindFolder, Path: dir}, ""); err != nil {
		t.Fatal(err)
	}
}

func TestRightCovers(t *testing.T) {
	type row struct {
		have          Right
		ro, wo, rw, p bool
	}
	for _, r := range []row{
		{RightNone, false, false, false, false},
		{RightRO, true, false, false, false},
		{RightRW, true, true, true, false},
		{RightWO, false, true, false, false},
		{RightPrint, false, false, false, true},
	} {
		got := []bool{r.have.Covers(RightRO), r.have.Covers(RightWO), r.have.Covers(RightRW), r.have.Covers(RightPrint)}
		want := []bool{r.ro, r.wo, r.rw, r.p}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s covers %v, want %v", r.have, got, want)
				break
			}
		}
	}
	for _, s := range []string{"ro", "RW", " wo ", "print", "none", ""} {
		if _, err := ParseRight(s); err != nil {
			t.Errorf("ParseRight(%q): %v", s, err)
		}
	}
	if _, err := ParseRight("admin"); err == nil {
		t.Error("ParseRight(admin) accepted")
	}
}
