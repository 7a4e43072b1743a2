package web

import (
	"net/http"
	"strings"

	"graphgate"
)

type serversData struct {
	Config      *graphgate.M365Config
	Status      graphgate.M365Status
	Links       int
	ExpiresDays int // days until the secret expires; meaningful when the expiry is set
	Callback    string
	// Apps are everyone's OAuth grants, with their owners' emails.
	Apps   []*graphgate.Grant
	Owners map[int64]string
	// OAuth is how MCP clients may identify themselves; HostsError is a
	// problem with the hosts typed.
	OAuth      *graphgate.OAuthSettings
	HostsTyped string
	HostsError string
	// Capabilities are what the admin can turn on, and what is on.
	Capabilities capabilitiesView
}

func (s *Server) servers(w http.ResponseWriter, r *http.Request) {
	s.showServers(w, r, http.StatusOK, nil)
}

// showServers renders the MCP Servers tab; typed, when set, adjusts it (a
// form sent back with errors).
func (s *Server) showServers(w http.ResponseWriter, r *http.Request, status int, typed func(d *serversData)) {
	cfg, err := s.currentM365(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	links, err := s.store.CountLinks(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	apps, err := s.store.Grants(r.Context(), 0)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	owners := map[int64]string{}
	for _, g := range apps {
		if _, ok := owners[g.UserID]; !ok {
			if u, err := s.store.UserByID(r.Context(), g.UserID); err == nil {
				owners[g.UserID] = u.Email
			}
		}
	}
	oauth, err := s.store.OAuthSettings(r.Context())
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	d := serversData{Config: cfg, Status: cfg.Status(), Links: links, Callback: s.cfg.CallbackURL(), Apps: apps, Owners: owners,
		OAuth: oauth, HostsTyped: strings.Join(oauth.ClientHosts, ", "), Capabilities: capabilitiesOf(cfg)}
	if cfg != nil && !cfg.SecretExpiresAt.IsZero() {
		d.ExpiresDays = int(cfg.SecretExpiresAt.Sub(s.now()).Hours() / 24)
	}
	if typed != nil {
		typed(&d)
	}
	s.render(w, r, status, "admin_servers", "MCP Servers", d)
}
