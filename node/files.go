package node

import (
	"context"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/discovery"
	"github.com/peerdesk/peerdesk/identity"
	"github.com/peerdesk/peerdesk/shares"
	"github.com/peerdesk/peerdesk/shares/remote"
	"github.com/peerdesk/peerdesk/shares/transfer"
	"github.com/peerdesk/peerdesk/transport"
)

// Creds are the credentials the CLI or GUI presents to another peer.
type Creds = access.Credentials

// Progress is a running transfer's state for whoever started it.
type Progress = transfer.Info

// AcceptAsker decides an incoming push-send offer (the desktop app asks
// the person). Without one, the daemon's setting decides.
type AcceptAsker func(ctx context.Context, o shares.Offer) bool

// SetAcceptAsker installs the GUI's accept prompt.
func (n *Node) SetAcceptAsker(fn AcceptAsker) {
	n.askMu.Lock()
	n.asker = fn
	n.askMu.Unlock()
}

// acceptOffer is the push-send policy: the GUI asks; headless, files are
// taken only if the setting says so and only from verified peers (codes
// compared). Pinned is not enough: every first contact pins, so a stranger
// on the LAN would be "pinned" the moment it sends (docs/security.md, M4).
func (n *Node) acceptOffer(ctx context.Context, o shares.Offer) bool {
	n.askMu.Lock()
	ask := n.asker
	n.askMu.Unlock()
	if ask != nil {
		return ask(ctx, o)
	}
	n.settingsMu.Lock()
	auto := n.Settings.AutoAccept
	n.settingsMu.Unlock()
	return auto && n.Trust.Get(o.Peer.ID).State == identity.TrustVerified
}

// startFiles sets up the file service and the transfer manager.
func (n *Node) startFiles() error {
	n.transfers = transfer.NewManager(n.Home, n.log)
	n.transfers.Classify = transport.ClassesOf
	svc, err := shares.NewService(shares.ServiceConfig{
		Transfers: n.transfers,
		Home:      n.Home,
		Name:      n.Settings.Name,
		Accounts:  n.Accounts,
		Shares:    n.Shares,
		InboxFunc: func() string {
			n.settingsMu.Lock()
			defer n.settingsMu.Unlock()
			return n.InboxDir()
		},
		Accept: n.acceptOffer,
		PeerName: func(id string) string {
			if p, ok := n.Peers.Get(id); ok {
				return p.Name
			}
			return ""
		},
		Logger: n.log,
		Limits: &n.limits,
	})
	if err != nil {
		return err
	}
	n.files = svc
	svc.Register(n.services)
	n.applyLimits()
	n.client = shares.Client{Caller: n.endpoint, Limits: &n.limits}
	n.remote = remote.New(remote.Config{Client: n.client, Transfers: n.transfers, Peers: remotePeers{n}, Logins: &n.creds, Logger: n.log})
	return nil
}

// applyLimits sets the transfer limits from the settings; running
// transfers slow down or speed up with their next piece.
func (n *Node) applyLimits() {
	n.limits.Up.SetRate(n.Settings.UploadLimit)
	n.limits.Down.SetRate(n.Settings.DownloadLimit)
	n.limits.SetBackground(n.Settings.Background)
}

// LogOut forgets the credentials peer id accepted in this run: searches
// and other download sources ask it as guest again.
func (n *Node) LogOut(id string) { n.creds.Forget(id) }

// remotePeers is the peer table as the file operations see it.
type remotePeers struct{ n *Node }

func (r remotePeers) Resolve(ref string) (remote.Peer, error) {
	p, err := r.n.ResolvePeer(ref)
	return remotePeer(p), err
}

func (r remotePeers) List() []remote.Peer {
	list := r.n.PeerList()
	out := make([]remote.Peer, len(list))
	for i, p := range list {
		out[i] = remotePeer(p)
	}
	return out
}

func remotePeer(p discovery.Peer) remote.Peer {
	return remote.Peer{ID: p.ID, Name: p.Name, Addrs: p.Addresses, Online: p.Online, Changed: p.Trust == string(identity.TrustChanged)}
}

// Browse lists the shares of a peer visible to creds, or a folder of one.
func (n *Node) Browse(ctx context.Context, rp remote.Path, creds Creds, hidden bool) (remote.Listing, error) {
	return n.remote.Browse(ctx, rp, creds, hidden)
}

// Get downloads a file or a whole folder from a peer's share (see
// remote.Files.Get).
func (n *Node) Get(ctx context.Context, rp remote.Path, creds Creds, opt remote.GetOptions, progress func(Progress)) (remote.GetResult, error) {
	return n.remote.Get(ctx, rp, creds, opt, progress)
}

// Put uploads local files and folders into a folder of a peer's share.
func (n *Node) Put(ctx context.Context, locals []string, rp remote.Path, creds Creds, replace bool, progress func(Progress)) ([]remote.PutResult, error) {
	return n.remote.Put(ctx, locals, rp, creds, replace, progress)
}

// Send pushes files and folders to a peer, which accepts or declines.
func (n *Node) Send(ctx context.Context, ref string, locals []string, progress func(Progress)) (remote.SendResult, error) {
	return n.remote.Send(ctx, ref, locals, progress)
}

// Search asks every reachable peer for files whose name matches pattern.
func (n *Node) Search(ctx context.Context, pattern string, creds Creds, ref string) ([]remote.SearchHit, error) {
	return n.remote.Search(ctx, pattern, creds, ref)
}

// Mkdir creates a folder in a read-write share of a peer.
func (n *Node) Mkdir(ctx context.Context, rp remote.Path, creds Creds) error {
	return n.remote.Mkdir(ctx, rp, creds)
}

// Transfers is the transfer list (running and past).
func (n *Node) Transfers() *transfer.Manager { return n.transfers }

// Files is the file service that answers other peers.
func (n *Node) Files() *shares.Service { return n.files }

// target resolves a peer reference for a remote request, refusing a peer
// whose identity changed until it is trusted again.
func (n *Node) target(ref string, creds Creds) (discovery.Peer, access.Target, error) {
	p, err := n.ResolvePeer(ref)
	if err != nil {
		return p, access.Target{}, err
	}
	return p, n.targetOf(p, creds), nil
}

// targetOf is peer p reached with creds.
func (n *Node) targetOf(p discovery.Peer, creds Creds) access.Target {
	return access.Target{ID: p.ID, Addrs: p.Addresses, Auth: creds}
}
