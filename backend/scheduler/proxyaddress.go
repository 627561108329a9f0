package scheduler

import (
	"strings"
)

// Proxy address types Exchange uses. A type's prefix in capitals marks the
// primary address of that type ("SMTP:" primary, "smtp:" secondary).
const (
	ProxySMTP = "SMTP"
	ProxySIP  = "SIP"
	ProxyX500 = "X500"
	ProxyX400 = "X400"
	ProxyEUM  = "EUM"
)

// ProxyAddress is one parsed entry of a user's proxyAddresses.
type ProxyAddress struct {
	// Type is the prefix in capitals ("SMTP", "X400", "FAX"…); empty when the
	// entry has no prefix at all.
	Type string `json:"type"`
	// Primary is true when the prefix was written in capitals.
	Primary bool `json:"primary"`
	// Address is everything after the first colon, unchanged.
	Address string `json:"address"`
	// Raw is the entry exactly as the directory holds it.
	Raw string `json:"raw"`
	// Fields are X.400 attributes (c, a, p, o, s, g…) in their order.
	Fields []AddressField `json:"fields,omitempty"`
	// Extension and PhoneContext are set for EUM addresses.
	Extension    string `json:"extension,omitempty"`
	PhoneContext string `json:"phoneContext,omitempty"`
}

// AddressField is one key=value attribute of an X.400 address.
type AddressField struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ParseProxyAddress parses one entry. It never fails: an entry it cannot
// classify keeps its prefix as Type and its text verbatim.
func ParseProxyAddress(raw string) ProxyAddress {
	pa := ProxyAddress{Raw: raw, Address: raw}
	prefix, rest, ok := strings.Cut(raw, ":")
	if !ok || !isPrefix(prefix) {
		return pa
	}
	pa.Type = strings.ToUpper(prefix)
	pa.Primary = prefix == pa.Type && strings.ToLower(prefix) != prefix
	pa.Address = rest
	switch pa.Type {
	case ProxyX400:
		pa.Fields = parseX400(rest)
	case ProxyEUM:
		ext, params, _ := strings.Cut(rest, ";")
		pa.Extension = ext
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(strings.TrimSpace(k), "phone-context") {
				pa.PhoneContext = strings.TrimSpace(v)
			}
		}
	}
	return pa
}

// isPrefix reports whether s looks like an address-type prefix: Exchange's
// are short and alphanumeric, which tells "FAX:" from a bare "a:b@c" entry.
func isPrefix(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// parseX400 splits "c=US;a= ;p=Contoso;o=Exchange;s=Vance;g=Adele;".
func parseX400(s string) []AddressField {
	var fields []AddressField
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		fields = append(fields, AddressField{Key: strings.TrimSpace(k), Value: v})
	}
	return fields
}

// ParseProxyAddresses parses every entry, keeping the directory's order.
func ParseProxyAddresses(raws []string) []ProxyAddress {
	out := make([]ProxyAddress, 0, len(raws))
	for _, r := range raws {
		if strings.TrimSpace(r) == "" {
			continue
		}
		out = append(out, ParseProxyAddress(r))
	}
	return out
}

// PrimarySMTP returns the primary SMTP address, or "" when there is none.
func PrimarySMTP(addrs []ProxyAddress) string {
	return primaryOf(addrs, ProxySMTP)
}

// SIPAddress returns the primary SIP address, or the first SIP address, or "".
func SIPAddress(addrs []ProxyAddress) string {
	return primaryOf(addrs, ProxySIP)
}

func primaryOf(addrs []ProxyAddress, typ string) string {
	first := ""
	for _, a := range addrs {
		if a.Type != typ || a.Address == "" {
			continue
		}
		if a.Primary {
			return a.Address
		}
		if first == "" {
			first = a.Address
		}
	}
	return first
}

// SplitAddress splits user@domain; without '@' the whole is the user.
func SplitAddress(addr string) (user, domain string) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return addr, ""
	}
	return addr[:i], addr[i+1:]
}
