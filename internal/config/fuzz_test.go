package config

import (
	"strings"
	"testing"
)

// FuzzLoad: any value of any variable is accepted or refused with an error
// that names the variable; secrets never appear in the dump.
func FuzzLoad(f *testing.F) {
	for i, v := range variables {
		f.Add(i, v.def)
	}
	f.Add(1, "graphgate.example.com")
	f.Add(5, "Contoso")
	f.Add(12, "0s")
	f.Fuzz(func(t *testing.T, i int, value string) {
		if i < 0 {
			i = -i
		}
		v := variables[i%len(variables)]
		env := map[string]string{v.name: value}
		// The admin's email and password go together.
		switch v.name {
		case "GRAPHGATE_ADMIN_EMAIL":
			env["GRAPHGATE_ADMIN_PASSWORD"] = "a-password-long-enough"
		case "GRAPHGATE_ADMIN_PASSWORD":
			env["GRAPHGATE_ADMIN_EMAIL"] = "admin@example.test"
		}
		c, err := Load(func(k string) (string, bool) { val, ok := env[k]; return val, ok }, nil)
		if err != nil {
			if !strings.Contains(err.Error(), v.name) && !strings.Contains(err.Error(), "GRAPHGATE_") {
				t.Fatalf("%s=%q: error names no variable: %v", v.name, value, err)
			}
			return
		}
		for line := range strings.Lines(c.Dump()) {
			name, shown, _ := strings.Cut(strings.TrimSpace(line), "=")
			sqlitePath := v.name == "GRAPHGATE_DATABASE_URL" && !strings.Contains(value, "://")
			if name == v.name && v.secret && strings.TrimSpace(value) != "" && shown != "<redacted>" && !sqlitePath {
				t.Fatalf("the dump shows %s as %q", v.name, shown)
			}
		}
	})
}
