//! The relay's integration tests, against a real PostgreSQL (see `support`).

mod backoffice;
mod cli;
mod fleet;
mod flow;
mod instances;
mod kiosk;
mod load;
mod ops;
mod security;
mod support;
