package app

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/shares/transfer"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/peerdesk/peerdesk/control"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/printing"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/transport"
)

// errorMessages say what each failure the core reports means to a person,
// first match wins: the more specific sentinels come first.
var errorMessages = []struct {
	err error
	msg string
}{
	{identity.ErrIdentityChanged, "This PC now presents a different identity than the one you trusted. Nothing is exchanged with it until you compare verification codes with its owner and trust it again (Peers tab)."},
	{node.ErrFingerprintMismatch, "The code you typed does not match the code of this PC. Read it again with the PC's owner; if it still differs, do not trust it."},
	{transport.ErrWrongPeer, "The PC at that address is not the one you asked for (another PC took its address)."},
	{identity.ErrBadCertificate, "The other PC presented an invalid certificate; the connection was refused."},
	{printing.ErrQueueRejecting, "The printer is paused or not accepting jobs. Ask its owner to resume it."},
	{printing.ErrQueueNotFound, "That printer no longer exists on its PC."},
	{printing.ErrUnsupportedFormat, "The printer cannot print this kind of file. Save it as PDF and try again."},
	{printing.ErrJobCanceled, "The print job was canceled."},
	{printing.ErrJobFailed, "The printer could not print the job."},
	{printing.ErrJobVanished, "The print job disappeared from the printer's queue; check whether it was printed."},
	{printing.ErrUnavailable, "The print service on that PC is not running."},
	{printing.ErrNotAuthorized, "The print service refused the job for this user."},
	{printing.ErrRefused, "The print service on that PC refused the request."},
	{node.ErrDeclined, "The other PC's user declined the files."},
	{access.ErrRateLimited, "Too many wrong passwords: that PC refuses logins from here for a while. Wait a minute, then log in again with the right password."},
	{transport.ErrAccessDenied, "Access denied: wrong account name or password, or this account may not do that. Check them, or ask the PC's owner for access."},
	{shares.ErrDiskFull, "The disk is full. Free some space and try again; the transfer continues where it stopped."},
	{shares.ErrHashMismatch, "The file arrived damaged and was not kept. Try again."},
	{transfer.ErrHashMismatch, "The file arrived damaged and was not kept. Try again."},
	{transfer.ErrDiskFull, "The disk is full. Free some space and try again; the transfer continues where it stopped."},
	{transfer.ErrChunkMismatch, "A PC that offered the same file sent something else; it was left out and the file was fetched from the others."},
	{transfer.ErrNoTransfer, "That transfer is no longer running or queued."},
	{transfer.ErrQueueFull, "Too many sends are waiting for PCs that are offline. Cancel some on the Transfers tab first."},
	{transfer.ErrNoSource, "No PC that holds the file could send it. Try again when they are on the network."},
	{transport.ErrStalled, "The other PC stopped answering in the middle of the transfer. Try again: it continues where it stopped."},
	{node.ErrUnknownCommand, "The running Peerdesk is an older version that cannot do this. Restart it after the update."},
	{node.ErrUnsafeInbox, "Files from other PCs cannot go to that folder (your home folder, a hidden folder or a system folder). Choose a folder such as Downloads/Peerdesk."},
	{access.ErrBusy, "The other PC is busy. Try again in a moment."},
	{access.ErrExists, "Something with that name already exists."},
	{node.ErrPeerNotFound, "That PC is not known here. Wait until it shows up on the Peers tab, or add it by address."},
	{identity.ErrNotPinned, "No key is known for that PC yet: it has not been reached. Wait until it shows up online on the Peers tab."},
	{transport.ErrUnreachable, "The other PC does not answer: it may be switched off, asleep or off the network."},
	{transport.ErrNotFound, "Not found: the file, folder, share, account or printer does not exist (any more)."},
	{fs.ErrNotExist, "The file or folder does not exist."},
	{fs.ErrPermission, "This PC does not let Peerdesk use that file or folder (permission denied)."},
	{control.ErrNotRunning, "Peerdesk is not running for this profile."},
	{node.ErrAlreadyRunning, "Peerdesk is already running for this profile."},
	{ErrNoKeyring, "This system has no keyring to remember the password in."},
	{errNoAutostart, "Start at login is set by Peerdesk's installer on this system."},
	{control.ErrLost, "Peerdesk stopped before it answered."},
	{transport.ErrProtocol, "The other PC sent something unexpected. Is it running the same version of Peerdesk?"},
	{transport.ErrTruncated, "The connection broke off in the middle. Try again; transfers resume."},
	{transport.ErrFrameTooLarge, "The other PC sent something unexpected. Is it running the same version of Peerdesk?"},
	{transport.ErrClosed, "The connection closed. Try again."},
	{context.DeadlineExceeded, "The other PC took too long to answer. Try again."},
	{context.Canceled, "Canceled."},
}

// genericMessage stands in for an error the table does not know; the
// details go to the log, not to the dialog.
const genericMessage = "Something went wrong. The details are in Peerdesk's log."

// humanError says what err means to a person, never with a raw Go error
// string. Input errors (usage, invalid) carry a sentence the core wrote
// for people; that sentence is kept.
// HumanError is what the GUI says of err: the wording of its class.
func HumanError(err error) string { return humanError(err) }

func humanError(err error) string {
	if err == nil {
		return ""
	}
	for _, m := range errorMessages {
		if errors.Is(err, m.err) {
			return m.msg + spoolerWords(err)
		}
	}
	for _, sentinel := range []error{node.ErrUsage, access.ErrInvalid} {
		if errors.Is(err, sentinel) {
			if s := afterSentinel(err.Error(), sentinel.Error()+": "); s != "" {
				return s
			}
			return "That is not a valid value."
		}
	}
	return genericMessage
}

// spoolerWords repeats what a print spooler answered, which the printing
// core puts after "answered " in its errors (local or from the printer's
// peer): " It said: Bad request: ...". Empty for other errors.
func spoolerWords(err error) string {
	if !errors.Is(err, printing.ErrRefused) && !errors.Is(err, printing.ErrUnavailable) && !errors.Is(err, printing.ErrNotAuthorized) {
		return ""
	}
	for _, prefix := range []string{"spooler of the printer's peer answered ", "spooler of this peer answered ", "the spooler answered "} {
		if said := afterSentinel(err.Error(), prefix); said != "" {
			return " It said: " + said
		}
	}
	return ""
}

// afterSentinel keeps the human part of "context: usage: what is wrong".
func afterSentinel(msg, prefix string) string {
	i := strings.LastIndex(msg, prefix)
	if i < 0 {
		return ""
	}
	s := strings.TrimSpace(msg[i+len(prefix):])
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, ")") {
		s += "."
	}
	return s
}

// showError tells the person that action failed and why, in words.
func showError(win fyne.Window, action string, err error) {
	if err == nil {
		return
	}
	if errors.Is(err, context.Canceled) {
		// The user canceled it (Transfers › Cancel): that is no error to
		// report back to them; Transfers shows it canceled.
		slog.Info("gui: " + action + " canceled")
		return
	}
	msg := humanError(err)
	slog.Warn("gui: "+action, "err", err)
	text := widget.NewLabel(msg)
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("Could not "+action, "OK", text, win)
	d.Resize(fyne.NewSize(420, 0))
	d.Show()
}

// errMismatch: the two password entries differ (shown by the form).
var errMismatch = errors.New("the passwords differ")
