-- `/status` questions per kiosk in fixed windows, shared by every relay
-- instance: iDenfy restricts accounts that poll, and this relay holds the
-- one credential of the whole fleet.
CREATE TABLE status_rate (
    kiosk_id     uuid NOT NULL REFERENCES kiosk (id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    count        integer NOT NULL,
    PRIMARY KEY (kiosk_id, window_start)
);
