package refresh

import (
	"context"
	"encoding/csv"
	"io"
	"strings"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// reportHeader names the CSV report's columns.
var reportHeader = []string{"mailbox", "mailbox_id", "event_id", "conference_id", "start", "action", "reason", "changes"}

// Stale reports whether a row is a meeting whose join information does not
// match the current settings: one to update, or one that cannot be
// updated because its block is gone, is another meeting's, or belongs to
// a conference this service no longer knows.
func Stale(r scheduler.RefreshRow) bool {
	switch {
	case r.Action == ActionUpdate:
		return true
	case r.Action == ActionSkip:
		return r.Reason == ReasonBlockMissing || r.Reason == ReasonBlockMismatch || r.Reason == ReasonUnknown
	}
	return false
}

// WriteCSV writes a job's report: one line per meeting (and per mailbox
// that could not be read). With staleOnly, only Stale rows. In a dry run
// the action "update" reads "would_update".
func (e *Engine) WriteCSV(ctx context.Context, w io.Writer, id string, staleOnly bool) error {
	j, err := e.Store.Job(ctx, id)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(reportHeader); err != nil {
		return err
	}
	const page = 1000
	for from := 0; ; from += page {
		rows, err := e.Store.Rows(ctx, id, from, page)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if staleOnly && !Stale(r) {
				continue
			}
			if err := cw.Write(e.csvRow(j, r)); err != nil {
				return err
			}
		}
		if len(rows) < page {
			break
		}
	}
	cw.Flush()
	return cw.Error()
}

func (e *Engine) csvRow(j scheduler.RefreshJob, r scheduler.RefreshRow) []string {
	mailbox := ""
	if len(r.Mailbox) > 0 {
		if plain, err := e.Box.Open(r.Mailbox, rowContext(j.ID)); err == nil {
			mailbox = string(plain)
		}
	}
	action := r.Action
	if j.DryRun && action == ActionUpdate {
		action = "would_update"
	}
	start := ""
	if !r.Start.IsZero() {
		start = r.Start.UTC().Format(time.RFC3339)
	}
	out := []string{mailbox, r.MailboxID, r.EventID, r.Conf, start, action, r.Reason, r.Changes}
	for i, v := range out {
		out[i] = defuse(v)
	}
	return out
}

// defuse keeps a spreadsheet from reading a value as a formula.
func defuse(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
