package scheduler_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

func TestMeetingOptionsValidate(t *testing.T) {
	t.Parallel()
	many := make([]string, scheduler.MaxPresenters+1)
	for i := range many {
		many[i] = "p" + strconv.Itoa(i) + "@contoso.example"
	}
	// A bare address of 254 characters, the most an address may have.
	longest := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 53) + ".example"
	tests := []struct {
		name string
		o    scheduler.MeetingOptions
		want string // part of the message; "" when valid
	}{
		{"organizer", scheduler.MeetingOptions{Lobby: "organizer", Presenters: "organizer"}, ""},
		{"invited", scheduler.MeetingOptions{Lobby: "invited", Presenters: "company", PhoneBypass: true}, ""},
		{"company", scheduler.MeetingOptions{Lobby: "company", Presenters: "everyone"}, ""},
		{"named", scheduler.MeetingOptions{Lobby: "everyone", Presenters: "named", PresenterList: []string{"adele.vance@contoso.example", "alex@contoso.example"}}, ""},
		{"most named", scheduler.MeetingOptions{Lobby: "everyone", Presenters: "named", PresenterList: many[1:]}, ""},
		{"no lobby", scheduler.MeetingOptions{Presenters: "everyone"}, "Who skips the lobby"},
		{"bad lobby", scheduler.MeetingOptions{Lobby: "nobody", Presenters: "everyone"}, "Who skips the lobby"},
		{"lobby case", scheduler.MeetingOptions{Lobby: "Company", Presenters: "everyone"}, "Who skips the lobby"},
		{"no presenters", scheduler.MeetingOptions{Lobby: "company"}, "Who may present"},
		{"bad presenters", scheduler.MeetingOptions{Lobby: "company", Presenters: "invited"}, "Who may present"},
		{"named without list", scheduler.MeetingOptions{Lobby: "company", Presenters: "named"}, "Name at least one presenter"},
		{"list without named", scheduler.MeetingOptions{Lobby: "company", Presenters: "everyone", PresenterList: []string{"a@contoso.example"}}, "only used when presenters is \"named\""},
		{"too many", scheduler.MeetingOptions{Lobby: "company", Presenters: "named", PresenterList: many}, "At most 100 presenters"},
		{"not an address", scheduler.MeetingOptions{Lobby: "company", Presenters: "named", PresenterList: []string{"a@contoso.example", "Adele Vance"}}, "Presenter 2 is not an e-mail address"},
		{"display name", scheduler.MeetingOptions{Lobby: "company", Presenters: "named", PresenterList: []string{"Adele <a@contoso.example>"}}, "Presenter 1 is not"},
		{"empty address", scheduler.MeetingOptions{Lobby: "company", Presenters: "named", PresenterList: []string{""}}, "Presenter 1 is not"},
		{"longest address", scheduler.MeetingOptions{Lobby: "company", Presenters: "named", PresenterList: []string{longest}}, ""},
		{"too long", scheduler.MeetingOptions{Lobby: "company", Presenters: "named", PresenterList: []string{"a" + longest}}, "Presenter 1 is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.o.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if scheduler.ErrorCode(err) != scheduler.ECodeInvalid || !strings.Contains(scheduler.ErrorMessage(err), tt.want) {
				t.Fatalf("Validate = %v; want invalid_request with %q", err, tt.want)
			}
			if strings.Contains(scheduler.ErrorMessage(err), "@") {
				t.Errorf("message %q repeats an address", scheduler.ErrorMessage(err))
			}
		})
	}
}

func TestMeetingOptionsWithDefaults(t *testing.T) {
	t.Parallel()
	if got := (scheduler.MeetingOptions{}).WithDefaults(); got.Lobby != "company" || got.Presenters != "everyone" || got.PresenterList != nil {
		t.Errorf("defaults = %+v", got)
	}
	set := scheduler.MeetingOptions{Lobby: "invited", Presenters: "named", PresenterList: []string{"alex@contoso.example"}, PhoneBypass: true}
	got := set.WithDefaults()
	if got.Lobby != set.Lobby || got.Presenters != set.Presenters || !got.PhoneBypass || !slices.Equal(got.PresenterList, set.PresenterList) {
		t.Errorf("WithDefaults(%+v) = %+v", set, got)
	}
	got.PresenterList[0] = "megan@contoso.example"
	if set.PresenterList[0] != "alex@contoso.example" {
		t.Error("WithDefaults shares the presenter list with its input")
	}
}
