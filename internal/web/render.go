package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"graphgate"
)

//go:embed templates static
var assets embed.FS

// page names, each a templates/<name>.html rendered inside layout.html.
var pageNames = []string{"login", "integrations", "onboarding_tools", "onboarding_form", "onboarding_done",
	"admin_servers", "admin_m365_form", "admin_remove", "admin_users", "admin_audit", "error", "oauth_consent", "approve"}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"has":   func(list []string, s string) bool { return slices.Contains(list, s) },
	"field": func(errs graphgate.FieldErrors, name string) string { return errs[name] },
	"join":  strings.Join,
	"slug":  func(s any) string { return strings.ReplaceAll(fmt.Sprint(s), " ", "-") },
	"add":   func(a, b int) int { return a + b },
	"sub":   func(a, b int) int { return a - b },
	"query": func(kv ...string) template.URL {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				q.Set(kv[i], kv[i+1])
			}
		}
		return template.URL("?" + q.Encode())
	},
}

// parsePages parses every page with the layout, once, at start.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.Must(layout.Clone()).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// templateFiles lists the page files on disk, for the test that every one
// is registered.
func templateFiles() ([]string, error) {
	var names []string
	err := fs.WalkDir(assets, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, strings.TrimSuffix(path.Base(p), ".html"))
		}
		return err
	})
	return names, err
}

// view is what every page gets.
type view struct {
	Title  string
	User   *graphgate.User
	CSRF   string
	Flash  *flash
	Banner *banner
	Tab    string
	Data   any
	// BaseURL is graphgate's public URL, for addresses pages show.
	BaseURL string
}

type banner struct {
	Level   string // warning or error
	Message string
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	v := view{Title: title, Data: data, Flash: takeFlash(w, r), BaseURL: s.cfg.BaseURL}
	if sc := sessionFrom(r); sc != nil {
		v.User, v.CSRF = sc.user, sc.session.CSRF
		if sc.user.IsAdmin() {
			v.Banner = s.adminBanner(r)
		}
		if !sc.user.ReconnectAskedAt.IsZero() && v.Banner == nil {
			v.Banner = &banner{Level: "warning", Message: "Your admin asks you to reconnect your Microsoft account: on the Integrations page, click Reconnect."}
			if _, err := s.store.Link(r.Context(), sc.user.ID); graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
				v.Banner.Message = "Your admin asks you to link your Microsoft account: on the Integrations page, click Link Account."
			}
		}
	}
	if strings.HasPrefix(name, "admin_") {
		v.Tab = strings.Split(strings.TrimPrefix(name, "admin_"), "_")[0]
	}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.Error("rendering page", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// adminBanner warns admins about the integration on every admin page.
func (s *Server) adminBanner(r *http.Request) *banner {
	cfg, err := s.store.M365Config(r.Context())
	if err != nil {
		return nil
	}
	now := s.now()
	switch {
	case cfg.Attention != "":
		return &banner{"error", "Microsoft refused graphgate's Microsoft 365 credentials: " + cfg.Attention + " Rotate the client secret in MCP Servers."}
	case cfg.SecretExpiresAt.IsZero():
		return nil
	case !now.Before(cfg.SecretExpiresAt):
		return &banner{"error", "The Microsoft 365 client secret expired on " + cfg.SecretExpiresAt.Format("2 Jan 2006") + ". Create a new one in Entra and rotate it in MCP Servers."}
	case cfg.SecretExpiresAt.Sub(now) <= 30*24*time.Hour:
		days := int(cfg.SecretExpiresAt.Sub(now).Hours()/24) + 1
		return &banner{"warning", fmt.Sprintf("The Microsoft 365 client secret expires in %d day%s, on %s. Rotate it before then.",
			days, plural(days), cfg.SecretExpiresAt.Format("2 Jan 2006"))}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// flash is a one-time message carried across a redirect in a cookie.
type flash struct {
	Kind    string // success or error
	Message string
}

const flashCookie = "gg_flash"

func (s *Server) setFlash(w http.ResponseWriter, kind, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(kind + ":" + msg), Path: "/",
		MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure()})
}

func takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1})
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(v, ":")
	if !ok || (kind != "success" && kind != "error") || len(msg) > 500 {
		return nil
	}
	return &flash{Kind: kind, Message: msg}
}

// errorPage shows a failure a person can act on; internal errors are logged
// once, here, and shown only as "Internal error".
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	status := httpStatus(graphgate.ErrorCode(err))
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", "route", r.Pattern, "err", err)
	}
	s.render(w, r, status, "error", http.StatusText(status), graphgate.ErrorMessage(err))
}

func httpStatus(code string) int {
	switch code {
	case graphgate.EINVALID:
		return http.StatusBadRequest
	case graphgate.ENOTFOUND:
		return http.StatusNotFound
	case graphgate.ECONFLICT:
		return http.StatusConflict
	case graphgate.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case graphgate.EFORBIDDEN:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}
