package web

import (
	"errors"
	"net/http"
	"strings"

	"graphgate"
	"graphgate/internal/microsoft365"
)

// capabilityView is one capability as the admin page and API show it.
type capabilityView struct {
	Name        string                 `json:"name"`
	ID          string                 `json:"-"` // for the page: name without dots
	Title       string                 `json:"title"`
	Does        string                 `json:"does"`
	On          bool                   `json:"on"`
	Permissions []graphgate.Permission `json:"permissions"`
	Tools       []string               `json:"tools"`
	// NeedsAdmin: Microsoft lets only an admin consent to one of its permissions.
	NeedsAdmin bool `json:"needsAdminConsent"`
}

type capabilitiesView struct {
	Capabilities []string                `json:"capabilities"`
	Available    []capabilityView        `json:"available"`
	AdminConsent *graphgate.AdminConsent `json:"adminConsent,omitempty"`
}

func capabilitiesOf(cfg *graphgate.M365Config) capabilitiesView {
	v := capabilitiesView{Capabilities: []string{}}
	if cfg != nil {
		v.Capabilities = append(v.Capabilities, cfg.Capabilities...)
		v.AdminConsent = cfg.AdminConsent
	}
	for _, c := range graphgate.Capabilities {
		cv := capabilityView{Name: c.Name, ID: strings.ReplaceAll(c.Name, ".", "-"), Title: c.Title, Does: c.Does, On: cfg.CapabilityOn(c.Name), Permissions: c.Permissions}
		for _, t := range c.Tools {
			cv.Tools = append(cv.Tools, t.Name)
		}
		for _, p := range c.Permissions {
			cv.NeedsAdmin = cv.NeedsAdmin || p.AdminConsent
		}
		v.Available = append(v.Available, cv)
	}
	return v
}

// apiGetCapabilities answers GET /api/v1/admin/microsoft365/capabilities.
func (s *Server) apiGetCapabilities(w http.ResponseWriter, r *http.Request, _ *graphgate.User) (any, error) {
	cfg, err := s.currentM365(r)
	if err != nil {
		return nil, err
	}
	return capabilitiesOf(cfg), nil
}

// apiPutCapabilities answers PUT /api/v1/admin/microsoft365/capabilities
// with {"capabilities":["calendar.write","people"]}: exactly those on.
func (s *Server) apiPutCapabilities(w http.ResponseWriter, r *http.Request, actor *graphgate.User) (any, error) {
	var in struct {
		Capabilities *[]string `json:"capabilities"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.Capabilities == nil {
		return nil, graphgate.Errorf(graphgate.EINVALID, `Send {"capabilities":[...]}: the names of the capabilities to turn on ([] for none).`)
	}
	cfg, err := s.admin.SetCapabilities(r.Context(), actor, *in.Capabilities)
	if err != nil {
		return nil, err
	}
	return capabilitiesOf(cfg), nil
}

// setCapabilities is the MCP Servers tab's form: a checkbox per capability.
func (s *Server) setCapabilities(w http.ResponseWriter, r *http.Request) {
	_, err := s.admin.SetCapabilities(r.Context(), sessionFrom(r).user, r.PostForm["capability"])
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.setFlash(w, "success", "Saved the capabilities. People see what is new on their Microsoft 365 tile.")
	http.Redirect(w, r, "/admin/servers#capabilities", http.StatusSeeOther)
}

// adminConsent sends the admin to Microsoft to grant every permission of
// the capabilities on for the whole organisation.
func (s *Server) adminConsent(w http.ResponseWriter, r *http.Request) {
	target, err := s.linker.StartAdminConsent(r.Context(), sessionFrom(r).user)
	var p *microsoft365.Problem
	switch {
	case errors.As(err, &p):
		s.setFlash(w, "error", p.Message)
		http.Redirect(w, r, "/admin/servers#capabilities", http.StatusSeeOther)
	case err != nil:
		s.errorPage(w, r, err)
	default:
		http.Redirect(w, r, target, http.StatusSeeOther)
	}
}

// allowMore sends a linked person to Microsoft for the permissions of the
// capabilities on they have not granted (incremental consent).
func (s *Server) allowMore(w http.ResponseWriter, r *http.Request) {
	target, err := s.linker.StartMore(r.Context(), sessionFrom(r).user.ID)
	var p *microsoft365.Problem
	switch {
	case errors.As(err, &p):
		s.back(w, r, "error", p.Message)
	case err != nil:
		s.errorPage(w, r, err)
	default:
		http.Redirect(w, r, target, http.StatusSeeOther)
	}
}
