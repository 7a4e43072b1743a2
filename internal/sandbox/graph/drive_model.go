package graph

import (
	"crypto/sha256"
	"fmt"
	"mime"
	"path"
	"strings"
	"time"

	"graphgate/internal/sandbox/directory"
)

// Drive is one person's OneDrive, or a SharePoint site's document
// library (then Owner stands for the site and Library is set).
type Drive struct {
	ID    string
	Type  string // business, personal or documentLibrary
	Owner *directory.Person
	// Library is a document library's name and its address on the site.
	Library, libraryURL string
	root                *DriveItem
	items               map[string]*DriveItem
	// seq numbers every change, for delta; tokens below minToken need a resync.
	seq        int64
	minToken   int64
	tombstones []tombstone
	nextNum    int // personal drive item numbers
}

type tombstone struct {
	id, parentID string
	seq          int64
}

// DriveItem is a file or folder.
type DriveItem struct {
	ID       string
	Name     string
	ParentID string
	IsFolder bool
	MimeType string
	Created  time.Time
	Modified time.Time
	content  []byte
	// generate produces the content of large seeded files on first read, so
	// start-up stays fast and idle memory small.
	generate func() []byte
	size     int64
	version  int
	seq      int64
}

// Size is the item's size in bytes (a folder's is the sum of its contents).
func (it *DriveItem) Size() int64 { return it.size }

// Content returns the file's bytes.
func (it *DriveItem) Content() []byte {
	if it.content == nil && it.generate != nil {
		it.content = it.generate()
		it.generate = nil
	}
	return it.content
}

func newDrive(p *directory.Person) *Drive {
	d := &Drive{Owner: p, Type: "business", items: map[string]*DriveItem{}, nextNum: 100}
	if p.Personal() {
		d.Type = "personal"
		d.ID = strings.ToUpper(StableID("", p.ObjectID, "drive")[:16])
	} else {
		d.ID = "b!" + StableID("", p.ObjectID, "drive") + StableID("", p.ObjectID, "drive2")[:21]
	}
	d.root = &DriveItem{ID: d.itemID("root"), Name: "root", IsFolder: true}
	d.touch(d.root)
	d.items[d.root.ID] = d.root
	return d
}

// itemID makes an id in the drive's style: "01" and 32 base32 characters on
// OneDrive for Business, "DRIVEID!n" on personal OneDrive.
func (d *Drive) itemID(seed string) string {
	if d.Type == "personal" {
		d.nextNum++
		return fmt.Sprintf("%s!%d", d.ID, d.nextNum)
	}
	sum := sha256.Sum256([]byte(d.ID + "|" + seed))
	const b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte("01")
	for _, c := range sum[:32] {
		b = append(b, b32[c%32])
	}
	return string(b)
}

func (d *Drive) touch(it *DriveItem) {
	d.seq++
	it.seq = d.seq
	it.version++
}

// Drive returns the mailbox's OneDrive (for seeding).
func (mb *Mailbox) Drive() *Drive { return mb.drive }

// Root returns the drive's root folder.
func (d *Drive) Root() *DriveItem { return d.root }

// AddFolder creates a folder under parent (for seeding).
func (d *Drive) AddFolder(parent *DriveItem, name string, at time.Time) *DriveItem {
	it := &DriveItem{ID: d.itemID(d.pathOf(parent) + "/" + name), Name: name, ParentID: parent.ID, IsFolder: true,
		Created: at, Modified: at}
	d.put(it)
	return it
}

// AddFile creates a file under parent (for seeding). With gen set and content
// nil, the bytes are produced on first read.
func (d *Drive) AddFile(parent *DriveItem, name string, content []byte, size int64, gen func() []byte, at time.Time) *DriveItem {
	it := &DriveItem{ID: d.itemID(d.pathOf(parent) + "/" + name), Name: name, ParentID: parent.ID,
		MimeType: mimeFor(name), Created: at, Modified: at, content: content, generate: gen, size: int64(len(content))}
	if gen != nil {
		it.size = size
	}
	d.put(it)
	return it
}

func (d *Drive) put(it *DriveItem) {
	d.touch(it)
	d.items[it.ID] = it
	d.resize()
}

// resize recomputes folder sizes; drives here are small enough to do it whole.
func (d *Drive) resize() {
	for _, it := range d.items {
		if it.IsFolder {
			it.size = 0
		}
	}
	for _, it := range d.items {
		if it.IsFolder {
			continue
		}
		for p := d.items[it.ParentID]; p != nil; p = d.items[p.ParentID] {
			p.size += it.size
		}
	}
}

func mimeFor(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".md":
		return "text/markdown"
	case ".docx":
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".pptx":
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	case ".csv":
		return "text/csv"
	case ".json":
		return "application/json"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return strings.Split(t, ";")[0]
	}
	return "application/octet-stream"
}

func (d *Drive) children(id string) []*DriveItem {
	var out []*DriveItem
	for _, it := range d.items {
		if it.ParentID == id {
			out = append(out, it)
		}
	}
	sortItems(out)
	return out
}

func sortItems(items []*DriveItem) {
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && lessItem(items[j], items[j-1]); j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
}

func lessItem(a, b *DriveItem) bool {
	if a.IsFolder != b.IsFolder {
		return a.IsFolder
	}
	if x, y := strings.ToLower(a.Name), strings.ToLower(b.Name); x != y {
		return x < y
	}
	return a.ID < b.ID
}

func (d *Drive) child(parentID, name string) *DriveItem {
	for _, it := range d.items {
		if it.ParentID == parentID && strings.EqualFold(it.Name, name) {
			return it
		}
	}
	return nil
}

// pathOf is the item's path below the root, "" for the root.
func (d *Drive) pathOf(it *DriveItem) string {
	var parts []string
	for cur := it; cur != nil && cur != d.root; cur = d.items[cur.ParentID] {
		parts = append(parts, cur.Name)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/")
}

// resolve walks a relative path from base; it returns the deepest item found
// and the names left over.
func (d *Drive) resolve(base *DriveItem, rel string) (*DriveItem, []string) {
	cur := base
	parts := splitPath(rel)
	for i, name := range parts {
		next := d.child(cur.ID, name)
		if next == nil {
			return cur, parts[i:]
		}
		cur = next
	}
	return cur, nil
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// isAncestor reports whether a is b or one of b's ancestors.
func (d *Drive) isAncestor(a, b *DriveItem) bool {
	for cur := b; cur != nil; cur = d.items[cur.ParentID] {
		if cur == a {
			return true
		}
	}
	return false
}

// remove deletes an item and everything under it, leaving tombstones for delta.
func (d *Drive) remove(it *DriveItem) {
	for _, c := range d.children(it.ID) {
		d.remove(c)
	}
	d.seq++
	d.tombstones = append(d.tombstones, tombstone{id: it.ID, parentID: it.ParentID, seq: d.seq})
	delete(d.items, it.ID)
	d.resize()
}

// uniqueName finds "name 1.ext", "name 2.ext", ... for conflictBehavior=rename.
func (d *Drive) uniqueName(parentID, name string) string {
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; ; i++ {
		cand := fmt.Sprintf("%s %d%s", stem, i, ext)
		if d.child(parentID, cand) == nil {
			return cand
		}
	}
}

// validName applies OneDrive's naming rules.
func validName(name string) bool {
	if strings.TrimSpace(name) == "" || len(name) > 255 || strings.HasSuffix(name, ".") || strings.HasPrefix(name, " ") {
		return false
	}
	return !strings.ContainsAny(name, `"*:<>?/\|`)
}

func (it *DriveItem) etag() string {
	return fmt.Sprintf(`"{%s},%d"`, strings.ToUpper(it.ID[len(it.ID)-8:]), it.version)
}
func (it *DriveItem) ctag() string {
	return fmt.Sprintf(`"c:{%s},%d"`, strings.ToUpper(it.ID[len(it.ID)-8:]), it.version)
}
