package conferencing

import (
	"fmt"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

// checkRequest fills empty options with the defaults, validates them, and
// checks the times.
func checkRequest(req scheduler.ConferenceRequest) (scheduler.MeetingOptions, error) {
	o := req.Options.WithDefaults()
	if err := o.Validate(); err != nil {
		return o, err
	}
	if !req.End.After(req.Start) {
		return o, scheduler.Errorf(scheduler.ECodeInvalid, "The meeting must end after it starts.")
	}
	return o, nil
}

// updateRecord applies a request to a stored conference: the options are
// replaced as a whole (empty ones take the defaults), and zero times keep
// the stored ones. The conference ID, room and join URL never change,
// because the store indexes them and people have them in their invitations.
func updateRecord(c scheduler.Conference, req scheduler.ConferenceRequest) (scheduler.Conference, error) {
	if req.Start.IsZero() {
		req.Start = c.Start
	}
	if req.End.IsZero() {
		req.End = c.End
	}
	opts, err := checkRequest(req)
	if err != nil {
		return c, err
	}
	c.Options = opts
	c.Start, c.End = req.Start, req.End
	c.Updated = time.Now().UTC()
	return c, nil
}

// details returns what people need to join a stored conference. Dial-in
// is the conference's own when its provider assigned one; otherwise it
// comes from the current settings, so a changed number reaches every
// meeting.
func details(s Settings, box *secret.Box, c scheduler.Conference) (scheduler.JoinDetails, error) {
	passcode, err := openPasscode(box, c)
	if err != nil {
		return scheduler.JoinDetails{}, err
	}
	d := scheduler.JoinDetails{
		JoinURL:      c.JoinURL,
		ConferenceID: c.ConferenceID,
		Passcode:     passcode,
		DialIn:       s.dialIn(),
		DialInURL:    s.DialIn.URL,
	}
	if len(c.DialIn) > 0 || c.DialInURL != "" {
		d.DialIn, d.DialInURL = c.DialIn, c.DialInURL
	}
	return d, nil
}

// passcodeContext binds a sealed passcode to its meeting, so that one
// copied into another record does not open.
func passcodeContext(meetingID string) string { return "passcode:" + meetingID }

func sealPasscode(box *secret.Box, meetingID, passcode string) []byte {
	return box.Seal([]byte(passcode), passcodeContext(meetingID))
}

func openPasscode(box *secret.Box, c scheduler.Conference) (string, error) {
	if len(c.SealedPasscode) == 0 {
		return "", nil
	}
	b, err := box.Open(c.SealedPasscode, passcodeContext(c.MeetingID))
	if err != nil {
		return "", fmt.Errorf("conferencing: passcode of meeting %s: %w", c.MeetingID, err)
	}
	return string(b), nil
}
