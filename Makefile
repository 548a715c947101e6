# The two commands of the README.
#   make run   install what is missing, build, launch the kiosk (headless demo without a display)
#   make test  install what the tests need, then run the whole suite

CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: run test build lint

run:
	scripts/setup.sh run
	$(CARGO) build --workspace
	scripts/launch.sh

build:
	$(CARGO) build --workspace

test:
	scripts/setup.sh test
	scripts/test.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
