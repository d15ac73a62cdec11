package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileDropBox (H4): a drop-box (write-only) user cannot replace
// the owner's files and cannot tell which names exist: its put --replace
// and its plain put answer exactly as for a free name, while the owner's
// file is untouched and the owner's audit log says where the upload went.
func TestHostileDropBox(t *testing.T) {
	ps, _ := officeBed(t, 2)
	owner, client := ps[0], ps[1]
	box := owner.data("box")
	if err := os.MkdirAll(box, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(box, "salaries.xlsx")
	if err := os.WriteFile(secret, []byte("the owner's file"), 0o644); err != nil {
		t.Fatal(err)
	}
	owner.must(nil, "share", "folder", "box", box, "--allow", "alice:wo")
	alice := creds("alice", alicePW, "")
	local := filepath.Join(client.host.Home, "salaries.xlsx")
	writeRandom(t, local, 1<<20)
	fresh := filepath.Join(client.host.Home, "fresh.xlsx")
	writeRandom(t, fresh, 1<<20)

	remote := func(out string) string {
		var res []struct {
			Remote string `json:"remote"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res) != 1 {
			t.Fatalf("put --json: %v: %s", err, out)
		}
		return res[0].Remote
	}
	// A name that exists and one that does not answer alike.
	taken := remote(client.must(alice, "put", local, owner.host.Name+":box/", "--replace", "--json"))
	free := remote(client.must(alice, "put", fresh, owner.host.Name+":box/", "--json"))
	again := remote(client.must(alice, "put", local, owner.host.Name+":box/", "--json"))
	if !strings.HasSuffix(taken, "salaries.xlsx") || !strings.HasSuffix(free, "fresh.xlsx") || again != taken {
		t.Fatalf("drop-box answers reveal existing names: taken %q, free %q, again %q", taken, free, again)
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "the owner's file" {
		t.Fatalf("the drop-box user replaced the owner's file: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(box, "salaries (1).xlsx")); err != nil {
		t.Fatalf("the upload was not kept beside it: %v", err)
	}
	var saw bool
	for _, r := range owner.audit() {
		if strings.Contains(r.Detail, "replace refused") && strings.Contains(r.Detail, "salaries (1).xlsx") {
			saw = true
		}
	}
	if !saw {
		t.Errorf("the owner's audit log does not say the replace was refused and where the file went: %+v", owner.audit())
	}
}
