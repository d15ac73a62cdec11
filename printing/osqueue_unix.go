//go:build !windows

package printing

import (
	"context"
	"os/exec"
	"strings"
	"time"
)

// The system print queue standing for a shared printer of another peer is
// a driverless CUPS queue ("-m everywhere"): cupsd asks the endpoint for
// its attributes, as it would a network printer, and every application's
// print dialog lists it. Administration goes through CUPS' own tools, as
// libcups finds the scheduler: $CUPS_SERVER, else the system's. A desktop
// user needs the right to administer printers (group lpadmin on Debian and
// Ubuntu, admin on macOS).

// adminTimeout bounds one administration command: lpadmin -m everywhere
// queries the endpoint and writes a PPD.
const adminTimeout = 60 * time.Second

func admin(ctx context.Context, what, name string, argv ...string) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(cmd.Environ(), "LANG=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return osQueueErr(what, name, out, err)
	}
	return nil
}

// AddOSQueue makes (or updates) the system queue name printing to the IPP
// Everywhere printer at uri, described for people by info and location,
// enabled, accepting and not shared further.
func AddOSQueue(ctx context.Context, name, uri, info, location string) error {
	if err := checkQueueName(name); err != nil {
		return err
	}
	argv := []string{"lpadmin", "-p", name, "-E", "-v", uri, "-m", "everywhere", "-D", info, "-L", location}
	err := admin(ctx, "add print queue", name, append(argv, "-o", "printer-is-shared=false")...)
	if err != nil && strings.Contains(err.Error(), remoteQueueRefusal) {
		// The queue is there already, from a home since reset or a
		// reinstall, and CUPS typed it remote (seen: Type 6 in
		// printers.conf): it refuses to change the sharing of a remote
		// queue, and shares none. Update it without that option.
		err = admin(ctx, "add print queue", name, argv...)
	}
	return err
}

// remoteQueueRefusal is what lpadmin says when asked to set the sharing of
// a queue CUPS holds as remote (CUPS 2.4.2, scheduler/ipp.c).
const remoteQueueRefusal = "Cannot change printer-is-shared for remote queues"

// RemoveOSQueue deletes the system queue name and its jobs.
func RemoveOSQueue(ctx context.Context, name string) error {
	if err := checkQueueName(name); err != nil {
		return err
	}
	return admin(ctx, "remove print queue", name, "lpadmin", "-x", name)
}

// SetOSQueueState enables the system queue name (stopped == ""), or stops
// it with the message stopped for people; reject also refuses new jobs.
func SetOSQueueState(ctx context.Context, name, stopped string, reject bool) error {
	if err := checkQueueName(name); err != nil {
		return err
	}
	if stopped == "" {
		if err := admin(ctx, "accept jobs on", name, "cupsaccept", name); err != nil {
			return err
		}
		return admin(ctx, "enable", name, "cupsenable", name)
	}
	if reject {
		if err := admin(ctx, "reject jobs on", name, "cupsreject", "-r", stopped, name); err != nil {
			return err
		}
	} else if err := admin(ctx, "accept jobs on", name, "cupsaccept", name); err != nil {
		return err
	}
	// cupsaccept clears the state message; cupsdisable sets it last, and
	// twice: stopping a queue resets its message to the "paused" reason's
	// (CUPS 2.4.2), a queue already stopped keeps the one it is given.
	for range 2 {
		if err := admin(ctx, "stop", name, "cupsdisable", "-r", strings.TrimSpace(stopped), name); err != nil {
			return err
		}
	}
	return nil
}
