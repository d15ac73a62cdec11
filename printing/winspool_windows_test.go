//go:build windows

package printing

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The structures must match winspool.h's layout.
func TestWinspoolStructSizes(t *testing.T) {
	ptr := unsafe.Sizeof(uintptr(0))
	tests := []struct {
		name      string
		got, want uintptr
	}{
		{"PRINTER_INFO_2W", unsafe.Sizeof(printerInfo2{}), 13*ptr + 8*4},
		{"DRIVER_INFO_2W", unsafe.Sizeof(driverInfo2{}), ptr + 5*ptr},
		{"DOC_INFO_1W", unsafe.Sizeof(docInfo1{}), 3 * ptr},
		{"JOB_INFO_1W", unsafe.Sizeof(jobInfo1{}), (ptr + 6*ptr + 5*4 + 16 + ptr - 1) / ptr * ptr},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %d bytes, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestMapWinError(t *testing.T) {
	tests := []struct {
		errno  windows.Errno
		target opTarget
		want   []error
	}{
		{windows.ERROR_INVALID_PRINTER_NAME, targetQueue, []error{ErrQueueNotFound}},
		{windows.ERROR_INVALID_PRINTER_NAME, targetJob, []error{ErrJobVanished, ErrQueueNotFound}},
		{windows.ERROR_INVALID_PARAMETER, targetJob, []error{ErrJobVanished}},
		{windows.ERROR_INVALID_DATATYPE, targetQueue, []error{ErrUnsupportedFormat}},
		{windows.ERROR_ACCESS_DENIED, targetQueue, []error{ErrNotAuthorized}},
		{windows.RPC_S_SERVER_UNAVAILABLE, targetServer, []error{ErrUnavailable}},
	}
	for _, tt := range tests {
		err := mapWinError(fmt.Errorf("call: %w", tt.errno), tt.target)
		for _, want := range tt.want {
			if !errors.Is(err, want) {
				t.Errorf("mapWinError(%v) = %v; want %v", tt.errno, err, want)
			}
		}
		var errno windows.Errno
		if !errors.As(err, &errno) || errno != tt.errno {
			t.Errorf("mapWinError(%v) lost the Errno", tt.errno)
		}
	}
}

func TestJobStatusFrom(t *testing.T) {
	tests := []struct {
		status uint32
		want   JobState
	}{
		{0, JobPending},
		{jobStatusSpooling, JobProcessing},
		{jobStatusPrinting, JobProcessing},
		{jobStatusPaused, JobHeld},
		{jobStatusPaperOut | jobStatusPrinting, JobStopped},
		{jobStatusDeleting, JobCanceled},
		{jobStatusPrinted | jobStatusDeleting, JobCompleted},
		{jobStatusComplete, JobCompleted},
	}
	for _, tt := range tests {
		if got := jobStatusFrom("Q", 1, &jobInfo1{Status: tt.status}); got.State != tt.want {
			t.Errorf("status %#x: %s, want %s", tt.status, got.State, tt.want)
		}
	}
}

// Against the real spooler: listing works on any Windows machine.
func TestWinspoolQueues(t *testing.T) {
	w, err := NewWinspool(WinspoolConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	queues, err := w.Queues(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queues {
		t.Logf("%s: %s %q accepting=%v formats=%v", q.Name, q.State, q.Message, q.Accepting, q.Formats)
	}
	if _, err := w.Job(t.Context(), "peerdesk-no-such-printer", 1); !errors.Is(err, ErrJobVanished) {
		t.Errorf("job on a missing printer: %v; want ErrJobVanished", err)
	}
}
