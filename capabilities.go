package graphgate

import (
	"slices"
	"strings"
	"time"
)

// BasePermissions are the delegated permissions of the base contract:
// what the Entra app must have, asked for at every link. Capabilities add
// to them; nothing here depends on which are on.
var BasePermissions = []string{"openid", "email", "profile", "offline_access", "User.Read", "Mail.Read", "Mail.Send",
	"Mail.ReadWrite", "Calendars.Read", "Files.Read", "Files.ReadWrite"}

// Permission is a delegated Microsoft Graph permission a capability adds.
type Permission struct {
	Name string `json:"name"` // as Entra lists it: Calendars.ReadWrite
	// AdminConsent: Microsoft lets only an admin consent to it.
	AdminConsent bool `json:"adminConsent"`
	// WorkOnly: personal Microsoft accounts do not have it, and asking a
	// personal account for it fails the whole request (invalid_scope).
	WorkOnly bool `json:"workOnly"`
}

// CapabilityTool is a tool a capability unlocks and the permission it
// needs: a person sees it once Microsoft granted that permission.
type CapabilityTool struct {
	Name  string
	Needs string
	// Otherwise is a tool of the base contract that answers instead
	// where Needs cannot be had (personal accounts, for a work-only one).
	Otherwise string
}

// Capability is a named set of extra delegated permissions an admin turns
// on, each person grants with one more consent, and agents see once
// granted. This table is the one place a capability is declared: the admin
// page, the README, consent requests and tool filtering all read it.
type Capability struct {
	Name  string // calendar.write
	Title string // Calendar changes
	// Ask is the tile's words for asking a person to grant it.
	Ask string
	// Does says what agents can do with it, for admins and people.
	Does        string
	Permissions []Permission
	Tools       []CapabilityTool
	// Params are arguments of tools of the base contract that only work
	// with the capability (a shared mailbox's address): agents see them
	// once granted.
	Params []CapabilityParam
}

// CapabilityParam is an argument a capability adds to a tool, and the
// permission it needs.
type CapabilityParam struct {
	Tool, Param, Needs string
}

// Capabilities are every capability graphgate offers, in the order pages
// show them.
var Capabilities = []Capability{
	{
		Name: "calendar.write", Title: "Calendar changes", Ask: "Allow calendar changes",
		Does: "Agents create, change and cancel events (sending the invitations), answer invitations, and find times that suit everyone.",
		Permissions: []Permission{
			{Name: "Calendars.ReadWrite"},
			{Name: "Calendars.Read.Shared", WorkOnly: true},
		},
		Tools: []CapabilityTool{
			{Name: "create_event", Needs: "Calendars.ReadWrite"},
			{Name: "update_event", Needs: "Calendars.ReadWrite"},
			{Name: "cancel_event", Needs: "Calendars.ReadWrite"},
			{Name: "respond_to_event", Needs: "Calendars.ReadWrite"},
			{Name: "find_meeting_times", Needs: "Calendars.Read.Shared", Otherwise: "find_free_time"},
		},
	},
	{
		Name: "people", Title: "People", Ask: "Allow finding people",
		Does: "Agents find colleagues and contacts by name: the people you work with most, then your organisation's directory.",
		Permissions: []Permission{
			{Name: "People.Read"},
			{Name: "User.ReadBasic.All", WorkOnly: true},
		},
		Tools: []CapabilityTool{{Name: "find_people", Needs: "People.Read"}},
	},
	{
		Name: "shared_mailboxes", Title: "Shared mailboxes", Ask: "Allow shared mailboxes",
		Does: "Agents read, file and answer mail in shared mailboxes and send from them, and read calendars shared with you, where Exchange gives you access.",
		Permissions: []Permission{
			{Name: "Mail.Read.Shared", WorkOnly: true},
			{Name: "Mail.ReadWrite.Shared", WorkOnly: true},
			{Name: "Mail.Send.Shared", WorkOnly: true},
			{Name: "Calendars.Read.Shared", WorkOnly: true},
		},
		Params: []CapabilityParam{
			{"list_mail_folders", "mailbox", "Mail.Read.Shared"},
			{"list_messages", "mailbox", "Mail.Read.Shared"},
			{"search_messages", "mailbox", "Mail.Read.Shared"},
			{"get_message", "mailbox", "Mail.Read.Shared"},
			{"get_attachment", "mailbox", "Mail.Read.Shared"},
			{"send_message", "mailbox", "Mail.Send.Shared"},
			{"create_draft", "mailbox", "Mail.ReadWrite.Shared"},
			{"update_draft", "mailbox", "Mail.ReadWrite.Shared"},
			{"send_draft", "mailbox", "Mail.Send.Shared"},
			{"reply_to_message", "mailbox", "Mail.Send.Shared"},
			{"forward_message", "mailbox", "Mail.Send.Shared"},
			{"move_message", "mailbox", "Mail.ReadWrite.Shared"},
			{"update_message", "mailbox", "Mail.ReadWrite.Shared"},
			{"delete_message", "mailbox", "Mail.ReadWrite.Shared"},
			{"list_changes", "mailbox", "Mail.Read.Shared"},
			{"list_events", "owner", "Calendars.Read.Shared"},
			{"get_event", "owner", "Calendars.Read.Shared"},
		},
	},
	{
		Name: "tasks", Title: "To Do tasks", Ask: "Allow To Do tasks",
		Does:        "Agents read your Microsoft To Do lists and tasks, add tasks, and change, complete or reopen them.",
		Permissions: []Permission{{Name: "Tasks.ReadWrite"}},
		Tools: []CapabilityTool{
			{Name: "list_task_lists", Needs: "Tasks.ReadWrite"},
			{Name: "list_tasks", Needs: "Tasks.ReadWrite"},
			{Name: "create_task", Needs: "Tasks.ReadWrite"},
			{Name: "update_task", Needs: "Tasks.ReadWrite"},
		},
	},
	{
		Name: "teams.chats", Title: "Teams chats", Ask: "Allow Teams chats",
		Does:        "Agents read your Teams chats (one-on-one, group and meeting chats) and send messages in them.",
		Permissions: []Permission{{Name: "Chat.ReadWrite", WorkOnly: true}},
		Tools: []CapabilityTool{
			{Name: "list_chats", Needs: "Chat.ReadWrite"},
			{Name: "read_chat", Needs: "Chat.ReadWrite"},
			{Name: "send_chat_message", Needs: "Chat.ReadWrite"},
		},
	},
	{
		Name: "teams.channels", Title: "Teams channels", Ask: "Allow Teams channels",
		Does: "Agents list your teams and their channels, read channel threads and replies, and start or answer threads.",
		Permissions: []Permission{
			{Name: "Team.ReadBasic.All", WorkOnly: true},
			{Name: "Channel.ReadBasic.All", WorkOnly: true},
			{Name: "ChannelMessage.Read.All", AdminConsent: true, WorkOnly: true},
			{Name: "ChannelMessage.Send", WorkOnly: true},
		},
		Tools: []CapabilityTool{
			{Name: "list_teams", Needs: "Team.ReadBasic.All"},
			{Name: "list_channels", Needs: "Channel.ReadBasic.All"},
			{Name: "read_channel", Needs: "ChannelMessage.Read.All"},
			{Name: "post_channel_message", Needs: "ChannelMessage.Send"},
		},
	},
	{
		Name: "sharepoint", Title: "SharePoint", Ask: "Allow SharePoint",
		Does:        "Agents find the SharePoint sites you can reach and read their document libraries with the files tools.",
		Permissions: []Permission{{Name: "Sites.Read.All", WorkOnly: true}},
		Tools: []CapabilityTool{
			{Name: "search_sites", Needs: "Sites.Read.All"},
			{Name: "list_site_drives", Needs: "Sites.Read.All"},
		},
		Params: libraryParams("Sites.Read.All", "list_files", "search_files", "get_file_info", "read_file", "list_changes"),
	},
	{
		Name: "sharepoint.write", Title: "SharePoint changes", Ask: "Allow changing SharePoint files",
		Does:        "Agents upload, move and delete files and make folders in SharePoint document libraries (SharePoint finds them).",
		Permissions: []Permission{{Name: "Sites.ReadWrite.All", WorkOnly: true}},
		Params:      libraryParams("Sites.ReadWrite.All", "upload_file", "create_folder", "move_file", "delete_file"),
	},
}

// libraryParams are the site and drive arguments that send files tools
// to a SharePoint document library.
func libraryParams(needs string, tools ...string) []CapabilityParam {
	var out []CapabilityParam
	for _, t := range tools {
		out = append(out, CapabilityParam{t, "site", needs}, CapabilityParam{t, "drive", needs})
	}
	return out
}

// CapabilityOfParam is the capability that adds an argument to a tool,
// and how; nil when none does.
func CapabilityOfParam(tool, param string) (*Capability, *CapabilityParam) {
	for i := range Capabilities {
		for j, p := range Capabilities[i].Params {
			if p.Tool == tool && p.Param == param {
				return &Capabilities[i], &Capabilities[i].Params[j]
			}
		}
	}
	return nil, nil
}

// CapabilityNames are every capability's name, in the table's order.
func CapabilityNames() []string {
	out := make([]string, len(Capabilities))
	for i, c := range Capabilities {
		out[i] = c.Name
	}
	return out
}

// CapabilityNamed finds a capability by its name.
func CapabilityNamed(name string) (*Capability, bool) {
	for i := range Capabilities {
		if Capabilities[i].Name == name {
			return &Capabilities[i], true
		}
	}
	return nil, false
}

// CapabilityOfTool is the capability that unlocks a tool, and how; nil
// for a tool of the base contract.
func CapabilityOfTool(tool string) (*Capability, *CapabilityTool) {
	for i := range Capabilities {
		for j, t := range Capabilities[i].Tools {
			if t.Name == tool {
				return &Capabilities[i], &Capabilities[i].Tools[j]
			}
		}
	}
	return nil, nil
}

// WantedPermissions are the delegated permissions the capabilities named
// need, with the base set: what an admin grants for the organisation.
// Work-only ones are left out for a personal account.
func WantedPermissions(capabilities []string, personal bool) []string {
	return permissionsOf(capabilities, func(c *Capability) []string { return c.PermissionsFor(personal) })
}

// AskedPermissions are those of WantedPermissions a person is asked for:
// without the ones only an admin may grant, which would make Microsoft
// refuse the whole request. Those come with the admin's consent for the
// organisation, at the person's next token refresh.
func AskedPermissions(capabilities []string, personal bool) []string {
	return permissionsOf(capabilities, func(c *Capability) []string { return c.AskFor(personal) })
}

func permissionsOf(capabilities []string, of func(*Capability) []string) []string {
	out := slices.Clone(BasePermissions)
	for _, name := range capabilities {
		if c, ok := CapabilityNamed(name); ok {
			for _, p := range of(c) {
				if !HasPermission(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// HasPermission reports whether granted holds the permission, compared
// as Microsoft compares them: without case.
func HasPermission(granted []string, name string) bool {
	return slices.ContainsFunc(granted, func(g string) bool { return strings.EqualFold(g, name) })
}

// Missing are the permissions of want not in granted.
func Missing(want, granted []string) []string {
	var out []string
	for _, w := range want {
		if !HasPermission(granted, w) && !isOpenID(w) {
			out = append(out, w)
		}
	}
	return out
}

// isOpenID reports whether a scope is one of OpenID Connect's, which
// Microsoft never lists among the granted Graph permissions.
func isOpenID(s string) bool {
	return s == "openid" || s == "email" || s == "profile" || s == "offline_access"
}

// AdminConsent is Microsoft's answer when an admin granted permissions
// for everyone in their organisation.
type AdminConsent struct {
	Granted bool      `json:"granted"`
	Tenant  string    `json:"tenant,omitempty"` // as Microsoft sent it back: shown, never trusted
	Error   string    `json:"error,omitempty"`  // in words, when not granted
	By      string    `json:"by"`               // the graphgate admin who asked
	At      time.Time `json:"at"`
}

// Reach is what a person's agents may reach beyond the base contract: the
// capabilities the admin turned on and the permissions Microsoft granted
// the person's link. It is read at every MCP request, so that turning a
// capability off hides its tools at once on every replica.
type Reach struct {
	Capabilities []string
	Granted      []string
	Personal     bool // the link is a personal Microsoft account
}

// Opens reports whether a tool may be listed and called: a tool of the
// base contract always; a capability's tool once the admin turned the
// capability on and Microsoft granted the permission it needs.
func (r *Reach) Opens(tool string) bool {
	c, t := CapabilityOfTool(tool)
	return c == nil || r != nil && slices.Contains(r.Capabilities, c.Name) && HasPermission(r.Granted, t.Needs)
}

// OpensParam reports whether a capability's argument of a tool may be
// used: on, and its permission granted.
func (r *Reach) OpensParam(tool, param string) bool {
	c, p := CapabilityOfParam(tool, param)
	return c != nil && r != nil && slices.Contains(r.Capabilities, c.Name) && HasPermission(r.Granted, p.Needs)
}

// PermissionsFor are the capability's permissions an account of the kind
// given can have.
func (c *Capability) PermissionsFor(personal bool) []string {
	var out []string
	for _, p := range c.Permissions {
		if !p.WorkOnly || !personal {
			out = append(out, p.Name)
		}
	}
	return out
}

// AskFor are the capability's permissions a person of the kind given can
// grant themselves: not work-only ones for a personal account, nor those
// only an admin may grant.
func (c *Capability) AskFor(personal bool) []string {
	var out []string
	for _, p := range c.Permissions {
		if (!p.WorkOnly || !personal) && !p.AdminConsent {
			out = append(out, p.Name)
		}
	}
	return out
}

// NeedsAdmin reports whether only an admin may grant the permission.
func (c *Capability) NeedsAdmin(permission string) bool {
	for _, p := range c.Permissions {
		if strings.EqualFold(p.Name, permission) {
			return p.AdminConsent
		}
	}
	return false
}

// Ungranted are the capabilities on whose permissions a link does not all
// have, of those its person can grant: what their tile offers to allow.
func Ungranted(on []string, granted []string, personal bool) []*Capability {
	return capabilitiesMissing(on, granted, func(c *Capability) []string { return c.AskFor(personal) })
}

// AwaitingAdmin are the capabilities on with a permission only an admin may
// grant that a link of a work or school account lacks: the tile says the
// admin has to grant it for the organisation.
func AwaitingAdmin(on []string, granted []string, personal bool) []*Capability {
	if personal {
		return nil
	}
	return capabilitiesMissing(on, granted, func(c *Capability) []string {
		var admin []string
		for _, p := range c.Permissions {
			if p.AdminConsent {
				admin = append(admin, p.Name)
			}
		}
		return admin
	})
}

func capabilitiesMissing(on, granted []string, of func(*Capability) []string) []*Capability {
	var out []*Capability
	for _, name := range on {
		if c, ok := CapabilityNamed(name); ok && len(Missing(of(c), granted)) > 0 {
			out = append(out, c)
		}
	}
	return out
}
