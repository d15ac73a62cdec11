package node

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/transport"
)

// The network check (`peerdesk doctor`, Settings › Network check): what
// discovery uses, whether each known peer can be reached on its UDP port
// and reach this one on ours (each side opens a handshake of its own to the
// other: transport.Endpoint.Reach), their clocks, and for each problem the
// one thing to do about it.

// opPeerReach asks a peer to open a handshake to the asker's port.
const opPeerReach = "peer.reach"

// DoctorReport is the network check's answer.
type DoctorReport struct {
	Healthy    bool                    `json:"healthy"`
	Port       int                     `json:"port"`
	Interfaces []DoctorInterface       `json:"interfaces"`
	MDNS       *discovery.BrowserStats `json:"mdns,omitempty"` // nil: mDNS is off
	Peers      []DoctorPeer            `json:"peers"`
	// Buffers are the UDP socket's kernel buffers: what it got each way
	// and what fast transfers need.
	Buffers  DoctorBuffers   `json:"socket_buffers"`
	Problems []DoctorProblem `json:"problems"`
}

// DoctorBuffers are a socket's kernel buffers in KiB.
type DoctorBuffers struct {
	ReceiveKiB int `json:"receive_kib"`
	SendKiB    int `json:"send_kib"`
	WantKiB    int `json:"want_kib"`
}

// DoctorInterface is one interface discovery uses.
type DoctorInterface struct {
	Name        string   `json:"name"`
	Addresses   []string `json:"addresses"`
	MDNSQueries int64    `json:"mdns_queries"`
	MDNSAnswers int64    `json:"mdns_answers"`
}

// DoctorPeer is what the check found for one known peer.
type DoctorPeer struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
	// Reachable: a new handshake from here to its port worked.
	Reachable bool    `json:"reachable"`
	RTTMillis float64 `json:"rtt_ms,omitempty"`
	// ReachesUs: it could open a new handshake to this peer's port (nil:
	// it could not be asked).
	ReachesUs *bool `json:"reaches_us,omitempty"`
	// ReachesUsError is why it could not, as it said.
	ReachesUsError string `json:"reaches_us_error,omitempty"`
	// ClockSkewMillis is its clock minus ours (nil: unknown).
	ClockSkewMillis *int64 `json:"clock_skew_ms,omitempty"`
	Error           string `json:"error,omitempty"`
}

// DoctorProblem is one problem and the one thing to do about it.
type DoctorProblem struct {
	Problem string `json:"problem"`
	Fix     string `json:"fix"`
	Peer    string `json:"peer,omitempty"`
}

const (
	doctorMaxPeers = 32
	// reachTimeout bounds one handshake of the check.
	reachTimeout = 3 * time.Second
	// maxClockSkew is what the check tolerates between two clocks.
	maxClockSkew = time.Minute
)

// peerReachAnswer is the answer to opPeerReach.
type peerReachAnswer struct {
	OK        bool    `json:"ok"`
	RTTMillis float64 `json:"rtt_ms,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// servePeerReach opens a handshake of its own to the asker's port, at the
// address this peer knows for it, and says whether it worked. At most one
// at a time per asker, so a peer cannot make this one dial in a loop.
func (n *Node) servePeerReach(ctx context.Context, _ transport.Request, s *transport.Stream) {
	asker := s.Peer().ID
	p, ok := n.Peers.Get(asker)
	if !ok || len(p.Addresses) == 0 {
		_ = s.Respond(peerReachAnswer{Error: "no address known for you"})
		return
	}
	n.reachMu.Lock()
	if n.reaching[asker] {
		n.reachMu.Unlock()
		_ = s.Fail(fmt.Errorf("%w: a check is running", access.ErrBusy))
		return
	}
	n.reaching[asker] = true
	n.reachMu.Unlock()
	defer func() {
		n.reachMu.Lock()
		delete(n.reaching, asker)
		n.reachMu.Unlock()
	}()
	rctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	rtt, err := n.endpoint.Reach(rctx, asker, p.Addresses[0])
	if err != nil {
		_ = s.Respond(peerReachAnswer{Error: err.Error()})
		return
	}
	_ = s.Respond(peerReachAnswer{OK: true, RTTMillis: float64(rtt.Microseconds()) / 1000})
}

// Doctor runs the network check.
func (n *Node) Doctor(ctx context.Context) DoctorReport {
	r := DoctorReport{Port: n.Settings.Port, Peers: []DoctorPeer{}, Problems: []DoctorProblem{}}
	rcv, snd := n.endpoint.SocketBuffers()
	r.Buffers = DoctorBuffers{ReceiveKiB: rcv >> 10, SendKiB: snd >> 10, WantKiB: n.endpoint.WantedSocketBuffer() >> 10}
	var stats *discovery.BrowserStats
	if n.browser != nil {
		st := n.browser.Stats()
		stats = &st
		r.MDNS = stats
	}
	for _, ifi := range n.usableInterfaces() {
		di := DoctorInterface{Name: ifi.Name, Addresses: []string{}}
		if addrs, err := ifi.Addrs(); err == nil {
			for _, a := range addrs {
				di.Addresses = append(di.Addresses, a.String())
			}
		}
		if stats != nil {
			for _, s := range stats.Interfaces {
				if s.Name == ifi.Name {
					di.MDNSQueries, di.MDNSAnswers = s.QueriesSent, s.Answers
				}
			}
		}
		r.Interfaces = append(r.Interfaces, di)
	}
	var known []discovery.Peer
	now := time.Now()
	for _, p := range n.Peers.List() {
		// A PC remembered from last week that is off is not a problem of
		// this network: only peers online or heard from lately are checked.
		recent := p.Online || now.Sub(p.LastSeen) < 10*time.Minute
		if recent && len(p.Addresses) > 0 && p.Fingerprint != "" && len(known) < doctorMaxPeers {
			known = append(known, p)
		}
	}
	r.Peers = make([]DoctorPeer, len(known))
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	for i, p := range known {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			r.Peers[i] = n.checkPeer(ctx, p)
		}()
	}
	wg.Wait()
	r.Problems = diagnose(r, stats)
	r.Healthy = len(r.Problems) == 0
	return r
}

// checkPeer reaches p afresh, asks it to reach us, and compares clocks.
// Each step has its own deadline: a port that drops packets costs its
// step reachTimeout, not the others' time.
func (n *Node) checkPeer(ctx context.Context, p discovery.Peer) DoctorPeer {
	d := DoctorPeer{ID: p.ID, Name: p.Name}
	var errs []string
	for _, a := range p.Addresses[:min(len(p.Addresses), 2)] {
		rctx, cancel := context.WithTimeout(ctx, reachTimeout)
		rtt, err := n.endpoint.Reach(rctx, p.ID, a)
		cancel()
		if err == nil {
			d.Address, d.Reachable, d.RTTMillis = a, true, float64(rtt.Microseconds())/1000
			break
		}
		errs = append(errs, err.Error())
	}
	if !d.Reachable {
		d.Address = p.Addresses[0]
		d.Error = strings.Join(errs, "; ")
	}
	// Over whatever session there is (it may be one the peer opened).
	hctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	var h hello
	sent := time.Now()
	if _, err := n.endpoint.Call(hctx, p.ID, p.Addresses, opHello, n.hello(), &h); err != nil || h.Time == 0 {
		return d
	}
	mid := sent.Add(time.Since(sent) / 2)
	skew := h.Time - mid.UnixMilli()
	d.ClockSkewMillis = &skew
	actx, cancel2 := context.WithTimeout(ctx, reachTimeout+2*time.Second)
	defer cancel2()
	var ans peerReachAnswer
	if _, err := n.endpoint.Call(actx, p.ID, p.Addresses, opPeerReach, nil, &ans); err == nil {
		d.ReachesUs = &ans.OK
		d.ReachesUsError = ans.Error
	}
	return d
}

// diagnose turns the findings into problems, each with its fix.
func diagnose(r DoctorReport, stats *discovery.BrowserStats) []DoctorProblem {
	var out []DoctorProblem
	port := strconv.Itoa(r.Port)
	if len(r.Interfaces) == 0 {
		out = append(out, DoctorProblem{Problem: "No network interface is up with an address.",
			Fix: "Connect this PC to the office network (cable or Wi-Fi); Peerdesk starts on it by itself."})
		return append(out, bufferProblems(r.Buffers)...)
	}
	reachable, unreachable := 0, 0
	for _, p := range r.Peers {
		if p.Reachable {
			reachable++
		} else {
			unreachable++
		}
	}
	answers := int64(0)
	if stats != nil {
		answers = stats.Answers
		for _, ifi := range r.Interfaces {
			if ifi.MDNSQueries > 0 && ifi.MDNSAnswers == 0 && len(r.Peers) == 0 {
				out = append(out, DoctorProblem{Problem: "No other Peerdesk PC answered on " + ifi.Name + ".",
					Fix: "If others run Peerdesk, this network blocks multicast (guest Wi-Fi, another VLAN): add one by address with `peerdesk peer add ADDRESS`; the rest follow."})
			}
		}
	}
	reachesUs := false
	for _, p := range r.Peers {
		reachesUs = reachesUs || (p.ReachesUs != nil && *p.ReachesUs)
	}
	// Client isolation: multicast gets through, unicast in neither
	// direction to anyone.
	if reachable == 0 && unreachable > 0 && answers > 0 && !reachesUs {
		out = append(out, DoctorProblem{Problem: "Other PCs are seen over mDNS, but none answers directly.",
			Fix: "The Wi-Fi probably isolates its clients from each other: use the office network, or ask whoever runs it to turn client isolation off."})
	}
	for _, p := range r.Peers {
		name := p.Name
		if name == "" {
			name = p.ID
		}
		switch {
		case !p.Reachable && p.ReachesUs != nil && *p.ReachesUs:
			out = append(out, DoctorProblem{Peer: p.ID, Problem: name + " reaches this PC, but this PC cannot reach " + name + " at " + p.Address + ".",
				Fix: "On " + name + ", allow Peerdesk (UDP port " + portOf(p.Address, port) + ") in its firewall."})
		case !p.Reachable:
			out = append(out, DoctorProblem{Peer: p.ID, Problem: name + " does not answer at " + p.Address + ".",
				Fix: "Check that " + name + " is on and runs Peerdesk; if it does, allow Peerdesk (UDP port " + portOf(p.Address, port) + ") in its firewall."})
		case p.Reachable && p.ReachesUs != nil && !*p.ReachesUs:
			out = append(out, DoctorProblem{Peer: p.ID, Problem: name + " cannot reach this PC on UDP port " + port + ".",
				Fix: "Allow Peerdesk (UDP port " + port + ") in this PC's firewall."})
		}
		if p.ClockSkewMillis != nil && time.Duration(abs(*p.ClockSkewMillis))*time.Millisecond > maxClockSkew {
			out = append(out, DoctorProblem{Peer: p.ID, Problem: fmt.Sprintf("%s's clock differs from this PC's by %s.", name, (time.Duration(abs(*p.ClockSkewMillis)) * time.Millisecond).Round(time.Second)),
				Fix: "Turn on automatic date and time on both PCs (certificates and logs depend on it)."})
		}
	}
	return append(out, bufferProblems(r.Buffers)...)
}

// bufferProblems says whether the system capped the socket's buffers.
func bufferProblems(b DoctorBuffers) []DoctorProblem {
	if min(b.ReceiveKiB, b.SendKiB) >= b.WantKiB {
		return nil
	}
	return []DoctorProblem{{Problem: fmt.Sprintf("The system gives Peerdesk's UDP socket %d KiB of buffer (receive) and %d KiB (send) where fast transfers need %d KiB: above 1 Gbit/s, transfers lose packets and slow down.", b.ReceiveKiB, b.SendKiB, b.WantKiB),
		Fix: "Raise the limit: " + transport.BufferFix(b.WantKiB<<10) + "; then restart Peerdesk."}}
}

func portOf(addr, fallback string) string {
	if _, p, err := net.SplitHostPort(addr); err == nil {
		return p
	}
	return fallback
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// usableInterfaces are the interfaces discovery uses now.
func (n *Node) usableInterfaces() []net.Interface {
	ifaces, _ := discovery.UsableInterfaces()
	return ifaces
}

func (n *Node) registerDoctorControl() {
	handle(n, opDoctor, func(ctx context.Context, _ none) (DoctorReport, error) { return n.Doctor(ctx), nil })
}

// Text is the report as `peerdesk doctor` prints it and the Settings
// screen shows it.
func (r DoctorReport) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "UDP port: %d\n", r.Port)
	if bf := r.Buffers; bf.WantKiB > 0 {
		fmt.Fprintf(&b, "UDP buffers: receive %d KiB, send %d KiB (fast transfers need %d)\n", bf.ReceiveKiB, bf.SendKiB, bf.WantKiB)
	}
	if len(r.Interfaces) == 0 {
		b.WriteString("Interfaces: none usable\n")
	}
	for _, ifi := range r.Interfaces {
		fmt.Fprintf(&b, "Interface %s %s", ifi.Name, strings.Join(ifi.Addresses, ", "))
		if r.MDNS != nil {
			fmt.Fprintf(&b, ": mDNS queries %d, answers %d", ifi.MDNSQueries, ifi.MDNSAnswers)
		}
		b.WriteString("\n")
	}
	if r.MDNS == nil {
		b.WriteString("mDNS: off\n")
	}
	for _, p := range r.Peers {
		state := "not reachable"
		if p.Reachable {
			state = fmt.Sprintf("reachable (%.1f ms)", p.RTTMillis)
		}
		back := "unknown"
		if p.ReachesUs != nil {
			back = map[bool]string{true: "yes", false: "no"}[*p.ReachesUs]
		}
		skew := "unknown"
		if p.ClockSkewMillis != nil {
			skew = (time.Duration(*p.ClockSkewMillis) * time.Millisecond).String()
		}
		fmt.Fprintf(&b, "PC %s (%s) at %s: %s; reaches this PC: %s; clock difference: %s\n", p.Name, p.ID, p.Address, state, back, skew)
	}
	if len(r.Problems) == 0 {
		b.WriteString("No problems found.\n")
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "Problem: %s\n  Fix: %s\n", p.Problem, p.Fix)
	}
	return b.String()
}
