// Command attacker plays a hostile host on the office LAN for the hostile-
// peer tests (test/integration/hostile_*_test.go). It speaks Peerdesk's real
// protocol through the transport package (real mDNS records, real DTLS
// handshakes, real framed requests), never a mock, and runs inside a
// network namespace of the test's own bed, so its traffic reaches only the
// bed's hosts.
//
// Each attack is a subcommand registered by a file of its own (register in
// an init function):
//
//	attacker ATTACK [flags]
//
// It prints one JSON object, the attack's findings, on stdout and exits 0
// when the attack ran (whether it succeeded is for the test to judge), 1
// when it could not run, 2 on usage errors. Every attack is bounded in
// count and time and stops by itself; the context it gets ends after
// $ATTACKER_TIMEOUT (a Go duration, default 60s) in any case.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"
)

// report collects an attack's findings for the test.
type report map[string]any

// attack is one subcommand.
type attack struct {
	summary string
	run     func(ctx context.Context, args []string, out report) error
}

var attacks = map[string]attack{}

// register adds an attack; called from init functions.
// An attack parses its own flags from args (flag.NewFlagSet(name,
// flag.ContinueOnError)).
func register(name, summary string, run func(ctx context.Context, args []string, out report) error) {
	if _, dup := attacks[name]; dup {
		panic("attacker: two attacks named " + name)
	}
	attacks[name] = attack{summary: summary, run: run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: attacker ATTACK [flags]; attacks:")
	names := make([]string, 0, len(attacks))
	for n := range attacks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-24s %s\n", n, attacks[n].summary)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	a, ok := attacks[os.Args[1]]
	if !ok {
		usage()
		os.Exit(2)
	}
	timeout := 60 * time.Second
	if v := os.Getenv("ATTACKER_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "attacker: ATTACKER_TIMEOUT: %v\n", err)
			os.Exit(2)
		}
		timeout = d
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out := report{}
	err := a.run(ctx, os.Args[2:], out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "attacker %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
