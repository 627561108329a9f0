package emugraph_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
)

// callRecordsApp is an app-only token with the permission call records need.
var callRecordsApp = appOnly("CallRecords.Read.All")

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCallRecords(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		id, err := e.srv.AddCallRecord(context.Background(), readFixture(t, "callrecord.json"))
		if err != nil {
			t.Fatal(err)
		}
		path := "/communications/callRecords/" + id
		full := e.call(http.MethodGet, path+"?$expand=sessions($expand=segments)", callRecordsApp, nil).must(t, http.StatusOK).json
		if full["version"] != 1.0 || full["lastModifiedDateTime"] == nil || at(full, "sessions.0.segments.0.media.0.streams.1.streamDirection") != "calleeToCaller" {
			t.Errorf("expanded record: %v", full)
		}
		if ctx, _ := full["@odata.context"].(string); ctx != e.base+"/$metadata#communications/callRecords(sessions(segments()))/$entity" {
			t.Errorf("@odata.context %q", ctx)
		}
		bare := e.call(http.MethodGet, path, callRecordsApp, nil).must(t, http.StatusOK).json
		if _, ok := bare["sessions"]; ok {
			t.Error("sessions returned without $expand")
		}
		sessions := e.call(http.MethodGet, path+"?$expand=sessions", callRecordsApp, nil).must(t, http.StatusOK).json
		if at(sessions, "sessions.0.id") == nil || at(sessions, "sessions.0.segments") != nil {
			t.Errorf("$expand=sessions: %v", sessions["sessions"])
		}

		for _, c := range []struct {
			name, path, token string
			status            int
			code              string
		}{
			{"delegated token", path, delegated(adeleID, "CallRecords.Read.All"), 403, "Forbidden"},
			{"app without the role", path, appOnly("User.Read.All"), 403, "Forbidden"},
			{"unknown record", "/communications/callRecords/nope", callRecordsApp, 404, "NotFound"},
			{"$select", path + "?$select=id", callRecordsApp, 400, "BadRequest"},
			{"unsupported $expand", path + "?$expand=participants_v2", callRecordsApp, 400, "BadRequest"},
			{"no token", path, "", 401, "InvalidAuthenticationToken"},
		} {
			if r := e.call(http.MethodGet, c.path, c.token, nil); r.status != c.status || r.errorCode() != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.errorCode(), c.status, c.code)
			}
		}
		if r := e.call(http.MethodDelete, path, callRecordsApp, nil); r.status != http.StatusMethodNotAllowed {
			t.Errorf("DELETE of a call record: %d", r.status)
		}
		if _, err := e.srv.AddCallRecord(context.Background(), []byte(`{"id":"x","type":"peerToPeer"}`)); err == nil {
			t.Error("AddCallRecord accepted a record without times and sessions")
		}
	})
}

// TestCallRecordPaging checks that a record with more sessions than a page
// carries sessions@odata.nextLink, and that following it gets the rest.
func TestCallRecordPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var sessions []any
	for i := range 61 {
		sessions = append(sessions, map[string]any{"id": fmt.Sprint(i), "modalities": []string{"audio"},
			"startDateTime": "2024-05-06T09:00:00Z", "endDateTime": "2024-05-06T09:01:00Z", "segments": []any{}})
	}
	rec, _ := json.Marshal(map[string]any{"type": "groupCall", "modalities": []string{"audio"},
		"startDateTime": "2024-05-06T09:00:00Z", "endDateTime": "2024-05-06T10:00:00Z", "sessions": sessions})
	id, err := e.srv.AddCallRecord(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	first := e.call(http.MethodGet, "/communications/callRecords/"+id+"?$expand=sessions($expand=segments)", callRecordsApp, nil).must(t, http.StatusOK).json
	next, _ := first["sessions@odata.nextLink"].(string)
	if n := len(first["sessions"].([]any)); n != 60 || !strings.HasPrefix(next, e.base+"/communications/callRecords/"+id+"/sessions?") {
		t.Fatalf("first page: %d sessions, next %q", n, next)
	}
	rest := e.call(http.MethodGet, next, callRecordsApp, nil).must(t, http.StatusOK).json
	if v := rest["value"].([]any); len(v) != 1 || at(rest, "value.0.id") != "60" || at(rest, "value.0.segments") == nil || rest["@odata.nextLink"] != nil {
		t.Errorf("second page: %v", rest)
	}
}

// TestCallRecordMatchesCSDL checks the emulator's call record (fixture plus
// what the emulator adds) against Microsoft's CSDL: every property exists on
// its type, every enum value is a member, every value has the declared type.
func TestCallRecordMatchesCSDL(t *testing.T) {
	t.Parallel()
	model := loadCSDL(t)
	e := newEnv(t, nil)
	id, err := e.srv.AddCallRecord(context.Background(), readFixture(t, "callrecord.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := e.call(http.MethodGet, "/communications/callRecords/"+id+"?$expand=sessions($expand=segments)", callRecordsApp, nil).must(t, http.StatusOK)
	var v any
	if err := json.Unmarshal(got.raw, &v); err != nil {
		t.Fatal(err)
	}
	if errs := model.check("callRecord", "microsoft.graph.callRecords.callRecord", v); len(errs) > 0 {
		t.Errorf("the call record does not match the CSDL:\n%s", strings.Join(errs, "\n"))
	}
	// The checker itself must catch mistakes.
	bad := map[string]any{"type": "phoneCall", "version": "1", "bogus": 1, "startDateTime": "yesterday",
		"sessions": []any{map[string]any{"modalities": []any{"smell"}}}}
	if errs := model.check("bad", "microsoft.graph.callRecords.callRecord", bad); len(errs) < 5 {
		t.Errorf("the CSDL check missed mistakes: %v", errs)
	}
}

// csdlModel is the part of the CSDL the check needs: structured types with
// their properties, and enum members, by qualified name.
type csdlModel struct {
	types map[string]*csdlType
	enums map[string][]string
}

type csdlType struct {
	base  string
	open  bool
	props map[string]csdlProp
}

type csdlProp struct {
	typ      string
	nullable bool
}

var (
	csdlOnce  sync.Once
	csdlCache *csdlModel
	csdlErr   error
)

func loadCSDL(t *testing.T) *csdlModel {
	t.Helper()
	path := emugraph.OraclePath(t, "graph-csdl/cleanMetadata-v1.0.xml")
	csdlOnce.Do(func() { csdlCache, csdlErr = parseCSDL(path) })
	if csdlErr != nil {
		t.Fatal(csdlErr)
	}
	return csdlCache
}

func parseCSDL(path string) (*csdlModel, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type prop struct {
		Name     string `xml:"Name,attr"`
		Type     string `xml:"Type,attr"`
		Nullable string `xml:"Nullable,attr"`
	}
	type structured struct {
		Name     string `xml:"Name,attr"`
		BaseType string `xml:"BaseType,attr"`
		OpenType string `xml:"OpenType,attr"`
		Props    []prop `xml:"Property"`
		Navs     []prop `xml:"NavigationProperty"`
	}
	var doc struct {
		Schemas []struct {
			Namespace string       `xml:"Namespace,attr"`
			Alias     string       `xml:"Alias,attr"`
			Entities  []structured `xml:"EntityType"`
			Complex   []structured `xml:"ComplexType"`
			Enums     []struct {
				Name    string `xml:"Name,attr"`
				Members []struct {
					Name string `xml:"Name,attr"`
				} `xml:"Member"`
			} `xml:"EnumType"`
		} `xml:"DataServices>Schema"`
	}
	if err := xml.NewDecoder(f).Decode(&doc); err != nil {
		return nil, err
	}
	aliases := map[string]string{}
	for _, s := range doc.Schemas {
		if s.Alias != "" {
			aliases[s.Alias] = s.Namespace
		}
	}
	qualify := func(name string) string {
		inner, coll := strings.CutPrefix(name, "Collection(")
		inner = strings.TrimSuffix(inner, ")")
		if ns, local, ok := strings.Cut(inner, "."); ok {
			if full, ok := aliases[ns]; ok {
				inner = full + "." + local
			}
		}
		if coll {
			return "Collection(" + inner + ")"
		}
		return inner
	}
	m := &csdlModel{types: map[string]*csdlType{}, enums: map[string][]string{}}
	for _, s := range doc.Schemas {
		for _, st := range append(append([]structured{}, s.Entities...), s.Complex...) {
			ct := &csdlType{open: st.OpenType == "true", props: map[string]csdlProp{}}
			if st.BaseType != "" {
				ct.base = qualify(st.BaseType)
			}
			for _, p := range append(append([]prop{}, st.Props...), st.Navs...) {
				ct.props[p.Name] = csdlProp{typ: qualify(p.Type), nullable: p.Nullable != "false"}
			}
			m.types[s.Namespace+"."+st.Name] = ct
		}
		for _, e := range s.Enums {
			for _, mem := range e.Members {
				m.enums[s.Namespace+"."+e.Name] = append(m.enums[s.Namespace+"."+e.Name], mem.Name)
			}
		}
	}
	return m, nil
}

var isoDuration = regexp.MustCompile(`^-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$`)

// check returns the mismatches between v and the type typ.
func (m *csdlModel) check(path, typ string, v any) []string {
	if inner, ok := strings.CutPrefix(typ, "Collection("); ok {
		arr, ok := v.([]any)
		if !ok {
			return []string{path + ": want an array for " + typ}
		}
		var errs []string
		for i, x := range arr {
			errs = append(errs, m.check(fmt.Sprintf("%s.%d", path, i), strings.TrimSuffix(inner, ")"), x)...)
		}
		return errs
	}
	if v == nil {
		return nil // nullability is checked by the owner
	}
	bad := func(want string) []string { return []string{fmt.Sprintf("%s: %v is not %s", path, v, want)} }
	switch typ {
	case "Edm.String", "Edm.Guid":
		if _, ok := v.(string); !ok {
			return bad(typ)
		}
		return nil
	case "Edm.Int32", "Edm.Int64", "Edm.Single", "Edm.Double", "Edm.Decimal":
		if _, ok := v.(float64); !ok {
			return bad(typ)
		}
		return nil
	case "Edm.Boolean":
		if _, ok := v.(bool); !ok {
			return bad(typ)
		}
		return nil
	case "Edm.DateTimeOffset":
		if s, ok := v.(string); !ok || func() bool { _, err := time.Parse(time.RFC3339Nano, s); return err != nil }() {
			return bad(typ)
		}
		return nil
	case "Edm.Duration":
		if s, ok := v.(string); !ok || !isoDuration.MatchString(s) {
			return bad(typ)
		}
		return nil
	}
	if members, ok := m.enums[typ]; ok {
		s, _ := v.(string)
		for _, mem := range members {
			if s == mem {
				return nil
			}
		}
		return bad("a member of " + typ)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return bad("an object of " + typ)
	}
	actual := typ
	if ot, ok := obj["@odata.type"].(string); ok {
		actual = strings.TrimPrefix(ot, "#")
		if !m.derives(actual, typ) {
			return []string{fmt.Sprintf("%s: @odata.type %s does not derive from %s", path, actual, typ)}
		}
	}
	if m.types[actual] == nil {
		return []string{path + ": unknown type " + actual}
	}
	var errs []string
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(k, "@odata.") {
			continue
		}
		p, open, found := m.property(actual, k)
		switch {
		case !found && open:
		case !found:
			errs = append(errs, fmt.Sprintf("%s: %s has no property %q", path, actual, k))
		case obj[k] == nil && !p.nullable:
			errs = append(errs, fmt.Sprintf("%s.%s: null, but not nullable", path, k))
		default:
			errs = append(errs, m.check(path+"."+k, p.typ, obj[k])...)
		}
	}
	return errs
}

// property finds a property on typ or its base types; open reports whether
// any of them is an open type (which takes undeclared properties).
func (m *csdlModel) property(typ, name string) (p csdlProp, open, found bool) {
	for t := typ; t != ""; {
		ct := m.types[t]
		if ct == nil {
			return p, open, false
		}
		open = open || ct.open
		if p, ok := ct.props[name]; ok {
			return p, open, true
		}
		t = ct.base
	}
	return p, open, false
}

func (m *csdlModel) derives(typ, from string) bool {
	for t := typ; t != ""; t = m.types[t].base {
		if t == from {
			return true
		}
		if m.types[t] == nil {
			return false
		}
	}
	return false
}
