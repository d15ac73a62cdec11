package shares

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/internal/testlog"
)

// TestUploadLockSupersedes: while one request writes a temp file another
// peer's is refused (busy); the same peer's new request ends the older one
// (cut off by a network change it cannot see yet) and takes the file once
// the older one let go, and the older one's release leaves the new hold.
func TestUploadLockSupersedes(t *testing.T) {
	svc, err := NewService(ServiceConfig{Home: t.TempDir(), Logger: testlog.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	const key = "share docs\x00.peerdesk-0123.part"
	oldCtx, releaseOld, err := svc.lockUpload(t.Context(), key, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.lockUpload(t.Context(), key, "stranger"); !errors.Is(err, access.ErrBusy) {
		t.Fatalf("another peer's upload of the same file: %v, want busy", err)
	}
	// The older request notices its end and lets go, as receive does.
	go func() {
		<-oldCtx.Done()
		time.Sleep(50 * time.Millisecond) // closing its file
		releaseOld()
	}()
	newCtx, releaseNew, err := svc.lockUpload(t.Context(), key, "laptop")
	if err != nil {
		t.Fatalf("the same peer again: %v", err)
	}
	if !errors.Is(context.Cause(oldCtx), errSuperseded) {
		t.Fatalf("the older request ended with %v, want errSuperseded", context.Cause(oldCtx))
	}
	if newCtx.Err() != nil {
		t.Fatal("the new request starts ended")
	}
	releaseOld() // again, late: a no-op
	if _, _, err := svc.lockUpload(t.Context(), key, "stranger"); !errors.Is(err, access.ErrBusy) {
		t.Fatalf("the older release freed the new hold: %v", err)
	}
	releaseNew()
	_, release, err := svc.lockUpload(t.Context(), key, "stranger")
	if err != nil {
		t.Fatalf("after the last release: %v", err)
	}
	release()
	// A holder that never lets go: the same peer's new request waits no
	// longer than its caller (nor than supersedeWait).
	_, stuck, err := svc.lockUpload(t.Context(), key, "laptop")
	if err != nil {
		t.Fatal(err)
	}
	defer stuck()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := svc.lockUpload(ctx, key, "laptop"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting on a stuck holder past the caller's deadline: %v", err)
	}
}
