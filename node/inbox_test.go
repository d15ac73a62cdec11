package node

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
)

func TestCheckInbox(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix paths")
	}
	home := "/home/alice"
	for _, tc := range []struct {
		dir string
		ok  bool
	}{
		{"/home/alice/Downloads/Peerdesk", true},
		{"/home/alice/Inbox", true},
		{"/tmp/peerdesk-inbox", true},
		{"/srv2/office/inbox", true},
		{"/home/alice", false},
		{"/home/alice/", false},
		{"/home", false},
		{"/", false},
		{"/home/alice/.ssh", false},
		{"/home/alice/.config/autostart", false},
		{"/home/alice/work/.git", false},
		{"/etc", false},
		{"/etc/cron.d", false},
		{"/usr/local/bin", false},
		{"/root", false},
		{"relative/inbox", false},
	} {
		err := checkInbox(tc.dir, home)
		if (err == nil) != tc.ok {
			t.Errorf("checkInbox(%q) = %v, want ok=%v", tc.dir, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrUnsafeInbox) {
			t.Errorf("checkInbox(%q): %v does not wrap ErrUnsafeInbox", tc.dir, err)
		}
	}
}

// TestInboxSettingRefusedAndIgnored: `settings set inbox ~` is refused
// with a usage error, and an unsafe inbox already saved (by hand, or by an
// older version) is not used: files go to the default inbox.
func TestInboxSettingRefusedAndIgnored(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	s := &State{Home: filepath.Join(home, "peerdesk")}
	err := s.SetSetting("inbox", home)
	if !errors.Is(err, ErrUsage) || !errors.Is(err, ErrUnsafeInbox) {
		t.Fatalf("settings set inbox ~: %v, want a usage error about an unsafe inbox", err)
	}
	s.Settings.Inbox = filepath.Join(home, ".ssh")
	if got, want := s.InboxDir(), filepath.Join(home, "Downloads", "Peerdesk"); got != want {
		t.Errorf("with a saved inbox of ~/.ssh files go to %s, want %s", got, want)
	}
}

// The transfer settings (R2 6/7): limits in the units people type,
// background mode as a boolean; a value that is not one is a usage error
// and changes nothing.
func TestTransferSettings(t *testing.T) {
	home := t.TempDir()
	if err := PrivateHome(home); err != nil {
		t.Fatal(err)
	}
	s := &State{Home: home}
	for _, tc := range []struct {
		key, value string
		ok         bool
		check      func(Settings) bool
	}{
		{"upload-limit", "10MB/s", true, func(v Settings) bool { return v.UploadLimit == 10_000_000 }},
		{"download-limit", "80Mbit/s", true, func(v Settings) bool { return v.DownloadLimit == 10_000_000 }},
		{"download_limit", "off", true, func(v Settings) bool { return v.DownloadLimit == 0 }},
		{"upload-limit", "fast", false, func(v Settings) bool { return v.UploadLimit == 10_000_000 }},
		{"background", "true", true, func(v Settings) bool { return v.Background }},
		{"background", "sometimes", false, func(v Settings) bool { return v.Background }},
		{"background", "false", true, func(v Settings) bool { return !v.Background }},
	} {
		err := s.SetSetting(tc.key, tc.value)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrUsage)) {
			t.Errorf("settings set %s %s: %v, want ok=%v", tc.key, tc.value, err, tc.ok)
		}
		if !tc.check(s.Settings) {
			t.Errorf("after settings set %s %s: %+v", tc.key, tc.value, s.Settings)
		}
	}
}
