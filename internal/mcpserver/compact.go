package mcpserver

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"graphgate/internal/oneline"
)

// compactText renders a tool's result for the model reading it: the
// structured content stays the typed contract, and the text says the same
// in a fraction of the bytes. A list is one line per item with the fields
// that are set; zero and empty fields are left out; long text (a body, a
// file) comes last, as it is.
func compactText(v any) string {
	if t, ok := v.(interface{ Text() string }); ok {
		return t.Text() // a rendering of its own
	}
	var head, lists, blocks []string
	walkFields(reflect.ValueOf(v), func(name string, f reflect.Value) {
		switch {
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			lines := []string{fmt.Sprintf("%d %s:", f.Len(), strings.ReplaceAll(name, "_", " "))}
			for i := range f.Len() {
				lines = append(lines, "- "+inline(f.Index(i)))
			}
			lists = append(lists, strings.Join(lines, "\n"))
		case f.Kind() == reflect.String && (f.Len() > 300 || strings.Contains(f.String(), "\n")):
			blocks = append(blocks, name+":\n"+f.String())
		case name == "next_cursor" && f.String() != "":
			head = append(head, "more: pass cursor="+strconv.Quote(f.String()))
		default:
			if s := scalar(f); s != "" {
				head = append(head, name+": "+s)
			}
		}
	})
	return strings.Join(append(append(head, lists...), blocks...), "\n")
}

// inline is one list item: the set fields as name=value, short.
func inline(v reflect.Value) string {
	var parts []string
	walkFields(v, func(name string, f reflect.Value) {
		if s := scalar(f); s != "" {
			if s == "true" {
				parts = append(parts, name)
			} else {
				parts = append(parts, name+"="+s)
			}
		}
	})
	return strings.Join(parts, "; ")
}

// walkFields calls fn for each field with a JSON name, embedded fields
// flattened, skipping what is zero.
func walkFields(v reflect.Value, fn func(name string, f reflect.Value)) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		sf, f := t.Field(i), v.Field(i)
		if !sf.IsExported() {
			continue
		}
		if sf.Anonymous {
			walkFields(f, fn)
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" || f.IsZero() || f.Kind() == reflect.Slice && f.Len() == 0 {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fn(name, f)
	}
}

// scalar renders a value on one line, long strings cut; "" for what does
// not fit on a line (lists of structs) or is zero.
func scalar(f reflect.Value) string {
	if t, ok := f.Interface().(time.Time); ok {
		return t.Format(time.RFC3339)
	}
	switch f.Kind() {
	case reflect.String:
		s := oneline.Clean(f.String())
		if r := []rune(s); len(r) > 120 {
			s = string(r[:120]) + "…"
		}
		return s
	case reflect.Bool:
		return strconv.FormatBool(f.Bool())
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(f.Int(), 10)
	case reflect.Float64, reflect.Float32:
		return strconv.FormatFloat(f.Float(), 'f', -1, 64)
	case reflect.Slice:
		if f.Type().Elem().Kind() == reflect.String {
			var items []string
			for i := range f.Len() {
				items = append(items, oneline.Clean(f.Index(i).String()))
			}
			return strings.Join(items, ", ")
		}
	case reflect.Struct:
		if s := inline(f); s != "" {
			return "{" + s + "}"
		}
	case reflect.Pointer:
		if !f.IsNil() {
			return scalar(f.Elem())
		}
	}
	return ""
}
