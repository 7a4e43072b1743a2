package sandbox_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProductCodeNeverImportsTheSandbox keeps the sandbox out of production
// behaviour: only the command and test support may wire it in.
func TestProductCodeNeverImportsTheSandbox(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}: {{join .Deps " "}}`, "graphgate/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ": ")
		// Test-support packages (apptest, storetest, browsertest) and the
		// measuring scripts may use it too.
		if strings.HasPrefix(pkg, "graphgate/internal/sandbox") || pkg == "graphgate/cmd/graphgate" || strings.HasSuffix(pkg, "test") ||
			strings.HasPrefix(pkg, "graphgate/scripts/") {
			continue
		}
		checked++
		for _, d := range strings.Fields(deps) {
			if strings.HasPrefix(d, "graphgate/internal/sandbox") {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no product package was checked")
	}
}
