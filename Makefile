# Tileworks: the two commands a new user needs are `make run` and `make test`.
# Each installs what it is missing first (scripts/install-tools.sh), then does its job.

.PHONY: run test site-debug site-release tools clean

run:
	scripts/install-tools.sh
	scripts/build-site.sh release
	cargo build --release -p server
	./target/release/tileworks serve

test:
	scripts/test.sh

tools:
	scripts/install-tools.sh --for-tests

site-debug:
	scripts/build-site.sh debug

site-release:
	scripts/build-site.sh release

clean:
	cargo clean
