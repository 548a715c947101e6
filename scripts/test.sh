#!/usr/bin/env bash
# The whole suite in one `cargo test`: unit and integration tests of the core,
# the CLI's tests, the shell's tests and the end-to-end tests that drive the
# real window under Xvfb. One invocation resolves the core's features once, so
# the core and everything under it are compiled once (two invocations with
# different package selections resolved them twice).
set -euo pipefail
# The end-to-end tests need a display (Xvfb) and tauri-driver, which
# scripts/setup.sh test installs; they take turns on the one display by
# themselves. The screen is larger than the window sizes the tests set
# (up to 1920x1080 and portrait 1080x1920), and its centre lies inside the
# app's default 1280x800 window: without a window manager the keyboard focus
# follows the pointer, which Xvfb puts at the centre.
exec xvfb-run -a --server-args="-screen 0 2048x1536x24" cargo test --workspace --no-fail-fast "$@"
