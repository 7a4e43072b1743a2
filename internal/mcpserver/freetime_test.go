package mcpserver

import (
	"testing"
	"time"
)

func TestFreeSlots(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(day, hh, mm int) time.Time { return time.Date(2026, 12, day, hh, mm, 0, 0, berlin) } // 7 Dec 2026 is a Monday
	busy := []interval{
		{at(7, 10, 0), at(7, 11, 0)},
		{at(7, 10, 30), at(7, 12, 10)}, // overlaps the first
		{at(7, 13, 0), at(7, 16, 50)},
	}
	got := freeSlots(busy, at(7, 8, 0), at(9, 0, 0), 30*time.Minute, berlin, true, 10)
	want := []interval{
		{at(7, 9, 0), at(7, 10, 0)},
		{at(7, 12, 15), at(7, 13, 0)}, // starts on the quarter hour after 12:10
		{at(8, 9, 0), at(8, 17, 0)},   // 16:50-17:00 is too short
	}
	if len(got) != len(want) {
		t.Fatalf("slots %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].start.Equal(want[i].start) || !got[i].end.Equal(want[i].end) {
			t.Errorf("slot %d: %v-%v, want %v-%v", i, got[i].start, got[i].end, want[i].start, want[i].end)
		}
	}
	// The weekend has no working hours; any time finds it.
	if got := freeSlots(nil, at(12, 0, 0), at(14, 0, 0), time.Hour, berlin, true, 10); len(got) != 0 {
		t.Fatalf("working hours on a weekend: %v", got)
	}
	if got := freeSlots(nil, at(12, 0, 0), at(14, 0, 0), time.Hour, berlin, false, 10); len(got) != 2 {
		t.Fatalf("a weekend at any time: %v", got)
	}
	if got := freeSlots(nil, at(7, 0, 0), at(31, 0, 0), time.Hour, berlin, true, 3); len(got) != 3 {
		t.Fatalf("max slots: %d", len(got))
	}
}
