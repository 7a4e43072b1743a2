package app

import (
	"net"
	"strings"
	"testing"
)

func TestBaseURLMismatch(t *testing.T) {
	at := func(port int) net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port} }
	for _, tc := range []struct {
		base string
		port int
		warn bool
	}{
		{"http://localhost:8080", 8080, false},
		{"http://localhost:8080", 18580, true},
		{"http://127.0.0.1:9000/", 9000, false},
		{"http://localhost", 80, false},
		{"http://localhost", 8080, true},
		{"https://graphgate.example.com", 8080, false}, // behind a proxy: ports differ on purpose
		{"http://[::1]:8080", 8081, true},
	} {
		got := baseURLMismatch(tc.base, at(tc.port))
		if (got != "") != tc.warn || tc.warn && !strings.Contains(got, "GRAPHGATE_BASE_URL") {
			t.Errorf("%s on port %d: %q", tc.base, tc.port, got)
		}
	}
}
