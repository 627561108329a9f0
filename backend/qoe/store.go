package qoe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Sources of calls, as stored in qoe.calls.source.
const (
	SourceRTCPXR = "rtcpxr" // RFC 6035 over SIP PUBLISH or HTTP
	SourceTeams  = "teams"  // Teams call records from Graph
)

// call is what one report contributes: the call and some of its streams.
type call struct {
	Source     string
	ExternalID string
	Start, End time.Time
	Kind       string
	Organizer  string
	Streams    []stream
}

// stream is one media stream, seen from its receiving endpoint. Its JSON
// form feeds jsonb_to_recordset, so the tags are the column names and
// absent values are omitted (NULL).
type stream struct {
	Key            string          `json:"stream_key"`
	Start          time.Time       `json:"start_time"`
	End            time.Time       `json:"end_time"`
	Modality       string          `json:"modality"`
	Direction      string          `json:"direction,omitempty"`
	UserID         string          `json:"user_id,omitempty"`
	UserName       string          `json:"user_name,omitempty"`
	Device         string          `json:"device,omitempty"`
	IP             *netip.Addr     `json:"ip,omitempty"`
	Port           int             `json:"port,omitempty"`
	Subnet         *netip.Prefix   `json:"subnet,omitempty"`
	PeerUserID     string          `json:"peer_user_id,omitempty"`
	PeerIP         *netip.Addr     `json:"peer_ip,omitempty"`
	PeerPort       int             `json:"peer_port,omitempty"`
	Codec          string          `json:"codec,omitempty"`
	PacketLoss     *float64        `json:"packet_loss,omitempty"`
	JitterMS       *float64        `json:"jitter_ms,omitempty"`
	RoundTripMS    *float64        `json:"round_trip_ms,omitempty"`
	MOSLQ          *float64        `json:"mos_lq,omitempty"`
	MOSCQ          *float64        `json:"mos_cq,omitempty"`
	Degradation    *float64        `json:"degradation,omitempty"`
	ConcealedRatio *float64        `json:"concealed_ratio,omitempty"`
	Poor           *bool           `json:"poor,omitempty"`
	PoorReasons    []string        `json:"poor_reasons"`
	Metrics        json.RawMessage `json:"metrics"`
}

// Subnet sizes used for the worst-subnets report and for truncation.
const (
	subnetBits4 = 24
	subnetBits6 = 64
)

// subnetOf is the /24 or /64 that holds ip.
func subnetOf(ip netip.Addr) netip.Prefix {
	bits := subnetBits4
	if ip.Is6() {
		bits = subnetBits6
	}
	p, _ := ip.Prefix(bits)
	return p
}

// endpoint sets a stream's address fields, truncated when the admin asked.
func (s *Service) endpoint(ip netip.Addr) (addr *netip.Addr, subnet *netip.Prefix) {
	if !ip.IsValid() {
		return nil, nil
	}
	ip = ip.Unmap()
	sn := subnetOf(ip)
	if s.opts.TruncateIPs {
		ip = sn.Addr()
	}
	return &ip, &sn
}

func (s *Service) peer(ip netip.Addr) *netip.Addr {
	a, _ := s.endpoint(ip)
	return a
}

// streamColumns is the jsonb_to_recordset column list; it must match the
// stream struct's JSON tags.
const streamColumns = `stream_key text, start_time timestamptz, end_time timestamptz, modality text,
	direction text, user_id text, user_name text, device text, ip inet, port integer, subnet cidr,
	peer_user_id text, peer_ip inet, peer_port integer, codec text, packet_loss double precision, jitter_ms double precision,
	round_trip_ms double precision, mos_lq double precision, mos_cq double precision, degradation double precision, concealed_ratio double precision,
	poor boolean, poor_reasons text[], metrics jsonb`

const streamNames = `stream_key, start_time, end_time, modality, direction, user_id, user_name, device,
	ip, port, subnet, peer_user_id, peer_ip, peer_port, codec, packet_loss, jitter_ms, round_trip_ms,
	mos_lq, mos_cq, degradation, concealed_ratio, poor, poor_reasons, metrics`

// upsertCall inserts or extends the call and returns its id.
const upsertCall = `INSERT INTO qoe.calls AS c (source, external_id, start_time, end_time, kind, organizer)
	VALUES ($1, $2, $3, $4, nullif($5, ''), nullif($6, ''))
	ON CONFLICT (source, external_id) DO UPDATE SET
		start_time = least(c.start_time, excluded.start_time),
		end_time = greatest(c.end_time, excluded.end_time),
		kind = coalesce(excluded.kind, c.kind),
		organizer = coalesce(excluded.organizer, c.organizer),
		updated_at = now()
	RETURNING id`

// mergeStreams stores one report in a single statement (so it is atomic and
// costs one round trip): the call is upserted, and each stream replaces the
// earlier report of the same stream (an interval report, then the final one).
var mergeStreams = `WITH c AS (` + upsertCall + `)
	INSERT INTO qoe.streams (call_id, ` + streamNames + `)
	SELECT c.id, s.* FROM c, jsonb_to_recordset($7::jsonb) AS s(` + streamColumns + `)
	ON CONFLICT (call_id, stream_key) DO UPDATE SET
		start_time = least(qoe.streams.start_time, excluded.start_time),
		end_time = greatest(qoe.streams.end_time, excluded.end_time),
		modality = excluded.modality, direction = excluded.direction,
		user_id = coalesce(excluded.user_id, qoe.streams.user_id),
		user_name = coalesce(excluded.user_name, qoe.streams.user_name),
		device = coalesce(excluded.device, qoe.streams.device),
		ip = excluded.ip, port = excluded.port, subnet = excluded.subnet,
		peer_user_id = coalesce(excluded.peer_user_id, qoe.streams.peer_user_id),
		peer_ip = excluded.peer_ip, peer_port = excluded.peer_port, codec = excluded.codec,
		packet_loss = excluded.packet_loss, jitter_ms = excluded.jitter_ms,
		round_trip_ms = excluded.round_trip_ms, mos_lq = excluded.mos_lq, mos_cq = excluded.mos_cq,
		degradation = excluded.degradation, concealed_ratio = excluded.concealed_ratio,
		poor = excluded.poor, poor_reasons = excluded.poor_reasons, metrics = excluded.metrics
	RETURNING call_id`

// store saves a call. With replace, the call's earlier streams are dropped
// first (a Teams call record is always complete); otherwise streams merge.
// Either way the report is stored whole or not at all.
func (s *Service) store(ctx context.Context, c *call, replace bool) (int64, error) {
	for i := range c.Streams {
		if c.Streams[i].PoorReasons == nil {
			c.Streams[i].PoorReasons = []string{}
		}
		if c.Streams[i].Metrics == nil {
			c.Streams[i].Metrics = json.RawMessage(`{}`)
		}
	}
	streams, err := json.Marshal(c.Streams)
	if err != nil {
		return 0, fmt.Errorf("qoe: encode streams: %w", err)
	}
	args := []any{c.Source, c.ExternalID, c.Start, c.End, c.Kind, c.Organizer}
	var id int64
	switch {
	case len(c.Streams) == 0:
		err = s.db.QueryRow(ctx, upsertCall, args...).Scan(&id)
		return id, storeError(err)
	case !replace:
		err = s.db.QueryRow(ctx, mergeStreams, append(args, streams)...).Scan(&id)
		return id, storeError(err)
	}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, upsertCall, args...).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM qoe.streams WHERE call_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO qoe.streams (call_id, `+streamNames+`)
			SELECT $1, s.* FROM jsonb_to_recordset($2::jsonb) AS s(`+streamColumns+`)`, id, streams)
		return err
	})
	return id, storeError(err)
}

// storeError turns a database failure into the error a client may see.
func storeError(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code[:2] == "22" || pgErr.Code[:2] == "23") {
		// Data or constraint errors: the report carries a value the
		// schema refuses (the parser should have caught it).
		return scheduler.Wrap(scheduler.ECodeInvalid, "The report has a value that cannot be stored.", err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return scheduler.Wrap(scheduler.ECodeStoreUnavailable, "The call-quality database did not answer in time.", err)
	}
	return scheduler.Wrap(scheduler.ECodeStoreUnavailable, "The call-quality database is unavailable.", err)
}
