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
# The package takes the CLI from wherever this build put it (CARGO_TARGET_DIR
# may be elsewhere than target/): the release config is written out with
# absolute paths instead of the ones it names relative to src-tauri/.
target_dir="$(realpath "${CARGO_TARGET_DIR:-target}")"
release_conf="$target_dir/tauri.release.conf.json"
sed -e "s#\"\.\./target/release/kyc-kiosk\"#\"$target_dir/release/kyc-kiosk\"#" \
  -e "s#\"\.\./#\"$PWD/#" \
  src-tauri/tauri.release.conf.json >"$release_conf"
cd src-tauri
"$tauri" build --ci --bundles deb --config "$release_conf" -- --locked --no-default-features
cd ..
deb="$(ls -t "$target_dir"/release/bundle/deb/*.deb | head -n 1)"
# What a branch machine gets: both programs, the autostart entry, the demo
# pictures (sandbox mode without a camera; a live kiosk never uses them).
contents="$(dpkg-deb -c "$deb")"
demo=()
for f in assets/demo/*; do demo+=("usr/share/kyc-kiosk/demo/$(basename "$f")"); done
for f in usr/bin/kyc-kiosk-app usr/bin/kyc-kiosk etc/xdg/autostart/kyc-kiosk.desktop "${demo[@]}"; do
  grep -Eq " (\./)?$f\$" <<<"$contents" || { echo "kyc-kiosk: $deb lacks /$f" >&2; exit 1; }
done
echo "kyc-kiosk: package $deb"
dpkg-deb -I "$deb" | sed -n 's/^ \(Package\|Version\|Depends\|Installed-Size\):/  &/p'
