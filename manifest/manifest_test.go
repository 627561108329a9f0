package manifest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/webscheduler/webscheduler/addin"
	"github.com/webscheduler/webscheduler/backend/oracle"
)

var update = flag.Bool("update", false, "rewrite the example manifests")

var example = Config{PublicURL: "https://webscheduler.example.com", ClientID: "00000000-0000-0000-0000-000000000000", Version: "1.0.0"}

// TestExamples keeps manifest.xml and manifest.json, the example pair in
// the repository, equal to what the generator makes.
func TestExamples(t *testing.T) {
	t.Parallel()
	for file, gen := range map[string]func(Config) ([]byte, error){"manifest.xml": XML, "manifest.json": JSON} {
		got, err := gen(example)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go test ./manifest -update", file)
		}
	}
}

func TestXMLValid(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{example, {PublicURL: "https://meet.contoso.example:8443/scheduler/", ClientID: "5A0C9E1B-2D3F-4A6B-8C7D-9E0F1A2B3C4D", Version: "v2.10.3"}} {
		doc, err := XML(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateXML(t, doc, c); err != nil {
			t.Errorf("%s: %v", c.PublicURL, err)
		}
	}
}

func TestJSONValid(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{example, {PublicURL: "https://meet.contoso.example:8443/scheduler/", ClientID: "5A0C9E1B-2D3F-4A6B-8C7D-9E0F1A2B3C4D", Version: "v2.10.3"}} {
		doc, err := JSON(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(t, doc, c); err != nil {
			t.Errorf("%s: %v", c.PublicURL, err)
		}
	}
}

// The validators must catch what a broken generator (or a hand edit)
// would produce.
func TestXMLMutationsFail(t *testing.T) {
	t.Parallel()
	doc, err := XML(example)
	if err != nil {
		t.Fatal(err)
	}
	mutations := []struct{ name, old, new string }{
		{"missing Id", "<Id>" + addinID(example.ClientID) + "</Id>", ""},
		{"bad version", "<Version>1.0.0.0</Version>", "<Version>1.0.0.0.0</Version>"},
		{"http URL", `"https://webscheduler.example.com/addin/taskpane.html"`, `"http://webscheduler.example.com/addin/taskpane.html"`},
		{"wrong client ID format", "<Id>00000000-0000-0000-0000-000000000000</Id>", "<Id>webscheduler-app</Id>"},
		{"resource of another host", "api://webscheduler.example.com/", "api://evil.example/"},
		{"unknown handler", `FunctionName="onAppointmentTimeChanged"`, `FunctionName="onTimeChanged"`},
		{"unknown command", "<FunctionName>addMeetingCommand</FunctionName>", "<FunctionName>addMeeting</FunctionName>"},
		{"dangling resid", `<SourceLocation resid="Runtime.Url"/>`, `<SourceLocation resid="Runtime.Html"/>`},
		{"missing file", "assets/icon-80.png", "assets/icon-81.png"},
		{"launch event dropped", `<LaunchEvent Type="OnAppointmentRecurrenceChanged" FunctionName="onAppointmentRecurrenceChanged"/>`, ""},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			bad := bytes.Replace(doc, []byte(m.old), []byte(m.new), 1)
			if bytes.Equal(bad, doc) {
				t.Fatalf("mutation %q did not apply", m.old)
			}
			if err := validateXML(t, bad, example); err == nil {
				t.Error("validation passed")
			} else {
				t.Logf("rejected: %v", err)
			}
		})
	}
}

func TestJSONMutationsFail(t *testing.T) {
	t.Parallel()
	doc, err := JSON(example)
	if err != nil {
		t.Fatal(err)
	}
	mutations := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"missing id", func(m map[string]any) { delete(m, "id") }},
		{"bad version", func(m map[string]any) { m["version"] = "1.0.0.0" }},
		{"http page", func(m map[string]any) {
			runtimes(m)[0].(map[string]any)["code"].(map[string]any)["page"] = "http://webscheduler.example.com/addin/commands.html"
		}},
		{"http icon", func(m map[string]any) {
			g := ribbonGroup(m)
			g["icons"].([]any)[0].(map[string]any)["url"] = "http://webscheduler.example.com/addin/assets/icon-16.png"
		}},
		{"wrong client ID format", func(m map[string]any) { m["webApplicationInfo"].(map[string]any)["id"] = "webscheduler-app" }},
		{"unknown action", func(m map[string]any) { ribbonGroup(m)["controls"].([]any)[0].(map[string]any)["actionId"] = "nothing" }},
		{"unknown handler", func(m map[string]any) {
			runtimes(m)[0].(map[string]any)["actions"].([]any)[1].(map[string]any)["id"] = "onTimeChanged"
		}},
	}
	for _, mu := range mutations {
		t.Run(mu.name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			if err := json.Unmarshal(doc, &m); err != nil {
				t.Fatal(err)
			}
			mu.mutate(m)
			bad, _ := json.Marshal(m)
			if err := validateJSON(t, bad, example); err == nil {
				t.Error("validation passed")
			} else {
				t.Logf("rejected: %v", err)
			}
		})
	}
}

func runtimes(m map[string]any) []any {
	return m["extensions"].([]any)[0].(map[string]any)["runtimes"].([]any)
}

func ribbonGroup(m map[string]any) map[string]any {
	r := m["extensions"].([]any)[0].(map[string]any)["ribbons"].([]any)[0].(map[string]any)
	return r["tabs"].([]any)[0].(map[string]any)["groups"].([]any)[0].(map[string]any)
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    Config
		want []string
	}{
		{Config{PublicURL: "http://localhost:8080", ClientID: example.ClientID, Version: "1.0.0"}, []string{"https"}},
		{Config{PublicURL: "webscheduler.example.com", ClientID: example.ClientID, Version: "1.0.0"}, []string{"https"}},
		{Config{PublicURL: "https://x.example/?a=b", ClientID: example.ClientID, Version: "1.0.0"}, []string{"query"}},
		{Config{PublicURL: example.PublicURL, ClientID: "api://x", Version: "1.0.0"}, []string{"GUID"}},
		{Config{PublicURL: example.PublicURL, ClientID: example.ClientID, Version: "dev"}, []string{"MAJOR.MINOR.PATCH"}},
		{Config{PublicURL: example.PublicURL, ClientID: example.ClientID, Version: "1.0.0-rc1"}, []string{"MAJOR.MINOR.PATCH"}},
		{Config{}, []string{"https", "GUID", "MAJOR.MINOR.PATCH"}},
	} {
		for _, gen := range []func(Config) ([]byte, error){XML, JSON} {
			_, err := gen(tc.c)
			if err == nil {
				t.Errorf("%+v: no error", tc.c)
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%+v: error %q does not mention %q", tc.c, err, w)
				}
			}
		}
	}
}

func TestAddinID(t *testing.T) {
	t.Parallel()
	a, b := addinID("00000000-0000-0000-0000-000000000000"), addinID("5a0c9e1b-2d3f-4a6b-8c7d-9e0f1a2b3c4d")
	if a == b || a != addinID("00000000-0000-0000-0000-000000000000") {
		t.Errorf("IDs %s, %s: want stable and distinct", a, b)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(a) {
		t.Errorf("%s is not a version 5 UUID", a)
	}
}

// ---- XML validation

// newerXML are the elements that came after the XSDs in shared/oracles:
// each must occur exactly once, is cut out before xmllint runs, and is
// checked by checkNewerXML instead.
var newerXML = []struct {
	name string
	re   *regexp.Regexp
}{
	{"Runtimes", regexp.MustCompile(`(?s)\n\s*<Runtimes>.*?</Runtimes>`)},
	{"LaunchEvent extension point", regexp.MustCompile(`(?s)\n\s*<ExtensionPoint xsi:type="LaunchEvent">.*?</ExtensionPoint>`)},
	{"SupportsSharedFolders", regexp.MustCompile(`\n\s*<SupportsSharedFolders>[^<]*</SupportsSharedFolders>`)},
	// Its only extension point, MobileOnlineMeetingCommandSurface, is newer.
	{"MobileFormFactor", regexp.MustCompile(`(?s)\n\s*<MobileFormFactor>.*?</MobileFormFactor>`)},
}

// validateXML checks an XML manifest against the oracle XSDs and, for
// what they cannot see, against the add-in it points at.
func validateXML(t *testing.T, doc []byte, c Config) error {
	t.Helper()
	xsd := oracle.Path(t, "manifest-xsd/OfficeAppManifestV1_1.xsd")
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not found: install libxml2-utils (make test does)")
	}
	stripped := doc
	var errs []error
	for _, n := range newerXML {
		if k := len(n.re.FindAll(stripped, -1)); k != 1 {
			errs = append(errs, fmt.Errorf("%s occurs %d times, want once", n.name, k))
		}
		stripped = n.re.ReplaceAll(stripped, nil)
	}
	f := filepath.Join(t.TempDir(), "manifest.xml")
	if err := os.WriteFile(f, stripped, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, f).CombinedOutput(); err != nil {
		errs = append(errs, fmt.Errorf("xmllint: %v\n%s", err, out))
	}
	var root node
	if err := xml.Unmarshal(doc, &root); err != nil {
		return errors.Join(append(errs, err)...)
	}
	errs = append(errs, checkXML(&root, c)...)
	return errors.Join(errs...)
}

// node is any XML element.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []*node    `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n *node) attr(local string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// find returns the descendants named local, not looking into nested
// VersionOverrides unless n is one of them.
func (n *node) find(local string) []*node {
	var out []*node
	for _, c := range n.Nodes {
		if c.XMLName.Local == local {
			out = append(out, c)
		}
		if c.XMLName.Local != "VersionOverrides" {
			out = append(out, c.find(local)...)
		}
	}
	return out
}

func checkXML(root *node, c Config) []error {
	d, err := c.check()
	if err != nil {
		return []error{err}
	}
	var errs []error
	errs = append(errs, checkURLs(xmlStrings(root), d)...)
	if ids := root.find("Id"); len(ids) != 1 || ids[0].Text != d.AddinID {
		errs = append(errs, fmt.Errorf("OfficeApp Id: want exactly %s", d.AddinID))
	}

	overrides := root.find("VersionOverrides")
	if len(overrides) != 1 {
		return append(errs, fmt.Errorf("want one VersionOverrides 1.0, found %d", len(overrides)))
	}
	v10 := overrides[0]
	nested := v10.find("VersionOverrides")
	if len(nested) != 1 || nested[0].attr("type") != "VersionOverridesV1_1" {
		return append(errs, errors.New("want one nested VersionOverrides 1.1"))
	}
	v11 := nested[0]
	commands, handlers := associated("commands.js"), associated("launchevent.js")
	for _, vo := range []*node{v10, v11} {
		errs = append(errs, checkResources(vo)...)
		for _, fn := range vo.find("FunctionName") {
			if !commands[fn.Text] {
				errs = append(errs, fmt.Errorf("command %q is not associated in addin/commands.js", fn.Text))
			}
		}
	}

	// What the XSDs do not know.
	urls := resources(v11, "Url")
	rts := v11.find("Runtime")
	if len(rts) != 1 {
		errs = append(errs, fmt.Errorf("want one Runtime, found %d", len(rts)))
	} else {
		rt := rts[0]
		if !strings.HasSuffix(urls[rt.attr("resid")], ".html") {
			errs = append(errs, fmt.Errorf("Runtime resid %q is not an HTML page", rt.attr("resid")))
		}
		ov := rt.find("Override")
		if len(ov) != 1 || ov[0].attr("type") != "javascript" || !strings.HasSuffix(urls[ov[0].attr("resid")], ".classic.js") {
			errs = append(errs, errors.New("Runtime needs one javascript Override with the classic script"))
		}
		for _, ep := range v11.find("ExtensionPoint") {
			if ep.attr("type") != "LaunchEvent" {
				continue
			}
			if src := ep.find("SourceLocation"); len(src) != 1 || src[0].attr("resid") != rt.attr("resid") {
				errs = append(errs, errors.New("LaunchEvent SourceLocation must be the Runtime's resid"))
			}
		}
	}
	var types []string
	for _, le := range v11.find("LaunchEvent") {
		types = append(types, le.attr("Type"))
		if !handlers[le.attr("FunctionName")] {
			errs = append(errs, fmt.Errorf("handler %q is not associated in addin/launchevent.js", le.attr("FunctionName")))
		}
	}
	var want []string
	for _, e := range LaunchEvents {
		want = append(want, e.Type)
	}
	if !slices.Equal(types, want) {
		errs = append(errs, fmt.Errorf("launch events %v, want %v", types, want))
	}
	for _, df := range v11.find("DesktopFormFactor") {
		if len(df.Nodes) == 0 || df.Nodes[0].XMLName.Local != "SupportsSharedFolders" || strings.TrimSpace(df.Nodes[0].Text) != "true" {
			errs = append(errs, errors.New("DesktopFormFactor 1.1 must start with SupportsSharedFolders true"))
		}
	}
	mobile := v11.find("MobileFormFactor")
	if len(mobile) != 1 {
		return append(errs, errors.New("want one MobileFormFactor"))
	}
	eps := mobile[0].find("ExtensionPoint")
	if len(eps) != 1 || eps[0].attr("type") != "MobileOnlineMeetingCommandSurface" {
		errs = append(errs, errors.New("MobileFormFactor needs one MobileOnlineMeetingCommandSurface"))
	} else {
		var got []string
		for _, img := range eps[0].find("Image") {
			got = append(got, img.attr("size")+"@"+img.attr("scale"))
		}
		want := []string{"25@1", "25@2", "25@3", "32@1", "32@2", "32@3", "48@1", "48@2", "48@3"}
		if !slices.Equal(got, want) {
			errs = append(errs, fmt.Errorf("mobile icons %v, want %v", got, want))
		}
	}

	wai := v11.find("WebApplicationInfo")
	if len(wai) != 1 {
		return append(errs, errors.New("want one WebApplicationInfo"))
	}
	if id := wai[0].find("Id"); len(id) != 1 || !guidPattern.MatchString(id[0].Text) || id[0].Text != d.ClientID {
		errs = append(errs, fmt.Errorf("WebApplicationInfo Id must be the client ID %s", d.ClientID))
	}
	if r := wai[0].find("Resource"); len(r) != 1 || r[0].Text != d.Resource() {
		errs = append(errs, fmt.Errorf("WebApplicationInfo Resource must be %s", d.Resource()))
	}
	return errs
}

// resources returns the ids and values of one kind of resource (Url,
// Image, String) of a VersionOverrides.
func resources(vo *node, kind string) map[string]string {
	out := map[string]string{}
	for _, r := range vo.find("Resources") {
		for _, n := range r.find(kind) {
			out[n.attr("id")] = n.attr("DefaultValue")
		}
	}
	return out
}

// checkResources checks that every resid of a VersionOverrides names one
// of its own resources, and that no id is defined twice.
func checkResources(vo *node) []error {
	var errs []error
	ids := map[string]bool{}
	for _, r := range vo.find("Resources") {
		for _, kind := range []string{"Image", "Url", "String"} {
			for _, n := range r.find(kind) {
				if ids[n.attr("id")] {
					errs = append(errs, fmt.Errorf("resource id %q defined twice", n.attr("id")))
				}
				ids[n.attr("id")] = true
			}
		}
	}
	var walk func(n *node)
	walk = func(n *node) {
		if id := n.attr("resid"); id != "" && !ids[id] {
			errs = append(errs, fmt.Errorf("resid %q names no resource", id))
		}
		for _, c := range n.Nodes {
			if c.XMLName.Local != "VersionOverrides" {
				walk(c)
			}
		}
	}
	walk(vo)
	return errs
}

// xmlStrings returns every attribute value and text of the document.
func xmlStrings(n *node) []string {
	out := []string{strings.TrimSpace(n.Text)}
	for _, a := range n.Attrs {
		if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" {
			out = append(out, a.Value)
		}
	}
	for _, c := range n.Nodes {
		out = append(out, xmlStrings(c)...)
	}
	return out
}

// ---- JSON validation

var schemaURL = regexp.MustCompile(`^https://developer\.microsoft\.com/json-schemas/teams/(v[0-9.]+|vDevPreview)/MicrosoftTeams\.schema\.json$`)

// validateJSON checks a unified manifest against the schema version it
// names, from the oracles, and against the add-in it points at.
func validateJSON(t *testing.T, doc []byte, c Config) error {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return err
	}
	s, _ := m["$schema"].(string)
	ver := schemaURL.FindStringSubmatch(s)
	if ver == nil {
		return fmt.Errorf("$schema %q names no unified manifest schema", s)
	}
	path := oracle.Path(t, "unified-manifest/schemas/"+ver[1]+"/MicrosoftTeams.schema.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	compiler := jsonschema.NewCompiler()
	// Schema patterns are ECMAScript regular expressions, with lookaheads
	// that Go's regexp lacks.
	compiler.UseRegexpEngine(func(expr string) (jsonschema.Regexp, error) {
		re, err := regexp2.Compile(expr, regexp2.ECMAScript)
		if err != nil {
			return nil, err
		}
		return ecmaRegexp{re}, nil
	})
	if err := compiler.AddResource(s, schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := compiler.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	var errs []error
	if err := sch.Validate(inst); err != nil {
		errs = append(errs, fmt.Errorf("schema v%s: %#v", strings.TrimPrefix(ver[1], "v"), err))
	}
	return errors.Join(append(errs, checkJSON(doc, c)...)...)
}

type ecmaRegexp struct{ re *regexp2.Regexp }

func (r ecmaRegexp) MatchString(s string) bool {
	ok, err := r.re.MatchString(s)
	return ok && err == nil
}

func (r ecmaRegexp) String() string { return r.re.String() }

func checkJSON(doc []byte, c Config) []error {
	d, err := c.check()
	if err != nil {
		return []error{err}
	}
	var m unified
	if err := json.Unmarshal(doc, &m); err != nil {
		return []error{err}
	}
	var raw map[string]any
	_ = json.Unmarshal(doc, &raw)
	errs := checkURLs(jsonStrings(raw), d)
	if m.Version != d.Version {
		errs = append(errs, fmt.Errorf("version %q, want %q", m.Version, d.Version))
	}
	if m.ID != d.AddinID {
		errs = append(errs, fmt.Errorf("id %q, want %q", m.ID, d.AddinID))
	}
	if m.WebApplicationInfo.ID != d.ClientID || m.WebApplicationInfo.Resource != d.Resource() {
		errs = append(errs, fmt.Errorf("webApplicationInfo %+v, want client %s and resource %s", m.WebApplicationInfo, d.ClientID, d.Resource()))
	}
	for _, icon := range []string{m.Icons.Color, m.Icons.Outline} {
		if _, err := fs.Stat(addin.Files, "assets/"+icon); err != nil {
			errs = append(errs, fmt.Errorf("package icon %q is not in addin/assets", icon))
		}
	}
	if len(m.Extensions) != 1 {
		return append(errs, errors.New("want one extension"))
	}
	ext := m.Extensions[0]
	commands, handlers := associated("commands.js"), associated("launchevent.js")
	actions := map[string]string{}
	for _, rt := range ext.Runtimes {
		for _, a := range rt.Actions {
			actions[a.ID] = a.Type
			if a.Type == "executeFunction" && !commands[a.ID] && !handlers[a.ID] {
				errs = append(errs, fmt.Errorf("action %q is associated in neither addin/commands.js nor addin/launchevent.js", a.ID))
			}
		}
	}
	var used []string
	for _, r := range ext.Ribbons {
		for _, tab := range r.Tabs {
			for _, g := range tab.Groups {
				for _, ctl := range g.Controls {
					used = append(used, ctl.ActionID)
				}
			}
			for _, g := range tab.CustomMobileRibbonGroup {
				for _, ctl := range g.Controls {
					used = append(used, ctl.ActionID)
				}
			}
		}
	}
	var types []string
	for _, ar := range ext.AutoRunEvents {
		for _, e := range ar.Events {
			types = append(types, e.Type)
			used = append(used, e.ActionID)
			if !handlers[e.ActionID] {
				errs = append(errs, fmt.Errorf("event %s: %q is not associated in addin/launchevent.js", e.Type, e.ActionID))
			}
		}
	}
	for _, id := range used {
		if actions[id] == "" {
			errs = append(errs, fmt.Errorf("actionId %q names no runtime action", id))
		}
	}
	var want []string
	for _, e := range LaunchEvents {
		want = append(want, e.Unified)
	}
	if !slices.Equal(types, want) {
		errs = append(errs, fmt.Errorf("autoRunEvents %v, want %v", types, want))
	}
	return errs
}

func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, jsonStrings(x)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, x := range v {
			if k != "$schema" {
				out = append(out, jsonStrings(x)...)
			}
		}
		return out
	}
	return nil
}

// ---- shared checks

// checkURLs checks every URL in a manifest: https only; the add-in's own
// files on the deployment's origin and present in addin.Files; api:// only
// for the app's resource.
func checkURLs(values []string, d deployment) []error {
	var errs []error
	for _, v := range values {
		scheme, _, ok := strings.Cut(v, "://")
		if !ok || strings.ContainsAny(scheme, " ") {
			continue
		}
		switch {
		case scheme == "api":
			if v != d.Resource() {
				errs = append(errs, fmt.Errorf("%s: want the app's resource %s", v, d.Resource()))
			}
		case scheme != "https":
			errs = append(errs, fmt.Errorf("%s: not https", v))
		case strings.HasPrefix(v, d.Base+"/addin/"):
			u, _ := url.Parse(v)
			file := strings.TrimPrefix(u.Path, strings.TrimPrefix(d.Base, d.Origin)+"/addin/")
			if _, err := fs.Stat(addin.Files, file); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s is not in addin.Files", v, file))
			}
		case !strings.HasPrefix(v, d.Origin+"/") && v != d.Origin:
			errs = append(errs, fmt.Errorf("%s: not on %s", v, d.Origin))
		}
	}
	return errs
}

var associate = regexp.MustCompile(`Office\.actions\.associate\("([A-Za-z0-9_]+)"`)

// associated returns the names a file of the add-in registers with
// Office.actions.associate.
func associated(file string) map[string]bool {
	b, err := addin.Files.ReadFile(file)
	if err != nil {
		panic(err)
	}
	out := map[string]bool{}
	for _, m := range associate.FindAllSubmatch(b, -1) {
		out[string(m[1])] = true
	}
	return out
}

// TestPackage: the app package holds manifest.json and the icons it names
// at its root, the color icon 192 px square, the outline icon 32 px square,
// white on transparent, as the schema describes them.
func TestPackage(t *testing.T) {
	t.Parallel()
	pkg, err := Package(example)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Package(example); !bytes.Equal(pkg, again) {
		t.Error("two packages of one deployment differ")
	}
	z, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(r)
		r.Close()
	}
	want, _ := JSON(example)
	if len(files) != 3 || !bytes.Equal(files["manifest.json"], want) {
		t.Fatalf("package holds %d files; manifest.json equal to JSON: %v", len(files), bytes.Equal(files["manifest.json"], want))
	}
	if err := validateJSON(t, files["manifest.json"], example); err != nil {
		t.Error(err)
	}
	var m struct {
		Icons struct{ Color, Outline string } `json:"icons"`
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	decode := func(name string, size int) image.Image {
		t.Helper()
		img, err := png.Decode(bytes.NewReader(files[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("%s is %v, want %d px square", name, b.Size(), size)
		}
		return img
	}
	decode(m.Icons.Color, 192)
	outline := decode(m.Icons.Outline, 32)
	b := outline.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := color.NRGBAModel.Convert(outline.At(x, y)).(color.NRGBA); c.A != 0 && (c.R != 255 || c.G != 255 || c.B != 255) {
				t.Fatalf("outline icon: pixel (%d,%d) is %v, neither white nor transparent", x, y, c)
			}
		}
	}
}

// TestAlternateIconsMatchXML: the icons the admin center puts into the XML
// manifest it generates from the app package are those of our own.
func TestAlternateIconsMatchXML(t *testing.T) {
	t.Parallel()
	j, _ := JSON(example)
	x, _ := XML(example)
	var m struct {
		Extensions []struct {
			Alternates []struct {
				AlternateIcons struct {
					Icon, HighResolutionIcon struct{ URL string }
				} `json:"alternateIcons"`
			} `json:"alternates"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(j, &m); err != nil || len(m.Extensions) != 1 || len(m.Extensions[0].Alternates) != 1 {
		t.Fatalf("alternates: %v %+v", err, m)
	}
	icons := m.Extensions[0].Alternates[0].AlternateIcons
	for _, want := range []string{`<IconUrl DefaultValue="` + icons.Icon.URL + `"/>`, `<HighResolutionIconUrl DefaultValue="` + icons.HighResolutionIcon.URL + `"/>`} {
		if !strings.Contains(string(x), want) {
			t.Errorf("manifest.xml lacks %s", want)
		}
	}
}
