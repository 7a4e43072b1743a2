package mcpserver

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
)

// The approval card (an MCP Apps view): a gated write answers a host with
// the extension with what the person approves, and the card's Approve and
// Decline call decide_approval, which records the decision as graphgate's
// approval page does (see confirm.go for the asking).

const (
	decideTool  = "decide_approval"
	cardPurpose = "mcp approval card v1"
)

type decideIn struct {
	Approval string `json:"approval"`
	Key      string `json:"key"`
	Decision string `json:"decision"`
}

type decideOut struct {
	State string `json:"state"`
	Tool  string `json:"tool"`
}

var decideToolDef = func() *mcp.Tool {
	in, err := jsonschema.For[decideIn](nil)
	if err != nil {
		panic(err)
	}
	in.Properties["decision"].Enum = []any{"approve", "decline"}
	out, err := jsonschema.For[decideOut](nil)
	if err != nil {
		panic(err)
	}
	return &mcp.Tool{Name: decideTool, Title: "Approve or decline", InputSchema: in, OutputSchema: out,
		Description: "The approval card's Approve and Decline.",
		Annotations: annotations(false, false, false),
		Meta:        mcp.Meta{"ui": map[string]any{"resourceUri": approvalView, "visibility": []string{"app"}}}}
}()

// cardKey is what a card must show to decide an approval: given to the
// view in the result's _meta, never in the text the model reads, so that
// knowing an approval's id (it is in the page link) is not enough.
func (s *Server) cardKey(a *graphgate.Approval) string {
	return base64.RawURLEncoding.EncodeToString(s.d.Keys.MAC(cardPurpose, []byte(a.ID+"\x00"+strconv.FormatInt(a.UserID, 10))))
}

// decideApproval records the person's Approve or Decline from the card,
// as the approval page does: their own approval, asked through this very
// token or app, still open, decided once, audited.
func (s *Server) decideApproval(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	c := callerOf(req)
	if c == nil {
		return toolError(errors.New("no caller")), nil
	}
	if !featuresFrom(ctx).apps {
		return toolError(invalid(decideTool + " is for graphgate's approval card only: the person answers there, or on the approval page")), nil
	}
	var in decideIn
	if err := json.Unmarshal(req.Params.Arguments, &in); err != nil || (in.Decision != "approve" && in.Decision != "decline") {
		return toolError(invalid("give approval, key and decision (approve or decline)")), nil
	}
	gone := invalid("this request has expired, was already answered, or belongs to someone else; if the agent still needs it, it will ask again")
	a, err := s.d.Store.Approval(ctx, c.user.ID, in.Approval)
	switch {
	case graphgate.ErrorCode(err) == graphgate.ENOTFOUND:
		return toolError(gone), nil
	case err != nil:
		return nil, err
	case !hmac.Equal([]byte(in.Key), []byte(s.cardKey(a))) || a.TokenID != c.access.TokenID() || a.GrantID != c.access.GrantID():
		return toolError(gone), nil
	}
	approve := in.Decision == "approve"
	if err := s.d.Store.DecideApproval(ctx, c.user.ID, a.ID, approve); err != nil {
		if graphgate.ErrorCode(err) == graphgate.ENOTFOUND {
			return toolError(gone), nil
		}
		return nil, err
	}
	state := graphgate.ApprovalDeclined
	if approve {
		state = graphgate.ApprovalApproved
	}
	s.enqueueAudit(ctx, &graphgate.AuditEvent{At: s.d.Now().UTC(), ActorID: c.user.ID, ActorEmail: c.user.Email, Action: graphgate.ActionApproval,
		Target: a.Tool, Details: map[string]string{"decision": string(state), "token": a.Label, "via": "approval card"}})
	out := decideOut{State: string(state), Tool: a.Tool}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: compactText(out)}}, StructuredContent: out}, nil
}

// askInCard is askOnPage for a client with the extension: the result the
// card shows until the person decides, with the same page as a way round.
func (s *Server) askInCard(ctx context.Context, subject []byte, pv preview) (*mcp.CallToolResult, error) {
	call := callFromContext(ctx)
	a, err := s.approvalFor(ctx, subject, pv)
	if a == nil || err != nil {
		if err == nil {
			call.accepted = &pv
		}
		return nil, err
	}
	res := toolError(invalid(fmt.Sprintf("nothing was done yet: the person is asked to approve in the card shown in the chat (or at %s%s%s, until %s UTC). "+
		"When they have approved, call %s again with exactly the same arguments", s.d.BaseURL, ApprovalPath, a.ID, a.ExpiresAt.UTC().Format("15:04"), call.tool)))
	res.Meta = mcp.Meta{viewMeta: map[string]any{"approval": map[string]string{"id": a.ID, "key": s.cardKey(a), "tool": a.Tool, "agent": a.Label,
		"summary": a.Summary, "expires": a.ExpiresAt.UTC().Format("15:04 UTC")}}}
	return res, nil
}
