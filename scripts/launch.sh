#!/usr/bin/env bash
# Launch the kiosk window when there is a display, else run the same flow
# headless in the terminal.
set -euo pipefail
target="${CARGO_TARGET_DIR:-target}"
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$target/debug/kyc-kiosk-app" "$@"
else
  echo "kyc-kiosk: no display (DISPLAY and WAYLAND_DISPLAY unset): running the headless demo instead."
  exec "$target/debug/kyc-kiosk" demo "$@"
fi
