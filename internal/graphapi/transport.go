package graphapi

import (
	"net"
	"net/http"
	"time"
)

// NewHTTPClient returns the HTTP client graphgate calls Graph with. Every
// tool call goes to the one Graph host, so the transport keeps many idle
// connections to it: Go's default keeps two per host, and under concurrent
// calls every further one opens (in production, TLS-handshakes) a new
// connection and throws it away. HTTP/2, which Graph offers, is negotiated
// when the server supports it; then calls share a few connections.
func NewHTTPClient() *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: NewTransport()}
}

// NewTransport is the transport of NewHTTPClient.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Graph answers within seconds; a stuck connection must not hold
		// a tool call for the whole client timeout before a retry.
		ResponseHeaderTimeout: 45 * time.Second,
	}
}
