// Package graphgate holds the domain of graphgate, a self-hosted Microsoft 365
// connector for AI agents: people and their roles, sessions, the Microsoft
// 365 integration an admin configures, API tokens and the audit log, and the
// Store they live in. Subpackages implement it (store/sql, web, ...) and
// point inward to this package, never sideways.
package graphgate

import (
	"strings"
	"time"
)

// Role is what a person may do in graphgate.
type Role string

// Roles.
const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleUser }

// User is a person who signs in to graphgate.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         Role
	PasswordHash string `json:"-"`
	// OnboardedAt is when the person finished (or skipped) onboarding; zero
	// until then, so the onboarding flow shows on first sign-in.
	OnboardedAt time.Time
	// ReconnectAskedAt is when an admin asked the person to reconnect their
	// Microsoft account; a banner shows until they do.
	ReconnectAskedAt time.Time
	CreatedAt        time.Time
}

// IsAdmin reports whether the user is an admin.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Session is a signed-in browser. The cookie carries a random token; the
// store keeps only its hash, so a database dump cannot be replayed.
type Session struct {
	TokenHash string
	UserID    int64
	// CSRF is the per-session token every form must echo.
	CSRF      string `json:"-"`
	CreatedAt time.Time
	ExpiresAt time.Time
}

// NormalizeEmail is the form an email is kept and compared in.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
