//! A local emulator of the iDenfy API (axum): same endpoints, validation and
//! error bodies, single-use tokens, expiry, `dummyStatus`, signed webhooks.
//! It is the embedded default when no credentials are configured.
