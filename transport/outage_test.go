package transport

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRequestSendGivesUpWhenCanceled: while the association cannot send
// (its packets are lost, a big request waits for the window), a second
// request's send blocks; it must end when its context does, not when the
// path comes back: a canceled download stuck there would keep the
// Transfers screen on "running" for as long as SCTP's retransmission
// back-off.
func TestRequestSendGivesUpWhenCanceled(t *testing.T) {
	p := newRelayPair(t, impairment{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.relay.sctpOutage.Store(true)
	// More than the congestion window lets out: the rest waits, and with
	// it every later write on the association.
	big, err := p.client.ep.Open(ctx, p.peer, p.addrs, "echo", map[string]string{"text": strings.Repeat("x", 40<<10)})
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()

	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	start := time.Now()
	st, err := p.client.ep.Open(short, p.peer, p.addrs, "echo", map[string]string{"text": "hello"})
	took := time.Since(start)
	if err == nil {
		st.Close()
		t.Fatalf("a request was sent while no packet could leave (%v)", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || took > 2*time.Second {
		t.Fatalf("the blocked send ended after %v with %v; want its context's end (300 ms)", took, err)
	}
	t.Logf("blocked send gave up after %v: %v", took.Round(time.Millisecond), err)

	// The path comes back: the big request is answered on the same
	// session.
	p.relay.sctpOutage.Store(false)
	var out struct{ Text string }
	if err := big.ReadResponse("echo", &out); err != nil || len(out.Text) != 40<<10 {
		t.Fatalf("after the outage: %d bytes echoed, %v", len(out.Text), err)
	}
}

// TestRequestAnsweredSoonAfterOutage: a request sent into an outage of
// several seconds is answered soon after the path returns. SCTP doubles
// its retransmission timeout on each loss (1, 2, 4, 8 s, up to 60 s by
// default); capped at sctpRTOMax, the request goes again at most that
// long after the path is back, not up to 7 s later after a 7.5 s outage.
func TestRequestAnsweredSoonAfterOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("an outage of 7.5 s")
	}
	p := newRelayPair(t, impairment{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const outage = 7500 * time.Millisecond
	p.relay.sctpOutage.Store(true)
	time.AfterFunc(outage, func() { p.relay.sctpOutage.Store(false) })
	start := time.Now()
	var out struct{ Text string }
	if _, err := p.client.ep.Call(ctx, p.peer, p.addrs, "echo", map[string]string{"text": "after the outage"}, &out); err != nil || out.Text != "after the outage" {
		t.Fatalf("echo: %q, %v", out.Text, err)
	}
	after := time.Since(start) - outage
	if after > sctpRTOMax+time.Second {
		t.Fatalf("answered %v after the path came back; want within %v (the capped retransmission timeout) and a round trip", after.Round(time.Millisecond), sctpRTOMax)
	}
	t.Logf("answered %v after a %v outage ended", after.Round(time.Millisecond), outage)
}
