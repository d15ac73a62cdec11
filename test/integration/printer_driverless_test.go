package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The owner side of driverless printing: a printer that speaks IPP
// Everywhere (CUPS' reference printer, ippeveprinter) behind a driverless
// CUPS queue (lpadmin -m everywhere) is shared and printed on from
// another peer, with the job's completion reported back.
func TestShareDriverlessPrinter(t *testing.T) {
	var cups *nsCUPS
	ps, _ := officeBedWith(t, 2, func(ps []*peer) {
		cups = startCUPS(t, ps[0].host)
		uri := startReferencePrinter(t, ps[0].host.NS, 18632)
		cups.must("lpadmin", "-p", "EVE", "-E", "-v", uri, "-m", "everywhere")
		ps[0].must(nil, "share", "printer", "eve", "EVE", "--allow", "alice")
	})
	owner, client := ps[0], ps[1]
	pdf, err := os.ReadFile(filepath.Join("..", "..", "printing", "testdata", "onepage.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(client.host.Home, "driverless.pdf")
	if err := os.WriteFile(doc, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out := client.must(creds("alice", alicePW, ""), "print", owner.host.Name+":eve", doc, "--wait", "--json")
	var job printJob
	if err := json.Unmarshal([]byte(out), &job); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if job.State != "completed" || job.JobID <= 0 {
		t.Fatalf("job %+v", job)
	}
	t.Logf("MEASURED print --wait on a driverless queue (ippeveprinter behind lpadmin -m everywhere): %v", time.Since(start).Round(time.Millisecond))
	if out := cups.must("lpstat", "-W", "completed", "-o", "EVE"); !strings.Contains(out, "alice@") {
		t.Errorf("owner's completed jobs: %s", out)
	}
}
