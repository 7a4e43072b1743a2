package oauthserver

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Once the hour is busy, registration does not close for everyone: the
// noisiest addresses wait, and a new address still registers.
func TestRegistrationLimitDegrades(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newRegistrationLimit(clock.now)
	for i := range registrationsBusy / registrationsPerAddr {
		for range registrationsPerAddr {
			if ok, _ := l.take(fmt.Sprintf("noisy-%d", i)); !ok {
				t.Fatalf("noisy-%d refused under its own limit", i)
			}
		}
		clock.add(time.Minute)
	}
	if ok, wait := l.take("noisy-0"); ok || wait <= 0 || wait > registrationWindow {
		t.Fatalf("a noisy address once busy: %v, wait %s", ok, wait)
	}
	for range registrationsWhenBusy {
		if ok, _ := l.take("newcomer"); !ok {
			t.Fatal("a new address is refused while busy")
		}
	}
	if ok, _ := l.take("newcomer"); ok {
		t.Fatalf("a new address got more than %d while busy", registrationsWhenBusy)
	}
	// A refused registration is given back.
	if ok, _ := l.take("another"); !ok {
		t.Fatal("another new address is refused")
	}
	l.giveBack("another")
	if got := len(l.byAddr["another"]); got != 0 {
		t.Fatalf("a given-back registration still counts: %d", got)
	}
	// The hour passes: everyone starts again.
	clock.add(registrationWindow)
	if ok, _ := l.take("noisy-0"); !ok {
		t.Fatal("after the hour, a noisy address is still refused")
	}
}

// The hard ceiling bounds what an hour stores, however many addresses.
func TestRegistrationCeiling(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newRegistrationLimit(clock.now)
	n := 0
	for i := range registrationsCeiling + 100 {
		if ok, _ := l.take(fmt.Sprintf("addr-%d", i)); ok {
			n++
		}
	}
	if n != registrationsCeiling {
		t.Fatalf("%d registrations in an hour, want the ceiling %d", n, registrationsCeiling)
	}
}

func TestKeyedLimit(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newKeyedLimit(clock.now, 60, 5)
	for i := range 5 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("past the burst: %v, wait %s", ok, wait)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Fatal("another key was limited")
	}
	clock.add(time.Second)
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("a second later, still refused")
	}
}
