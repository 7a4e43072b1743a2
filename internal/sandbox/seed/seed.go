// Package seed fills the sandbox's mailboxes, calendars and drives with data
// that looks like a real person's: months of mail in threads, newsletters and
// notes with attachments; meetings, all-day and recurring events across a
// daylight-saving change; a OneDrive tree of files of several kinds and sizes.
//
// Everything is derived from the seed and each person's id, and dated
// relative to an anchor time (the sandbox's start), so the same seed gives the
// same data with current dates.
package seed

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"time"

	"graphgate/internal/sandbox/directory"
	"graphgate/internal/sandbox/graph"
)

// Sizes of the seeded data, per person.
const (
	InboxMessages      = 210
	NewsletterMessages = 30
	SentMessages       = 30
	ArchiveMessages    = 20
	BigFileSize        = 12 << 20 // the OneDrive recording: over 10 MB
)

// Populate fills every mailbox in store.
func Populate(store *graph.Store, dir *directory.Directory, seed uint64, anchor time.Time) {
	anchor = anchor.UTC().Truncate(time.Second)
	for _, p := range append(append([]*directory.Person{}, dir.People()...), dir.SharedMailboxes()...) {
		mb, ok := store.Mailbox(p.ObjectID)
		if !ok {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(p.ObjectID))
		g := &gen{
			rng:    rand.New(rand.NewPCG(seed, h.Sum64())),
			p:      p,
			mb:     mb,
			dir:    dir,
			anchor: anchor,
			seed:   seed,
		}
		g.mail()
		g.calendar()
		g.drive()
		if p.FullAccess == nil { // a shared mailbox has no To Do
			g.tasks()
		}
	}
	teamwork(store, dir, anchor)
	sites(store, dir, anchor)
}

// gen generates one person's data.
type gen struct {
	rng    *rand.Rand
	p      *directory.Person
	mb     *graph.Mailbox
	dir    *directory.Directory
	anchor time.Time
	seed   uint64
	n      int // running number for stable ids
}

func (g *gen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *gen) id(kind string) string {
	g.n++
	return graph.StableID("AAMkAD", g.p.ObjectID, kind, strconv.Itoa(g.n), strconv.FormatUint(g.seed, 10))
}
