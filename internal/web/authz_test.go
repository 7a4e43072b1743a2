package web_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"graphgate"
	"graphgate/internal/admin"
	"graphgate/internal/apptest"
)

// adminRoutes reads every route server.go and api.go register for admins
// (the Admin Console, onboarding, the admin API), so that a route added
// later is covered without anyone remembering to list it.
func adminRoutes(t *testing.T) []string {
	t.Helper()
	var routes []string
	fset := token.NewFileSet()
	for _, file := range []string{"server.go", "api.go"} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			pattern, _ := strconv.Unquote(lit.Value)
			method, path, ok := strings.Cut(pattern, " ")
			if ok && method != "" && (strings.HasPrefix(path, "/admin") || strings.HasPrefix(path, "/onboarding") || strings.HasPrefix(path, "/api/v1/admin")) {
				routes = append(routes, pattern)
			}
			return true
		})
	}
	return routes
}

// Every admin route refuses a signed-in person who is not an admin, and
// every admin API route an admin token whose owner was demoted since:
// exactly 403, and nothing changes.
func TestEveryAdminRouteRefusesOthers(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	routes := adminRoutes(t)
	if len(routes) < 40 {
		t.Fatalf("only %d admin routes found: the route table was not read", len(routes))
	}
	svc := srv.App.Web.Admin()
	root, _ := srv.App.Store.UserByEmail(ctx, apptest.AdminEmail)
	for _, u := range []admin.NewUser{{Email: "pat@contoso.test", Password: "user-password-1", Role: graphgate.RoleUser},
		{Email: "former@contoso.test", Password: "admin-password-2", Role: graphgate.RoleAdmin}} {
		if _, err := svc.CreateUser(ctx, nil, u); err != nil {
			t.Fatal(err)
		}
	}
	former, _ := srv.App.Store.UserByEmail(ctx, "former@contoso.test")
	formerToken, _ := adminToken(t, srv, "former@contoso.test", graphgate.TokenAdmin)
	if _, err := svc.SetRole(ctx, nil, former.ID, graphgate.RoleUser); err != nil {
		t.Fatal(err)
	}
	pat := srv.NewClient()
	pat.SignIn("pat@contoso.test", "user-password-1")
	pat.Get("/integrations")
	csrf := pat.CSRF()
	// Path parameters name a real target: the first admin.
	fill := strings.NewReplacer("{id}", strconv.FormatInt(root.ID, 10), "{action}", "role")

	api := 0
	for _, route := range routes {
		method, path, _ := strings.Cut(route, " ")
		path = fill.Replace(path)
		t.Run(route, func(t *testing.T) {
			var r apptest.Response
			switch {
			case strings.HasPrefix(path, "/api/"):
				api++
				r = pat.Do(method, path, `{}`, "X-CSRF-Token", csrf)
				if r.Status != http.StatusForbidden {
					t.Fatalf("a non-admin's session: %d %s", r.Status, r.Body)
				}
				r = srv.NewClient().Do(method, path, `{}`, "Authorization", "Bearer "+formerToken)
			case method == "GET":
				r = pat.Get(path)
			default:
				r = pat.Post(path, url.Values{"csrf": {csrf}, "role": {"user"}, "clientHosts": {"evil.example"}})
			}
			if r.Status != http.StatusForbidden {
				t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
			}
		})
	}
	if api < 15 {
		t.Fatalf("only %d admin API routes", api)
	}
	if u, err := srv.App.Store.UserByID(ctx, root.ID); err != nil || u.Role != graphgate.RoleAdmin {
		t.Fatalf("the first admin after the attempts: %+v %v", u, err)
	}
}

// The admin service checks the role again: a handler wired to the wrong
// check still changes nothing.
func TestAdminServiceRefusesNonAdmins(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	svc := srv.App.Web.Admin()
	user, err := svc.CreateUser(ctx, nil, admin.NewUser{Email: "pat@contoso.test", Password: "user-password-1", Role: graphgate.RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	root, _ := srv.App.Store.UserByEmail(ctx, apptest.AdminEmail)
	for name, try := range map[string]func() error{
		"SetRole": func() error { _, err := svc.SetRole(ctx, user, user.ID, graphgate.RoleAdmin); return err },
		"CreateUser": func() error {
			_, err := svc.CreateUser(ctx, user, admin.NewUser{Email: "x@y.test", Password: "long-enough-1", Role: graphgate.RoleAdmin})
			return err
		},
		"ResetPassword":    func() error { _, err := svc.ResetPassword(ctx, user, root.ID, "long-enough-2"); return err },
		"RemoveUser":       func() error { return svc.RemoveUser(ctx, user, root.ID) },
		"RemoveM365":       func() error { _, err := svc.RemoveM365(ctx, user); return err },
		"SetOAuthSettings": func() error { _, err := svc.SetOAuthSettings(ctx, user, false, ""); return err },
		"SetSignInSettings": func() error {
			_, err := svc.SetSignInSettings(ctx, user, "common", admin.SignInForm{Microsoft: true, Who: graphgate.SignInAnyone, Passwords: true})
			return err
		},
	} {
		if err := try(); graphgate.ErrorCode(err) != graphgate.EFORBIDDEN {
			t.Errorf("%s by a non-admin: %v", name, err)
		}
	}
	if u, _ := srv.App.Store.UserByID(ctx, user.ID); u.Role != graphgate.RoleUser {
		t.Fatal("a non-admin made themselves admin through the service")
	}
}

// One token maker: people make their own tokens, admin tokens need an
// admin owner and have no agent choices, and every token made is audited.
func TestTokenMaker(t *testing.T) {
	srv := apptest.Start(t, nil)
	ctx := context.Background()
	svc := srv.App.Web.Admin()
	pat, _ := svc.CreateUser(ctx, nil, admin.NewUser{Email: "pat@contoso.test", Password: "user-password-1", Role: graphgate.RoleUser})
	lee, _ := svc.CreateUser(ctx, nil, admin.NewUser{Email: "lee@contoso.test", Password: "user-password-1", Role: graphgate.RoleUser})
	root, _ := srv.App.Store.UserByEmail(ctx, apptest.AdminEmail)
	for name, tc := range map[string]struct {
		actor, owner *graphgate.User
		in           admin.NewToken
		code         string
	}{
		"for someone else":          {pat, lee, admin.NewToken{Kind: graphgate.TokenAgent, Name: "x"}, graphgate.EFORBIDDEN},
		"admin token, user owner":   {nil, pat, admin.NewToken{Kind: graphgate.TokenAdmin, Name: "x"}, graphgate.EINVALID},
		"admin token with toolsets": {nil, root, admin.NewToken{Kind: graphgate.TokenAdmin, Name: "x", Toolsets: []string{"mail"}}, graphgate.EINVALID},
		"unknown toolset":           {pat, pat, admin.NewToken{Kind: graphgate.TokenAgent, Name: "x", Toolsets: []string{"payroll"}}, graphgate.EINVALID},
		"no name":                   {pat, pat, admin.NewToken{Kind: graphgate.TokenAgent, Name: "  "}, graphgate.EINVALID},
	} {
		if _, _, err := svc.MakeToken(ctx, tc.actor, tc.owner, tc.in); graphgate.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
	raw, tok, err := svc.MakeToken(ctx, pat, pat, admin.NewToken{Kind: graphgate.TokenAgent, Name: "laptop", ReadOnly: true, Toolsets: []string{"mail"}})
	if err != nil || !strings.HasPrefix(raw, "ggt_") || tok.UserID != pat.ID || !tok.ReadOnly {
		t.Fatalf("a person's own token: %v %+v", err, tok)
	}
	events, _, _ := srv.App.Store.ListAudit(ctx, graphgate.AuditFilter{Action: graphgate.ActionTokenCreate})
	if len(events) != 1 || events[0].ActorEmail != "pat@contoso.test" || events[0].Details["name"] != "laptop" || events[0].At.IsZero() {
		t.Fatalf("audit: %+v", events)
	}
}
