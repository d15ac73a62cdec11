package access

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/internal/testlog"
)

func TestAuditAppendRead(t *testing.T) {
	home := t.TempDir()
	l, err := OpenAuditLog(home, AuditConfig{Logger: testlog.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		l.Append(AuditRecord{PeerID: "p", PeerName: "pc", Account: "alice", Action: ActionRead, Resource: fmt.Sprintf("docs/%d", i), Allowed: i%2 == 0})
	}
	recs, err := l.Read(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 10 || recs[0].Resource != "docs/40" || recs[9].Resource != "docs/49" {
		t.Fatalf("Read(10) = %d records, first %q", len(recs), recs[0].Resource)
	}
	if recs[9].Time.IsZero() || recs[9].Allowed {
		t.Fatalf("record = %+v", recs[9])
	}
	l.Close()
	fi, _ := os.Stat(filepath.Join(home, AuditFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("audit.log mode %v", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(filepath.Join(home, AuditFile))
	line := strings.SplitN(string(raw), "\n", 2)[0]
	for _, key := range []string{`"time"`, `"peer_id"`, `"peer_name"`, `"account"`, `"action"`, `"resource"`, `"allowed"`} {
		if !strings.Contains(line, key) {
			t.Fatalf("record %s lacks %s", line, key)
		}
	}
}

func TestAuditTornLine(t *testing.T) {
	home := t.TempDir()
	l, _ := OpenAuditLog(home, AuditConfig{Logger: testlog.Logger()})
	l.Append(AuditRecord{PeerID: "p", Action: ActionLogin, Resource: "one"})
	l.Append(AuditRecord{PeerID: "p", Action: ActionLogin, Resource: "two"})
	l.Close()
	// A crash in the middle of a write leaves half a record.
	f, _ := os.OpenFile(filepath.Join(home, AuditFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-01-01T00:00:00Z","peer_id":"p","act`)
	f.Close()

	l2, err := OpenAuditLog(home, AuditConfig{Logger: testlog.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	recs, err := l2.Read(0)
	if err != nil || len(recs) != 2 {
		t.Fatalf("after torn line: %d records, %v", len(recs), err)
	}
	l2.Append(AuditRecord{PeerID: "p", Action: ActionLogin, Resource: "three"})
	recs, _ = l2.Read(0)
	if len(recs) != 3 || recs[2].Resource != "three" {
		t.Fatalf("append after torn line: %+v", recs)
	}
}

func TestAuditRotation(t *testing.T) {
	home := t.TempDir()
	l, _ := OpenAuditLog(home, AuditConfig{Logger: testlog.Logger(), MaxBytes: 4096})
	defer l.Close()
	for i := range 200 {
		l.Append(AuditRecord{PeerID: "p", Action: ActionList, Resource: fmt.Sprintf("r%03d", i), Time: time.Unix(int64(i), 0)})
		if i%10 == 0 {
			l.Flush()
		}
	}
	l.Flush()
	if _, err := os.Stat(filepath.Join(home, AuditFile+".1")); err != nil {
		t.Fatalf("no rotated file: %v", err)
	}
	fi, _ := os.Stat(filepath.Join(home, AuditFile))
	if fi.Size() > 3*4096 {
		t.Fatalf("current file %d bytes after rotation at 4096", fi.Size())
	}
	recs, _ := l.Read(5)
	if len(recs) != 5 || recs[4].Resource != "r199" {
		t.Fatalf("newest after rotation: %+v", recs)
	}
	all, _ := l.Read(0)
	for i := 1; i < len(all); i++ {
		if !all[i].Time.After(all[i-1].Time) {
			t.Fatalf("records out of order at %d", i)
		}
	}
}

// TestAuditRefusalFloodCannotFlush (low): 100,000 refusals alike — a
// guessing flood — become one record and one summary with the count, so
// an earlier record stays kept however small the log.
func TestAuditRefusalFloodCannotFlush(t *testing.T) {
	clk := newFakeClock()
	l, err := OpenAuditLog(t.TempDir(), AuditConfig{MaxBytes: 64 << 10, Now: clk.Now, Logger: testlog.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Append(AuditRecord{PeerID: "colleague", Account: "bob", Action: ActionSend, Resource: "inbox", Allowed: true, Detail: "offer of 1 file"})
	for i := range 100_000 {
		l.Append(AuditRecord{PeerID: "stranger", Account: "alice", Action: ActionLogin, Allowed: false, Detail: fmt.Sprintf("wrong password %d", i)})
		if i%1000 == 0 {
			clk.Advance(time.Second)
		}
	}
	recs, err := l.Read(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || recs[0].Detail != "offer of 1 file" {
		t.Fatalf("the earlier record was pushed out: %d records, first %+v", len(recs), recs[0])
	}
	counted := 0
	for _, r := range recs[1:] {
		var n int
		if _, err := fmt.Sscanf(r.Detail, "%d more refusals", &n); err == nil {
			counted += n
		} else {
			counted++
		}
	}
	if counted != 100_000 || len(recs) > 1+2*(100_000/1000/60+2) {
		t.Fatalf("%d records standing for %d refusals; want every refusal counted in a few records", len(recs), counted)
	}
	t.Logf("100,000 refusals over 100 s: %d records", len(recs)-1)
}
