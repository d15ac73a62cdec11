package app

import (
	"cmp"
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/node"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/transport"
)

// remoteFiles is what the Files screen needs from the core.
type remoteFiles interface {
	Browse(ctx context.Context, rp remote.Path, creds node.Creds, hidden bool) (remote.Listing, error)
	Get(ctx context.Context, rp remote.Path, creds node.Creds, opt remote.GetOptions, progress func(node.Progress)) (remote.GetResult, error)
	Put(ctx context.Context, locals []string, rp remote.Path, creds node.Creds, replace bool, progress func(node.Progress)) ([]remote.PutResult, error)
	Mkdir(ctx context.Context, rp remote.Path, creds node.Creds) error
}

// browseRow is one line of the Files screen: a share (at a peer's top
// level) or a folder entry.
type browseRow struct {
	Name     string
	Dir      bool // a folder, or a folder share
	Size     int64
	Mtime    time.Time
	Share    bool
	Kind     access.Kind
	Right    access.Right
	Password bool // the share needs its resource password
}

// Sort columns of the Files screen.
const (
	sortName = iota
	sortSize
	sortDate
)

// crumb is one step of the breadcrumbs: where clicking it goes.
type crumb struct {
	Label string
	Share string
	Dir   string
}

// browseTimeout bounds one listing.
const browseTimeout = 30 * time.Second

// browserModel is the state of the Files screen: which peer, share and
// folder it shows, what is in it, and the credentials given per peer this
// session. Only the UI goroutine touches it; listings run through bg and
// come back through onUI.
type browserModel struct {
	files    remoteFiles
	onUI, bg func(func())

	Peer, PeerName string
	Share, Dir     string
	Rows           []browseRow
	Loading        bool
	Err            error
	SortBy         int
	Desc           bool

	// rights are what the current login may do in each share of the peer,
	// from its last share list.
	rights map[string]access.Right
	// pendingOpen is a locked share the person opened: after logging in,
	// the share list comes back and it opens if the login may.
	pendingOpen string
	// wantShare and wantDir are where gui.show asked to go: opened (or
	// asked a login for) once the share list is in.
	wantShare, wantDir string
	// logins are the session's logins, shared with the other screens.
	logins *logins
	gen    int
	// changed redraws the screen; askCreds asks for credentials after a
	// refusal and calls retry once they are given.
	changed  func()
	askCreds func(peerName string, refused error, retry func())
	// openPrinter takes a printer share opened in the list to the Print
	// screen (as Windows opens a printer listed among a PC's shares).
	openPrinter func(peer, printer string)
}

func newBrowserModel(files remoteFiles, onUI, bg func(func())) *browserModel {
	return &browserModel{files: files, onUI: onUI, bg: bg, logins: newLogins(nil), changed: func() {}}
}

// Target is where the screen is: PEER:SHARE/DIR.
func (m *browserModel) Target() remote.Path {
	return remote.Path{Peer: m.Peer, Share: m.Share, Path: m.Dir}
}

// Creds are the credentials given for the current peer (guest if none).
func (m *browserModel) Creds() node.Creds {
	c, _ := m.logins.Get(m.Peer)
	return c
}

// SetCreds remembers credentials for a peer for this session.
func (m *browserModel) SetCreds(peer string, c node.Creds) { m.logins.Set(peer, c) }

// OpenPeer shows a peer's shares, with the credentials remembered for it
// if there are any.
func (m *browserModel) OpenPeer(id, name string) {
	m.Peer, m.PeerName, m.Share, m.Dir = id, name, "", ""
	m.rights = nil
	m.Load()
}

// Right is what the current login may do in the share on show (zero when
// not known).
func (m *browserModel) Right() access.Right { return m.rights[m.Share] }

// DropBox reports whether the share on show is a drop box for the current
// login: files may go in, nothing may be seen. It is not listed (the
// owner would refuse), the screen says to add files instead.
func (m *browserModel) DropBox() bool {
	r := m.Right()
	return m.Share != "" && r.Covers(access.RightWO) && !r.Covers(access.RightRO)
}

// Open goes into the row: a share, or a folder of the current one. A
// locked share (no right for the current login) asks for a login first.
func (m *browserModel) Open(r browseRow) {
	switch {
	case r.Share && r.Right == access.RightNone:
		m.pendingOpen = r.Name
		if m.askCreds != nil {
			m.askCreds(m.PeerName, nil, m.Load)
		}
		return
	case r.Share && r.Kind == access.KindPrinter:
		if m.openPrinter != nil {
			m.openPrinter(m.Peer, r.Name)
		}
		return
	case r.Share && r.Kind == access.KindFolder:
		m.Share, m.Dir = r.Name, ""
	case !r.Share && r.Dir:
		m.Dir = path.Join(m.Dir, r.Name)
	default:
		return
	}
	m.Load()
}

// Up goes to the parent folder, or from a share's top to the share list.
func (m *browserModel) Up() {
	switch {
	case m.Dir != "":
		m.Dir = strings.TrimPrefix(path.Dir("/"+m.Dir), "/")
	case m.Share != "":
		m.Share = ""
	default:
		return
	}
	m.Load()
}

// Crumbs are the breadcrumbs: peer › share › folder › folder.
func (m *browserModel) Crumbs() []crumb {
	if m.Peer == "" {
		return nil
	}
	out := []crumb{{Label: m.PeerName}}
	if m.Share == "" {
		return out
	}
	out = append(out, crumb{Label: m.Share, Share: m.Share})
	if m.Dir == "" {
		return out
	}
	var walked string
	for _, part := range strings.Split(m.Dir, "/") {
		walked = path.Join(walked, part)
		out = append(out, crumb{Label: part, Share: m.Share, Dir: walked})
	}
	return out
}

// Go jumps to a crumb.
func (m *browserModel) Go(c crumb) {
	m.Share, m.Dir = c.Share, c.Dir
	m.Load()
}

// Load lists the current place in the background. An answer to an older
// request (the person clicked on meanwhile) is dropped.
func (m *browserModel) Load() {
	if m.Peer == "" {
		return
	}
	m.gen++
	gen, rp, creds := m.gen, m.Target(), m.Creds()
	if m.DropBox() {
		m.Rows, m.Loading, m.Err = nil, false, nil
		m.changed()
		return
	}
	m.Loading, m.Err = true, nil
	m.changed()
	m.bg(func() {
		ctx, cancel := context.WithTimeout(context.Background(), browseTimeout)
		// At the top, the shares this login may not open come too,
		// locked: a person sees there is more to log in for.
		l, err := m.files.Browse(ctx, rp, creds, rp.Share == "")
		cancel()
		m.onUI(func() {
			if gen != m.gen {
				return
			}
			m.Loading = false
			if err != nil {
				m.Rows, m.Err = nil, err
				m.changed()
				if errors.Is(err, transport.ErrAccessDenied) && m.askCreds != nil {
					m.askCreds(m.PeerName, err, m.Load)
				}
				return
			}
			m.Rows = rowsOf(rp, l)
			if rp.Share == "" {
				m.rights = map[string]access.Right{}
				for _, r := range m.Rows {
					m.rights[r.Name] = r.Right
				}
			}
			m.sortRows()
			m.changed()
			if want := m.wantShare; want != "" && rp.Share == "" {
				m.wantShare = ""
				for _, r := range m.Rows {
					if r.Name == want && r.Share {
						m.Open(r)
						if m.Share == want && m.wantDir != "" {
							m.Dir = m.wantDir
							m.Load()
						}
						break
					}
				}
				m.wantDir = ""
				return
			}
			if open := m.pendingOpen; open != "" && rp.Share == "" {
				m.pendingOpen = ""
				if r := m.rights[open]; r != "" && r != access.RightNone {
					m.Open(browseRow{Name: open, Share: true, Dir: true, Kind: access.KindFolder, Right: r})
				}
			}
		})
	})
}

func rowsOf(rp remote.Path, l remote.Listing) []browseRow {
	var out []browseRow
	if rp.Share == "" {
		for _, s := range l.Shares {
			out = append(out, browseRow{Name: s.Name, Share: true, Dir: s.Kind == access.KindFolder, Kind: s.Kind, Right: s.Right, Password: s.Password})
		}
		return out
	}
	for _, e := range l.Entries {
		out = append(out, browseRow{Name: e.Name, Dir: e.Dir, Size: e.Size, Mtime: e.Mtime})
	}
	return out
}

// SortOn sorts by a column; the same column again reverses the order.
func (m *browserModel) SortOn(col int) {
	if m.SortBy == col {
		m.Desc = !m.Desc
	} else {
		m.SortBy, m.Desc = col, false
	}
	m.sortRows()
	m.changed()
}

// sortRows keeps folders above files, then orders by the sort column.
func (m *browserModel) sortRows() {
	slices.SortStableFunc(m.Rows, func(a, b browseRow) int {
		if a.Dir != b.Dir {
			if a.Dir {
				return -1
			}
			return 1
		}
		var c int
		switch m.SortBy {
		case sortSize:
			c = cmp.Compare(a.Size, b.Size)
		case sortDate:
			c = a.Mtime.Compare(b.Mtime)
		}
		if c == 0 {
			c = cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		}
		if m.Desc {
			c = -c
		}
		return c
	})
}

// CanWrite reports whether uploads and new folders in the current folder
// may succeed: the share's right for the current login allows writing
// (the owner checks again).
func (m *browserModel) CanWrite() bool {
	return m.Peer != "" && m.Share != "" && m.Right().Covers(access.RightWO)
}

// CanRead reports whether the current folder may be listed and
// downloaded.
func (m *browserModel) CanRead() bool {
	return m.Peer != "" && m.Share != "" && m.Right().Covers(access.RightRO)
}

// PathOf is the remote path of a row of the current folder.
func (m *browserModel) PathOf(r browseRow) remote.Path {
	if r.Share {
		return remote.Path{Peer: m.Peer, Share: r.Name}
	}
	return remote.Path{Peer: m.Peer, Share: m.Share, Path: path.Join(m.Dir, r.Name)}
}
