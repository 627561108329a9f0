package qoe

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Report limits.
const (
	defaultPeriod = 30 * 24 * time.Hour
	maxPeriod     = 366 * 24 * time.Hour
	defaultLimit  = 20
	maxLimit      = 500
)

// query is a report request's parameters.
type query struct {
	from, to time.Time
	tz       string
	limit    int
	min      int
	user     string
}

// result is a report in every form it can be served in.
type result struct {
	name   string   // file name stem for CSV and SVG downloads
	json   any      // the JSON body
	header []string // CSV header
	rows   [][]string
	svg    func() []byte
}

// report adapts a report function to HTTP: parameters in, JSON, CSV or SVG out.
func (s *Service) report(run func(context.Context, query) (*result, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := s.parseQuery(r)
		if err != nil {
			writeError(w, s.log, err)
			return
		}
		format := r.URL.Query().Get("format")
		if format != "" && format != "json" && format != "csv" && format != "svg" {
			writeError(w, s.log, scheduler.Errorf(scheduler.ECodeInvalid, "format must be json, csv or svg."))
			return
		}
		res, err := run(r.Context(), q)
		if err != nil {
			writeError(w, s.log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		switch format {
		case "csv":
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="`+res.name+`.csv"`)
			_, _ = w.Write(toCSV(res.header, res.rows))
		case "svg":
			w.Header().Set("Content-Type", "image/svg+xml")
			// The chart is self-contained: no script, no remote resource.
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
			_, _ = w.Write(res.svg())
		default:
			writeJSON(w, http.StatusOK, res.json)
		}
	}
}

func (s *Service) parseQuery(r *http.Request) (query, error) {
	v := r.URL.Query()
	q := query{tz: "UTC", limit: defaultLimit, min: 1, user: r.PathValue("user")}
	if tz := v.Get("tz"); tz != "" {
		var ok bool
		if err := s.db.QueryRow(r.Context(), `SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)`, tz).Scan(&ok); err != nil {
			return q, storeError(err)
		}
		if !ok {
			return q, scheduler.Errorf(scheduler.ECodeInvalid, "tz %q is not a known time zone.", tz)
		}
		q.tz = tz
	}
	var err error
	if q.to, err = parseTime(v.Get("to"), true); err != nil {
		return q, err
	}
	if q.to.IsZero() {
		q.to = s.now()
	}
	if q.from, err = parseTime(v.Get("from"), false); err != nil {
		return q, err
	}
	if q.from.IsZero() {
		q.from = q.to.Add(-defaultPeriod)
	}
	if !q.from.Before(q.to) {
		return q, scheduler.Errorf(scheduler.ECodeInvalid, "from must be before to.")
	}
	if q.to.Sub(q.from) > maxPeriod {
		return q, scheduler.Errorf(scheduler.ECodeInvalid, "The period may not exceed 366 days.")
	}
	for _, p := range []struct {
		name    string
		dst     *int
		lo, hi  int
		present string
	}{{"limit", &q.limit, 1, maxLimit, v.Get("limit")}, {"min", &q.min, 1, 1_000_000, v.Get("min")}} {
		if p.present == "" {
			continue
		}
		n, err := strconv.Atoi(p.present)
		if err != nil || n < p.lo || n > p.hi {
			return q, scheduler.Errorf(scheduler.ECodeInvalid, "%s must be a whole number from %d to %d.", p.name, p.lo, p.hi)
		}
		*p.dst = n
	}
	return q, nil
}

// parseTime reads RFC 3339 or a date (UTC midnight; for "to", the end of
// that day so that the day is included).
func parseTime(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, scheduler.Errorf(scheduler.ECodeInvalid, "%q is neither an RFC 3339 time nor a YYYY-MM-DD date.", s)
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

// DayRow is one day of the daily report.
type DayRow struct {
	Day         string   `json:"day"`
	Calls       int      `json:"calls"`
	PoorCalls   int      `json:"poorCalls"`
	Classified  int      `json:"classifiedCalls"`
	PoorPercent *float64 `json:"poorPercent"`
}

func (s *Service) dailyReport(ctx context.Context, q query) (*result, error) {
	rows, err := s.db.Query(ctx, `
		WITH calls AS (
			SELECT c.id, c.start_time, bool_or(s.poor) AS poor
			FROM qoe.calls c LEFT JOIN qoe.streams s ON s.call_id = c.id
			WHERE c.start_time >= $1 AND c.start_time < $2
			GROUP BY c.id
		), days AS (
			SELECT d::date AS day FROM generate_series(
				($1::timestamptz AT TIME ZONE $3)::date,
				(($2::timestamptz - interval '1 microsecond') AT TIME ZONE $3)::date,
				interval '1 day') AS d
		)
		SELECT to_char(days.day, 'YYYY-MM-DD'), count(calls.id),
			count(*) FILTER (WHERE calls.poor), count(*) FILTER (WHERE calls.poor IS NOT NULL)
		FROM days LEFT JOIN calls ON (calls.start_time AT TIME ZONE $3)::date = days.day
		GROUP BY days.day ORDER BY days.day`, q.from, q.to, q.tz)
	if err != nil {
		return nil, storeError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DayRow, error) {
		var d DayRow
		err := r.Scan(&d.Day, &d.Calls, &d.PoorCalls, &d.Classified)
		d.PoorPercent = percent(d.PoorCalls, d.Classified)
		return d, err
	})
	if err != nil {
		return nil, storeError(err)
	}
	res := &result{
		name:   "qoe-daily",
		json:   map[string]any{"from": q.from, "to": q.to, "timeZone": q.tz, "days": out},
		header: []string{"day", "calls", "poor_calls", "classified_calls", "poor_percent"},
	}
	bars := make([]dayBar, len(out))
	for i, d := range out {
		res.rows = append(res.rows, []string{d.Day, itoa(d.Calls), itoa(d.PoorCalls), itoa(d.Classified), fmtFloat(d.PoorPercent)})
		bars[i] = dayBar{label: d.Day, total: d.Calls, poor: d.PoorCalls}
	}
	res.svg = func() []byte {
		return dailyChart(fmt.Sprintf("Calls and poor calls per day (%s)", q.tz), bars)
	}
	return res, nil
}

// GroupRow is one subnet or device of the worst-of reports.
type GroupRow struct {
	Name         string   `json:"name"`
	Streams      int      `json:"streams"`
	PoorStreams  int      `json:"poorStreams"`
	PoorPercent  *float64 `json:"poorPercent"`
	AvgLoss      *float64 `json:"avgPacketLossPercent"`
	AvgJitterMS  *float64 `json:"avgJitterMs"`
	AvgRoundTrip *float64 `json:"avgRoundTripMs"`
	AvgMOS       *float64 `json:"avgMos"`
}

func (s *Service) subnetReport(ctx context.Context, q query) (*result, error) {
	return s.worst(ctx, q, "subnet", "s.subnet::text", "qoe-subnets", "Worst subnets (poor streams received)")
}

func (s *Service) deviceReport(ctx context.Context, q query) (*result, error) {
	return s.worst(ctx, q, "device", "s.device", "qoe-devices", "Worst devices (poor streams received)")
}

// worst ranks groups of streams by how many were poor, then by rate.
// column is one of two constants above, never user input.
func (s *Service) worst(ctx context.Context, q query, label, column, name, title string) (*result, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+column+`, count(*), count(*) FILTER (WHERE s.poor),
			avg(s.packet_loss)::float8, avg(s.jitter_ms)::float8, avg(s.round_trip_ms)::float8,
			avg(coalesce(s.mos_cq, s.mos_lq))::float8
		FROM qoe.streams s JOIN qoe.calls c ON c.id = s.call_id
		WHERE c.start_time >= $1 AND c.start_time < $2 AND `+column+` IS NOT NULL AND s.poor IS NOT NULL
		GROUP BY 1 HAVING count(*) >= $3
		ORDER BY 3 DESC, count(*) FILTER (WHERE s.poor)::float8 / count(*) DESC, 1
		LIMIT $4`, q.from, q.to, q.min, q.limit)
	if err != nil {
		return nil, storeError(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (GroupRow, error) {
		var g GroupRow
		err := r.Scan(&g.Name, &g.Streams, &g.PoorStreams, &g.AvgLoss, &g.AvgJitterMS, &g.AvgRoundTrip, &g.AvgMOS)
		g.PoorPercent = percent(g.PoorStreams, g.Streams)
		return g, err
	})
	if err != nil {
		return nil, storeError(err)
	}
	res := &result{
		name:   name,
		json:   map[string]any{"from": q.from, "to": q.to, label + "s": out},
		header: []string{label, "streams", "poor_streams", "poor_percent", "avg_packet_loss_percent", "avg_jitter_ms", "avg_round_trip_ms", "avg_mos"},
	}
	bars := make([]hBar, len(out))
	for i, g := range out {
		res.rows = append(res.rows, []string{cell(g.Name), itoa(g.Streams), itoa(g.PoorStreams), fmtFloat(g.PoorPercent),
			fmtFloat(g.AvgLoss), fmtFloat(g.AvgJitterMS), fmtFloat(g.AvgRoundTrip), fmtFloat(g.AvgMOS)})
		bars[i] = hBar{label: g.Name, value: deref(g.PoorPercent), poor: g.PoorStreams > 0,
			note: fmt.Sprintf("%d of %d poor", g.PoorStreams, g.Streams)}
	}
	res.svg = func() []byte { return barChart(title, "% of streams poor", 100, bars) }
	return res, nil
}

// UserCall is one call of a user, with all of its streams.
type UserCall struct {
	ID         int64          `json:"id"`
	Source     string         `json:"source"`
	ExternalID string         `json:"externalId"`
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	Poor       *bool          `json:"poor"`
	Streams    []StreamDetail `json:"streams"`
}

// StreamDetail is one stream of a call, from its receiving endpoint.
type StreamDetail struct {
	Modality    string   `json:"modality"`
	Direction   *string  `json:"direction"`
	UserID      *string  `json:"userId"`
	Device      *string  `json:"device"`
	IP          *string  `json:"ip"`
	Subnet      *string  `json:"subnet"`
	PeerUserID  *string  `json:"peerUserId"`
	PeerIP      *string  `json:"peerIp"`
	Codec       *string  `json:"codec"`
	PacketLoss  *float64 `json:"packetLossPercent"`
	JitterMS    *float64 `json:"jitterMs"`
	RoundTripMS *float64 `json:"roundTripMs"`
	MOSLQ       *float64 `json:"mosLq"`
	MOSCQ       *float64 `json:"mosCq"`
	Degradation *float64 `json:"degradation"`
	Concealed   *float64 `json:"concealedRatio"`
	Poor        *bool    `json:"poor"`
	PoorReasons []string `json:"poorReasons"`
}

func (s *Service) userReport(ctx context.Context, q query) (*result, error) {
	if q.user == "" {
		return nil, scheduler.Errorf(scheduler.ECodeInvalid, "A user is required.")
	}
	rows, err := s.db.Query(ctx, `
		WITH picked AS (
			SELECT c.id FROM qoe.calls c
			WHERE c.start_time >= $1 AND c.start_time < $2
				AND EXISTS (SELECT 1 FROM qoe.streams u WHERE u.call_id = c.id AND lower(u.user_id) = lower($3))
			ORDER BY c.start_time DESC, c.id DESC LIMIT $4
		)
		SELECT c.id, c.source, c.external_id, c.start_time, c.end_time,
			s.modality, s.direction, s.user_id, s.device, host(s.ip), s.subnet::text, s.peer_user_id, host(s.peer_ip),
			s.codec, s.packet_loss::float8, s.jitter_ms::float8, s.round_trip_ms::float8, s.mos_lq::float8,
			s.mos_cq::float8, s.degradation::float8, s.concealed_ratio::float8, s.poor, s.poor_reasons
		FROM picked JOIN qoe.calls c ON c.id = picked.id JOIN qoe.streams s ON s.call_id = c.id
		ORDER BY c.start_time DESC, c.id DESC, s.id`, q.from, q.to, q.user, q.limit)
	if err != nil {
		return nil, storeError(err)
	}
	var calls []UserCall
	res := &result{
		name: "qoe-user-calls",
		header: []string{"call_id", "source", "external_id", "start", "end", "modality", "direction", "user", "device", "ip", "subnet",
			"peer_user", "peer_ip", "codec", "packet_loss_percent", "jitter_ms", "round_trip_ms", "mos_lq", "mos_cq",
			"degradation", "concealed_ratio", "poor", "poor_reasons"},
	}
	var c UserCall
	var sd StreamDetail
	_, err = pgx.ForEachRow(rows, []any{&c.ID, &c.Source, &c.ExternalID, &c.Start, &c.End,
		&sd.Modality, &sd.Direction, &sd.UserID, &sd.Device, &sd.IP, &sd.Subnet, &sd.PeerUserID, &sd.PeerIP,
		&sd.Codec, &sd.PacketLoss, &sd.JitterMS, &sd.RoundTripMS, &sd.MOSLQ, &sd.MOSCQ, &sd.Degradation, &sd.Concealed,
		&sd.Poor, &sd.PoorReasons}, func() error {
		if n := len(calls); n == 0 || calls[n-1].ID != c.ID {
			calls = append(calls, UserCall{ID: c.ID, Source: c.Source, ExternalID: c.ExternalID, Start: c.Start, End: c.End, Streams: []StreamDetail{}})
		}
		last := &calls[len(calls)-1]
		if sd.Poor != nil {
			p := *sd.Poor || (last.Poor != nil && *last.Poor)
			last.Poor = &p
		}
		last.Streams = append(last.Streams, sd)
		res.rows = append(res.rows, []string{strconv.FormatInt(c.ID, 10), c.Source, cell(c.ExternalID),
			c.Start.UTC().Format(time.RFC3339), c.End.UTC().Format(time.RFC3339), sd.Modality, str(sd.Direction),
			cell(str(sd.UserID)), cell(str(sd.Device)), str(sd.IP), str(sd.Subnet), cell(str(sd.PeerUserID)), str(sd.PeerIP),
			cell(str(sd.Codec)), fmtFloat(sd.PacketLoss), fmtFloat(sd.JitterMS), fmtFloat(sd.RoundTripMS), fmtFloat(sd.MOSLQ),
			fmtFloat(sd.MOSCQ), fmtFloat(sd.Degradation), fmtFloat(sd.Concealed), boolText(sd.Poor), strings.Join(sd.PoorReasons, " ")})
		sd = StreamDetail{}
		return nil
	})
	if err != nil {
		return nil, storeError(err)
	}
	if calls == nil {
		calls = []UserCall{}
	}
	res.json = map[string]any{"from": q.from, "to": q.to, "user": q.user, "calls": calls}
	bars := make([]hBar, len(calls))
	for i, c := range calls {
		worst, reasons := 5.0, []string{}
		for _, st := range c.Streams {
			for _, m := range []*float64{st.MOSLQ, st.MOSCQ} {
				if m != nil && *m < worst {
					worst = *m
				}
			}
			for _, r := range st.PoorReasons {
				if !slices.Contains(reasons, r) {
					reasons = append(reasons, r)
				}
			}
		}
		note := "good"
		if c.Poor == nil {
			note = "not classified"
		} else if *c.Poor {
			note = "poor: " + strings.Join(reasons, ", ")
		}
		bars[i] = hBar{label: c.Start.UTC().Format("2006-01-02 15:04"), value: worst, poor: c.Poor != nil && *c.Poor, note: note}
	}
	res.svg = func() []byte {
		return barChart("Calls of "+q.user+" (worst MOS per call; 5 when no MOS was reported)", "MOS", 5, bars)
	}
	return res, nil
}

func percent(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	p := float64(int(1000*float64(part)/float64(whole)+0.5)) / 10
	return &p
}

func itoa(n int) string { return strconv.Itoa(n) }

func fmtFloat(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func boolText(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// cell defuses text from reporters before it reaches a spreadsheet: a cell
// starting with = + - @ (or a tab or CR) would be read as a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func toCSV(header []string, rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(header)
	_ = w.WriteAll(rows)
	return b.Bytes()
}
