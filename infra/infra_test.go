// Package infra_test checks the deployment files offline: the Helm chart
// rendered as Helm renders it (Go templates with Sprig's functions and
// Helm's include, required and toYaml), the compose file, the Dockerfile
// and the Bicep template.
package infra_test

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"go.yaml.in/yaml/v3"
)

const chartDir = "helm/webscheduler"

// object is one rendered Kubernetes object.
type object map[string]any

func (o object) kind() string { return str(o["kind"]) }

func str(v any) string { s, _ := v.(string); return s }

// at walks a path of map keys and list indexes ("spec.template.spec.containers.0").
func at(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case object:
			v = x[k]
		case []any:
			i := -1
			fmt.Sscan(k, &i)
			if i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// merge sets overrides (dotted paths) in values.
func merge(values map[string]any, overrides map[string]any) {
	for path, v := range overrides {
		m := values
		keys := strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = v
	}
}

// render renders the chart with overrides and returns its objects.
func render(t *testing.T, overrides map[string]any) ([]object, error) {
	t.Helper()
	var values, chart map[string]any
	readYAML(t, filepath.Join(chartDir, "values.yaml"), &values)
	readYAML(t, filepath.Join(chartDir, "Chart.yaml"), &chart)
	merge(values, overrides)
	top := map[string]any{
		"Values":  values,
		"Release": map[string]any{"Name": "ws", "Namespace": "default", "Service": "Helm", "IsInstall": true},
		"Chart":   map[string]any{"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
	}
	tpl := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env") // as Helm: templates do not read the environment
	delete(funcs, "expandenv")
	funcs["include"] = func(name string, data any) (string, error) {
		var b strings.Builder
		err := tpl.ExecuteTemplate(&b, name, data)
		return b.String(), err
	}
	funcs["required"] = func(msg string, v any) (any, error) {
		if v == nil || v == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["toYaml"] = func(v any) string {
		b, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(b), "\n")
	}
	tpl.Funcs(funcs)
	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tpl.New(filepath.Base(f)).Parse(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	var out []object
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasPrefix(name, "_") || !strings.HasSuffix(name, ".yaml") {
			continue
		}
		var b strings.Builder
		if err := tpl.ExecuteTemplate(&b, name, top); err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(strings.NewReader(strings.ReplaceAll(b.String(), "<no value>", "")))
		for {
			var o object
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s renders invalid YAML: %v\n%s", name, err, b.String())
			}
			if o != nil {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

func mustRender(t *testing.T, overrides map[string]any) []object {
	t.Helper()
	objs, err := render(t, overrides)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func find(t *testing.T, objs []object, kind, name string) object {
	t.Helper()
	for _, o := range objs {
		if o.kind() == kind && (name == "" || at(o, "metadata.name") == name) {
			return o
		}
	}
	return nil
}

// required are the values every install gives.
func required() map[string]any {
	return map[string]any{
		"publicURL": "https://webscheduler.contoso.example", "tenantID": "7e3c1d2a-5b4f-4c8e-9a61-0f2d3b4c5a6e",
		"clientID": "5a0c9e1b-2d3f-4a6b-8c7d-9e0f1a2b3c4d", "existingSecret": "webscheduler",
		"settings": "provider: template\n",
	}
}

func with(base map[string]any, more map[string]any) map[string]any {
	out := maps.Clone(base)
	maps.Copy(out, more)
	return out
}

func env(c any) map[string]any {
	out := map[string]any{}
	list, _ := at(c, "env").([]any)
	for _, e := range list {
		out[str(at(e, "name"))] = e
	}
	return out
}

func TestChartNeedsItsValues(t *testing.T) {
	t.Parallel()
	for _, missing := range []string{"existingSecret", "publicURL", "tenantID", "clientID"} {
		v := required()
		v[missing] = ""
		if _, err := render(t, v); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: %v", missing, err)
		}
	}
}

func TestChartDefaults(t *testing.T) {
	t.Parallel()
	objs := mustRender(t, required())
	dep := find(t, objs, "Deployment", "ws-webscheduler")
	if dep == nil {
		t.Fatalf("no Deployment among %d objects", len(objs))
	}
	hpa := find(t, objs, "HorizontalPodAutoscaler", "")
	if hpa == nil || at(hpa, "spec.minReplicas").(int) < 2 || at(dep, "spec.replicas") != nil {
		t.Fatalf("the HPA must own the replica count, at least 2: %v / %v", at(hpa, "spec"), at(dep, "spec.replicas"))
	}
	pdb := find(t, objs, "PodDisruptionBudget", "")
	if pdb == nil || at(pdb, "spec.minAvailable") != 1 || at(pdb, "spec.selector.matchLabels") == nil {
		t.Fatalf("PodDisruptionBudget: %v", pdb)
	}
	c := at(dep, "spec.template.spec.containers.0")
	if at(c, "livenessProbe.httpGet.path") != "/healthz" || at(c, "readinessProbe.httpGet.path") != "/readyz" {
		t.Errorf("probes: %v %v", at(c, "livenessProbe"), at(c, "readinessProbe"))
	}
	for _, r := range []string{"limits.cpu", "limits.memory", "requests.cpu", "requests.memory"} {
		if at(c, "resources."+r) == nil {
			t.Errorf("no resources.%s", r)
		}
	}
	if at(c, "securityContext.readOnlyRootFilesystem") != true || at(dep, "spec.template.spec.securityContext.runAsNonRoot") != true {
		t.Error("the container must run as non-root on a read-only file system")
	}
	e := env(c)
	for _, name := range []string{"WEBSCHEDULER_CLIENT_SECRET", "WEBSCHEDULER_ENCRYPTION_KEY"} {
		if at(e[name], "valueFrom.secretKeyRef.name") != "webscheduler" || at(e[name], "value") != nil {
			t.Errorf("%s is not taken from the existing secret: %v", name, e[name])
		}
	}
	if v := str(at(e["WEBSCHEDULER_REDIS_URL"], "value")); v != "redis://ws-webscheduler-redis:6379/0" {
		t.Errorf("bundled Redis URL %q", v)
	}
	if at(e["WEBSCHEDULER_SETTINGS"], "value") != "/etc/webscheduler/settings.yaml" || find(t, objs, "ConfigMap", "ws-webscheduler-settings") == nil {
		t.Error("the settings file is not mounted")
	}
	redis := find(t, objs, "StatefulSet", "ws-webscheduler-redis")
	if args := fmt.Sprint(at(redis, "spec.template.spec.containers.0.args")); !strings.Contains(args, "--appendonly yes") {
		t.Errorf("bundled Redis without AOF: %s", args)
	}
	if at(redis, "spec.volumeClaimTemplates.0.spec.resources.requests.storage") == nil {
		t.Error("bundled Redis without a volume")
	}
	if np := find(t, objs, "NetworkPolicy", ""); np == nil {
		t.Error("no NetworkPolicy for the bundled Redis")
	}
	if _, ok := e["WEBSCHEDULER_TRUSTED_PROXIES"]; ok {
		t.Error("proxies are trusted by default")
	}
	noInlineSecrets(t, objs)

	objs = mustRender(t, with(required(), map[string]any{"trustedProxies": "10.244.0.0/16"}))
	e = env(at(find(t, objs, "Deployment", ""), "spec.template.spec.containers.0"))
	if v := at(e["WEBSCHEDULER_TRUSTED_PROXIES"], "value"); v != "10.244.0.0/16" {
		t.Errorf("trustedProxies: %v", v)
	}
}

// noInlineSecrets: the chart renders no Secret, and every value that is a
// credential comes from a secretKeyRef.
func noInlineSecrets(t *testing.T, objs []object) {
	t.Helper()
	credential := regexp.MustCompile(`(?i)secret|password|encryption_key|token`)
	for _, o := range objs {
		if o.kind() == "Secret" {
			t.Errorf("the chart renders a Secret %v", at(o, "metadata.name"))
		}
		for _, c := range []any{at(o, "spec.template.spec.containers.0")} {
			if c == nil {
				continue
			}
			for name, e := range env(c) {
				if credential.MatchString(name) && at(e, "valueFrom.secretKeyRef") == nil {
					t.Errorf("%s/%s: %s is inline", o.kind(), at(o, "metadata.name"), name)
				}
			}
		}
	}
}

func TestChartExternalRedisPasswordAndCertificate(t *testing.T) {
	t.Parallel()
	objs := mustRender(t, with(required(), map[string]any{"redis.enabled": false, "clientCertKey": "client.pem"}))
	if find(t, objs, "StatefulSet", "") != nil || find(t, objs, "NetworkPolicy", "") != nil {
		t.Error("an external Redis still gets the bundled one")
	}
	dep := find(t, objs, "Deployment", "")
	e := env(at(dep, "spec.template.spec.containers.0"))
	if at(e["WEBSCHEDULER_REDIS_URL"], "valueFrom.secretKeyRef.key") != "WEBSCHEDULER_REDIS_URL" {
		t.Errorf("external Redis URL: %v", e["WEBSCHEDULER_REDIS_URL"])
	}
	if _, ok := e["WEBSCHEDULER_CLIENT_SECRET"]; ok || at(e["WEBSCHEDULER_CLIENT_CERT"], "value") != "/etc/webscheduler/credential/client.pem" {
		t.Errorf("certificate credential: %v", e)
	}
	noInlineSecrets(t, objs)

	objs = mustRender(t, with(required(), map[string]any{"redis.passwordKey": "REDIS_PASSWORD"}))
	e = env(at(find(t, objs, "Deployment", ""), "spec.template.spec.containers.0"))
	if v := str(at(e["WEBSCHEDULER_REDIS_URL"], "value")); v != "redis://:$(REDIS_PASSWORD)@ws-webscheduler-redis:6379/0" || at(e["REDIS_PASSWORD"], "valueFrom.secretKeyRef.key") != "REDIS_PASSWORD" {
		t.Errorf("Redis password: %v %v", v, e["REDIS_PASSWORD"])
	}
	noInlineSecrets(t, objs)
}

func TestChartReplicas(t *testing.T) {
	t.Parallel()
	if _, err := render(t, with(required(), map[string]any{"autoscaling.minReplicas": 1})); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Fatalf("one replica accepted: %v", err)
	}
	objs := mustRender(t, with(required(), map[string]any{"autoscaling.enabled": false}))
	if r := at(find(t, objs, "Deployment", ""), "spec.replicas"); r != 2 || find(t, objs, "HorizontalPodAutoscaler", "") != nil {
		t.Fatalf("replicas without autoscaling: %v", r)
	}
	objs = mustRender(t, with(required(), map[string]any{"ingress.enabled": true, "ingress.tlsSecretName": "tls"}))
	if h := at(find(t, objs, "Ingress", ""), "spec.rules.0.host"); h != "webscheduler.contoso.example" {
		t.Fatalf("ingress host %v", h)
	}
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	var c map[string]any
	readYAML(t, "compose.yaml", &c)
	redis, ws := at(c, "services.redis"), at(c, "services.webscheduler")
	cmd := fmt.Sprint(at(redis, "command"))
	if !strings.Contains(cmd, "--appendonly yes") || !strings.Contains(cmd, "--appendfsync everysec") {
		t.Errorf("Redis without AOF: %s", cmd)
	}
	if test := fmt.Sprint(at(redis, "healthcheck.test")); !strings.Contains(test, "redis-cli ping") {
		t.Errorf("Redis health check: %s", test)
	}
	if at(ws, "depends_on.redis.condition") != "service_healthy" || at(ws, "environment.WEBSCHEDULER_REDIS_URL") == nil {
		t.Errorf("webscheduler must wait for a healthy Redis: %v", at(ws, "depends_on"))
	}
	if at(redis, "volumes") == nil || at(c, "volumes.redis-data") == nil && !slices.Contains(keys(at(c, "volumes")), "redis-data") {
		t.Error("Redis data is not on a volume")
	}
	for k, v := range at(ws, "environment").(map[string]any) {
		if strings.Contains(k, "SECRET") || strings.Contains(k, "KEY") {
			if s := str(v); !strings.HasPrefix(s, "${") {
				t.Errorf("%s is inline in the compose file", k)
			}
		}
	}
}

func keys(v any) []string {
	m, _ := v.(map[string]any)
	return slices.Sorted(maps.Keys(m))
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := string(b)
	if strings.Count(d, "\nFROM ") < 2 || !strings.Contains(d, "CGO_ENABLED=0") || !strings.Contains(d, "distroless/static") ||
		!strings.Contains(d, "USER nonroot") {
		t.Errorf("want a multi-stage build of a static binary on a non-root distroless image:\n%s", d)
	}
}

func TestBicep(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("azure/main.bicep")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"@minValue(2)\n@description('At least two replicas",
		"minReplicas: minReplicas",
		"path: '/healthz'", "path: '/readyz'",
		"{ name: 'WEBSCHEDULER_CLIENT_SECRET', secretRef: 'client-secret' }",
		"{ name: 'WEBSCHEDULER_ENCRYPTION_KEY', secretRef: 'encryption-key' }",
		"{ name: 'WEBSCHEDULER_REDIS_URL', secretRef: 'redis-url' }",
		"{ name: 'WEBSCHEDULER_TRUSTED_PROXIES', value: trustedProxies }",
		"keyVaultUrl: '${vault.properties.vaultUri}secrets/client-secret'",
		"enableNonSslPort: false",
		"'aof-backup-enabled': 'true'",
		"Microsoft.Cache/redis@", "Microsoft.App/containerApps@",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("main.bicep lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?m)^param \w*(?i:secret|password|key)\w* `).MatchString(strings.ReplaceAll(s, "param keyVaultName", "")) {
		t.Error("a secret is a template parameter; it belongs in Key Vault")
	}
	if strings.Count(s, "{") != strings.Count(s, "}") || strings.Count(s, "[") != strings.Count(s, "]") {
		t.Error("unbalanced braces or brackets")
	}
}
