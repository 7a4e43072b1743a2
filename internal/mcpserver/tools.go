package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/graphapi"
)

// toolDef is one tool: its toolset, whether it only reads, and how to add
// it to a server.
type toolDef struct {
	name    string
	toolset string // mail, calendar, files, profile
	// also are further toolsets whose tokens see the tool; the handler
	// then checks the toolset of what it is asked for (list_changes).
	also     []string
	readOnly bool
	// asks: with a token that asks first, the person approves each call.
	asks bool
	// add adds the tool to a server for callers whose reach is reach.
	add func(srv *mcp.Server, s *Server, reach *graphgate.Reach)
}

func ptr[T any](v T) *T { return &v }

// annotations sets all four hints explicitly: their absent defaults are the
// opposite of what most tools want. The title is the tool's own (Tool.Title),
// not repeated here.
func annotations(readOnly, destructive, idempotent bool) *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{ReadOnlyHint: readOnly, DestructiveHint: ptr(destructive), IdempotentHint: idempotent, OpenWorldHint: ptr(true)}
}

// define makes a toolDef from a typed handler that gets a Graph client.
// The input schema is inferred from In, with the numeric bounds its fields
// declare in a `bounds:"min,max"` tag, so clients see the limits up front.
func define[In, Out any](toolset string, t *mcp.Tool, h func(ctx context.Context, g *graphapi.Client, s *Server, in In) (Out, error)) toolDef {
	return defineAsking(toolset, t, nil, h)
}

// defineAsking is define for a tool that sends or deletes: with a token
// that asks first, the person sees what summary says and must accept it
// before h runs (see confirm.go).
//
// The tool is added with the SDK's plain handler rather than its typed one:
// the typed one validates every answer against the output schema by
// encoding it, decoding it into maps, validating and encoding it again,
// which cost more than everything else graphgate does per call. The output
// types are graphgate's own and the schema derived from them; the tests
// check every answer they get against the schema instead (see mcp_test.go).
// Arguments are validated and defaulted exactly as the typed handler does.
func defineAsking[In, Out any](toolset string, t *mcp.Tool, summary func(ctx context.Context, g *graphapi.Client, in In) (preview, error),
	h func(ctx context.Context, g *graphapi.Client, s *Server, in In) (Out, error)) toolDef {
	in, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("tool %s: %v", t.Name, err))
	}
	applyBounds(reflect.TypeFor[In](), in)
	t.InputSchema = in
	inResolved, err := in.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		panic(fmt.Sprintf("tool %s: input schema: %v", t.Name, err))
	}
	out, err := jsonschema.ForType(reflect.TypeFor[Out](), &jsonschema.ForOptions{})
	if err != nil {
		panic(fmt.Sprintf("tool %s: output schema: %v", t.Name, err))
	}
	openObjects(out)
	t.OutputSchema = out
	return toolDef{name: t.Name, toolset: toolset, readOnly: t.Annotations.ReadOnlyHint, asks: summary != nil, add: func(srv *mcp.Server, s *Server, reach *graphgate.Reach) {
		// call runs the tool for the caller: the Graph client it used
		// (for the audit) and the result, or the error the model is told.
		call := func(ctx context.Context, c *caller, req *mcp.CallToolRequest, in In) (g *graphapi.Client, _ *mcp.CallToolResult, err error) {
			if g, err = s.graph(ctx, c); err != nil {
				return nil, nil, err
			}
			if err := s.usePlace(c, t.Name, in, g); err != nil {
				return g, nil, err
			}
			tc := &toolCall{caller: c, tool: t.Name, apps: featuresFrom(ctx).apps}
			ctx = context.WithValue(ctx, callCtxKey{}, tc)
			if summary != nil && c.access.ConfirmWrites() {
				ask, err := s.confirm(ctx, req, in, func() (preview, error) { return summary(ctx, g, in) })
				if err != nil || ask != nil {
					return g, ask, err
				}
			}
			answer, err := h(ctx, g, s, in)
			if err != nil {
				var bad *badInput
				if g.Drive != "" {
					err = notInSite(err)
				}
				if !errors.As(err, &bad) {
					err = graphProblem(err)
				}
				return g, nil, err
			}
			structured, err := json.Marshal(answer)
			if err != nil {
				return g, nil, fmt.Errorf("encoding the answer: %w", err)
			}
			// The text is a compact rendering for the model, not the
			// structured content a second time as JSON.
			return g, &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: compactText(answer)}},
				StructuredContent: json.RawMessage(structured), Meta: tc.view}, nil
		}
		tool := *hideClosedParam(t, reach)
		tool.Icons = s.icon(toolset)
		srv.AddTool(&tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			start := s.d.Now()
			c := callerOf(req)
			ctx, span := s.startToolSpan(ctx, req)
			defer span.End()
			in, err := arguments[In](req.Params.Arguments, inResolved)
			if err != nil {
				// Refused before anything ran: still a call, counted and
				// audited like any other.
				s.record(ctx, c, t.Name, start, nil, invalidArguments{err})
				endToolSpan(span, invalidArguments{err})
				return toolError(err), nil
			}
			g, res, err := call(ctx, c, req, in)
			s.record(ctx, c, t.Name, start, g, err)
			endToolSpan(span, err)
			if err != nil {
				return s.failed(ctx, err), nil
			}
			return res, nil
		})
	}}
}

// openObjects drops what an output schema's objects say to bind the
// server (no other properties; which are always there): graphgate's
// answers are its own types, and the words cost every agent's context
// about 3 KB of the tool list. What each field is and holds stays.
func openObjects(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	s.AdditionalProperties = nil
	s.Required = nil
	for _, p := range s.Properties {
		openObjects(p)
	}
	openObjects(s.Items)
}

// arguments validates a call's arguments against the input schema, fills
// in its defaults and decodes them, as the SDK's typed handlers do.
func arguments[In any](raw json.RawMessage, schema *jsonschema.Resolved) (In, error) {
	var in In
	fields := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &fields); err != nil {
			return in, fmt.Errorf("validating \"arguments\": unmarshaling arguments: %w", err)
		}
	}
	if err := schema.ApplyDefaults(&fields); err != nil {
		return in, fmt.Errorf("validating \"arguments\": applying schema defaults: %w", err)
	}
	if err := schema.Validate(fields); err != nil {
		return in, fmt.Errorf("validating \"arguments\": %w", err)
	}
	b, err := json.Marshal(fields)
	if err == nil {
		err = json.Unmarshal(b, &in)
	}
	return in, err
}

// failed is a failed call as the client gets it: the person's page to
// open, for a client that opens pages for them (URL elicitation) when the
// problem is one they fix there; otherwise the error as the model sees it.
func (s *Server) failed(ctx context.Context, err error) *mcp.CallToolResult {
	var page atPage
	if errors.As(err, &page) && featuresFrom(ctx).url {
		return openPage(pageKey, err.Error(), page.url)
	}
	return toolError(err)
}

// atPage is a problem the person fixes on one of graphgate's pages (link,
// Reconnect, allow a capability).
type atPage struct {
	error
	url string
}

func (p atPage) Unwrap() error { return p.error }

// toolError is a failed call as the model sees it.
func toolError(err error) *mcp.CallToolResult {
	var res mcp.CallToolResult
	res.SetError(err)
	return &res
}

// badInput is a mistake in the arguments the caller can fix.
type badInput struct{ msg string }

func (b *badInput) Error() string { return b.msg }

func invalid(msg string) error { return &badInput{msg} }

// invalidArguments is a call whose arguments did not match the tool's
// input schema: nothing ran.
type invalidArguments struct{ error }

func (e invalidArguments) Unwrap() error { return e.error }

// message is what a tool tells the model when it cannot do what it was
// asked for a reason outside the arguments (the account, Microsoft,
// graphgate itself): words for a reader, written as sentences, where Go's
// error strings are fragments for other code to wrap.
type message string

func (m message) Error() string { return string(m) }

// tell makes a message.
func tell(format string, args ...any) error { return message(fmt.Sprintf(format, args...)) }

// allTools lists every tool, in the order tools/list shows them.
func allTools() []toolDef {
	return []toolDef{
		getProfileTool(),
		listMailFoldersTool(), listMessagesTool(), searchMessagesTool(), getMessageTool(), getAttachmentTool(), sendMessageTool(),
		createDraftTool(), updateDraftTool(), sendDraftTool(), replyTool(), forwardTool(), moveMessageTool(),
		updateMessageTool(), deleteMessageTool(),
		listCalendarsTool(), listEventsTool(), getEventTool(), findFreeTimeTool(), getScheduleTool(),
		createEventTool(), updateEventTool(), cancelEventTool(), respondEventTool(), findMeetingTimesTool(), findPeopleTool(),
		listFilesTool(), searchFilesTool(), listChangesTool(), searchTool(), getFileInfoTool(), readFileTool(), uploadFileTool(), createFolderTool(),
		moveFileTool(), deleteFileTool(),
		listTaskListsTool(), listTasksTool(), createTaskTool(), updateTaskTool(),
		searchSitesTool(), listSiteDrivesTool(),
		listChatsTool(), readChatTool(), sendChatMessageTool(), listTeamsTool(), listChannelsTool(), readChannelTool(), postChannelMessageTool(),
	}
}

// applyBounds copies `bounds:"min,max"` struct tags onto the schema's
// properties as minimum and maximum.
func applyBounds(typ reflect.Type, schema *jsonschema.Schema) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Anonymous {
			applyBounds(f.Type, schema)
			continue
		}
		b := f.Tag.Get("bounds")
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		prop := schema.Properties[name]
		if b == "" || prop == nil {
			continue
		}
		lo, hi, _ := strings.Cut(b, ",")
		minV, err1 := strconv.ParseFloat(lo, 64)
		maxV, err2 := strconv.ParseFloat(hi, 64)
		if err1 != nil || err2 != nil {
			panic("bad bounds tag on " + typ.Name() + "." + f.Name)
		}
		prop.Minimum, prop.Maximum = &minV, &maxV
	}
}

// toolCall is the tool being run and who runs it.
type toolCall struct {
	caller *caller
	tool   string
	// cursorScope, when set, is what the call's cursors are bound to in
	// place of the tool's name: list_changes binds them to its source too.
	cursorScope string
	// accepted is what the person accepted, when the tool asked them:
	// the tool acts on exactly that (delete_file, the item and its eTag).
	accepted *preview
	// apps: the client shows views (see apps.go); view is what the
	// tool's result carries for its view alone.
	apps bool
	view mcp.Meta
}

type callCtxKey struct{}

func callFromContext(ctx context.Context) *toolCall {
	tc, _ := ctx.Value(callCtxKey{}).(*toolCall)
	if tc == nil {
		return &toolCall{}
	}
	return tc
}

// callerFromContext is the caller of the tool being run.
func callerFromContext(ctx context.Context) *caller { return callFromContext(ctx).caller }
