package graph

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// fielder exposes an entity's properties to $filter by OData path
// (lower case, "/" between segments). Values are string, bool, time.Time,
// float64, []string or nil.
type fielder interface {
	field(path string) any
}

// node is a parsed $filter expression.
type node interface {
	eval(f fielder) bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ n node }
type cmpNode struct {
	prop string
	op   string
	val  any
}
type funcNode struct {
	name       string // contains, startswith, endswith
	prop, text string
}
type anyNode struct {
	prop string // collection of strings
	op   string
	val  string
}

func (n andNode) eval(f fielder) bool { return n.l.eval(f) && n.r.eval(f) }
func (n orNode) eval(f fielder) bool  { return n.l.eval(f) || n.r.eval(f) }
func (n notNode) eval(f fielder) bool { return !n.n.eval(f) }

func (n cmpNode) eval(f fielder) bool {
	c, ok := compare(f.field(n.prop), n.val)
	if !ok {
		return n.op == "ne"
	}
	switch n.op {
	case "eq":
		return c == 0
	case "ne":
		return c != 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

func (n funcNode) eval(f fielder) bool {
	s, _ := f.field(n.prop).(string)
	s, t := strings.ToLower(s), strings.ToLower(n.text)
	switch n.name {
	case "contains":
		return strings.Contains(s, t)
	case "startswith":
		return strings.HasPrefix(s, t)
	default:
		return strings.HasSuffix(s, t)
	}
}

func (n anyNode) eval(f fielder) bool {
	list, _ := f.field(n.prop).([]string)
	for _, s := range list {
		if n.op == "eq" && strings.EqualFold(s, n.val) || n.op == "ne" && !strings.EqualFold(s, n.val) {
			return true
		}
	}
	return false
}

// compare orders a property value against a literal; ok is false when the
// two cannot be compared (null, or different kinds).
func compare(v, lit any) (int, bool) {
	switch v := v.(type) {
	case string:
		l, ok := lit.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(strings.ToLower(v), strings.ToLower(l)), true
	case bool:
		l, ok := lit.(bool)
		if !ok {
			return 0, false
		}
		if v == l {
			return 0, true
		}
		if v {
			return 1, true
		}
		return -1, true
	case time.Time:
		var l time.Time
		switch x := lit.(type) {
		case time.Time:
			l = x
		case string:
			t, err := parseDateTime(x)
			if err != nil {
				return 0, false
			}
			l = t
		default:
			return 0, false
		}
		return v.Compare(l), true
	case float64:
		l, ok := lit.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case v < l:
			return -1, true
		case v > l:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// parseDateTime accepts the ISO 8601 forms Graph accepts; a time without an
// offset is UTC.
func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	_, err := time.Parse(time.RFC3339, s)
	return time.Time{}, err
}

// filterParser is a recursive-descent parser for the $filter subset Outlook
// and OneDrive accept.
type filterParser struct {
	toks  []string
	pos   int
	et    entityType
	props []string
	err   *apiError
}

func parseFilter(src string, et entityType) (node, []string, *apiError) {
	toks, ok := tokenize(src)
	if !ok {
		return nil, nil, badRequest("BadRequest", "Invalid filter clause: syntax error in '%s'.", src)
	}
	p := &filterParser{toks: toks, et: et}
	n := p.or()
	if p.err == nil && p.pos != len(p.toks) {
		p.fail("unexpected '%s'", p.toks[p.pos])
	}
	if p.err != nil {
		return nil, nil, p.err
	}
	return n, p.props, nil
}

func tokenize(s string) ([]string, bool) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case strings.IndexByte("(),:", c) >= 0:
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(s) {
					return nil, false
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, "'"+b.String())
			i = j + 1
		default:
			j := i
			digit := unicode.IsDigit(rune(c))
			for j < len(s) && (isWordByte(s[j]) || digit && s[j] == ':') {
				j++
			}
			if j == i {
				return nil, false
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_./-+@", c) >= 0
}

func (p *filterParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = badRequest("BadRequest", "Invalid filter clause: "+format+".", args...)
	}
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *filterParser) expect(t string) {
	if got := p.next(); got != t {
		p.fail("expected '%s'", t)
	}
}

func (p *filterParser) or() node {
	n := p.and()
	for p.err == nil && strings.EqualFold(p.peek(), "or") {
		p.next()
		n = orNode{n, p.and()}
	}
	return n
}

func (p *filterParser) and() node {
	n := p.unary()
	for p.err == nil && strings.EqualFold(p.peek(), "and") {
		p.next()
		n = andNode{n, p.unary()}
	}
	return n
}

func (p *filterParser) unary() node {
	switch t := p.peek(); {
	case strings.EqualFold(t, "not"):
		p.next()
		return notNode{p.unary()}
	case t == "(":
		p.next()
		n := p.or()
		p.expect(")")
		return n
	}
	return p.primary()
}

func (p *filterParser) property(name string) string {
	prop := strings.ToLower(name)
	if !p.et.props[prop] {
		if p.err == nil {
			p.err = badRequest("RequestBroker--ParseUri", "Could not find a property named '%s' on type '%s'.", name, p.et.name)
		}
		return prop
	}
	if !containsString(p.props, prop) {
		p.props = append(p.props, prop)
	}
	return prop
}

func (p *filterParser) primary() node {
	t := p.next()
	if t == "" || strings.HasPrefix(t, "'") {
		p.fail("expected a property")
		return cmpNode{}
	}
	switch fn := strings.ToLower(t); fn {
	case "contains", "startswith", "endswith":
		p.expect("(")
		prop := p.property(p.next())
		p.expect(",")
		lit := p.next()
		if !strings.HasPrefix(lit, "'") {
			p.fail("%s expects a string", fn)
		}
		p.expect(")")
		return funcNode{name: fn, prop: prop, text: strings.TrimPrefix(lit, "'")}
	}
	if base, ok := strings.CutSuffix(t, "/any"); ok {
		prop := p.property(base)
		p.expect("(")
		v := p.next()
		p.expect(":")
		if p.next() != v {
			p.fail("lambda variable mismatch")
		}
		op := strings.ToLower(p.next())
		lit := p.next()
		p.expect(")")
		if op != "eq" && op != "ne" || !strings.HasPrefix(lit, "'") {
			p.fail("unsupported lambda expression")
		}
		return anyNode{prop: prop, op: op, val: strings.TrimPrefix(lit, "'")}
	}
	prop := p.property(t)
	op := strings.ToLower(p.next())
	switch op {
	case "eq", "ne", "gt", "ge", "lt", "le":
	default:
		p.fail("unsupported operator '%s'", op)
		return cmpNode{}
	}
	lit := p.next()
	if lit == "" || lit == ")" || lit == "(" || lit == "," {
		p.fail("expected a value after '%s'", op)
	}
	return cmpNode{prop: prop, op: op, val: literal(lit)}
}

func literal(t string) any {
	switch {
	case strings.HasPrefix(t, "'"):
		return t[1:]
	case t == "true":
		return true
	case t == "false":
		return false
	case t == "null":
		return nil
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		return f
	}
	if tm, err := parseDateTime(t); err == nil {
		return tm
	}
	return t
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
