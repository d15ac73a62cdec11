package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// listedPackage is what `go list -json` says of a package, as far as the
// architecture rules need.
type listedPackage struct {
	ImportPath string
	Doc        string
	Deps       []string
}

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps=false", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestImportRules holds the seams of docs/architecture.md: imports point
// one way, printing builds on the access core without the file service,
// transport knows nothing of the services, its internal layers nothing of
// it, and the core never imports Fyne. A change that crosses a seam fails
// here, not in review.
func TestImportRules(t *testing.T) {
	const mod = "github.com/peerdesk/peerdesk/"
	rules := map[string][]string{
		"identity":                {"transport", "access", "shares", "printing", "discovery", "node", "app", "cli", "fyne.io/"},
		"transport":               {"access", "shares", "printing", "discovery", "node", "control", "app", "cli", "fyne.io/"},
		"transport/internal/udp":  {"transport", "identity", "access", "node", "fyne.io/"},
		"transport/internal/bulk": {"transport", "identity", "access", "node", "fyne.io/"},
		"access":                  {"shares", "printing", "discovery", "node", "app", "cli", "fyne.io/"},
		"shares":                  {"printing", "discovery", "node", "app", "cli", "fyne.io/"},
		"shares/remote":           {"printing", "discovery", "node", "app", "cli", "fyne.io/"},
		"shares/transfer":         {"transport", "access", "shares", "node", "app", "fyne.io/"},
		"printing":                {"shares", "shares/remote", "shares/transfer", "discovery", "node", "app", "cli", "fyne.io/"},
		"discovery":               {"shares", "printing", "node", "app", "cli", "fyne.io/"},
		"control":                 {"shares", "printing", "node", "app", "cli", "fyne.io/"},
		"node":                    {"app", "cli", "fyne.io/"},
		"transport/internal/errs": {"transport"},
		"internal/atomicfile":     {"transport", "node"},
		"printing/ippserve":       {"node", "shares", "app", "fyne.io/"},
		"internal/logfile":        {"node", "app"},
		"internal/human":          {"node", "app"},
	}
	pkgs := map[string]listedPackage{}
	for _, p := range listPackages(t) {
		pkgs[strings.TrimPrefix(p.ImportPath, mod)] = p
	}
	for pkg, banned := range rules {
		p, ok := pkgs[pkg]
		if !ok {
			t.Errorf("package %s is gone: update the rules and docs/architecture.md", pkg)
			continue
		}
		for _, dep := range p.Deps {
			for _, b := range banned {
				// A module package is banned alone (not its internal
				// subpackages); an outside module by its prefix.
				if dep == mod+b || strings.HasSuffix(b, "/") && strings.HasPrefix(dep, b) {
					t.Errorf("%s depends on %s, across a seam of docs/architecture.md", pkg, dep)
				}
			}
		}
	}
}

// productSpec is the name of the product spec the team keeps outside the
// repository, spelled in two parts so that this file does not cite it.
const productSpec = "SPEC" + ".md"

// TestPackageDocs: every package says what it does (its doc comment), and
// code cites docs/, not a spec that is not in the repository.
func TestPackageDocs(t *testing.T) {
	for _, p := range listPackages(t) {
		if strings.Contains(p.ImportPath, "/test/") {
			continue
		}
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("package %s has no doc comment", p.ImportPath)
		}
	}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "dist") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), productSpec) {
			t.Errorf("%s cites %s, which is not in the repository: cite docs/", path, productSpec)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
