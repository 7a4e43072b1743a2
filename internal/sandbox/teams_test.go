package sandbox_test

import (
	"net/url"
	"strings"
	"testing"

	"graphgate/internal/sandbox"
)

// Teams on the wire: chats with members and last message, the one
// $orderby Teams takes, messages newest first, posting, and refusals for
// a chat one is not in, a missing scope and a bad body.
func TestTeamsWire(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test", "openid", "offline_access", "Chat.ReadWrite", "Team.ReadBasic.All", "Channel.ReadBasic.All").AccessToken
	var chats struct {
		Count int `json:"@odata.count"`
		Value []struct {
			ID, ChatType string
			Members      []map[string]any
			Preview      *struct {
				Body struct{ Content string }
			} `json:"lastMessagePreview"`
		}
	}
	tn.graph(tok, "GET", "/me/chats?$expand=members,lastMessagePreview&$orderby=lastMessagePreview/createdDateTime%20desc&$top=2", nil, &chats)
	if len(chats.Value) != 2 || chats.Value[0].ChatType != "oneOnOne" || chats.Value[0].Preview == nil ||
		chats.Value[0].Members[0]["@odata.type"] != "#microsoft.graph.aadUserConversationMember" {
		t.Fatalf("chats: %+v", chats)
	}
	tn.expectGraphError(tok, "GET", "/me/chats?$orderby=lastMessagePreview/createdDateTime%20asc", nil, 400, "BadRequest")
	tn.expectGraphError(tok, "GET", "/me/chats?$top=51", nil, 400, "ErrorInvalidParameter")
	group := chats.Value[1].ID
	var msgs struct {
		Value []struct {
			ID, MessageType string
			Body            struct{ ContentType, Content string }
			Mentions        []map[string]any
		}
	}
	tn.graph(tok, "GET", "/chats/"+url.PathEscape(group)+"/messages?$top=5&$orderby=createdDateTime%20desc", nil, &msgs)
	if len(msgs.Value) != 5 || msgs.Value[1].Body.ContentType != "html" || len(msgs.Value[1].Mentions) != 1 ||
		msgs.Value[4].MessageType != "unknownFutureValue" || msgs.Value[4].Body.Content != "<systemEventMessage/>" {
		t.Fatalf("messages: %+v", msgs)
	}
	tn.expectGraphError(tok, "GET", "/chats/"+url.PathEscape(group)+"/messages?$orderby=createdDateTime", nil, 400, "BadRequest")
	var posted struct{ ID, ChatID string }
	if resp := tn.graph(tok, "POST", "/chats/"+url.PathEscape(group)+"/messages", map[string]any{"body": map[string]string{"content": "hi"}}, &posted); resp.StatusCode != 201 || posted.ChatID != group {
		t.Fatalf("post: %d %+v", resp.StatusCode, posted)
	}
	tn.expectGraphError(tok, "POST", "/chats/"+url.PathEscape(group)+"/messages", map[string]any{"body": map[string]string{"content": " "}}, 400, "BadRequest")
	private := "19:4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c07_4b1f2c3d-0e5a-4f6b-8c7d-9e0f1a2b3c01@unq.gbl.spaces"
	tn.expectGraphError(tok, "GET", "/chats/"+url.PathEscape(private)+"/messages", nil, 403, "Forbidden")

	var teams struct {
		Value []struct{ ID, DisplayName string }
	}
	tn.graph(tok, "GET", "/me/joinedTeams", nil, &teams)
	if len(teams.Value) != 1 || teams.Value[0].DisplayName != "Contoso Launch" {
		t.Fatalf("joined teams: %+v", teams)
	}
	var channels struct {
		Value []struct{ ID, DisplayName, MembershipType string }
	}
	tn.graph(tok, "GET", "/teams/"+teams.Value[0].ID+"/channels", nil, &channels)
	if len(channels.Value) != 2 || strings.Contains(channels.Value[1].DisplayName, "Leadership") {
		t.Fatalf("channels: %+v", channels)
	}
	// Channel messages need ChannelMessage.Read.All, which this token lacks.
	tn.expectGraphError(tok, "GET", "/teams/"+teams.Value[0].ID+"/channels/"+url.PathEscape(channels.Value[0].ID)+"/messages", nil, 403, "Forbidden")
}

// SharePoint on the wire: site search for members only, sites by id and
// by path, libraries, the drive API on a library, and the refusals.
func TestSharePointWire(t *testing.T) {
	tn := startTenant(t, sandbox.Options{})
	tok := tn.link("alex@contoso.test", "openid", "offline_access", "Sites.Read.All", "Files.Read").AccessToken
	var sites struct {
		Value []struct{ ID, Name, DisplayName, WebURL string }
	}
	tn.graph(tok, "GET", "/sites?search=*", nil, &sites)
	if len(sites.Value) != 2 || sites.Value[0].WebURL != "https://contoso.sharepoint.com/sites/marketing" ||
		!strings.HasPrefix(sites.Value[0].ID, "contoso.sharepoint.com,") {
		t.Fatalf("sites: %+v", sites)
	}
	tn.expectGraphError(tok, "GET", "/sites", nil, 403, "accessDenied")
	tn.expectGraphError(tok, "GET", "/sites/contoso.sharepoint.com:/sites/finance", nil, 403, "accessDenied")
	tn.expectGraphError(tok, "GET", "/sites/contoso.sharepoint.com:/sites/nowhere", nil, 404, "itemNotFound")
	tn.expectGraphError(tok, "GET", "/sites/evil.test:/sites/marketing", nil, 400, "invalidRequest")
	var site struct{ ID string }
	tn.graph(tok, "GET", "/sites/contoso.sharepoint.com:/sites/marketing", nil, &site)
	if site.ID != sites.Value[0].ID {
		t.Fatalf("the site by path: %+v", site)
	}
	var drives struct {
		Value []struct{ ID, Name, DriveType string }
	}
	tn.graph(tok, "GET", "/sites/"+site.ID+"/drives", nil, &drives)
	if len(drives.Value) != 2 || drives.Value[0].DriveType != "documentLibrary" || drives.Value[1].Name != "Brand Assets" {
		t.Fatalf("libraries: %+v", drives)
	}
	var children struct {
		Value []struct {
			Name            string
			ParentReference struct{ Path, DriveID string }
		}
	}
	tn.graph(tok, "GET", "/drives/"+drives.Value[0].ID+"/root:/Campaigns:/children", nil, &children)
	if len(children.Value) != 2 || children.Value[0].ParentReference.Path != "/drives/"+drives.Value[0].ID+"/root:/Campaigns" {
		t.Fatalf("a library's folder: %+v", children)
	}
	tn.graph(tok, "GET", "/sites/contoso.sharepoint.com:/sites/marketing:/drive/root/children", nil, &children)
	if len(children.Value) != 2 {
		t.Fatalf("the site's main library by path: %+v", children)
	}
	// Reading only: a change is refused.
	tn.expectGraphError(tok, "POST", "/drives/"+drives.Value[0].ID+"/root/children", map[string]any{"name": "x", "folder": map[string]any{}}, 403, "accessDenied")
	// Another person's OneDrive is no library of a site alex is in.
	var own struct{ ID string }
	tn.graph(tok, "GET", "/me/drive", nil, &own)
	tn.graph(tok, "GET", "/drives/"+own.ID+"/root/children", nil, &children)
	if len(children.Value) == 0 {
		t.Fatal("the caller's own OneDrive by id")
	}
	tn.expectGraphError(tok, "GET", "/drives/b!nosuchdrive/root/children", nil, 404, "itemNotFound")
}
