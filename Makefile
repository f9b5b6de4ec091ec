# fleetops.kdump: `make test` runs every check CI runs; `make demo` runs audit -> rollout -> crash verify
# against the embedded test VM. Both set themselves up (Debian packages, .venv) first.
SHELL := /bin/bash
VENV ?= .venv
export VENV
BIN := $(abspath $(VENV))/bin
PYTEST := $(BIN)/python -m pytest

.PHONY: setup test test-matrix test-fleet test-calibrate lint sanity units build-doc vm-test test-arm64 demo changelog clean

setup:
	@tools/setup

test: setup
	@tools/stage lint $(MAKE) --no-print-directory lint
	@tools/stage sanity $(MAKE) --no-print-directory sanity
	@tools/stage build-and-doc $(MAKE) --no-print-directory build-doc
	@printf "\n===== unit + VM tests (pytest; its summary is the last line) =====\n"
	@$(PYTEST) -m "not vm_matrix and not vm_fleet and not vm_calibrate"

# Every VM scenario: Debian 13 and 12, amd64 and arm64 (Altra, RAM above 4 GiB), and the 6.12 reservation test.
test-matrix: setup
	@$(PYTEST) -m "vm or vm_matrix" tests/integration

# The fleet scenario: rolling rollout over three Debian 13 amd64 guests and a dump server, faults injected
# (tests/integration/test_fleet.py; numbers in build/fleet/fleet-summary.json and the README).
test-fleet: setup
	@$(PYTEST) -s -m vm_fleet tests/integration/test_fleet.py

# Calibration on every VM platform: the smallest working reservation, the estimate plan crash-tested, the
# search's bound (tests/integration/test_calibrate.py; numbers in build/calibrate/*/summary.json and the README).
# One platform: make test-calibrate PYTEST_ARGS='-k trixie-amd64'
test-calibrate: setup
	@$(PYTEST) -s -m vm_calibrate tests/integration/test_calibrate.py $(PYTEST_ARGS)

# ansible-lint --offline installs nothing, so it resolves fleetops.kdump.* through the checkout's own link.
COLLECTION_LINK := build/collections/ansible_collections/fleetops/kdump
lint:
	@mkdir -p $(dir $(COLLECTION_LINK)) && ln -sfn $(CURDIR) $(COLLECTION_LINK)
	@ANSIBLE_COLLECTIONS_PATH="$(CURDIR)/build/collections" PATH="$(BIN):$$PATH" ansible-lint --offline --profile production
	@PATH="$(BIN):$$PATH" antsibull-changelog lint
	@cd build/collections && $(BIN)/mypy --config-file $(CURDIR)/mypy.ini ansible_collections/fleetops/kdump/plugins

sanity:
	@tools/compile-host-python
	@tools/sanity

units: setup
	@$(PYTEST) tests/unit

build-doc:
	@tools/build-and-doc

vm-test: setup
	@$(PYTEST) -m "vm and not vm_arm64 and not vm_matrix"

test-arm64: setup
	@$(PYTEST) -m "vm_arm64 and not vm_matrix"

demo: setup
	@PATH="$(BIN):$$PATH" tools/demo

changelog: setup
	@PATH="$(BIN):$$PATH" antsibull-changelog release

clean:
	rm -rf build dist tests/output reports
