package graphgate

import (
	"time"
)

// Download is a one-time link to a file or attachment, served by graphgate
// from Graph to whoever holds the link, once, before it expires.
type Download struct {
	TokenHash   string
	UserID      int64
	TokenID     int64  // the agent token that made it; revoking the token ends the link
	GrantID     int64  // or the OAuth grant that made it
	Source      string // Graph path of the bytes, relative to /v1.0/
	Name        string
	ContentType string
	ExpiresAt   time.Time
}

// Upload is a one-time link an agent's client PUTs a large file to;
// graphgate streams it into a Graph upload session.
type Upload struct {
	TokenHash string
	UserID    int64
	TokenID   int64  // the agent token that made it; revoking the token ends the link
	GrantID   int64  // or the OAuth grant that made it
	Target    string // Graph path of the file, relative to /v1.0/ ("me/drive/root:/a/b.mp4:"), or of a draft
	Conflict  string // fail, replace or rename
	ExpiresAt time.Time
	// AttachmentName is set when the upload is a large attachment to the
	// draft at Target, of ContentType.
	AttachmentName string
	ContentType    string
	// SendID names the PendingSend this attachment's draft waits on.
	SendID string
}

// PendingSend is a draft that is sent once the large attachments it waits
// for have all arrived through their upload links (send_message with
// large attachments).
type PendingSend struct {
	ID        string
	UserID    int64
	TokenID   int64  // the agent token that asked; revoking it ends the send
	GrantID   int64  // or the OAuth grant
	Label     string // the token or app, for the audit log
	Target    string
	Remaining int // attachments still to arrive
	ExpiresAt time.Time
}

// Approval is a send or deletion waiting for the person's yes on
// graphgate's own page: how an agent whose token asks first gets an answer
// when its MCP client cannot ask the person itself.
type Approval struct {
	ID        string // random, in the page's address
	Key       string // names what is approved: tool, person, token or grant, exact arguments
	UserID    int64
	TokenID   int64  // the agent token asking; revoking it ends the approval
	GrantID   int64  // or the OAuth grant
	Label     string // the token or app, as the page names it
	Tool      string
	Summary   string // what the person reads: recipients, subject, first lines; or the item
	State     ApprovalState
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ApprovalState is where an approval stands.
type ApprovalState string

const (
	ApprovalAsked    ApprovalState = "asked"
	ApprovalApproved ApprovalState = "approved"
	ApprovalDeclined ApprovalState = "declined"
)

// MCPClient is what an MCP client on a revision before 2026-07-28
// declared in its initialize request: such a client says it only there,
// and a stateless server answers its later requests without it.
type MCPClient struct {
	// Access is "t:" and the agent token's id, or "g:" and the OAuth grant's.
	Access string
	UserID int64
	// Apps: it shows MCP Apps (the io.modelcontextprotocol/ui extension).
	Apps   bool
	SeenAt time.Time
}

// Cursor is where a listing an agent pages through goes on: the Graph link
// behind the short, opaque cursor the agent holds. Stores seal Path.
type Cursor struct {
	ID        string
	UserID    int64
	Path      string `json:"-"`
	ExpiresAt time.Time
}
