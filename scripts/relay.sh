#!/usr/bin/env bash
# `make relay`: the back office on this machine, for trying a kiosk against it.
# Starts the throwaway PostgreSQL cluster (scripts/relay-db.sh), migrates,
# enrols a demo kiosk, then runs kyc-kiosk-relay against its embedded sandbox
# on 127.0.0.1 until Ctrl-C, after printing how to point `make run` (or any
# kyc-kiosk command) at it.
#
#   RELAY_LISTEN   where the relay listens (default 127.0.0.1:8443)
#   CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."

listen="${RELAY_LISTEN:-127.0.0.1:8443}"
target="${CARGO_TARGET_DIR:-target}"
relay="$target/debug/kyc-kiosk-relay"

eval "$(scripts/relay-db.sh start)"
export DATABASE_URL
"$relay" migrate
enrolled="$("$relay" kiosk add --name "Demo kiosk" --branch "Demo branch" --json)"
id="$(printf '%s' "$enrolled" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')"
credential="$(printf '%s' "$enrolled" | sed -n 's/.*"credential": *"\([^"]*\)".*/\1/p')"
admin="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"

cat <<MSG

Back office (relay) on http://$listen, embedded sandbox upstream, database in target/relay-pg.
Enrolled the kiosk "Demo kiosk" ($id). Point the kiosk at it, in another terminal:

  export KYC_KIOSK_RELAY_URL=http://$listen
  export KYC_KIOSK_RELAY_KEY=$credential
  make run            # or: cargo run -p kyc-kiosk -- demo

Fleet page: http://$listen/fleet  (admin credential: $admin)
Stop with Ctrl-C; the cluster keeps running (scripts/relay-db.sh stop|wipe).

MSG
export KYC_KIOSK_RELAY_ADMIN_KEY="$admin" KYC_KIOSK_BACKEND=sandbox
exec "$relay" serve --listen "$listen" --public-url "http://$listen"
