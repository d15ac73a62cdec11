package netns

import "testing"

// Shape limits host i's cable to rate (a tc rate: "500mbit", "1gbit")
// both ways, as a slower NIC or switch port would: a token bucket on the
// host's interface (what it sends) and on its switch port (what it
// receives), with the burst and queue linkbench uses (256 KB, 5 ms).
func (b *Bed) Shape(t testing.TB, i int, rate string) {
	t.Helper()
	h := b.Host(i)
	tbf := func(ns, dev string) {
		if _, err := run(nil, "ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root",
			"tbf", "rate", rate, "burst", "256kb", "latency", "5ms"); err != nil {
			skipOrFatal(t, "netns: shape %s to %s: %v", h.Name, rate, err)
		}
	}
	tbf(h.NS, h.Iface)
	tbf(b.Switch, h.SwitchPort)
}
