package graph

import (
	"bytes"
	"io"
	"net/http"
)

// ownBody gives every attempt of a request its own copy of the body.
// kiota's retry handler rewinds its one body between attempts while
// net/http may still be reading it for the attempt before (HTTP/2 writes a
// body from a goroutine of its own, even after the response came back): a
// data race that can send a garbled body with a retried write.
type ownBody struct{ next http.RoundTripper }

func (o ownBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return o.next.RoundTrip(req)
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r.ContentLength = int64(len(data))
	return o.next.RoundTrip(r)
}
