package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"graphgate/internal/config"
)

var graphgateVar = regexp.MustCompile(`GRAPHGATE_[A-Z0-9_]+`)

// TestNamesOnlyConfigurationThatExists: a misspelt variable in a deployment
// file would be ignored silently, leaving a default in production.
func TestNamesOnlyConfigurationThatExists(t *testing.T) {
	known := config.Names()
	files := []string{"../Dockerfile", "compose/compose.yaml", "compose/nginx.conf", "kubernetes/graphgate.yaml"}
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range graphgateVar.FindAllString(string(b), -1) {
			seen++
			if !slices.Contains(known, name) {
				t.Errorf("%s names %s, which graphgate does not read", f, name)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("only %d variables found: the files were not read", seen)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "USER 65532", "HEALTHCHECK", `"/graphgate", "healthcheck"`, "distroless/static", "GRAPHGATE_ENV=production"} {
		if !strings.Contains(d, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if n := strings.Count(d, "\nFROM "); n < 2 {
		t.Errorf("want a multi-stage build, got %d stages", n)
	}
}

func TestCompose(t *testing.T) {
	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
			DependsOn   any               `yaml:"depends_on"`
		} `yaml:"services"`
		Secrets  map[string]map[string]string `yaml:"secrets"`
		Networks struct {
			Default struct {
				IPAM struct {
					Config []struct {
						Subnet string `yaml:"subnet"`
					} `yaml:"config"`
				} `yaml:"ipam"`
			} `yaml:"default"`
		} `yaml:"networks"`
	}
	readYAML(t, "compose/compose.yaml", &c)
	replicas := 0
	for name, s := range c.Services {
		if !strings.HasPrefix(name, "graphgate-") {
			continue
		}
		replicas++
		if s.Environment["GRAPHGATE_ENV"] != "production" || s.Environment["GRAPHGATE_DATABASE_URL_FILE"] == "" || s.Environment["GRAPHGATE_ENCRYPTION_KEY_FILE"] == "" {
			t.Errorf("%s: production, the database URL and the key as files: %v", name, s.Environment)
		}
		// Behind nginx, the limits count clients only if nginx's network
		// is trusted, and only it.
		if cfg := c.Networks.Default.IPAM.Config; len(cfg) != 1 || s.Environment["GRAPHGATE_TRUSTED_PROXIES"] != cfg[0].Subnet {
			t.Errorf("%s: GRAPHGATE_TRUSTED_PROXIES %q, want the compose network %v", name, s.Environment["GRAPHGATE_TRUSTED_PROXIES"], cfg)
		}
		for _, sec := range s.Secrets {
			if _, ok := c.Secrets[sec]; !ok {
				t.Errorf("%s uses the undeclared secret %s", name, sec)
			}
		}
	}
	if replicas < 2 || c.Services["postgres"].Image == "" || c.Services["nginx"].Image == "" {
		t.Fatalf("want several replicas, postgres and nginx: %d replicas", replicas)
	}
	conf, _ := os.ReadFile("compose/nginx.conf")
	for name := range c.Services {
		if strings.HasPrefix(name, "graphgate-") && !strings.Contains(string(conf), "server "+name+":8080") {
			t.Errorf("nginx does not balance %s", name)
		}
	}
}

func TestKubernetes(t *testing.T) {
	f, err := os.Open("kubernetes/graphgate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kinds := map[string]map[string]any{}
	dec := yaml.NewDecoder(f)
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			break
		}
		kinds[doc["kind"].(string)] = doc
	}
	for _, k := range []string{"Deployment", "Service", "PodDisruptionBudget"} {
		if kinds[k] == nil {
			t.Fatalf("no %s", k)
		}
	}
	var dep struct {
		Spec struct {
			Template struct {
				Spec struct {
					SecurityContext struct {
						RunAsNonRoot bool `yaml:"runAsNonRoot"`
					} `yaml:"securityContext"`
					Containers []struct {
						Env []struct {
							Name  string `yaml:"name"`
							Value string `yaml:"value"`
						} `yaml:"env"`
						ReadinessProbe struct {
							HTTPGet struct {
								Path string `yaml:"path"`
							} `yaml:"httpGet"`
						} `yaml:"readinessProbe"`
						LivenessProbe struct {
							HTTPGet struct {
								Path string `yaml:"path"`
							} `yaml:"httpGet"`
						} `yaml:"livenessProbe"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	b, _ := yaml.Marshal(kinds["Deployment"])
	if err := yaml.Unmarshal(b, &dep); err != nil {
		t.Fatal(err)
	}
	pod := dep.Spec.Template.Spec
	if !pod.SecurityContext.RunAsNonRoot || len(pod.Containers) != 1 {
		t.Fatal("the pod must run as non-root, one container")
	}
	c := pod.Containers[0]
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes: readiness %q, liveness %q", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	for _, e := range c.Env {
		secretVar := strings.HasSuffix(e.Name, "_FILE")
		for _, secret := range []string{"GRAPHGATE_DATABASE_URL", "GRAPHGATE_ENCRYPTION_KEY", "GRAPHGATE_ADMIN_PASSWORD", "GRAPHGATE_METRICS_TOKEN"} {
			if e.Name == secret && !secretVar {
				t.Errorf("%s is given in clear: use %s_FILE", e.Name, e.Name)
			}
		}
		if secretVar && !strings.HasPrefix(e.Value, "/run/secrets/") {
			t.Errorf("%s points outside the mounted secret: %s", e.Name, e.Value)
		}
	}
}

func readYAML(t *testing.T, path string, out any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
