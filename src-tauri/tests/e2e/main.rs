//! End-to-end tests: the real kiosk window under Xvfb, driven through
//! tauri-driver and WebKitWebDriver. Run by `make test` (which installs both
//! and starts Xvfb); each test saves screenshots under `target/e2e/`.

mod harness;

mod a11y;
mod accept_photo;
mod backoffice;
mod flows;
mod screens;
mod staff;
mod start;
