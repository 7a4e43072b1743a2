package oauthserver

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// keyedLimit is a token bucket per key (an address, a client), on this
// replica. Idle buckets are dropped once there are many, so a flood of
// keys costs bounded memory.
type keyedLimit struct {
	mu      sync.Mutex
	now     func() time.Time
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const maxBuckets = 50000

func newKeyedLimit(now func() time.Time, perMinute float64, burst int) *keyedLimit {
	return &keyedLimit{now: now, every: rate.Limit(perMinute / 60), burst: burst, buckets: map[string]*bucket{}}
}

// allow takes one token for key, or says how long to wait for one.
func (l *keyedLimit) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			for k, old := range l.buckets {
				// A bucket idle long enough to be full again forgets nothing.
				if now.Sub(old.seen) > time.Duration(float64(l.burst)/float64(l.every))*time.Second {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}
