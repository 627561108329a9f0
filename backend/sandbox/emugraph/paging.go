package emugraph

import (
	"net/http"
	"net/url"
	"strconv"
)

// Directory listings page with an opaque $skiptoken, as Graph's do (the
// emulator's token is the offset; clients only ever follow nextLink).

func skipToken(q url.Values) (int, bool) {
	v := q.Get("$skiptoken")
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// skipTokenLink is the request's URL with $skiptoken set to offset.
func skipTokenLink(root string, r *http.Request, offset int) string {
	q := r.URL.Query()
	q.Set("$skiptoken", strconv.Itoa(offset))
	return root + "/users?" + q.Encode()
}
