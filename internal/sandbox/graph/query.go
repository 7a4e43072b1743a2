package graph

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// apiError is a Graph error to be written with WriteError.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) write(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, e.status, e.code, e.message)
}

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, code, fmt.Sprintf(format, args...)}
}

// odataParam reads a system query option; Graph accepts it with or without "$".
func odataParam(q url.Values, name string) (string, bool) {
	if v, ok := q["$"+name]; ok {
		return v[0], true
	}
	if v, ok := q[name]; ok {
		return v[0], true
	}
	return "", false
}

// listQuery is the parsed OData query of a collection request.
type listQuery struct {
	top     int
	offset  int // from $skip or $skiptoken
	selects []string
	filter  node
	props   []string // properties in $filter, in order of appearance
	orderby []orderKey
	search  string
	hasSkip bool
}

type orderKey struct {
	prop string
	desc bool
}

// entityType describes what a collection holds, for query validation.
type entityType struct {
	name     string          // for error messages: microsoft.graph.message
	props    map[string]bool // filterable and sortable property paths, lower case
	maxTop   int
	defTop   int
	skipName string // "$skip" or "$skiptoken": how nextLinks page
	// orderInFilter applies Outlook's message rule for $filter with $orderby.
	orderInFilter bool
}

func parseListQuery(r *http.Request, et entityType) (listQuery, *apiError) {
	q := r.URL.Query()
	lq := listQuery{top: et.defTop}
	if v, ok := odataParam(q, "top"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > et.maxTop {
			return lq, badRequest("ErrorInvalidParameter", "Invalid value '%s' for query option '$top'; it must be between 1 and %d.", v, et.maxTop)
		}
		lq.top = n
	}
	if v, ok := odataParam(q, "skip"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, badRequest("ErrorInvalidParameter", "Invalid value '%s' for query option '$skip'.", v)
		}
		lq.offset, lq.hasSkip = n, true
	}
	if v, ok := odataParam(q, "skiptoken"); ok {
		n, err := decodeSkipToken(v)
		if err != nil {
			return lq, badRequest("ErrorInvalidParameter", "The skip token is not valid.")
		}
		lq.offset = n
	}
	if v, ok := odataParam(q, "select"); ok {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				lq.selects = append(lq.selects, f)
			}
		}
	}
	if v, ok := odataParam(q, "search"); ok {
		lq.search = strings.TrimSpace(v)
		if lq.search == "" {
			return lq, badRequest("BadRequest", "Invalid $search query: the search term is empty.")
		}
	}
	if v, ok := odataParam(q, "filter"); ok {
		if lq.search != "" {
			return lq, badRequest("ErrorInvalidUrlQueryFilter", "The query parameter '$filter' is not supported with '$search'.")
		}
		n, props, err := parseFilter(v, et)
		if err != nil {
			return lq, err
		}
		lq.filter, lq.props = n, props
	}
	if v, ok := odataParam(q, "orderby"); ok {
		if lq.search != "" {
			return lq, badRequest("SearchWithOrderBy", "This request is not supported. Search with orderby is not supported.")
		}
		for _, part := range strings.Split(v, ",") {
			f := strings.Fields(part)
			if len(f) == 0 || len(f) > 2 || len(f) == 2 && f[1] != "asc" && f[1] != "desc" {
				return lq, badRequest("BadRequest", "Invalid $orderby expression '%s'.", v)
			}
			if !et.props[strings.ToLower(f[0])] {
				return lq, badRequest("RequestBroker--ParseUri", "Could not find a property named '%s' on type '%s'.", f[0], et.name)
			}
			lq.orderby = append(lq.orderby, orderKey{prop: strings.ToLower(f[0]), desc: len(f) == 2 && f[1] == "desc"})
		}
		if et.orderInFilter && lq.filter != nil && !orderFitsFilter(lq.orderby, lq.props) {
			return lq, badRequest("InefficientFilter", "The restriction or sort order is too complex for this operation.")
		}
	}
	return lq, nil
}

// orderFitsFilter is Outlook's rule for $filter with $orderby: the ordered
// properties must come first in the filter, in the same order.
func orderFitsFilter(order []orderKey, props []string) bool {
	if len(order) > len(props) {
		return false
	}
	for i, k := range order {
		if props[i] != k.prop {
			return false
		}
	}
	return true
}

func encodeSkipToken(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o=" + strconv.Itoa(n)))
}

func decodeSkipToken(s string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	v, ok := strings.CutPrefix(string(b), "o=")
	if !ok {
		return 0, fmt.Errorf("bad skip token")
	}
	return strconv.Atoi(v)
}

// page cuts one page out of items and returns the nextLink for the rest,
// keeping the request's own query so the link works when followed verbatim.
func page[T any](r *http.Request, items []T, lq listQuery, et entityType) ([]T, string) {
	start := min(lq.offset, len(items))
	end := min(start+lq.top, len(items))
	if end >= len(items) {
		return items[start:end], ""
	}
	q := r.URL.Query()
	for _, k := range []string{"$skip", "skip", "$skiptoken", "skiptoken"} {
		q.Del(k)
	}
	if et.skipName == "$skiptoken" || lq.search != "" {
		q.Set("$skiptoken", encodeSkipToken(end))
	} else {
		q.Set("$skip", strconv.Itoa(end))
	}
	return items[start:end], baseURL(r) + r.URL.Path + "?" + encodeQuery(q)
}

// encodeQuery keeps "$" unescaped in names, as Graph's own links do.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(strings.ReplaceAll(url.QueryEscape(k), "%24", "$"))
			b.WriteByte('=')
			b.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	return b.String()
}

// writeCollection writes a Graph collection response.
func writeCollection[T any](w http.ResponseWriter, r *http.Request, context string, items []T, next string, selects []string, extra map[string]any) {
	values := make([]any, len(items))
	for i, it := range items {
		values[i] = project(it, selects)
	}
	body := map[string]any{"@odata.context": baseURL(r) + "/v1.0/$metadata#" + context, "value": values}
	if next != "" {
		body["@odata.nextLink"] = next
	}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, http.StatusOK, body)
}

// project applies $select. Graph always returns the id (and etag) of an entity.
func project(v any, selects []string) any {
	if len(selects) == 0 {
		return v
	}
	keep := func(k string) bool {
		if k == "id" || k == "@odata.etag" || k == "@odata.type" {
			return true
		}
		for _, s := range selects {
			if strings.EqualFold(k, s) {
				return true
			}
		}
		return false
	}
	out := map[string]any{}
	if m, ok := v.(map[string]any); ok {
		for k, val := range m {
			if keep(k) {
				out[k] = val
			}
		}
		return out
	}
	rv := reflect.Indirect(reflect.ValueOf(v))
	if rv.Kind() != reflect.Struct {
		return v
	}
	for _, f := range jsonFields(rv.Type()) {
		if keep(f.name) {
			out[f.name] = rv.Field(f.index).Interface()
		}
	}
	return out
}

type jsonField struct {
	name  string
	index int
}

var fieldCache sync.Map // reflect.Type -> []jsonField

// jsonFields lists a struct's JSON property names, computed once per type.
func jsonFields(t reflect.Type) []jsonField {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]jsonField)
	}
	var fields []jsonField
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if !sf.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fields = append(fields, jsonField{name, i})
	}
	fieldCache.Store(t, fields)
	return fields
}
