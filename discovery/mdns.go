package discovery

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/grandcat/zeroconf"
)

// Service is the DNS-SD service type Peerdesk announces.
const Service = "_peerdesk._udp"

// Domain is the mDNS domain.
const Domain = "local."

// Announcement is what this peer says about itself over mDNS.
type Announcement struct {
	ID          string
	Name        string
	Fingerprint string
	Port        int
	Version     int
}

// TXT encodes the announcement's TXT record.
func (a Announcement) TXT() []string {
	return []string{
		"id=" + a.ID,
		"fp=" + a.Fingerprint,
		"v=" + strconv.Itoa(a.Version),
		"name=" + a.Name,
	}
}

// ParseTXT decodes a peer's TXT record. Unknown keys are ignored; a record
// without id or fingerprint is an error.
func ParseTXT(txt []string) (Announcement, error) {
	var a Announcement
	for _, kv := range txt {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		switch k {
		case "id":
			a.ID = v
		case "fp":
			a.Fingerprint = v
		case "name":
			a.Name = v
		case "v":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1<<16 {
				return Announcement{}, fmt.Errorf("txt: bad version %q", v)
			}
			a.Version = n
		}
	}
	if !validID(a.ID) {
		return Announcement{}, fmt.Errorf("txt: bad or missing id %q", a.ID)
	}
	if len(a.Fingerprint) != 64 || strings.Trim(a.Fingerprint, "0123456789abcdef") != "" {
		return Announcement{}, fmt.Errorf("txt: bad or missing fingerprint")
	}
	if len(a.Name) > 128 {
		a.Name = a.Name[:128]
	}
	return a, nil
}

// ValidPeerID reports whether id is a peer id as peers make them (a
// lower-case UUID).
func ValidPeerID(id string) bool { return validID(id) }

func validID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, c := range id {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
	}
	return true
}

// Announcer keeps this peer announced over mDNS until Close, which sends the
// goodbye (TTL 0) records.
type Announcer struct {
	server *zeroconf.Server
}

// Announce registers the peer on ifaces (nil: every multicast interface
// there is now). The instance name is the peer id, unique by construction;
// the display name travels in the TXT record, where any character is
// allowed.
func Announce(a Announcement, ifaces []net.Interface) (*Announcer, error) {
	srv, err := zeroconf.Register(a.ID, Service, Domain, a.Port, a.TXT(), ifaces)
	if err != nil {
		return nil, fmt.Errorf("mdns announce: %w", err)
	}
	// A short TTL lets caches drop a crashed peer soon; liveness comes
	// from the transport anyway.
	srv.TTL(30)
	return &Announcer{server: srv}, nil
}

// SetName re-announces a new display name.
func (a *Announcer) SetName(an Announcement) { a.server.SetText(an.TXT()) }

// Close says goodbye and stops answering.
func (a *Announcer) Close() { a.server.Shutdown() }

// EntryAddresses turns announced IPs into dialable host:port strings:
// IPv4 first, then global IPv6. Link-local IPv6 is skipped because the
// announcement does not say on which interface it lives.
func EntryAddresses(v4, v6 []net.IP, port int) []string {
	var out []string
	p := strconv.Itoa(port)
	for _, ip := range v4 {
		if ip.To4() != nil && !ip.IsUnspecified() {
			out = append(out, net.JoinHostPort(ip.String(), p))
		}
	}
	for _, ip := range v6 {
		if ip.IsLinkLocalUnicast() || ip.IsUnspecified() {
			continue
		}
		out = append(out, net.JoinHostPort(ip.String(), p))
	}
	return out
}
