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

// blocked reports whether any key has used up its failures.
func (l *loginLimiter) blocked(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.recent(k)) >= limitOf(k) {
			return true
		}
	}
	return false
}

func (l *loginLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
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
