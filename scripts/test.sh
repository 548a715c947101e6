#!/usr/bin/env bash
# The whole suite: unit + integration tests of the core, the shell's tests,
# and the end-to-end tests that drive the real window under Xvfb.
set -euo pipefail
cargo test --workspace --exclude kyc-kiosk-app
# The app package's tests include the end-to-end suite: it needs a display
# (Xvfb) and tauri-driver, which scripts/setup.sh test installs.
xvfb-run -a --server-args="-screen 0 1280x800x24" cargo test -p kyc-kiosk-app -- --test-threads=1
