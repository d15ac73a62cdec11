package integration

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/peerdesk/peerdesk/identity"
)

// A colleague's printer in every program's print dialog: p2 (h1) adds
// p1's (h0) shared printer; a job printed with lp on h1's own cupsd goes
// through the driverless queue to Peerdesk's IPP endpoint on h1's
// loopback, over DTLS to h0, and comes out of h0's cups-pdf queue.

// addedPrinter is `printer list --json`.
type addedPrinter struct {
	Queue    string `json:"queue"`
	Peer     string `json:"peer"`
	PeerName string `json:"peer_name"`
	Printer  string `json:"printer"`
	URI      string `json:"uri"`
	State    string `json:"state"`
	Message  string `json:"message"`
	Held     int    `json:"held"`
}

func (p *peer) addedPrinters() []addedPrinter {
	p.t.Helper()
	var list []addedPrinter
	out := p.must(nil, "printer", "list", "--json")
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		p.t.Fatalf("printer list --json: %v: %s", err, out)
	}
	return list
}

// ownerJobsOf lists the owner's jobs (every state) of the given user.
func ownerJobsOf(c *nsCUPS, user string) []string {
	var out []string
	for _, j := range c.jobs() {
		if strings.HasSuffix(j, " "+user) {
			out = append(out, j)
		}
	}
	return out
}

// pdfWith waits for cups-pdf's output whose name holds token.
func pdfWith(t *testing.T, token string, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	var found string
	took := waitUntil(t, timeout, func() (bool, string) {
		matches, _ := filepath.Glob(filepath.Join(cupsAnonDir, "*"+token+"*"))
		if len(matches) == 1 {
			found = matches[0]
			return true, ""
		}
		return false, fmt.Sprintf("%d PDFs named *%s* in %s", len(matches), token, cupsAnonDir)
	})
	return found, took
}

func TestSharedPrinterInEveryPrintDialog(t *testing.T) {
	var ownerCUPS, clientCUPS *nsCUPS
	ps, _ := officeBedWith(t, 2, func(ps []*peer) {
		ownerCUPS = startCUPS(t, ps[0].host)
		clientCUPS = startCUPS(t, ps[1].host)
		ps[0].must(nil, "share", "printer", "pdf", "PDF", "--allow", "alice")
	})
	owner, client := ps[0], ps[1]
	target := owner.host.Name
	alice := creds("alice", alicePW, "")
	user := fmt.Sprintf("alice@%s~%s", client.host.Name, client.id.ID[:8])
	pdf, err := os.ReadFile(filepath.Join("..", "..", "printing", "testdata", "onepage.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	newDoc := func() (path, token string) {
		token = "pq" + strings.ToLower(rand.Text()[:10])
		path = filepath.Join(client.host.Home, token+".pdf")
		if err := os.WriteFile(path, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
		return path, token
	}

	var added struct{ Queue, URI string }
	out := client.must(alice, "printer", "add", target+":pdf", "--json")
	if err := json.Unmarshal([]byte(out), &added); err != nil {
		t.Fatalf("printer add --json: %v: %s", err, out)
	}
	wantQueue := target + "-pdf"
	if added.Queue != wantQueue || !strings.HasPrefix(added.URI, "ipp://127.0.0.1:") || !strings.HasSuffix(added.URI, "/printers/"+wantQueue) {
		t.Fatalf("printer add --json = %+v, want queue %s on ipp://127.0.0.1:PORT/printers/%s", added, wantQueue, wantQueue)
	}
	if st := clientCUPS.must("lpstat", "-v", added.Queue); !strings.Contains(st, added.URI) {
		t.Fatalf("lpstat -v: %s", st)
	}
	if info, err := os.Stat(filepath.Join(client.host.Home, "printqueues.json")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("printqueues.json: %v %v", info, err)
	}

	t.Run("lp prints on the owner's printer", func(t *testing.T) {
		doc, token := newDoc()
		before := len(ownerJobsOf(ownerCUPS, user))
		start := time.Now()
		clientCUPS.must("lp", "-d", added.Queue, "-t", token, doc)
		_, _ = pdfWith(t, token, 60*time.Second)
		t.Logf("MEASURED lp on %s's own cupsd → PDF written by %s's cups-pdf: %v", client.host.Name, owner.host.Name, time.Since(start).Round(time.Millisecond))
		if got := len(ownerJobsOf(ownerCUPS, user)); got != before+1 {
			t.Errorf("owner has %d jobs of %s, want %d: %v", got, user, before+1, ownerCUPS.jobs())
		}
		waitUntil(t, 30*time.Second, func() (bool, string) {
			out := clientCUPS.must("lpstat", "-W", "completed", "-o", added.Queue)
			return strings.Contains(out, added.Queue+"-"), "local job not completed: " + out
		})
		if !hasAudit(owner, func(r auditRecord) bool {
			return r.Action == "print" && r.Allowed && strings.Contains(r.Detail, user)
		}) {
			t.Error("no audit entry for the job")
		}
	})

	t.Run("cancelling locally cancels at the owner", func(t *testing.T) {
		ownerCUPS.must("cupsdisable", "PDF")
		defer ownerCUPS.must("cupsenable", "PDF")
		doc, token := newDoc()
		out := clientCUPS.must("lp", "-d", added.Queue, "-t", token, doc)
		var localID string
		if f := strings.Fields(out); len(f) >= 4 {
			localID = f[3] // "request id is QUEUE-N (1 file(s))"
		}
		waitUntil(t, 30*time.Second, func() (bool, string) {
			out := ownerCUPS.must("lpstat", "-W", "not-completed", "-o", "PDF")
			return strings.Contains(out, user), "owner has no waiting job: " + out
		})
		start := time.Now()
		clientCUPS.must("cancel", localID)
		took := waitUntil(t, 30*time.Second, func() (bool, string) {
			out := ownerCUPS.must("lpstat", "-W", "not-completed", "-o", "PDF")
			return !strings.Contains(out, user), "owner's job still waiting: " + out
		})
		t.Logf("MEASURED local cancel → owner's job canceled: %v", (time.Since(start)).Round(time.Millisecond))
		_ = took
		if !hasAudit(owner, func(r auditRecord) bool { return strings.Contains(r.Detail, "canceled by its sender") }) {
			t.Error("no audit entry for the cancel")
		}
	})

	t.Run("wrong credentials hold the job until sign-in", func(t *testing.T) {
		const newPW = "a new password for alice"
		owner.must([]string{"PEERDESK_PASSWORD=" + newPW}, "user", "passwd", "alice")
		before := len(ownerJobsOf(ownerCUPS, user))
		doc, token := newDoc()
		clientCUPS.must("lp", "-d", added.Queue, "-t", token, doc)
		want := "sign in to " + target + " in Peerdesk"
		waitUntil(t, 30*time.Second, func() (bool, string) {
			for _, p := range client.addedPrinters() {
				if p.Queue == added.Queue {
					return p.State == "held" && strings.Contains(p.Message, want), fmt.Sprintf("%+v", p)
				}
			}
			return false, "queue not listed"
		})
		// The local queue shows it: stopped with the message, the job
		// pending in it.
		waitUntil(t, 30*time.Second, func() (bool, string) {
			out := clientCUPS.must("lpstat", "-l", "-p", added.Queue)
			return strings.Contains(out, "disabled") && strings.Contains(out, want), "lpstat -l -p: " + out
		})
		if out := clientCUPS.must("lpstat", "-W", "not-completed", "-o", added.Queue); !strings.Contains(out, added.Queue+"-") {
			t.Errorf("the job is not waiting in the local queue: %q", out)
		}
		if got := len(ownerJobsOf(ownerCUPS, user)); got != before {
			t.Fatalf("owner got a job with the wrong password: %v", ownerCUPS.jobs())
		}
		// Signing in (listing the printers with the new password)
		// sends the held job.
		start := time.Now()
		client.must(creds("alice", newPW, ""), "printers", target)
		_, _ = pdfWith(t, token, 60*time.Second)
		t.Logf("MEASURED sign-in → held job printed: %v", time.Since(start).Round(time.Millisecond))
		if got := len(ownerJobsOf(ownerCUPS, user)); got != before+1 {
			t.Errorf("owner has %d jobs of %s after sign-in, want %d", got, user, before+1)
		}
	})

	t.Run("an unshared printer disables the queue", func(t *testing.T) {
		owner.must(nil, "share", "rm", "pdf")
		want := target + " no longer shares pdf with you."
		waitUntil(t, 30*time.Second, func() (bool, string) {
			for _, p := range client.addedPrinters() {
				if p.Queue == added.Queue {
					return p.State == "disabled" && p.Message == want, fmt.Sprintf("%+v", p)
				}
			}
			return false, "queue not listed"
		})
		out := clientCUPS.must("lpstat", "-l", "-p", added.Queue)
		if !strings.Contains(out, "disabled") || !strings.Contains(out, want) {
			t.Errorf("lpstat -l -p after unsharing: %s", out)
		}
		owner.must(nil, "share", "printer", "pdf", "PDF", "--allow", "alice")
		waitUntil(t, 30*time.Second, func() (bool, string) {
			for _, p := range client.addedPrinters() {
				if p.Queue == added.Queue {
					return p.State == "ready", fmt.Sprintf("%+v", p)
				}
			}
			return false, "queue not listed"
		})
		if out := clientCUPS.must("lpstat", "-p", added.Queue); strings.Contains(out, "disabled") {
			t.Errorf("lpstat -p after sharing again: %s", out)
		}
	})

	t.Run("ipptool conformance", func(t *testing.T) {
		checkEndpointConformance(t, client.host, added.URI)
	})

	t.Run("the owner's new key disables the queue for good", func(t *testing.T) {
		// The owner is replaced by another key under its id (a
		// reinstall, or an impostor): its printer gets no more jobs.
		if err := owner.proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		owner.proc.Wait(5 * time.Second)
		_, certPEM, keyPEM, err := identity.NewIdentity(uuid.MustParse(owner.id.ID))
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"identity.key": keyPEM, "identity.crt": certPEM} {
			if err := os.WriteFile(filepath.Join(owner.host.Home, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		owner.start()
		want := target + "'s identity changed; check it in Peerdesk and add the printer again."
		took := waitUntil(t, 30*time.Second, func() (bool, string) {
			for _, p := range client.addedPrinters() {
				if p.Queue == added.Queue {
					return p.State == "disabled" && p.Message == want, fmt.Sprintf("%+v", p)
				}
			}
			return false, "queue not listed"
		})
		t.Logf("MEASURED owner restarted with a new key → queue disabled: %v", took.Round(time.Millisecond))
		out := clientCUPS.must("lpstat", "-l", "-p", added.Queue)
		if !strings.Contains(out, "disabled") || !strings.Contains(out, want) {
			t.Errorf("lpstat -l -p after the key change: %s", out)
		}
		if _, err := clientCUPS.tool("lp", "-d", added.Queue, filepath.Join("..", "..", "printing", "testdata", "onepage.pdf")); err == nil {
			t.Error("the disabled queue still takes jobs")
		}
	})

	t.Run("printer rm", func(t *testing.T) {
		client.must(nil, "printer", "rm", added.Queue)
		if out, err := clientCUPS.tool("lpstat", "-v", added.Queue); err == nil {
			t.Errorf("queue still there: %s", out)
		}
		if list := client.addedPrinters(); len(list) != 0 {
			t.Errorf("printer list after rm: %+v", list)
		}
	})
}
