package microsoft365

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"graphgate"
)

// Errors from Tokens.AccessToken, for callers to turn into what a person
// must do.
var (
	ErrNotConfigured = errors.New("the Microsoft 365 integration is not configured")
	ErrDisabled      = errors.New("the Microsoft 365 integration is disabled")
	ErrNotLinked     = errors.New("no Microsoft account is linked")
	// ErrSignInUnavailable wraps a refresh that failed for a passing
	// reason (the token endpoint answered 5xx or not at all): the link is
	// still good and the next call tries again.
	ErrSignInUnavailable = errors.New("the Microsoft sign-in service did not answer")
)

// AppRefusedError is Microsoft refusing graphgate's own app credentials
// (invalid_client): the admin must act; people's links are untouched.
type AppRefusedError struct{ Reason string }

func (e *AppRefusedError) Error() string {
	return "Microsoft refused graphgate's app credentials: " + e.Reason
}

// NeedsAttentionError says the link no longer works and why.
type NeedsAttentionError struct{ Reason string }

func (e *NeedsAttentionError) Error() string {
	return "the linked Microsoft account needs attention: " + e.Reason
}

// AttentionMarker records that Microsoft refused the app's own credentials.
type AttentionMarker interface {
	MarkM365Attention(ctx context.Context, reason string) error
}

// Tokens hands out valid Graph access tokens for people, refreshing them
// when they run low. Concurrent callers for one person share one refresh in
// this process, and the refresh runs inside the store's read-modify-write of
// the link, so replicas sharing a database cannot spend one refresh token
// twice. The new refresh token is committed before the access token is
// handed out.
type Tokens struct {
	store  graphgate.Store
	client *Client
	marker AttentionMarker
	now    func() time.Time
	group  singleflight.Group
	// Margin is how much life an access token must have left to be handed out.
	Margin time.Duration
}

// NewTokens returns a token source.
func NewTokens(store graphgate.Store, client *Client, marker AttentionMarker, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{store: store, client: client, marker: marker, now: now, Margin: 5 * time.Minute}
}

func (t *Tokens) fresh(l *graphgate.Link) bool {
	return l.AccessToken != "" && l.AccessExpiresAt.Sub(t.now()) > t.Margin
}

// AccessToken returns a Graph access token for the person.
func (t *Tokens) AccessToken(ctx context.Context, userID int64) (string, error) {
	// One read on the way every call takes; the app's own settings only
	// when something is wrong or the token must be renewed.
	l, enabled, err := t.store.LinkForCall(ctx, userID)
	notLinked := graphgate.ErrorCode(err) == graphgate.ENOTFOUND
	if err != nil && !notLinked {
		return "", err
	}
	if notLinked || !enabled {
		// Say why, the app's state first, as the person cannot fix that.
		if _, err := t.app(ctx); err != nil {
			return "", err
		}
		if notLinked {
			return "", ErrNotLinked
		}
		// Enabled since the read: go on.
	}
	if l.NeedsAttention() {
		return "", &NeedsAttentionError{Reason: l.Reason}
	}
	if why := t.client.Refusal(l); why != "" {
		return "", &NeedsAttentionError{Reason: why}
	}
	if t.fresh(l) {
		return l.AccessToken, nil
	}
	v, err, _ := t.group.Do(fmt.Sprint(userID), func() (any, error) {
		// The refresh outlives any one caller's cancellation: others wait on it.
		ctx := context.WithoutCancel(ctx)
		app, err := t.app(ctx)
		if err != nil {
			return "", err
		}
		return t.refresh(ctx, app, userID)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// app returns Microsoft 365's settings when it is configured and enabled.
func (t *Tokens) app(ctx context.Context) (*graphgate.M365Config, error) {
	app, err := t.store.M365Config(ctx)
	switch {
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		return nil, ErrNotConfigured
	case err != nil:
		return nil, err
	case !app.Enabled:
		return nil, ErrDisabled
	}
	return app, nil
}

// refresh renews the person's tokens inside the link's read-modify-write.
func (t *Tokens) refresh(ctx context.Context, app *graphgate.M365Config, userID int64) (string, error) {
	tok, _, err := t.renew(ctx, app, userID, func(l *graphgate.Link) bool { return !t.fresh(l) })
	return tok, err
}

// KeepAlive refreshes the person's grant when it was last refreshed before
// idleBefore: Microsoft expires refresh tokens unused for 90 days. A link
// that needs attention is never touched. It reports whether it refreshed;
// replicas racing on one link refresh it once.
func (t *Tokens) KeepAlive(ctx context.Context, userID int64, idleBefore time.Time) (bool, error) {
	app, err := t.store.M365Config(ctx)
	if err != nil {
		return false, err
	}
	if !app.Enabled {
		return false, ErrDisabled
	}
	_, refreshed, err := t.renew(ctx, app, userID, func(l *graphgate.Link) bool {
		last := l.LastRefreshAt
		if last.IsZero() {
			last = l.LinkedAt
		}
		return last.Before(idleBefore)
	})
	return refreshed, err
}

// renew refreshes the person's tokens when due says so, inside the link's
// read-modify-write, and records the outcome for the admin's view.
func (t *Tokens) renew(ctx context.Context, app *graphgate.M365Config, userID int64, due func(l *graphgate.Link) bool) (string, bool, error) {
	refreshed := false
	// refusedApp is Microsoft refusing the app's credentials; passing is the
	// token endpoint failing for a passing reason (5xx, timeout). Neither
	// touches the link.
	var refusedApp *AuthError
	var passing error
	l, err := t.store.UpdateLink(ctx, userID, func(l *graphgate.Link) (*graphgate.Link, error) {
		if l.NeedsAttention() || !due(l) {
			return l, nil // another replica got here first
		}
		g, err := t.client.Refresh(ctx, app, l.RefreshToken)
		var ae *AuthError
		now := t.now().UTC()
		switch {
		case errors.As(err, &ae) && ae.Code == "invalid_grant":
			l.Reason, l.AccessToken, l.AccessExpiresAt = GrantProblem(ae.AADSTS), "", time.Time{}
			l.LastError, l.LastErrorAt = fmt.Sprintf("AADSTS%d: %s", ae.AADSTS, l.Reason), now
			return l, nil
		case errors.As(err, &ae) && ae.Code == "invalid_client":
			refusedApp = ae
			return nil, ae
		case err != nil:
			passing = err
			return nil, err
		}
		l.AccessToken, l.RefreshToken, l.AccessExpiresAt = g.AccessToken, g.RefreshToken, g.Expiry
		if g.Scopes != nil {
			// What the link may do is what Microsoft says, every time:
			// a permission granted or withdrawn since shows here.
			l.Granted = g.Scopes
		}
		l.LastRefreshAt, refreshed = now, true
		return l, nil
	})
	switch {
	case refusedApp != nil:
		reason := AppProblem(refusedApp.AADSTS, refusedApp.Description)
		if t.marker != nil {
			_ = t.marker.MarkM365Attention(ctx, reason)
		}
		return "", false, &AppRefusedError{Reason: reason}
	case passing != nil:
		return "", false, fmt.Errorf("%w: %v", ErrSignInUnavailable, passing)
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		return "", false, ErrNotLinked
	case err != nil:
		return "", false, err
	case l.NeedsAttention():
		return "", false, &NeedsAttentionError{Reason: l.Reason}
	}
	return l.AccessToken, refreshed, nil
}

// GrantProblem says in plain words why Microsoft refused a person's grant.
func GrantProblem(aadsts int) string {
	switch aadsts {
	case 50173:
		return "Microsoft revoked the connection: the password was changed or reset, or an admin signed the account out everywhere."
	case 700082, 70008:
		return "The connection expired after 90 days without use."
	case 65001:
		return "Consent for graphgate was withdrawn in the Microsoft account."
	case 50076:
		return "Your organisation now requires multi-factor authentication: sign in again with it."
	case 50079:
		return "Your organisation now requires multi-factor authentication: set it up for your account, then sign in again."
	case 53003:
		return "A Conditional Access policy of your organisation blocks this connection (for example from this location or device); ask your IT admin, then sign in again."
	case 0:
		return "Microsoft no longer accepts the stored connection."
	}
	return fmt.Sprintf("Microsoft no longer accepts the stored connection (AADSTS%d).", aadsts)
}

// AppProblem says why Microsoft refused graphgate's app credentials.
func AppProblem(aadsts int, desc string) string {
	switch aadsts {
	case 7000215:
		return "AADSTS7000215: Microsoft says the client secret is not valid (was the Secret ID pasted instead of the Value?)."
	case 7000222:
		return "AADSTS7000222: the client secret has expired."
	case 700016:
		return "AADSTS700016: Microsoft does not know this client ID in the directory."
	}
	return fmt.Sprintf("AADSTS%d: %s", aadsts, desc)
}

// Invalidate forgets an access token Graph refused, so the next
// AccessToken refreshes; a token another caller already replaced is left alone.
func (t *Tokens) Invalidate(ctx context.Context, userID int64, refused string) error {
	_, err := t.store.UpdateLink(ctx, userID, func(l *graphgate.Link) (*graphgate.Link, error) {
		if l.AccessToken == refused {
			l.AccessToken, l.AccessExpiresAt = "", time.Time{}
		}
		return l, nil
	})
	return err
}

// For returns a TokenFunc-shaped function for one person: it hands out the
// current token, and on refresh=true first invalidates the last one it gave.
func (t *Tokens) For(userID int64) func(ctx context.Context, refresh bool) (string, error) {
	return t.ForFrom(userID, "")
}

// ForFrom is For, starting with a token the caller just got, so the first
// request needs no second lookup. It is safe for concurrent use: a tool may
// send several Graph requests at once.
func (t *Tokens) ForFrom(userID int64, first string) func(ctx context.Context, refresh bool) (string, error) {
	last := first
	var mu sync.Mutex
	return func(ctx context.Context, refresh bool) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if first != "" && !refresh {
			tok := first
			first = ""
			return tok, nil
		}
		if refresh && last != "" {
			if err := t.Invalidate(ctx, userID, last); err != nil {
				return "", err
			}
		}
		tok, err := t.AccessToken(ctx, userID)
		last = tok
		return tok, err
	}
}
