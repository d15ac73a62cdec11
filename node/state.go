package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/internal/atomicfile"
	"github.com/peerdesk/peerdesk/internal/human"
)

// DefaultPort is the UDP port a peer listens on unless told otherwise.
const DefaultPort = 47220

// Settings are the user's choices for this peer, kept in settings.json.
type Settings struct {
	Name string `json:"name"`
	Port int    `json:"port"`
	// Inbox is where files pushed by other peers land (default
	// ~/Downloads/Peerdesk).
	Inbox string `json:"inbox,omitempty"`
	// AutoAccept lets a headless peer take pushed files from pinned or
	// verified peers without asking; otherwise it refuses them (the
	// desktop app asks the user instead).
	AutoAccept bool `json:"auto_accept"`
	// UploadLimit and DownloadLimit cap, in bytes per second, the file
	// contents this peer sends and receives, all transfers together;
	// 0: no limit.
	UploadLimit   int64 `json:"upload_limit,omitempty"`
	DownloadLimit int64 `json:"download_limit,omitempty"`
	// Background makes this peer's transfers yield to other traffic on
	// the network (LEDBAT-like), what it sends and what it asks others
	// to send it; alone on the link they still take all of it.
	Background bool `json:"background,omitempty"`
}

// InboxDir is the folder pushed files land in.
// A setting that checkInbox refuses (saved by an older version, or edited
// by hand) is not used: files go to the default inbox.
func (s *State) InboxDir() string {
	home, err := os.UserHomeDir()
	if s.Settings.Inbox != "" && checkInbox(s.Settings.Inbox, home) == nil {
		return s.Settings.Inbox
	}
	if err != nil {
		return filepath.Join(s.Home, "inbox")
	}
	return filepath.Join(home, "Downloads", "Peerdesk")
}

// SetSetting changes one setting by its name as `peerdesk settings set`
// spells it, and saves.
func (s *State) SetSetting(key, value string) error {
	switch strings.ReplaceAll(key, "-", "_") {
	case "name":
		if value == "" || len(value) > 64 {
			return fmt.Errorf("%w: a name has 1 to 64 characters", ErrUsage)
		}
		s.Settings.Name = value
	case "port":
		p, err := strconv.Atoi(value)
		if err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("%w: port must be 1-65535", ErrUsage)
		}
		s.Settings.Port = p
	case "inbox":
		abs, err := filepath.Abs(value)
		if err != nil {
			return fmt.Errorf("%w: inbox: %v", ErrUsage, err)
		}
		home, _ := os.UserHomeDir()
		if err := checkInbox(abs, home); err != nil {
			return fmt.Errorf("%w: inbox %s: %w", ErrUsage, abs, err)
		}
		s.Settings.Inbox = abs
	case "auto_accept":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%w: auto-accept is true or false", ErrUsage)
		}
		s.Settings.AutoAccept = b
	case "background":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%w: background is true or false", ErrUsage)
		}
		s.Settings.Background = b
	case "upload_limit", "download_limit":
		r, err := human.ParseRate(value)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrUsage, key, err)
		}
		if strings.HasPrefix(key, "upload") {
			s.Settings.UploadLimit = r
		} else {
			s.Settings.DownloadLimit = r
		}
	default:
		return fmt.Errorf("%w: unknown setting %q (name, port, inbox, auto-accept, upload-limit, download-limit, background)", ErrUsage, key)
	}
	return s.SaveSettings()
}

// State is everything a peer keeps in its home, opened without starting
// the network: the CLI uses it directly when no peer is running.
type State struct {
	Home     string
	Identity *identity.Identity
	Trust    *identity.TrustStore
	Peers    *discovery.Table
	Accounts *access.Accounts
	Shares   *access.Store
	Settings Settings
}

// OpenState opens (creating on first use, 0700/0600) the home's state.
func OpenState(home string, log *slog.Logger) (*State, error) {
	if err := PrivateHome(home); err != nil {
		return nil, err
	}
	id, err := identity.LoadOrCreateIdentity(home)
	if err != nil {
		return nil, err
	}
	trust, err := identity.OpenTrustStore(filepath.Join(home, "trust.json"))
	if err != nil {
		return nil, err
	}
	peers, err := discovery.OpenTable(filepath.Join(home, "peers.json"), log)
	if err != nil {
		return nil, err
	}
	accounts, err := access.OpenAccounts(home)
	if err != nil {
		return nil, err
	}
	store, err := access.OpenStore(home)
	if err != nil {
		return nil, err
	}
	st := &State{Home: home, Identity: id, Trust: trust, Peers: peers, Accounts: accounts, Shares: store}
	if err := st.loadSettings(); err != nil {
		return nil, err
	}
	// The table reads each peer's trust state from the trust store.
	peers.SetTrustSource(func(id string) string { return string(trust.Get(id).State) })
	return st, nil
}

func (s *State) settingsPath() string { return filepath.Join(s.Home, "settings.json") }

func (s *State) loadSettings() error {
	data, err := os.ReadFile(s.settingsPath())
	if errors.Is(err, os.ErrNotExist) {
		s.Settings = Settings{Name: defaultName(), Port: DefaultPort}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	if err := json.Unmarshal(data, &s.Settings); err != nil {
		return fmt.Errorf("read settings %s: %w", s.settingsPath(), err)
	}
	if s.Settings.Name == "" {
		s.Settings.Name = defaultName()
	}
	if s.Settings.Port == 0 {
		s.Settings.Port = DefaultPort
	}
	return nil
}

// SaveSettings writes the settings crash-safely.
func (s *State) SaveSettings() error {
	data, err := json.MarshalIndent(s.Settings, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.settingsPath(), data, 0o600)
}

func defaultName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "peerdesk"
	}
	return h
}

// IDInfo is what `peerdesk id` shows.
type IDInfo struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Code        string `json:"code"`
	Port        int    `json:"port"`
}

// ID describes this peer.
func (s *State) ID() IDInfo {
	return IDInfo{
		ID:          s.Identity.ID.String(),
		Name:        s.Settings.Name,
		Fingerprint: s.Identity.Fingerprint(),
		Code:        s.Identity.Code(),
		Port:        s.Settings.Port,
	}
}

// ResolvePeer finds a peer by id, unique id prefix (4+ characters), or
// unique display name (case-insensitive).
func (s *State) ResolvePeer(ref string) (discovery.Peer, error) {
	if ref == "" {
		return discovery.Peer{}, fmt.Errorf("%w: empty peer name", ErrUsage)
	}
	if p, ok := s.Peers.Get(ref); ok {
		return p, nil
	}
	var byPrefix, byName []discovery.Peer
	for _, p := range s.Peers.List() {
		if len(ref) >= 4 && strings.HasPrefix(p.ID, strings.ToLower(ref)) {
			byPrefix = append(byPrefix, p)
		}
		if strings.EqualFold(p.Name, ref) {
			byName = append(byName, p)
		}
	}
	switch {
	case len(byPrefix) == 1:
		return byPrefix[0], nil
	case len(byPrefix) > 1:
		return discovery.Peer{}, fmt.Errorf("%w: %q matches %d peers; give more of the id", ErrUsage, ref, len(byPrefix))
	case len(byName) == 1:
		return byName[0], nil
	case len(byName) > 1:
		return discovery.Peer{}, fmt.Errorf("%w: %d peers are named %q; use the id", ErrUsage, len(byName), ref)
	}
	return discovery.Peer{}, fmt.Errorf("%w: no peer %q (see `peerdesk peers`)", ErrPeerNotFound, ref)
}

// TrustPeer pins (or verifies, when fingerprint is given and matches) the
// peer's key.
func (s *State) TrustPeer(ref, fingerprint string) (identity.TrustEntry, error) {
	p, err := s.ResolvePeer(ref)
	if err != nil {
		return identity.TrustEntry{}, err
	}
	cur := s.Trust.Get(p.ID)
	if fingerprint == "" {
		if cur.Offered != "" {
			// Never "whatever was offered last": that may be anyone
			// claiming this peer's public id.
			return cur, fmt.Errorf("%w: another key (code %s) was offered for %s, whose pinned code is %s. The pinned key stays. "+
				"If %s was reinstalled, ask its owner to read the code off their screen, then `peerdesk trust %s --fingerprint CODE`",
				identity.ErrIdentityChanged, identity.VerificationCode(cur.Offered), p.Name, identity.VerificationCode(cur.Fingerprint), p.Name, p.ID)
		}
		e, err := s.Trust.Trust(p.ID, "", false)
		if errors.Is(err, identity.ErrNotPinned) && p.Fingerprint != "" {
			e, err = s.Trust.Trust(p.ID, p.Fingerprint, false)
		}
		return e, err
	}
	// The person read a fingerprint or code off the other screen: it must
	// name the key this peer presents (offered after a change, else pinned,
	// else announced).
	for _, fp := range []string{cur.Offered, cur.Fingerprint, p.Fingerprint} {
		if fp != "" && identity.MatchesFingerprint(fp, fingerprint) {
			return s.Trust.Trust(p.ID, fp, true)
		}
	}
	return identity.TrustEntry{}, fmt.Errorf("%w: %q does not match the key of %s (code %s)", ErrFingerprintMismatch, fingerprint, p.ID, identity.VerificationCode(firstNonEmpty(cur.Offered, cur.Fingerprint, p.Fingerprint)))
}

// UntrustPeer forgets the peer's pinned key.
func (s *State) UntrustPeer(ref string) error {
	p, err := s.ResolvePeer(ref)
	if err != nil {
		return err
	}
	if err := s.Trust.Untrust(p.ID); err != nil {
		return err
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// LockHome takes the home's instance lock for a CLI command that edits the
// state while no peer runs. It fails with ErrAlreadyRunning if one does.
func LockHome(home string) (unlock func(), err error) {
	if err := PrivateHome(home); err != nil {
		return nil, err
	}
	f, err := lockFile(filepath.Join(home, "peerdesk.lock"))
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}

// retrustHint adds what to do to an identity-changed error about p.
func retrustHint(p discovery.Peer, err error) error {
	if !errors.Is(err, identity.ErrIdentityChanged) {
		return err
	}
	return fmt.Errorf("%w. If %s was reinstalled, ask its owner to read its code off their screen, then `peerdesk trust %s --fingerprint CODE`", err, p.Name, p.ID)
}

// PrivateHome creates the home 0700, or makes an existing one 0700: it
// holds the identity key and the control socket, whose safety rests on
// nobody else being able to enter the folder.
func PrivateHome(home string) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return fmt.Errorf("create home %s: %w", home, err)
	}
	fi, err := os.Stat(home)
	if err != nil {
		return fmt.Errorf("home %s: %w", home, err)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(home, 0o700); err != nil {
			return fmt.Errorf("make home %s private: %w", home, err)
		}
	}
	return nil
}
