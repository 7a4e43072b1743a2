package mcpserver

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"graphgate/internal/graphapi"
)

type gItem struct {
	ID                   string    `json:"id"`
	Name                 string    `json:"name"`
	Size                 int64     `json:"size"`
	LastModifiedDateTime time.Time `json:"lastModifiedDateTime"`
	WebURL               string    `json:"webUrl"`
	ETag                 string    `json:"eTag"`
	Folder               *struct {
		ChildCount int `json:"childCount"`
	} `json:"folder"`
	File *struct {
		MimeType string `json:"mimeType"`
	} `json:"file"`
	ParentReference struct {
		ID   string `json:"id"`
		Path string `json:"path"`
	} `json:"parentReference"`
}

// ItemOut is a OneDrive file or folder.
type ItemOut struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Kind     string    `json:"kind" jsonschema:"file or folder"`
	Size     int64     `json:"size,omitempty"`
	MimeType string    `json:"mime_type,omitempty"`
	Children int       `json:"children,omitempty"`
	Modified time.Time `json:"modified,omitzero"`
	WebURL   string    `json:"web_url,omitempty"`
}

func toItem(it gItem) ItemOut {
	// "/drive/root:/a/b", or "/drives/{id}/root:/a/b" in a library
	_, parent, _ := strings.Cut(it.ParentReference.Path, "/root")
	parent = strings.TrimPrefix(parent, ":")
	out := ItemOut{ID: it.ID, Name: it.Name, Path: strings.TrimSuffix(parent, "/") + "/" + it.Name, Size: it.Size,
		Modified: it.LastModifiedDateTime, WebURL: it.WebURL, Kind: "file"}
	if it.ParentReference.Path == "" {
		out.Path = "/"
	}
	if it.Folder != nil {
		out.Kind, out.Children = "folder", it.Folder.ChildCount
	}
	if it.File != nil {
		out.MimeType = it.File.MimeType
	}
	return out
}

const itemFields = "id,name,size,lastModifiedDateTime,webUrl,folder,file,parentReference"

// itemPath addresses a drive item by id or by path from the root.
func itemPath(id, path string) (string, error) {
	switch {
	case id != "" && path != "":
		return "", invalid("give id or path, not both")
	case id != "":
		seg, ok := idSegment(id)
		if !ok {
			return "", invalid("id must be an item id from list_files or search_files")
		}
		return "me/drive/items/" + seg, nil
	case path == "" || path == "/":
		return "me/drive/root", nil
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if p == "" || p == "." || p == ".." || len(p) > 255 || strings.ContainsAny(p, `:*?"<>|\`) || strings.IndexFunc(p, unicode.IsControl) >= 0 {
			return "", invalid(fmt.Sprintf("path has a bad part %q; use names separated by /", p))
		}
		parts[i] = url.PathEscape(p)
	}
	return "me/drive/root:/" + strings.Join(parts, "/") + ":", nil
}

type listFilesIn struct {
	Path     string `json:"path,omitempty" jsonschema:"folder path from the root, such as /Documents/Projects; default the root"`
	ID       string `json:"id,omitempty" jsonschema:"folder id, instead of path"`
	PageSize int    `json:"page_size,omitempty" jsonschema:"items per page, 1 to 200; default 50" bounds:"1,200"`
	Cursor   string `json:"cursor,omitempty" jsonschema:"next_cursor from the previous page"`
	inLibrary
}

type itemsOut struct {
	Items      []ItemOut `json:"items"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

func (s *Server) listItems(ctx context.Context, g *graphapi.Client, req graphapi.Request) (itemsOut, error) {
	var res struct {
		Value []gItem `json:"value"`
		Next  string  `json:"@odata.nextLink"`
	}
	if _, err := g.Do(ctx, req, &res); err != nil {
		return itemsOut{}, err
	}
	next, err := s.cursorOf(ctx, res.Next, pageCursorTTL)
	if err != nil {
		return itemsOut{}, err
	}
	out := itemsOut{Items: []ItemOut{}, NextCursor: next}
	for _, it := range res.Value {
		out.Items = append(out.Items, toItem(it))
	}
	return out, nil
}

// driveCursor is the Graph path of a files cursor, which continues only
// in the drive it lists: the person's OneDrive, or the library the call
// names with site or drive.
func (s *Server) driveCursor(ctx context.Context, g *graphapi.Client, cursor string) (string, error) {
	p, err := s.pathOfCursor(ctx, cursor)
	if err != nil {
		return "", err
	}
	if !under(p, g.Routed("me/drive")+"/") {
		return "", errBadCursor
	}
	return p, nil
}

func listFilesTool() toolDef {
	return define("files", &mcp.Tool{
		Name:        "list_files",
		Title:       "List files",
		Description: "Lists a OneDrive folder (the root unless path or id is given): folders first, then files, with size, type and modified time.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in listFilesIn) (itemsOut, error) {
		size, err := pageSize(in.PageSize, 50, 200)
		if err != nil {
			return itemsOut{}, err
		}
		req := graphapi.Request{Method: "GET", Safe: true}
		if in.Cursor != "" {
			if req.Path, err = s.driveCursor(ctx, g, in.Cursor); err != nil {
				return itemsOut{}, err
			}
		} else {
			base, err := itemPath(in.ID, in.Path)
			if err != nil {
				return itemsOut{}, err
			}
			req.Path, req.Query = base+"/children", url.Values{"$top": {fmt.Sprint(size)}, "$select": {itemFields}}
		}
		return s.listItems(ctx, g, req)
	})
}

type searchFilesIn struct {
	Query    string `json:"query" jsonschema:"words in the file name or, for small text files, the content"`
	PageSize int    `json:"page_size,omitempty" jsonschema:"items per page, 1 to 200; default 50" bounds:"1,200"`
	Cursor   string `json:"cursor,omitempty"`
	inLibrary
}

func searchFilesTool() toolDef {
	return define("files", &mcp.Tool{
		Name:        "search_files",
		Title:       "Search files",
		Description: "Searches the whole OneDrive by file name (and content where OneDrive indexes it). Returns matching files and folders.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in searchFilesIn) (itemsOut, error) {
		size, err := pageSize(in.PageSize, 50, 200)
		if err != nil {
			return itemsOut{}, err
		}
		req := graphapi.Request{Method: "GET", Safe: true}
		switch {
		case in.Cursor != "":
			if req.Path, err = s.driveCursor(ctx, g, in.Cursor); err != nil {
				return itemsOut{}, err
			}
		case strings.TrimSpace(in.Query) == "" || len(in.Query) > 200:
			return itemsOut{}, invalid("query must be 1 to 200 characters")
		default:
			q := strings.ReplaceAll(in.Query, "'", "''")
			req.Path = "me/drive/root/search(q='" + url.PathEscape(q) + "')"
			req.Query = url.Values{"$top": {fmt.Sprint(size)}, "$select": {itemFields}}
		}
		return s.listItems(ctx, g, req)
	})
}

type itemIn struct {
	Path string `json:"path,omitempty" jsonschema:"path from the root, such as /Documents/notes.txt"`
	ID   string `json:"id,omitempty" jsonschema:"item id, instead of path"`
	inLibrary
}

func getFileInfoTool() toolDef {
	return define("files", &mcp.Tool{
		Name:        "get_file_info",
		Title:       "File details",
		Description: "Returns a OneDrive file's or folder's details (size, type, modified time, path, web link) by path or id.",
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in itemIn) (ItemOut, error) {
		p, err := itemPath(in.ID, in.Path)
		if err != nil {
			return ItemOut{}, err
		}
		var it gItem
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p, Query: url.Values{"$select": {itemFields}}, Safe: true}, &it); err != nil {
			return ItemOut{}, err
		}
		return toItem(it), nil
	})
}

type readFileIn struct {
	Path     string `json:"path,omitempty" jsonschema:"path from the root, such as /Documents/notes.txt"`
	ID       string `json:"id,omitempty" jsonschema:"item id, instead of path"`
	MaxChars int    `json:"max_chars,omitempty" jsonschema:"characters to return, 500 to 100000; default 20000" bounds:"500,100000"`
	inLibrary
}

type readFileOut struct {
	File        ItemOut   `json:"file"`
	Text        string    `json:"text,omitempty"`
	Truncated   bool      `json:"truncated"`
	Note        string    `json:"note,omitempty"`
	DownloadURL string    `json:"download_url,omitempty" jsonschema:"for files that are not text: a one-time link to the bytes, no token needed"`
	ExpiresAt   time.Time `json:"download_expires_at,omitzero"`
}

// textLike reports whether a MIME type is read as text.
func textLike(mime string) bool {
	return strings.HasPrefix(mime, "text/") || mime == "application/json" || mime == "application/xml" ||
		strings.HasSuffix(mime, "+json") || strings.HasSuffix(mime, "+xml")
}

func readFileTool() toolDef {
	return define("files", &mcp.Tool{
		Name:  "read_file",
		Title: "Read a file",
		Description: "Reads a OneDrive text file (txt, md, csv, json, ...): its text, capped at max_chars (truncated set). " +
			"Other files: the details and a one-time download link (15 minutes). " + untrustedToolNote,
		Annotations: annotations(true, false, true),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in readFileIn) (readFileOut, error) {
		limit := in.MaxChars
		switch {
		case limit == 0:
			limit = 20000
		case limit < 500 || limit > 100000:
			return readFileOut{}, invalid("max_chars must be between 500 and 100000")
		}
		p, err := itemPath(in.ID, in.Path)
		if err != nil {
			return readFileOut{}, err
		}
		var it gItem
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p, Query: url.Values{"$select": {itemFields}}, Safe: true}, &it); err != nil {
			return readFileOut{}, err
		}
		out := readFileOut{File: toItem(it)}
		switch {
		case it.Folder != nil:
			return out, invalid("that is a folder: use list_files")
		case it.File == nil || !textLike(it.File.MimeType):
			out.Note = "This file is not text (" + out.File.MimeType + "); use download_url to fetch its bytes."
			out.DownloadURL, out.ExpiresAt, err = s.downloadLink(ctx, g.Routed("me/drive/items/"+url.PathEscape(it.ID)+"/content"), it.Name, it.File.MimeType)
			return out, err
		}
		// Read at most what the cap needs (4 bytes a character at worst).
		var buf bytes.Buffer
		lw := &limitedWriter{w: &buf, n: int64(limit)*4 + 4}
		if _, err := g.Do(ctx, graphapi.Request{Method: "GET", Path: p + "/content", Safe: true}, lw); err != nil && err != errLimit {
			return readFileOut{}, err
		}
		b := buf.Bytes()
		if !utf8.Valid(b) && len(b) < int(lw.n) {
			out.Note = "The file is not valid UTF-8 text."
			return out, nil
		}
		runes := []rune(string(b))
		out.Text = untrusted("file "+it.Name, string(runes[:min(limit, len(runes))]))
		out.Truncated = len(runes) > limit || it.Size > int64(len(b))
		return out, nil
	})
}

var errLimit = fmt.Errorf("limit reached")

// limitedWriter stops a download once enough has been read.
type limitedWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errLimit
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.w.Write(p)
	l.n -= int64(n)
	if err == nil && l.n <= 0 {
		return n, errLimit
	}
	return n, err
}

type createFolderIn struct {
	Parent   string `json:"parent,omitempty" jsonschema:"path of the parent folder; default the root"`
	Name     string `json:"name" jsonschema:"the new folder's name"`
	IfExists string `json:"if_exists,omitempty" jsonschema:"fail (default) or rename when a folder of that name exists"`
	inLibrary
}

func createFolderTool() toolDef {
	return define("files", &mcp.Tool{
		Name:        "create_folder",
		Title:       "Create a folder",
		Description: "Creates a OneDrive folder under parent (the root by default). When the name is taken it fails, or renames with if_exists=rename.",
		Annotations: annotations(false, false, false),
	}, func(ctx context.Context, g *graphapi.Client, s *Server, in createFolderIn) (ItemOut, error) {
		if strings.TrimSpace(in.Name) == "" || strings.ContainsAny(in.Name, `/\:*?"<>|`) || len(in.Name) > 255 {
			return ItemOut{}, invalid(`name must be 1 to 255 characters without / \ : * ? " < > |`)
		}
		behavior := in.IfExists
		if behavior == "" {
			behavior = "fail"
		}
		if behavior != "fail" && behavior != "rename" {
			return ItemOut{}, invalid("if_exists must be fail or rename")
		}
		p, err := itemPath("", in.Parent)
		if err != nil {
			return ItemOut{}, err
		}
		var it gItem
		if _, err := g.Do(ctx, graphapi.Request{Method: "POST", Path: p + "/children",
			Body: map[string]any{"name": in.Name, "folder": map[string]any{}, "@microsoft.graph.conflictBehavior": behavior}}, &it); err != nil {
			return ItemOut{}, err
		}
		return toItem(it), nil
	})
}
