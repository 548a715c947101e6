-- The relay's whole state. Personal data: only what a kiosk shows (the
-- `status` object of a result and the clientId); no names, no images, no
-- document data, no file URLs, no client IP.

-- One row per enrolled kiosk. The credential is stored only as SHA-256 of a
-- 256-bit random token.
CREATE TABLE kiosk (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    branch          text,
    credential_hash bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    last_seen_at    timestamptz,
    app_version     text,
    last_result_at  timestamptz
);

-- Per-branch policy for token creation: client IDs must start with the prefix.
CREATE TABLE branch_rule (
    branch           text PRIMARY KEY,
    client_id_prefix text NOT NULL
);

-- Token creation per kiosk in fixed windows, shared by every relay instance.
CREATE TABLE token_rate (
    kiosk_id     uuid NOT NULL REFERENCES kiosk (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL,
    PRIMARY KEY (kiosk_id, window_start)
);

-- Every verification this relay created, and who created it. `process_state`
-- holds the never-retry-blindly rule: new -> sending -> accepted | unknown.
CREATE TABLE scan (
    scan_ref      text PRIMARY KEY,
    kiosk_id      uuid NOT NULL REFERENCES kiosk (id) ON DELETE CASCADE,
    auth_token    text,
    token_type    text NOT NULL,
    handoff       boolean NOT NULL DEFAULT false,
    process_state text NOT NULL DEFAULT 'new',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scan_created_at ON scan (created_at);

-- Webhooks already taken: scanRef + final + SHA-256 of the raw body. Kept as
-- long as the scan, so a replay after the result was purged is still refused.
CREATE TABLE webhook_seen (
    scan_ref    text NOT NULL REFERENCES scan (scan_ref) ON DELETE CASCADE,
    is_final    boolean NOT NULL,
    body_sha256 bytea NOT NULL,
    seen_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scan_ref, is_final, body_sha256)
);

-- Results waiting for (or just acknowledged by) their kiosk. The table is
-- the truth; NOTIFY only wakes the instances.
CREATE TABLE result (
    id           bigserial PRIMARY KEY,
    scan_ref     text NOT NULL REFERENCES scan (scan_ref) ON DELETE CASCADE,
    kiosk_id     uuid NOT NULL REFERENCES kiosk (id) ON DELETE CASCADE,
    client_id    text,
    is_final     boolean NOT NULL,
    event        text NOT NULL,
    status       jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    acked_at     timestamptz
);
CREATE INDEX result_pending ON result (kiosk_id, id) WHERE acked_at IS NULL;
CREATE INDEX result_received_at ON result (received_at);

-- What happened, without personal data: no clientId, no names, no images.
CREATE TABLE audit (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    kiosk_id uuid,
    scan_ref text,
    event    text NOT NULL,
    is_final boolean,
    overall  text
);
CREATE INDEX audit_scan_ref ON audit (scan_ref);
