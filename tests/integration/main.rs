//! Integration tests: one binary, one module per area.

mod camera;
mod camera_path;
mod cli;
mod detect_cli;
mod fixtures;
mod fuzz_corpus;
mod idenfy_client;
mod kiosk;
mod precheck;
mod session;
mod support;
mod verify_cli;
mod webhook;
