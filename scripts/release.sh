#!/usr/bin/env bash
# The production build for branch machines: the CLI and the app in the release
# profile, the UI served from the binary (custom protocol), no devtools, the
# test switches compiled out, and a .deb with an autostart entry that opens
# the kiosk in kiosk mode. The Tauri bundler comes from the npm registry
# (@tauri-apps/cli, a prebuilt binary), pinned to the tauri crate's version.
set -euo pipefail
cd "$(dirname "$0")/.."
TAURI_CLI_VERSION=2.12.5
cli_dir="${CARGO_TARGET_DIR:-target}/tauri-cli"
tauri="$cli_dir/node_modules/.bin/tauri"
if [ ! -x "$tauri" ] || ! "$tauri" --version 2>/dev/null | grep -q "$TAURI_CLI_VERSION"; then
  command -v npm >/dev/null 2>&1 || { echo "kyc-kiosk: npm is needed for the Tauri bundler (apt-get install npm)" >&2; exit 1; }
  mkdir -p "$cli_dir"
  npm install --prefix "$cli_dir" --no-audit --no-fund --silent "@tauri-apps/cli@$TAURI_CLI_VERSION"
fi
# The CLI goes into the package too (IT provisions the staff PIN with it).
cargo build --release --locked -p kyc-kiosk --bin kyc-kiosk
tauri="$(realpath "$tauri")"
cd src-tauri
"$tauri" build --ci --bundles deb --config tauri.release.conf.json -- --locked --no-default-features
echo "kyc-kiosk: package in ${CARGO_TARGET_DIR:-target}/release/bundle/deb/"
