package shares

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/peerdesk/peerdesk/access"
	"github.com/peerdesk/peerdesk/transport"
)

// Bounds of one search on the serving peer.
const (
	searchTimeout    = 10 * time.Second
	maxSearchVisited = 1_000_000
)

var errSearchDone = errors.New("search done")

// nameMatcher builds the matcher of a search pattern: a case-insensitive
// glob (path.Match syntax) if it has *, ? or [, else a case-insensitive
// substring.
func nameMatcher(pattern string) (func(name string) bool, error) {
	pat := strings.ToLower(pattern)
	if !strings.ContainsAny(pat, "*?[") {
		return func(name string) bool { return strings.Contains(strings.ToLower(name), pat) }, nil
	}
	if _, err := path.Match(pat, ""); err != nil {
		return nil, protocolErr(OpSearch, "pattern %q: %v", access.Shorten(pattern), err)
	}
	return func(name string) bool {
		ok, _ := path.Match(pat, strings.ToLower(name))
		return ok
	}, nil
}

func (svc *Service) serveSearch(ctx context.Context, req transport.Request, s *transport.Stream) error {
	in, err := decode[searchRequest](req)
	if err != nil {
		return err
	}
	if err := in.validate(); err != nil {
		return err
	}
	match, err := nameMatcher(in.Pattern)
	if err != nil {
		return err
	}
	peer := s.Peer()
	account, err := svc.access.Login(ctx, peer, in.Auth)
	if err != nil {
		return err
	}
	grants := svc.access.Readable(ctx, peer, account, in.Auth.SharePassword)
	wctx, cancel := context.WithTimeout(ctx, searchTimeout)
	defer cancel()
	hits := []SearchHit{}
	visited := 0
	for _, g := range grants {
		root, err := svc.openShare(g.Share)
		if err != nil {
			continue
		}
		w := walker{root: root, skipUnreadable: true, fn: func(rel string, fi fs.FileInfo) error {
			if visited++; visited > maxSearchVisited {
				return errSearchDone
			}
			if !fi.IsDir() && match(baseName(rel)) {
				hits = append(hits, SearchHit{Share: g.Share.Name, Path: rel, Size: fi.Size(), Mtime: fi.ModTime().UTC()})
				if len(hits) >= MaxSearchResults {
					return errSearchDone
				}
			}
			return nil
		}}
		err = w.walk(wctx, "", 0)
		root.Close()
		if errors.Is(err, errSearchDone) || wctx.Err() != nil {
			break
		}
		if err != nil {
			svc.log.Warn("search walk failed", "peer", peer.ID, "share", g.Share.Name, "err", err)
		}
	}
	svc.access.Audit(peer, account, access.ActionList, "search", true, fmt.Sprintf("pattern %q: %d hits in %d shares", access.Shorten(in.Pattern), len(hits), len(grants)))
	return respondList(ctx, s, hits)
}
