// Package ippserve serves one remote printer as a local IPP Everywhere
// printer, so that the operating system's print system (a driverless CUPS
// queue, Windows' IPP class driver) and with it every application's print
// dialog can print on it.
//
// The server listens on loopback only. It speaks IPP/1.1 and 2.0 as CUPS'
// conformance suite (ipptool's ipp-everywhere.test) expects: Print-Job,
// Validate-Job, Create-Job + Send-Document, Close-Job, Cancel-Job,
// Cancel-My-Jobs, Get-Job-Attributes, Get-Jobs, Get-Printer-Attributes and
// Identify-Printer. The printer's description (formats, media, color,
// duplex, copies, state and message) comes from the Printer it stands for;
// documents are spooled to disk (0600) and handed to the Printer one at a
// time, in order. Messages are encoded and decoded with go-ipp.
package ippserve

import (
	"context"
	"errors"
	"os"
)

// Printer is the printer an endpoint stands for.
type Printer interface {
	// Describe returns the printer's current description. It is asked
	// for every Get-Printer-Attributes and before a job is taken, so it
	// should answer from a cache that is refreshed elsewhere.
	Describe(ctx context.Context) Description
	// Print prints one spooled job and reports its state through report
	// until it is over: nil once completed, ErrJobCanceled when canceled
	// where it prints, ErrHold when it cannot go yet (the job is then
	// held with Status.Message until Server.Release), any other error
	// when it failed. ctx ends when the job is canceled here.
	Print(ctx context.Context, job *Job, report func(Status)) error
}

// ErrHold: the job cannot be sent now (no credentials yet); it waits,
// held, until Server.Release.
var ErrHold = errors.New("job held")

// ErrJobCanceled: the job was canceled where it prints.
var ErrJobCanceled = errors.New("job canceled at the printer")

// Description is what the endpoint tells about its printer.
type Description struct {
	// Info is the printer's name for people ("pdf on h0").
	Info string
	// MakeModel is the owner's printer-make-and-model (≤ 127 bytes).
	MakeModel string
	// State: StateIdle, StateProcessing or StateStopped.
	State string
	// Message is the printer-state-message.
	Message string
	// Accepting is false when the printer refuses new jobs.
	Accepting bool
	// Formats are the document formats it takes (MIME types).
	Formats []string
	// Media are the PWG media keywords it takes; MediaDefault is one
	// of them. Empty: iso_a4_210x297mm and na_letter_8.5x11in.
	Media        []string
	MediaDefault string
	// Color and Duplex say what it can print.
	Color, Duplex bool
	// CopiesMax is the highest number of copies (0: 1).
	CopiesMax int
	// PagesPerMinute is its speed, when known (0: unknown).
	PagesPerMinute int
}

// Printer states.
const (
	StateIdle       = "idle"
	StateProcessing = "processing"
	StateStopped    = "stopped"
)

// Job is a spooled document on its way to the printer.
type Job struct {
	ID int
	// Name is the job name, User the requesting-user-name (both as the
	// client said, for the local queue's display only).
	Name, User string
	// Format is the document's MIME type (detected when the client said
	// application/octet-stream).
	Format string
	// Document is the spooled file, Size its length.
	Document *os.File
	Size     int64
	// Copies ≥ 1; PageRanges are 1-based inclusive ranges (nil: all).
	Copies     int
	PageRanges [][2]int
	// Media, Sides and ColorMode are the requested keywords, empty for
	// the printer's default; each is one the Description offered.
	Media, Sides, ColorMode string
}

// Status is a job's state as the printer reports it.
type Status struct {
	// State: JobPending, JobProcessing, JobHeld.
	State string
	// Message is the job-state-message ("printing on h0:pdf").
	Message string
}

// Job states a Printer reports while a job runs.
const (
	JobPending    = "pending"
	JobHeld       = "held"
	JobProcessing = "processing"
)
