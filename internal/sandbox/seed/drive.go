package seed

import (
	"fmt"
	"strings"
	"time"
)

// drive seeds a OneDrive tree with nested folders and files of several kinds
// and sizes, one of them over 10 MB (generated on first read).
func (g *gen) drive() {
	d := g.mb.Drive()
	at := func(days int) time.Time {
		return g.anchor.Add(-time.Duration(days)*24*time.Hour - time.Duration(g.rng.IntN(600))*time.Minute).Truncate(time.Second)
	}
	root := d.Root()
	docs := d.AddFolder(root, "Documents", at(200))
	projects := d.AddFolder(docs, "Projects", at(180))
	apollo := d.AddFolder(projects, "Apollo", at(120))
	zephyr := d.AddFolder(projects, "Zephyr", at(90))
	pictures := d.AddFolder(root, "Pictures", at(200))
	recordings := d.AddFolder(root, "Recordings", at(60))
	shared := d.AddFolder(root, "Shared", at(150))
	_ = d.AddFolder(docs, "Archive", at(300)) // an empty folder

	d.AddFile(root, "Getting started with OneDrive.pdf", makePDF("Getting started with OneDrive",
		[]string{"Store, sync and share your files.", "Open them from any device."}), 0, nil, at(210))
	d.AddFile(docs, "Meeting notes.txt", []byte(g.meetingNotes()), 0, nil, at(3))
	d.AddFile(docs, "README.md", []byte("# "+g.p.DisplayName+"'s documents\n\nWorking files. See `Projects/` for active work.\n\n- Apollo: launch\n- Zephyr: research\n"), 0, nil, at(40))
	d.AddFile(docs, "Quarterly report.pdf", makePDF("Quarterly report", []string{"Revenue grew 12% quarter on quarter.", g.pick(noteLines)}), 0, nil, at(14))
	d.AddFile(docs, "Project plan.docx", officeBytes(g, 24<<10), 0, nil, at(20))
	d.AddFile(docs, "Budget 2027.xlsx", officeBytes(g, 48<<10), 0, nil, at(8))
	d.AddFile(apollo, "spec.md", []byte("# Apollo specification\n\n## Goals\n\n1. Launch in the spring.\n2. "+g.pick(noteLines)+"\n\n## Open questions\n\n- "+g.pick(noteLines)+"\n"), 0, nil, at(11))
	d.AddFile(apollo, "timeline.csv", g.csv(24), 0, nil, at(9))
	d.AddFile(apollo, "architecture.png", makePNG(g.rng, 320, 200), 0, nil, at(30))
	d.AddFile(apollo, "Launch deck.pptx", officeBytes(g, 512<<10), 0, nil, at(5))
	d.AddFile(zephyr, "notes.txt", []byte("Zephyr research notes\n\n"+strings.Repeat(g.pick(noteLines)+"\n", 20)), 0, nil, at(2))
	d.AddFile(zephyr, "data.json", []byte(fmt.Sprintf(`{"samples":%d,"mean":%.2f,"owner":%q}`+"\n", 100+g.rng.IntN(900), g.rng.Float64()*100, g.p.UPN)), 0, nil, at(16))
	d.AddFile(pictures, "team-offsite.png", makePNG(g.rng, 640, 480), 0, nil, at(45))
	d.AddFile(pictures, "whiteboard.png", makePNG(g.rng, 400, 300), 0, nil, at(12))
	d.AddFile(shared, "Expense policy.pdf", makePDF("Expense policy", []string{"Submit receipts within 30 days.", "Economy class for flights under 6 hours."}), 0, nil, at(100))
	// Large files are generated when first read, so start-up stays fast.
	bigSeed := g.seed ^ uint64(len(g.p.ObjectID))<<32 ^ uint64(g.n)
	d.AddFile(recordings, "town-hall.mp4", nil, BigFileSize, func() []byte { return pseudoBytes(bigSeed, BigFileSize) }, at(7))
	d.AddFile(recordings, "standup-clip.mp4", nil, 3<<20, func() []byte { return pseudoBytes(bigSeed+1, 3<<20) }, at(4))
}

// officeBytes stands in for an Office document: a ZIP signature and noise.
func officeBytes(g *gen, n int) []byte {
	b := pseudoBytes(g.rng.Uint64(), n)
	copy(b, []byte("PK\x03\x04"))
	return b
}

func (g *gen) meetingNotes() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Meeting notes, %s\n\nAttendees: %s and team\n\n", g.anchor.AddDate(0, 0, -3).Format("2 January 2006"), g.p.DisplayName)
	for i := range 6 {
		fmt.Fprintf(&b, "%d. %s\n", i+1, g.pick(noteLines))
	}
	b.WriteString("\nActions:\n- Send the summary to the wider team\n- Book the follow-up\n")
	return b.String()
}
