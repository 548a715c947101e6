# The two commands of the README.
#   make run      install what is missing, build, launch the kiosk (headless demo without a display)
#   make test     install what the tests need, then run the whole suite
#   make relay    the back office on this machine (throwaway PostgreSQL, a demo
#                 kiosk enrolled, embedded sandbox) and how to point `make run` at it
# For branch machines:
#   make release  the production app (release profile, bundled UI, no devtools,
#                 no test switches) and a .deb under target/release/bundle/deb/

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: run test build lint release relay

run:
	scripts/setup.sh run
	$(CARGO) build --workspace
	scripts/launch.sh

relay:
	scripts/setup.sh test
	$(CARGO) build -p kyc-kiosk-relay
	scripts/relay.sh

build:
	$(CARGO) build --workspace

test:
	scripts/setup.sh test
	scripts/test.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

release:
	scripts/setup.sh release
	scripts/release.sh
