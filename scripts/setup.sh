#!/usr/bin/env bash
# Installs what kyc-kiosk needs on Debian/Ubuntu. Idempotent: installs only
# what is missing. Usage: scripts/setup.sh run|test|release
#   run   system libraries to build and run the kiosk
#   release  the above plus npm (the Tauri bundler that makes the .deb comes
#         from the npm registry, see scripts/release.sh)
#   test  the above plus Xvfb, WebKitWebDriver, tauri-driver and PostgreSQL
#         (the relay's tests start throwaway clusters of their own)
# (The benchmark scripts have their own requirements: see BENCHMARKS.md.)
set -euo pipefail

what="${1:-run}"
RUN_PKGS=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev
  librsvg2-dev libclang-dev libturbojpeg0-dev libdbus-1-dev)
# v4l-utils: tools/fakecam/tests/run.sh checks the emulated cameras with v4l2-ctl.
# postgresql: the relay's tests start a throwaway cluster of their own.
TEST_PKGS=(xvfb webkit2gtk-driver xauth v4l-utils postgresql)
# npm only when there is none (a Node.js from elsewhere brings its own).
RELEASE_PKGS=()
command -v npm >/dev/null 2>&1 || RELEASE_PKGS+=(npm)

pkgs=("${RUN_PKGS[@]}")
case "$what" in
  run) ;;
  test) pkgs+=("${TEST_PKGS[@]}") ;;
  release) pkgs+=(${RELEASE_PKGS[@]+"${RELEASE_PKGS[@]}"}) ;;
  *) echo "usage: scripts/setup.sh run|test|release" >&2; exit 10 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "kyc-kiosk: not a Debian/Ubuntu system; install the equivalents of: ${missing[*]}" >&2
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
    echo "kyc-kiosk: missing system packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "kyc-kiosk: installing ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "kyc-kiosk: Rust is not installed. Install rustup from your distribution or the Rust project, then re-run." >&2
  exit 1
fi

if [ "$what" = "test" ]; then
  if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "kyc-kiosk: installing tauri-driver"
    cargo install tauri-driver --locked --version '^2'
  fi
fi
