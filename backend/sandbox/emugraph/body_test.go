package emugraph

import (
	"slices"
	"strings"
	"testing"
)

func TestBodyOracles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input, want string
		convert           func(string) string
	}{
		{"Exchange wraps a sent fragment (01)", "event-bodies/01-graph-create-plain.request.html", "event-bodies/01-graph-create-plain.html", ExchangeHTML},
		{"Exchange keeps a full document", "event-bodies/05-graph-teams-create-online.html", "event-bodies/05-graph-teams-create-online.html", ExchangeHTML},
		{"text rendering (07)", "event-bodies/07-graph-teams-channel-link.html", "event-bodies/07-graph-teams-channel-link.txt", htmlToText},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got, want := tc.convert(oracleFile(t, tc.input)), oracleFile(t, tc.want); got != want {
				t.Errorf("got\n%q\nwant\n%q", got, want)
			}
		})
	}
	t.Run("empty text stored as HTML (12)", func(t *testing.T) {
		t.Parallel()
		if got, want := textToHTML(""), oracleFile(t, "event-bodies/12-bf-exchange-converted-from-text.html"); got != want {
			t.Errorf("got\n%q\nwant\n%q", got, want)
		}
	})
}

func TestTextRoundTrip(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"one line", "two\r\nlines", "a <b> & \"c\""} {
		// The text ends where its <div> does, with a line break (as in 07).
		if got := htmlToText(textToHTML(text)); got != text+"\r\n" {
			t.Errorf("%q came back as %q", text, got)
		}
	}
	long := strings.Repeat("word ", 100)
	if got := bodyPreview(ExchangeHTML(long)); len(got) != 255 {
		t.Errorf("bodyPreview is %d characters, want 255", len(got))
	}
}

// TestEventPropsMatchSpec keeps the emulator's list of event properties in
// step with the spec: only attachments and extensions, which the subset
// omits, may be extra.
func TestEventPropsMatchSpec(t *testing.T) {
	t.Parallel()
	doc, err := LoadSpec(OraclePath(t, "graph-openapi-subset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := newValidator(doc)
	if err != nil {
		t.Fatal(err)
	}
	var spec, ours []string
	for _, k := range v.propertyNames("microsoft.graph.event") {
		if !strings.HasPrefix(k, "@") {
			spec = append(spec, k)
		}
	}
	for k := range eventProps {
		if k != "attachments" && k != "extensions" {
			ours = append(ours, k)
		}
	}
	slices.Sort(ours)
	if !slices.Equal(spec, ours) {
		t.Errorf("event properties differ from the spec:\nspec %v\nours %v", spec, ours)
	}
}
