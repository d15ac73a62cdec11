package discovery

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"
)

// Interfaces come and go: a laptop logs in before its Wi-Fi connects, a
// docking station or a VPN adds one later. Announcing and browsing run on
// the usable interfaces of the moment, and start again whenever that set
// changes (InterfaceWatcher).

// rescanEvery is how often the interfaces are read without any
// notification (the only trigger where the OS gives none to this code);
// rescanNotified where the OS reports every change (netlink), as a safety
// net: a rescan every 2 s was 2% of an idle peer's CPU with 100 peers.
var (
	rescanEvery    = 2 * time.Second
	rescanNotified = 30 * time.Second
)

// settle is how long a burst of notifications (a link coming up adds an
// address or two right after) is let pass before the interfaces are read.
var settle = 150 * time.Millisecond

// UsableInterfaces returns the interfaces mDNS can use: up, multicast, not
// loopback, holding at least one address; and a signature that changes
// whenever that set or their addresses change.
func UsableInterfaces() ([]net.Interface, string) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, ""
	}
	var out []net.Interface
	var sig strings.Builder
	for _, ifc := range all {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagMulticast == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		if ifc.Flags&net.FlagRunning == 0 {
			continue // no carrier: a cable out, Wi-Fi not connected
		}
		addrs, err := ifc.Addrs()
		if err != nil || len(addrs) == 0 {
			continue
		}
		names := make([]string, 0, len(addrs))
		for _, a := range addrs {
			names = append(names, a.String())
		}
		slices.Sort(names)
		out = append(out, ifc)
		sig.WriteString(ifc.Name + "=" + strings.Join(names, ",") + ";")
	}
	return out, sig.String()
}

// InterfaceWatcher reports the usable interfaces at start and whenever
// they change.
type InterfaceWatcher struct {
	log      *slog.Logger
	onChange func([]net.Interface)
}

// NewInterfaceWatcher makes a watcher that calls onChange (from its Run
// goroutine) with the usable interfaces.
func NewInterfaceWatcher(log *slog.Logger, onChange func([]net.Interface)) *InterfaceWatcher {
	return &InterfaceWatcher{log: log, onChange: onChange}
}

// Run watches until ctx ends: OS notifications where there are some
// (netlink on Linux) with a rescan every rescanNotified, a rescan every
// rescanEvery where there are none.
func (w *InterfaceWatcher) Run(ctx context.Context) {
	notes := make(chan struct{}, 1)
	stop, notified := watchInterfaceChanges(ctx, w.log, notes)
	defer stop()
	every := rescanEvery
	if notified {
		every = rescanNotified
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	ifaces, last := UsableInterfaces()
	w.onChange(ifaces)
	for {
		select {
		case <-ctx.Done():
			return
		case <-notes:
			select {
			case <-ctx.Done():
				return
			case <-time.After(settle):
			}
		case <-tick.C:
		}
		ifaces, sig := UsableInterfaces()
		if sig == last {
			continue
		}
		last = sig
		names := make([]string, len(ifaces))
		for i, ifc := range ifaces {
			names[i] = ifc.Name
		}
		w.log.Info("network interfaces changed", "usable", strings.Join(names, ","))
		w.onChange(ifaces)
	}
}

// notify signals ch without blocking.
func notify(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
