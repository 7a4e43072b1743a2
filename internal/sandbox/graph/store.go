package graph

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"

	"graphgate/internal/sandbox/directory"
)

// Store holds every person's mailbox, calendar and drive.
type Store struct {
	mu     sync.RWMutex
	boxes  map[string]*Mailbox // by object id
	byUPN  map[string]*Mailbox
	people []*directory.Person // the directory, in its order
	sites  []*Site
	// teamwork is the tenant's Teams: chats, teams and channels.
	teamwork *Teamwork
}

// NewStore returns a store with an empty mailbox for every person.
func NewStore(dir *directory.Directory) *Store {
	st := &Store{boxes: map[string]*Mailbox{}, byUPN: map[string]*Mailbox{}, people: dir.People(), teamwork: &Teamwork{}}
	for _, p := range append(append([]*directory.Person{}, dir.People()...), dir.SharedMailboxes()...) {
		mb := newMailbox(p)
		st.boxes[p.ObjectID] = mb
		st.byUPN[lower(p.UPN)] = mb
	}
	return st
}

// Mailbox returns the mailbox of the person with this object id.
func (st *Store) Mailbox(oid string) (*Mailbox, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	mb, ok := st.boxes[oid]
	return mb, ok
}

// MailboxByAddress returns the mailbox that receives mail for an address.
func (st *Store) MailboxByAddress(addr string) (*Mailbox, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	mb, ok := st.byUPN[lower(addr)]
	return mb, ok
}

// Mailbox is one person's Outlook mailbox, calendars and OneDrive. Its lock
// guards everything in it.
type Mailbox struct {
	mu       sync.RWMutex
	Owner    *directory.Person
	TimeZone string // Windows zone name, as mailboxSettings reports it

	folders   []*MailFolder
	messages  map[string]*Message
	calendars []*Calendar
	events    map[string]*Event
	drive     *Drive
	taskLists []*TaskList
	// deltas are the message and calendar delta snapshots, by token.
	deltas   map[int64]deltaState
	deltaSeq int64
}

func newMailbox(p *directory.Person) *Mailbox {
	mb := &Mailbox{Owner: p, TimeZone: p.TimeZone, messages: map[string]*Message{}, events: map[string]*Event{}}
	mb.folders = defaultFolders(p)
	mb.drive = newDrive(p)
	mb.calendars = []*Calendar{{ID: StableID("AAMkAD", p.ObjectID, "calendar"), Name: "Calendar", Color: "auto",
		HexColor: "", IsDefaultCalendar: true, CanEdit: true, CanShare: true, CanViewPrivateItems: true,
		Owner: EmailAddress{Name: p.DisplayName, Address: p.UPN}, ChangeKey: newChangeKey()}}
	return mb
}

// StableID derives an opaque id from its parts, so seeded items keep their ids
// across runs while new items get random ones.
func StableID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// newID returns an Outlook-style opaque id: a fixed prefix then base64url.
func newID(prefix string) string {
	b := make([]byte, 33)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func newChangeKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "CQAAABYAAA" + base64.RawStdEncoding.EncodeToString(b)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
