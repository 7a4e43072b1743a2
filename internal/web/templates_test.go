package web

import (
	"slices"
	"testing"
)

// Every template file must be registered as a page (or be the layout or the
// partials), so none is silently unused.
func TestEveryTemplateIsRegistered(t *testing.T) {
	files, err := templateFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f != "layout" && f != "partials" && !slices.Contains(pageNames, f) {
			t.Errorf("templates/%s.html is not registered in pageNames", f)
		}
	}
	if _, err := parsePages(); err != nil {
		t.Fatal(err)
	}
}
