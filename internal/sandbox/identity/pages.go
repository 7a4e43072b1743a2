package identity

import (
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed pages
var pageFiles embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"initials": func(name string) string {
		var b strings.Builder
		for _, f := range strings.Fields(name) {
			b.WriteString(strings.ToUpper(f[:1]))
		}
		return b.String()
	},
}).ParseFS(pageFiles, "pages/*.html"))

type accountChoice struct {
	UPN, Name, Kind string
	Selected        bool
}

type pickerPage struct {
	Tenant, Request, AppName, Error string
	Accounts                        []accountChoice
}

type consentPage struct {
	Tenant, Request, AppName, Publisher, Account, AccountName string
	Permissions                                               []string
	RedirectHost                                              string
}

type errorPageData struct {
	Code, Message, Trace, Correlation, Timestamp string
}

type formPostPage struct {
	Action string
	Params url.Values
}

func renderPage(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name+".html", data); err != nil {
		slog.Error("sandbox: rendering page", "page", name, "err", err)
	}
}

func (s *Server) renderPicker(w http.ResponseWriter, r *http.Request, req *authRequest, problem string) {
	data := pickerPage{Tenant: r.PathValue("tenant"), Request: req.id, AppName: s.App().Name, Error: problem}
	for _, p := range s.dir.People() {
		kind := "Work or school account"
		if p.Personal() {
			kind = "Personal account"
		}
		data.Accounts = append(data.Accounts, accountChoice{UPN: p.UPN, Name: p.DisplayName, Kind: kind,
			Selected: strings.EqualFold(p.UPN, req.loginHint)})
	}
	if req.loginHint == "" && len(data.Accounts) > 0 {
		data.Accounts[0].Selected = true
	}
	renderPage(w, http.StatusOK, "picker", data)
}

// renderConsent shows the consent page for the scopes given: what is new.
func (s *Server) renderConsent(w http.ResponseWriter, r *http.Request, req *authRequest, scopes []string) {
	host := req.redirectURI
	if u, err := url.Parse(req.redirectURI); err == nil {
		host = u.Host
	}
	renderPage(w, http.StatusOK, "consent", consentPage{
		Tenant: r.PathValue("tenant"), Request: req.id, AppName: s.App().Name, Publisher: "unverified",
		Account: req.person.UPN, AccountName: req.person.DisplayName,
		Permissions: describeScopes(scopes), RedirectHost: host,
	})
}

// errorPage is Microsoft's own error page: shown instead of redirecting when
// the redirect URI cannot be trusted.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, e aadError) {
	renderPage(w, http.StatusBadRequest, "error", errorPageData{
		Code: "AADSTS" + strconv.Itoa(e.Code), Message: e.Message, Trace: newGUID(), Correlation: newGUID(),
		Timestamp: s.now().UTC().Format("2006-01-02 15:04:05Z"),
	})
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	b, _ := pageFiles.ReadFile("pages/login.css")
	_, _ = w.Write(b)
}
