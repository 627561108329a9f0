-- Call-quality store. Tables are the service's own; the views at the end
-- are the documented, stable surface for admins' own tools (README.md).

-- +goose Up
CREATE TABLE qoe.calls (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text        NOT NULL CHECK (source IN ('rtcpxr', 'teams')),
    external_id text        NOT NULL,
    start_time  timestamptz NOT NULL,
    end_time    timestamptz NOT NULL,
    kind        text,
    organizer   text,
    received_at timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
CREATE INDEX calls_start_time ON qoe.calls (start_time);
CREATE INDEX calls_end_time ON qoe.calls (end_time);

-- One row per media stream, described from its receiving endpoint: the
-- user, device and address that measured it. peer_* is the sender.
CREATE TABLE qoe.streams (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id         bigint      NOT NULL REFERENCES qoe.calls (id) ON DELETE CASCADE,
    stream_key      text        NOT NULL,
    start_time      timestamptz NOT NULL,
    end_time        timestamptz NOT NULL,
    modality        text        NOT NULL,
    direction       text,
    user_id         text,
    user_name       text,
    device          text,
    ip              inet,
    port            integer,
    subnet          cidr,
    peer_user_id    text,
    peer_ip         inet,
    peer_port       integer,
    codec           text,
    packet_loss     double precision,
    jitter_ms       double precision,
    round_trip_ms   double precision,
    mos_lq          double precision,
    mos_cq          double precision,
    degradation     double precision,
    concealed_ratio double precision,
    poor            boolean,
    poor_reasons    text[]      NOT NULL DEFAULT '{}',
    metrics         jsonb       NOT NULL DEFAULT '{}',
    UNIQUE (call_id, stream_key)
);
CREATE INDEX streams_user ON qoe.streams (lower(user_id));

-- Views: one row per stream, per call, and rollups by subnet and device.
CREATE VIEW qoe.stream_quality AS
SELECT s.id AS stream_id, s.call_id, c.source, c.external_id AS call_external_id,
       s.start_time, s.end_time, s.modality, s.direction,
       s.user_id, s.user_name, s.device, s.ip, s.port, s.subnet,
       s.peer_user_id, s.peer_ip, s.peer_port, s.codec,
       s.packet_loss AS packet_loss_percent, s.jitter_ms, s.round_trip_ms,
       s.mos_lq, s.mos_cq, s.degradation, s.concealed_ratio,
       s.poor, s.poor_reasons, s.metrics
FROM qoe.streams s JOIN qoe.calls c ON c.id = s.call_id;

CREATE VIEW qoe.call_quality AS
SELECT c.id AS call_id, c.source, c.external_id, c.start_time, c.end_time, c.kind, c.organizer,
       count(s.id) AS streams,
       count(s.id) FILTER (WHERE s.poor) AS poor_streams,
       bool_or(s.poor) AS poor,
       min(s.mos_lq) AS worst_mos_lq, min(s.mos_cq) AS worst_mos_cq,
       max(s.packet_loss) AS worst_packet_loss_percent, max(s.jitter_ms) AS worst_jitter_ms,
       max(s.round_trip_ms) AS worst_round_trip_ms,
       array_remove(array_agg(DISTINCT s.user_id), NULL) AS users
FROM qoe.calls c LEFT JOIN qoe.streams s ON s.call_id = c.id
GROUP BY c.id;

CREATE VIEW qoe.daily_quality AS
SELECT (start_time AT TIME ZONE 'UTC')::date AS day,
       count(*) AS calls,
       count(*) FILTER (WHERE poor) AS poor_calls,
       round(100.0 * count(*) FILTER (WHERE poor) / nullif(count(*) FILTER (WHERE poor IS NOT NULL), 0), 1) AS poor_percent
FROM qoe.call_quality
GROUP BY 1;

CREATE VIEW qoe.subnet_quality AS
SELECT subnet, count(*) AS streams, count(*) FILTER (WHERE poor) AS poor_streams,
       round(100.0 * count(*) FILTER (WHERE poor) / nullif(count(*), 0), 1) AS poor_percent,
       avg(packet_loss) AS avg_packet_loss_percent, avg(jitter_ms) AS avg_jitter_ms,
       avg(round_trip_ms) AS avg_round_trip_ms, avg(coalesce(mos_cq, mos_lq)) AS avg_mos
FROM qoe.streams
WHERE subnet IS NOT NULL AND poor IS NOT NULL
GROUP BY subnet;

CREATE VIEW qoe.device_quality AS
SELECT device, count(*) AS streams, count(*) FILTER (WHERE poor) AS poor_streams,
       round(100.0 * count(*) FILTER (WHERE poor) / nullif(count(*), 0), 1) AS poor_percent,
       avg(packet_loss) AS avg_packet_loss_percent, avg(jitter_ms) AS avg_jitter_ms,
       avg(round_trip_ms) AS avg_round_trip_ms, avg(coalesce(mos_cq, mos_lq)) AS avg_mos
FROM qoe.streams
WHERE device IS NOT NULL AND poor IS NOT NULL
GROUP BY device;

-- +goose Down
DROP VIEW qoe.device_quality;
DROP VIEW qoe.subnet_quality;
DROP VIEW qoe.daily_quality;
DROP VIEW qoe.call_quality;
DROP VIEW qoe.stream_quality;
DROP TABLE qoe.streams;
DROP TABLE qoe.calls;
