package mcpserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate"
	"graphgate/internal/graphapi"
)

// maxInlineUpload is the largest file upload_file takes inline.
const maxInlineUpload = 4 << 20

type uploadIn struct {
	Path          string `json:"path" jsonschema:"where to put the file, such as /Documents/summary.md; missing folders are created"`
	Text          string `json:"text,omitempty" jsonschema:"the content as text"`
	ContentBase64 string `json:"content_base64,omitempty" jsonschema:"the content as base64, for binary files"`
	Large         bool   `json:"large,omitempty" jsonschema:"instead of content, get a one-time upload_url to PUT a large file to (any size, with Content-Length)"`
	IfExists      string `json:"if_exists,omitempty" jsonschema:"replace (default), rename or fail when the file exists"`
	inLibrary
}

type uploadOut struct {
	ItemOut
	UploadURL string    `json:"upload_url,omitempty" jsonschema:"large: PUT the bytes here once, without a token"`
	ExpiresAt time.Time `json:"upload_expires_at,omitzero"`
}

func uploadFileTool() toolDef {
	return define("files", &mcp.Tool{
		Name:  "upload_file",
		Title: "Upload a file",
		Description: "Writes a file to OneDrive from text or base64 (up to 4 MB inline). Larger: set large, " +
			"and PUT the bytes to the one-time upload_url (30 minutes) the answer gives. " +
			"An existing file is replaced, or renamed or refused with if_exists.",
		Annotations: annotations(false, true, false),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in uploadIn) (uploadOut, error) {
		var content []byte
		switch {
		case in.Large && (in.Text != "" || in.ContentBase64 != ""):
			return uploadOut{}, invalid("with large, send the bytes to the upload_url instead of text or content_base64")
		case in.Text != "" && in.ContentBase64 != "":
			return uploadOut{}, invalid("give text or content_base64, not both")
		case in.ContentBase64 != "":
			b, err := base64.StdEncoding.DecodeString(in.ContentBase64)
			if err != nil {
				return uploadOut{}, invalid("content_base64 is not valid base64")
			}
			content = b
		default:
			content = []byte(in.Text)
		}
		if len(content) > maxInlineUpload {
			return uploadOut{}, invalid("files over 4 MB cannot be uploaded inline: set large and PUT them to the upload_url")
		}
		behavior := in.IfExists
		if behavior == "" {
			behavior = "replace"
		}
		if behavior != "replace" && behavior != "rename" && behavior != "fail" {
			return uploadOut{}, invalid("if_exists must be replace, rename or fail")
		}
		if strings.HasSuffix(in.Path, "/") || path.Base(in.Path) == "" {
			return uploadOut{}, invalid("path must end in a file name")
		}
		p, err := itemPath("", in.Path)
		if err != nil {
			return uploadOut{}, err
		}
		if p == "me/drive/root" {
			return uploadOut{}, invalid("path must name a file, such as /Documents/notes.txt")
		}
		if in.Large {
			var out uploadOut
			out.Name, out.Path, out.Kind = path.Base(in.Path), "/"+strings.Trim(in.Path, "/"), "file"
			out.UploadURL, out.ExpiresAt, err = s.uploadLink(ctx, graphgate.Upload{Target: g.Routed(p), Conflict: behavior})
			return out, err
		}
		var it gItem
		if _, err := g.Do(ctx, graphapi.Request{Method: "PUT", Path: p + "/content",
			Query: url.Values{"@microsoft.graph.conflictBehavior": {behavior}}, Body: bytes.NewReader(content),
			Header: map[string][]string{"Content-Type": {"application/octet-stream"}}}, &it); err != nil {
			return uploadOut{}, err
		}
		return uploadOut{ItemOut: toItem(it)}, nil
	})
}

type moveFileIn struct {
	Path      string `json:"path,omitempty" jsonschema:"the item's path"`
	ID        string `json:"id,omitempty" jsonschema:"the item's id, instead of path"`
	NewName   string `json:"new_name,omitempty" jsonschema:"rename to this"`
	NewParent string `json:"new_parent,omitempty" jsonschema:"move into this folder path, such as /Archive"`
	inLibrary
}

func moveFileTool() toolDef {
	return define("files", &mcp.Tool{
		Name:        "move_file",
		Title:       "Rename or move",
		Description: "Renames a OneDrive file or folder, moves it to another folder, or both. Fails when the name is taken there.",
		Annotations: annotations(false, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in moveFileIn) (ItemOut, error) {
		p, err := itemPath(in.ID, in.Path)
		if err != nil {
			return ItemOut{}, err
		}
		body := map[string]any{}
		if in.NewName != "" {
			if strings.ContainsAny(in.NewName, `/\:*?"<>|`) {
				return ItemOut{}, invalid(`new_name cannot contain / \ : * ? " < > |`)
			}
			body["name"] = in.NewName
		}
		if in.NewParent != "" {
			parent := "/drive/root:" + strings.TrimSuffix("/"+strings.Trim(in.NewParent, "/"), "/")
			if strings.Contains(in.NewParent, "..") {
				return ItemOut{}, invalid("new_parent must be a folder path without ..")
			}
			body["parentReference"] = map[string]string{"path": parent}
		}
		if len(body) == 0 {
			return ItemOut{}, invalid("give new_name, new_parent or both")
		}
		var it gItem
		if _, err := g.Do(ctx, graphapi.Request{Method: "PATCH", Path: p, Body: body, Safe: true}, &it); err != nil {
			return ItemOut{}, err
		}
		return toItem(it), nil
	})
}

func deleteFileTool() toolDef {
	return defineAsking("files", &mcp.Tool{
		Name:        "delete_file",
		Title:       "Delete a file",
		Description: "Deletes a OneDrive file or folder (a folder with everything in it). OneDrive keeps it in its recycle bin for a while.",
		Annotations: annotations(false, true, true),
	}, deleteFileSummary, func(ctx context.Context, g *graphapi.Client, s *Server, in itemIn) (doneOut, error) {
		p, err := itemPath(in.ID, in.Path)
		if err != nil {
			return doneOut{}, err
		}
		if p == "me/drive/root" {
			return doneOut{}, invalid("the root folder cannot be deleted")
		}
		req := graphapi.Request{Method: "DELETE", Path: p, Safe: true}
		if seen := callFromContext(ctx).accepted; seen != nil && seen.item != "" {
			// The person approved deleting this item as it was: delete it,
			// not whatever is at the path now, and only if unchanged.
			if req.Path, err = itemPath(seen.item, ""); err != nil {
				return doneOut{}, err
			}
			req.Header = http.Header{"If-Match": {seen.eTag}}
		}
		if _, err := g.Do(ctx, req, nil); err != nil {
			if ge := (*graphapi.Error)(nil); errors.As(err, &ge) && ge.Status == http.StatusPreconditionFailed {
				return doneOut{}, invalid("nothing was deleted: the item changed after the person approved deleting it. Call delete_file again to ask them about it as it is now")
			}
			return doneOut{}, err
		}
		return doneOut{Done: true, Message: "Deleted; it is in the OneDrive recycle bin."}, nil
	})
}
