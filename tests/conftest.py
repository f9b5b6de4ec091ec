"""Make the collection importable as ansible_collections.fleetops.kdump without installing it; print the
end-to-end numbers (tests/integration/test_e2e.py) in pytest's closing summary, also without -s."""
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, "build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "fleetops", "kdump")

if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(REPO, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

E2E_SUMMARY = []


@pytest.fixture
def e2e_summary():
    """Lines a test wants shown in the closing summary."""
    return E2E_SUMMARY


def pytest_terminal_summary(terminalreporter):
    if E2E_SUMMARY:
        terminalreporter.section("end-to-end scenarios")
        for line in E2E_SUMMARY:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def cannot_run():
    """cannot_run(reason): a VM test whose tools are missing skips on a workstation, but fails under CI=true,
    where a broken set-up must not turn the only end-to-end checks green."""
    def stop(reason):
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("cannot run under CI: %s" % reason, pytrace=False)
        pytest.skip(reason)
    return stop
