package microsoft365

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"graphgate"
)

// KeepAlive refreshes grants that went unused for a while, before Microsoft
// expires them (refresh tokens unused for 90 days stop working). One replica
// at a time runs a pass (a lease in the store); each refresh is spaced out,
// a passing failure (the token endpoint throttling or down) ends the pass,
// and links that need attention are never touched.
type KeepAlive struct {
	Tokens *Tokens
	Store  graphgate.Store
	// Age is how long a link may go without a refresh.
	Age time.Duration
	// Holder names this replica in the lease.
	Holder string
	// Pause is the average time between two refreshes of a pass.
	Pause time.Duration
	// Audit records each refresh; may be nil.
	Audit func(ctx context.Context, userID int64)
	Now   func() time.Time
}

const (
	keepAliveLease = "microsoft365.keepalive"
	keepAliveBatch = 100
)

// RunOnce runs one pass and reports how many grants it refreshed.
func (k *KeepAlive) RunOnce(ctx context.Context) (int, error) {
	now := k.now()
	ok, err := k.Store.AcquireLease(ctx, keepAliveLease, k.Holder, 10*time.Minute)
	if err != nil || !ok {
		return 0, err
	}
	idleBefore := now.Add(-k.Age)
	ids, err := k.Store.IdleLinks(ctx, idleBefore, keepAliveBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for i, id := range ids {
		if i > 0 && k.Pause > 0 {
			// Jitter: between half and one and a half pauses.
			d := k.Pause/2 + time.Duration(rand.Int64N(int64(k.Pause)))
			select {
			case <-ctx.Done():
				return n, ctx.Err()
			case <-time.After(d):
			}
		}
		refreshed, err := k.Tokens.KeepAlive(ctx, id, idleBefore)
		var na *NeedsAttentionError
		switch {
		case errors.As(err, &na), errors.Is(err, ErrNotLinked):
			continue // Microsoft refused it now: the person sees Reconnect
		case err != nil:
			return n, err // throttled, down or refused app: try again next pass
		case refreshed:
			n++
			if k.Audit != nil {
				k.Audit(ctx, id)
			}
		}
	}
	return n, nil
}

// Run runs a pass every interval (jittered) until ctx ends.
func (k *KeepAlive) Run(ctx context.Context, every time.Duration, failed func(error)) {
	for {
		d := every*3/4 + time.Duration(rand.Int64N(int64(every)/2+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
		if _, err := k.RunOnce(ctx); err != nil && failed != nil {
			failed(err)
		}
	}
}

func (k *KeepAlive) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}
