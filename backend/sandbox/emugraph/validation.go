package emugraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// LoadSpec loads and validates the OpenAPI description at path (the Graph
// subset derived from the CSDL) and points its server at "/v1.0", so that it
// routes the paths Handler sees wherever the Handler is mounted.
func LoadSpec(path string) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("emugraph: load spec: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: apiVersion}}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("emugraph: invalid spec %s: %w", path, err)
	}
	return doc, nil
}

type requestInput = openapi3filter.RequestValidationInput

// validator checks requests and responses against the spec.
type validator struct {
	doc    *openapi3.T
	router routers.Router
}

func newValidator(doc *openapi3.T) (*validator, error) {
	if len(doc.Servers) != 1 || doc.Servers[0].URL != apiVersion {
		return nil, errors.New("emugraph: Options.Spec must come from LoadSpec (server " + apiVersion + ")")
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("emugraph: spec router: %w", err)
	}
	return &validator{doc: doc, router: r}, nil
}

// checkRequest validates r, whose decoded body is body, against the operation
// the spec declares for the canonical path. Graph also refuses properties its
// types do not declare, which the schema alone would let through (it has no
// additionalProperties: false), so those are checked too.
func (v *validator) checkRequest(r *http.Request, canonical string, body []byte) (*requestInput, *apiError) {
	req := r.Clone(r.Context())
	req.URL = &url.URL{Path: apiVersion + canonical, RawQuery: r.URL.RawQuery}
	req.Body, req.GetBody, req.ContentLength = io.NopCloser(bytes.NewReader(body)), nil, int64(len(body))
	req.Header.Del("Content-Encoding")
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return nil, errorf(http.StatusInternalServerError, "generalException", "emulator: the spec has no operation for %s %s: %v", r.Method, canonical, err)
	}
	in := &requestInput{Request: req, PathParams: params, Route: route, Options: &openapi3filter.Options{
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
		RejectWhenRequestBodyNotSpecified: true,
	}}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		code := "BadRequest"
		var re *openapi3filter.RequestError
		if errors.As(err, &re) && re.RequestBody != nil {
			code = "RequestBodyRead"
		}
		return in, errorf(http.StatusBadRequest, code, "%s", firstLine(err.Error()))
	}
	if rb := route.Operation.RequestBody; rb != nil && len(body) > 0 {
		var value any
		if err := json.Unmarshal(body, &value); err != nil {
			return in, errorf(http.StatusBadRequest, "RequestBodyRead", "Unable to read JSON request payload: %v", err)
		}
		if mt := rb.Value.Content.Get("application/json"); mt != nil {
			if err := unknownProperty([]*openapi3.SchemaRef{mt.Schema}, value); err != nil {
				return in, errorf(http.StatusBadRequest, "RequestBodyRead", "%v", err)
			}
		}
	}
	return in, nil
}

// checkResponse validates a response to a request the spec covers.
func (s *Server) checkResponse(in *requestInput, rec *recorder) {
	err := openapi3filter.ValidateResponse(in.Request.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.status,
		Header:                 rec.header,
		Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		s.rejectResponse(in.Request, rec, err)
	}
}

// checkErrorBody validates an error answered outside the spec's operations
// against Graph's error schema.
func (s *Server) checkErrorBody(r *http.Request, rec *recorder) {
	if s.spec == nil || rec.status < 400 {
		return
	}
	var value any
	err := json.Unmarshal(rec.body.Bytes(), &value)
	if err == nil {
		err = s.spec.checkValue("microsoft.graph.ODataErrors.ODataError", value)
	}
	if err != nil {
		s.rejectResponse(r, rec, err)
	}
}

func (s *Server) rejectResponse(r *http.Request, rec *recorder, err error) {
	s.recordInvalid(fmt.Sprintf("%s %s -> %d: %v", r.Method, r.URL.Path, rec.status, err))
	s.replaceWithInternalError(rec)
}

// conform checks values the emulator is about to send on a route the spec does
// not cover against the spec's component schema; on failure it answers 500.
func (c *call) conform(schema string, values ...any) bool {
	if c.s.spec == nil {
		return true
	}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("emugraph: marshal response: %v", err))
		}
		var value any
		_ = json.Unmarshal(b, &value)
		if err := c.s.spec.checkValue(schema, value); err != nil {
			c.s.recordInvalid(fmt.Sprintf("%s %s: %s: %v", c.r.Method, c.r.URL.Path, schema, err))
			c.s.writeFault(c.w, http.StatusInternalServerError)
			return false
		}
	}
	return true
}

// checkValue validates a decoded JSON value against a component schema.
func (v *validator) checkValue(schema string, value any) error {
	ref := v.doc.Components.Schemas[schema]
	if ref == nil {
		return fmt.Errorf("the spec has no schema %s", schema)
	}
	return ref.Value.VisitJSON(value)
}

// checkBody validates a request-like value against a component schema,
// refusing undeclared properties as checkRequest does.
func (v *validator) checkBody(schema string, value any) error {
	if err := v.checkValue(schema, value); err != nil {
		return err
	}
	return unknownProperty([]*openapi3.SchemaRef{v.doc.Components.Schemas[schema]}, value)
}

// checkProperty validates a request's property value against the schema of
// that property of a component type, for bodies the spec does not cover.
func (v *validator) checkProperty(schema, prop string, value json.RawMessage) error {
	props := map[string][]*openapi3.SchemaRef{}
	var name string
	objectShape(v.doc.Components.Schemas[schema], props, &name)
	refs, ok := props[prop]
	if !ok {
		return fmt.Errorf("the spec has no property %s.%s", schema, prop)
	}
	var decoded any
	if err := json.Unmarshal(value, &decoded); err != nil {
		return err
	}
	for _, ref := range refs {
		if err := ref.Value.VisitJSON(decoded); err != nil {
			return fmt.Errorf("%s: %s", prop, firstLine(err.Error()))
		}
	}
	return unknownProperty(refs, decoded)
}

// propertyNames lists the properties a component type declares, or nil.
func (v *validator) propertyNames(schema string) []string {
	props := map[string][]*openapi3.SchemaRef{}
	var name string
	objectShape(v.doc.Components.Schemas[schema], props, &name)
	var names []string
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// unknownProperty reports the first object key in value that none of the
// schemas declares, the way Graph refuses properties its type lacks.
// Annotations ("@odata.etag" and the like) are ignored, as Graph does.
func unknownProperty(refs []*openapi3.SchemaRef, value any) error {
	switch value := value.(type) {
	case map[string]any:
		props := map[string][]*openapi3.SchemaRef{}
		var name string
		for _, r := range refs {
			objectShape(r, props, &name)
		}
		if len(props) == 0 {
			return nil // a free-form object
		}
		keys := make([]string, 0, len(value))
		for k := range value {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			sub, ok := props[k]
			if !ok && strings.Contains(k, "@") {
				continue
			}
			if !ok {
				//lint:ignore ST1005 this is Graph's own message, answered to clients verbatim
				return fmt.Errorf("The property '%s' does not exist on type '%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", k, name)
			}
			if err := unknownProperty(sub, value[k]); err != nil {
				return err
			}
		}
	case []any:
		var items []*openapi3.SchemaRef
		for _, r := range refs {
			arrayItems(r, &items)
		}
		for _, e := range value {
			if err := unknownProperty(items, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// objectShape collects the properties an object may carry under ref, through
// allOf/anyOf/oneOf, and the name of the first named type on the way.
func objectShape(ref *openapi3.SchemaRef, props map[string][]*openapi3.SchemaRef, name *string) {
	if ref == nil || ref.Value == nil {
		return
	}
	if *name == "" && ref.Ref != "" {
		*name = path.Base(ref.Ref)
	}
	for k, p := range ref.Value.Properties {
		props[k] = append(props[k], p)
	}
	for _, list := range []openapi3.SchemaRefs{ref.Value.AllOf, ref.Value.AnyOf, ref.Value.OneOf} {
		for _, r := range list {
			objectShape(r, props, name)
		}
	}
}

func arrayItems(ref *openapi3.SchemaRef, items *[]*openapi3.SchemaRef) {
	if ref == nil || ref.Value == nil {
		return
	}
	if ref.Value.Items != nil {
		*items = append(*items, ref.Value.Items)
	}
	for _, list := range []openapi3.SchemaRefs{ref.Value.AllOf, ref.Value.AnyOf, ref.Value.OneOf} {
		for _, r := range list {
			arrayItems(r, items)
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}
