# Tileworks: the two commands a new user needs are `make run` and `make test`.
# Each installs what it is missing first (scripts/install-tools.sh), then does its job.

.PHONY: run test site-debug site-release tools clean

# `make run`'s decryption passphrase (SECURITY.md) when TILEWORKS_DECRYPTION_PASSPHRASE is not
# set: a local default so the embedded setup starts in one command. Set your own for real use.
DEFAULT_DECRYPTION_PASSPHRASE = tileworks-make-run-passphrase

run:
	scripts/install-tools.sh
	scripts/build-site.sh release
	cargo build --release -p server
	@if [ -z "$$TILEWORKS_DECRYPTION_PASSPHRASE" ]; then \
	  echo "make run: decryption passphrase '$(DEFAULT_DECRYPTION_PASSPHRASE)' (the Makefile's DEFAULT_DECRYPTION_PASSPHRASE; set TILEWORKS_DECRYPTION_PASSPHRASE to choose yours)"; fi
	TILEWORKS_DECRYPTION_PASSPHRASE="$${TILEWORKS_DECRYPTION_PASSPHRASE:-$(DEFAULT_DECRYPTION_PASSPHRASE)}" \
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
