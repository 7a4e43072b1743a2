package web

import (
	"sync"
	"time"
)

// loginLimiter slows password guessing: after maxFailures failed sign-ins
// for one email, or maxIPFailures from one address, within window, further
// attempts are refused until the window passes. The address limit is higher
// because behind a proxy many people share one address. Counts are per
// replica; a guesser spread over replicas still meets the limit on each.
type loginLimiter struct {
	mu       sync.Mutex
	now      func() time.Time
	failures map[string][]time.Time
}

const (
	// maxVerifying is how many password checks run at once (about 19 MiB each).
	maxVerifying  = 4
	maxFailures   = 5
	maxIPFailures = 50
	window        = 15 * time.Minute
)

func limitOf(key string) int {
	if len(key) > 3 && key[:3] == "ip:" {
		return maxIPFailures
	}
	return maxFailures
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, failures: map[string][]time.Time{}}
}

// attempt reserves a sign-in attempt for every key, counting it as a
// failure before the password is checked: a burst of parallel guesses meets
// the limit at once instead of all being checked. It returns false, and
// reserves nothing, when any key has used up its failures. A correct
// password gives the reservation back with succeed.
func (l *loginLimiter) attempt(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.recent(k)) >= limitOf(k) {
			return false
		}
	}
	for _, k := range keys {
		l.failures[k] = append(l.recent(k), l.now())
	}
	if len(l.failures) > 10000 {
		for k := range l.failures {
			if len(l.recent(k)) == 0 {
				delete(l.failures, k)
			}
		}
	}
	return true
}

// release gives back one reservation of an attempt that was never checked.
func (l *loginLimiter) release(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if list := l.recent(k); len(list) > 0 {
			l.failures[k] = list[:len(list)-1]
		}
	}
}

func (l *loginLimiter) succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.failures, k)
	}
}

// recent drops failures older than the window; callers hold mu.
func (l *loginLimiter) recent(k string) []time.Time {
	cutoff := l.now().Add(-window)
	list := l.failures[k]
	i := 0
	for i < len(list) && list[i].Before(cutoff) {
		i++
	}
	if i == len(list) {
		delete(l.failures, k)
		return nil
	}
	l.failures[k] = list[i:]
	return list[i:]
}
