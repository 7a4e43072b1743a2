package clientip

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestOf(t *testing.T) {
	trusted, err := Parse("10.0.0.0/8, 192.168.1.1, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy, header ignored", "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"forged header from an untrusted peer", "203.0.113.7:5000", []string{"10.0.0.1"}, "203.0.113.7"},
		{"behind one proxy", "10.0.0.2:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"forged left part is skipped", "10.0.0.2:443", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two proxies", "10.0.0.2:443", []string{"198.51.100.1, 192.168.1.1"}, "198.51.100.1"},
		{"several header lines", "10.0.0.2:443", []string{"1.2.3.4", "198.51.100.9"}, "198.51.100.9"},
		{"client with a port", "10.0.0.2:443", []string{"198.51.100.1:9999"}, "198.51.100.1"},
		{"ipv6 client", "[fd00::1]:443", []string{"2001:db8::5"}, "2001:db8::5"},
		{"garbage stops at the proxy", "10.0.0.2:443", []string{"1.2.3.4, nonsense"}, "10.0.0.2"},
		{"no header from a proxy", "10.0.0.2:443", nil, "10.0.0.2"},
		{"all hops trusted", "10.0.0.2:443", []string{"10.1.1.1"}, "10.1.1.1"},
		{"mapped peer", "[::ffff:10.0.0.2]:443", []string{"198.51.100.1"}, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := trusted.Of(r).String(); got != tt.want {
				t.Fatalf("Of = %s, want %s", got, tt.want)
			}
			var seen string
			trusted.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = Key(r.RemoteAddr) })).
				ServeHTTP(httptest.NewRecorder(), r)
			if seen != tt.want && !(tt.want == "2001:db8::5" && seen == "2001:db8::/64") {
				t.Fatalf("downstream sees %s, want %s", seen, tt.want)
			}
		})
	}
	// Nothing trusted: the header is never read.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := Trusted(nil).Of(r).String(); got != "10.0.0.2" {
		t.Fatalf("with no trusted proxies: %s", got)
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "nope", "10.0.0.1/8/1", "fe80::1%eth0", "::ffff:10.0.0.0/104"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	got, err := Parse(" 10.1.2.3/8 ,, ::1 ")
	if err != nil || got.String() != "10.0.0.0/8,::1/128" {
		t.Fatalf("Parse: %v %v", got, err)
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{"198.51.100.1:5": "198.51.100.1", "[2001:db8:1:2:3:4:5:6]:9": "2001:db8:1:2::/64", "[::ffff:1.2.3.4]:1": "1.2.3.4"} {
		if got := Key(in); got != want {
			t.Errorf("Key(%s) = %s, want %s", in, got, want)
		}
	}
}
