// Package clientip finds the address of the client behind trusted reverse
// proxies. Limits that count per address (sign-in failures, registrations,
// token requests) need the client's own address; behind a proxy every
// connection comes from the proxy. X-Forwarded-For names the client, but
// anyone can write that header, so it is read only on connections from a
// proxy the operator named (GRAPHGATE_TRUSTED_PROXIES), and only as far as
// those proxies wrote it.
package clientip

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is the set of proxies whose X-Forwarded-For is believed.
type Trusted []netip.Prefix

// Parse reads a comma-separated list of CIDRs (10.0.0.0/8, fd00::/8) or
// single addresses.
func Parse(list string) (Trusted, error) {
	var t Trusted
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			a, aerr := netip.ParseAddr(item)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not an address or CIDR range (such as 10.0.0.0/8)", item)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			return nil, fmt.Errorf("%q: write IPv4 ranges in IPv4 form", item)
		}
		t = append(t, p.Masked())
	}
	return t, nil
}

// String is the list as Parse reads it.
func (t Trusted) String() string {
	s := make([]string, len(t))
	for i, p := range t {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (t Trusted) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of is the client's address for r: the connection's peer, unless the peer
// is a trusted proxy; then the right-most X-Forwarded-For address that is
// not itself a trusted proxy (each proxy appends the address it saw, so
// what stands left of the last untrusted hop may be forged). A header that
// cannot be read leaves the peer's address.
func (t Trusted) Of(r *http.Request) netip.Addr {
	peer, err := peerAddr(r.RemoteAddr)
	if err != nil || len(t) == 0 || !t.trusts(peer) {
		return peer
	}
	hops := forwarded(r.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			// A hop only the proxies wrote is unreadable: trust no further.
			return client
		}
		client = a.Unmap()
		if !t.trusts(client) {
			return client
		}
	}
	return client
}

// Middleware rewrites each request's RemoteAddr to the client's address
// (port 0 when it came from the header), so that everything downstream
// that counts per address counts per client.
func (t Trusted) Middleware(next http.Handler) http.Handler {
	if len(t) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := t.Of(r); a.IsValid() {
			if peer, err := peerAddr(r.RemoteAddr); err != nil || peer != a {
				r2 := *r
				r2.RemoteAddr = netip.AddrPortFrom(a, 0).String()
				r = &r2
			}
		}
		next.ServeHTTP(w, r)
	})
}

func peerAddr(remote string) (netip.Addr, error) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, errors.New("no address")
	}
	return a.Unmap().WithZone(""), nil
}

// forwarded lists the hops of X-Forwarded-For headers, left to right.
func forwarded(values []string) []string {
	var hops []string
	for _, v := range values {
		for hop := range strings.SplitSeq(v, ",") {
			hop = strings.TrimSpace(hop)
			// Some proxies write [v6]:port or v4:port.
			if ap, err := netip.ParseAddrPort(hop); err == nil {
				hop = ap.Addr().String()
			}
			hops = append(hops, strings.Trim(hop, "[]"))
		}
	}
	return hops
}

// Key is the part of an address that limits count: the whole address for
// IPv4, the /64 network for IPv6 (one subscriber gets a whole /64, so
// counting single IPv6 addresses would count nothing).
func Key(remote string) string {
	a, err := peerAddr(remote)
	if err != nil {
		return remote
	}
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
