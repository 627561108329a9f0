// Package graph adapts msgraph-sdk-go to the scheduler's Directory and
// Calendar interfaces.
package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	azauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	formser "github.com/microsoft/kiota-serialization-form-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	multipartser "github.com/microsoft/kiota-serialization-multipart-go"
	textser "github.com/microsoft/kiota-serialization-text-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Config says where Graph is and how to authenticate to it.
type Config struct {
	BaseURL    string                 // e.g. https://graph.microsoft.com/v1.0
	Credential azcore.TokenCredential // per-user (entra.UserCredential) or app-only
	// Transport carries requests under the SDK's middleware; nil: default.
	Transport http.RoundTripper
	// MaxRetryWait is the longest Retry-After the client waits out itself;
	// longer ones are handed back to the caller as graph_throttled.
	MaxRetryWait time.Duration
	// OnRequest, when set, observes every HTTP response (metrics).
	OnRequest func(status int, elapsed time.Duration)
}

// Client is a Graph client shared by every request. It reaches Graph
// through the request builders of msgraph-sdk-go's users package: the
// SDK's root package (GraphServiceClient) links 82 more of its packages,
// the rest of Graph's API, more than half of the binary and about 10 MB of
// the service's idle RSS.
type Client struct {
	adapter abs.RequestAdapter
	path    map[string]string // {baseurl}, as the builders expect it
}

// users is /users.
func (c *Client) users() *users.UsersRequestBuilder {
	return users.NewUsersRequestBuilderInternal(c.path, c.adapter)
}

// New builds the client. The authentication provider's allowed hosts must
// name the Graph host (without port), or the SDK silently sends no token.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("graph: invalid base URL %q", cfg.BaseURL)
	}
	auth, err := azauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		cfg.Credential, []string{"https://graph.microsoft.com/.default"}, []string{u.Hostname()})
	if err != nil {
		return nil, err
	}
	if cfg.MaxRetryWait == 0 {
		cfg.MaxRetryWait = 10 * time.Second
	}
	retry := &khttp.RetryHandlerOptions{
		MaxRetries:   3,
		DelaySeconds: 1,
		// The handler passes the delay waited so far; the next one comes
		// from Retry-After. Both together must stay within the budget.
		ShouldRetry: func(waited time.Duration, _ int, _ *http.Request, resp *http.Response) bool {
			next := time.Second
			if n, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil {
				next = time.Duration(n) * time.Second
			}
			return waited+next <= cfg.MaxRetryWait
		},
	}
	// Request bodies go uncompressed: the SDK's compression handler builds
	// a new gzip writer per request, about 800 KB allocated to save a few
	// KB of event body (bench/README.md).
	kiotaMW, err := khttp.GetDefaultMiddlewaresWithOptions(retry, khttp.NewCompressionOptionsReference(false))
	if err != nil {
		return nil, err
	}
	opts := msgraphcore.GraphClientOptions{GraphServiceLibraryVersion: sdkVersion}
	mw := append([]khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&opts),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs),
	}, kiotaMW...)
	parent := cfg.Transport
	if parent == nil {
		parent = khttp.GetDefaultTransport()
	}
	parent = ownBody{next: parent}
	if cfg.OnRequest != nil {
		parent = observed{next: parent, on: cfg.OnRequest}
	}
	httpClient := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(parent, mw...), Timeout: 60 * time.Second}
	registerSerializers()
	// nil factories: the process-wide registries filled above.
	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, opts, nil, nil, httpClient)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	adapter.SetBaseUrl(base)
	return &Client{adapter: adapter, path: map[string]string{"baseurl": base}}, nil
}

// registerSerializers does once what msgraph-sdk-go's client constructor
// did for every client: fill kiota's process-wide serializer registries,
// which requests read without a lock, and wrap them for the backing store.
// That constructor also set the backing-store factory, a global every
// model constructor reads, each time: with several clients per process
// (user and app-only), built while requests are in flight, that raced.
// The factory keeps its default here, the value the SDK set.
var registerSerializers = sync.OnceFunc(func() {
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return jsonser.NewJsonSerializationWriterFactory() })
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return textser.NewTextSerializationWriterFactory() })
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return formser.NewFormSerializationWriterFactory() })
	abs.RegisterDefaultSerializer(func() absser.SerializationWriterFactory { return multipartser.NewMultipartSerializationWriterFactory() })
	abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return jsonser.NewJsonParseNodeFactory() })
	abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return textser.NewTextParseNodeFactory() })
	abs.RegisterDefaultDeserializer(func() absser.ParseNodeFactory { return formser.NewFormParseNodeFactory() })
	abs.EnableBackingStoreForSerializationWriterFactory(absser.DefaultSerializationWriterFactoryInstance)
	abs.EnableBackingStoreForParseNodeFactory(absser.DefaultParseNodeFactoryInstance)
})

// sdkVersion is msgraph-sdk-go's version in go.mod: the telemetry header
// (SdkVersion) names it as the SDK's own client did. A test keeps the two
// in step.
const sdkVersion = "1.89.0"

// observed reports every attempt, retries included, to a callback.
type observed struct {
	next http.RoundTripper
	on   func(int, time.Duration)
}

func (o observed) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := o.next.RoundTrip(r)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	o.on(status, time.Since(start))
	return resp, err
}

// graphError turns an SDK failure into a stable scheduler error. A
// scheduler error coming from the credential (OBO) passes through as is.
func graphError(op string, err error) error {
	var se *scheduler.Error
	if errors.As(err, &se) {
		return err
	}
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		status := oe.ResponseStatusCode
		code := ""
		if me := oe.GetErrorEscaped(); me != nil && me.GetCode() != nil {
			code = *me.GetCode()
		}
		cause := fmt.Errorf("graph %s: status %d code %q", op, status, code)
		switch {
		case status == http.StatusTooManyRequests:
			e := scheduler.Wrap(scheduler.ECodeGraphThrottled, "Microsoft Graph is busy; try again shortly.", cause)
			e.RetryAfter = retryAfter(oe.GetResponseHeaders())
			return e
		case status == http.StatusNotFound:
			return scheduler.Wrap(scheduler.ECodeNotFound, "The calendar item no longer exists.", cause)
		case status == http.StatusForbidden:
			return scheduler.Wrap(scheduler.ECodeForbidden, "You do not have access to that calendar.", cause)
		case status == http.StatusPreconditionFailed || status == http.StatusConflict:
			return scheduler.Wrap(scheduler.ECodePreconditionFail, "The calendar item was changed by someone else.", cause)
		case status == http.StatusUnauthorized:
			return scheduler.Wrap(scheduler.ECodeOBOFailed, "Microsoft Graph did not accept the sign-in.", cause)
		case status >= 500:
			e := scheduler.Wrap(scheduler.ECodeGraphUnavailable, "Microsoft Graph is unavailable; try again shortly.", cause)
			e.RetryAfter = retryAfter(oe.GetResponseHeaders())
			return e
		}
		return scheduler.Wrap(scheduler.ECodeGraphError, "Microsoft Graph refused the request.", cause)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return scheduler.Wrap(scheduler.ECodeGraphUnavailable, "Microsoft Graph did not answer in time.", err)
	}
	return scheduler.Wrap(scheduler.ECodeGraphUnavailable, "Microsoft Graph could not be reached.", fmt.Errorf("graph %s: %w", op, err))
}

func retryAfter(h *abs.ResponseHeaders) int {
	if h == nil {
		return 0
	}
	for _, v := range h.Get("Retry-After") {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			return n
		}
	}
	return 0
}
