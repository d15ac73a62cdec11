package netns

import (
	"os/exec"
	"strconv"
	"testing"
)

// nftDropMulticast drops multicast in both directions. ICMPv6 is let
// through so that IPv6 neighbour discovery (itself multicast) keeps
// unicast IPv6 working: the bed models a network that filters multicast
// traffic, not one that breaks IPv6.
const nftDropMulticast = `
table inet pdt_nomcast {
	chain in {
		type filter hook prerouting priority -300; policy accept;
		ip daddr 224.0.0.0/4 drop
		ip6 daddr ff00::/8 meta l4proto != ipv6-icmp drop
	}
	chain out {
		type filter hook output priority -300; policy accept;
		ip daddr 224.0.0.0/4 drop
		ip6 daddr ff00::/8 meta l4proto != ipv6-icmp drop
	}
}
`

// DropMulticast makes host i deaf and mute to multicast: every IPv4
// (224.0.0.0/4) and IPv6 (ff00::/8, ICMPv6 excepted) multicast packet is
// dropped on the way in and out, so mDNS no longer works to or from it
// while unicast does. It uses nftables when nft is installed, else
// iptables/ip6tables. The rules go away with the namespace.
func (b *Bed) DropMulticast(t testing.TB, i int) {
	t.Helper()
	tool := "nft"
	if _, err := exec.LookPath("nft"); err != nil {
		tool = "iptables"
	}
	b.dropMulticast(t, i, tool)
}

func (b *Bed) dropMulticast(t testing.TB, i int, tool string) {
	t.Helper()
	h := b.Host(i)
	if tool == "nft" {
		if _, err := run([]byte(nftDropMulticast), "ip", "netns", "exec", h.NS, "nft", "-f", "-"); err != nil {
			t.Fatalf("netns: drop multicast on %s: %v", h.Name, err)
		}
		return
	}
	rules := [][]string{
		{"iptables", "-I", "INPUT", "-d", "224.0.0.0/4", "-j", "DROP"},
		{"iptables", "-I", "OUTPUT", "-d", "224.0.0.0/4", "-j", "DROP"},
	}
	if ipv6Enabled() {
		rules = append(rules,
			[]string{"ip6tables", "-I", "INPUT", "-d", "ff00::/8", "!", "-p", "ipv6-icmp", "-j", "DROP"},
			[]string{"ip6tables", "-I", "OUTPUT", "-d", "ff00::/8", "!", "-p", "ipv6-icmp", "-j", "DROP"},
		)
	}
	for _, r := range rules {
		if _, err := exec.LookPath(r[0]); err != nil {
			skipOrFatal(t, "DropMulticast needs nft or %s (scripts/deps.sh installs them): %v", r[0], err)
		}
		if _, err := run(nil, "ip", append([]string{"netns", "exec", h.NS}, r...)...); err != nil {
			t.Fatalf("netns: drop multicast on %s: %v", h.Name, err)
		}
	}
}

// BlockNewUDP makes host i's firewall drop new inbound UDP flows to port
// (established ones go on), as a desktop firewall that was never told
// about Peerdesk does: connections the host opens work, nobody can open
// one to it.
func (b *Bed) BlockNewUDP(t testing.TB, i int, port int) {
	t.Helper()
	h := b.Host(i)
	p := strconv.Itoa(port)
	if _, err := exec.LookPath("nft"); err == nil {
		rules := "table inet pdt_fw {\n\tchain in {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tudp dport " + p + " ct state new drop\n\t}\n}\n"
		if _, err := run([]byte(rules), "ip", "netns", "exec", h.NS, "nft", "-f", "-"); err != nil {
			t.Fatalf("netns: firewall on %s: %v", h.Name, err)
		}
		return
	}
	if _, err := exec.LookPath("iptables"); err != nil {
		skipOrFatal(t, "BlockNewUDP needs nft or iptables (scripts/deps.sh installs them): %v", err)
	}
	if _, err := run(nil, "ip", "netns", "exec", h.NS, "iptables", "-I", "INPUT", "-p", "udp", "--dport", p,
		"-m", "conntrack", "--ctstate", "NEW", "-j", "DROP"); err != nil {
		t.Fatalf("netns: firewall on %s: %v", h.Name, err)
	}
}

// nftIsolateClients is what a Wi-Fi access point with client isolation
// does, on the bed's switch: frames from one port to another pass only
// when they are multicast or broadcast (the group bit of the destination
// MAC), so mDNS and ARP requests reach everyone and nothing sent to one
// host does (ARP replies included).
const nftIsolateClients = `
table bridge pdt_isolate {
	chain forward {
		type filter hook forward priority 0; policy accept;
		ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00 drop
	}
}
`

// IsolateClients turns client isolation on for the whole bed (nftables
// on the switch); IsolateClients(false) turns it off again.
func (b *Bed) IsolateClients(t testing.TB, on bool) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		skipOrFatal(t, "IsolateClients needs nft (scripts/deps.sh installs it): %v", err)
	}
	if !on {
		if _, err := run(nil, "ip", "netns", "exec", b.Switch, "nft", "delete", "table", "bridge", "pdt_isolate"); err != nil {
			t.Fatalf("netns: client isolation off: %v", err)
		}
		return
	}
	if _, err := run([]byte(nftIsolateClients), "ip", "netns", "exec", b.Switch, "nft", "-f", "-"); err != nil {
		t.Fatalf("netns: client isolation on: %v", err)
	}
	// Neighbour entries learned before would let unicast frames go out
	// with a known MAC; they are dropped at the switch all the same.
}
