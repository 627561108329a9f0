package settings

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// diff lists the fields that differ between two settings, as audit
// changes. Templates are named by locale and recorded by their SHA-256
// prefix and size, which tells versions apart without copying them.
func diff(a, b *Effective) []scheduler.AuditChange {
	fa, fb := flatten(a), flatten(b)
	var out []scheduler.AuditChange
	for _, k := range slices.Sorted(maps.Keys(union(fa, fb))) {
		if fa[k] != fb[k] {
			out = append(out, scheduler.AuditChange{Field: k, Old: mask(k, fa[k]), New: mask(k, fb[k])})
		}
	}
	return out
}

func union(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// mask keeps anything that looks like a credential out of the audit log.
// The settings have none today; this guards the day someone adds one.
func mask(field, v string) string {
	f := strings.ToLower(field)
	if v != "" && (strings.Contains(f, "secret") || strings.Contains(f, "password") || strings.Contains(f, "token") || strings.HasSuffix(f, "key")) {
		return "***"
	}
	return v
}

func flatten(e *Effective) map[string]string {
	out := map[string]string{}
	var raw any
	b, _ := json.Marshal(e.Settings) // plain structs always marshal
	_ = json.Unmarshal(b, &raw)
	walk("settings", raw, out)
	out["tracking.enabled"] = strconv.FormatBool(e.Tracking.Enabled)
	out["tracking.repair"] = strconv.FormatBool(e.Tracking.Repair)
	for _, loc := range locales(e.Sources) {
		l := e.Sources[loc]
		out["templates."+loc+".html"] = fingerprint(l.HTML)
		out["templates."+loc+".text"] = fingerprint(l.Text)
	}
	return out
}

func walk(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			walk(path+"."+k, c, out)
		}
	case []any:
		out[path+".length"] = strconv.Itoa(len(x))
		for i, c := range x {
			walk(fmt.Sprintf("%s[%d]", path, i), c, out)
		}
	case nil:
	default:
		out[path] = fmt.Sprint(x)
	}
}

func fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("sha256:%s (%d bytes)", hex.EncodeToString(sum[:4]), len(s))
}
