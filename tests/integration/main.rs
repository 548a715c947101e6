//! Integration tests: one binary, one module per area.

mod cli;
mod fixtures;
mod idenfy_client;
mod support;
mod verify_cli;
mod webhook;
