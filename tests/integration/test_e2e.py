# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End to end: `molecule test -s default` on the Debian 13 amd64 test VM (and `-s arm64`, Debian 13 arm64 Altra
with 6 GiB; `-s bookworm-amd64` and `-s bookworm-arm64` for Debian 12, marker vm_matrix).

The scenario boots a fresh guest, runs the rollout in check mode and proves it changed nothing,
converges (role kdump with kdump_reboot_ok, reboot included), checks idempotence, crashes the guest with
sysrq-c (role crash_test), verifies with testinfra and destroys the guest. This test asserts molecule
succeeded and prints how long each phase took plus the crash-test numbers.

Run: .venv/bin/python -m pytest -m vm tests/integration/test_e2e.py -s   (about half an hour under TCG)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
# "INFO     [default > converge] Executing" (molecule 26), "INFO     default \u279c converge: Executing" (25),
# "INFO     Running default > converge" (older)
PHASE = re.compile(r"(?:^|[\s\[])(?P<scenario>[\w-]+)\s+(?:\u279c|>)\s+(?P<action>[a-z_]+)"
                   r"(?:\]?:?\s+Executing\b|\s*$)")
# default and arm64 are Debian 13 (make test); the Debian 12 ones run in make test-matrix.
SCENARIOS = [
    pytest.param("default", "qemu-system-x86_64", marks=[pytest.mark.vm]),
    pytest.param("arm64", "qemu-system-aarch64", marks=[pytest.mark.vm, pytest.mark.vm_arm64]),
    pytest.param("bookworm-amd64", "qemu-system-x86_64", marks=[pytest.mark.vm_matrix]),
    pytest.param("bookworm-arm64", "qemu-system-aarch64", marks=[pytest.mark.vm_matrix, pytest.mark.vm_arm64]),
]


def phase_durations(events, finished):
    """[(action, seconds)] from [(time, action)] phase starts; the last phase ends at `finished`."""
    out = []
    for index, (started, action) in enumerate(events):
        ended = events[index + 1][0] if index + 1 < len(events) else finished
        out.append((action, ended - started))
    return out


def test_phase_parser_reads_both_molecule_formats():
    lines = ["INFO     [default > side_effect] Executing", "INFO     default \u279c converge: Executing",
             "INFO     Running default > idempotence", "INFO     [default > side_effect] Executed: Successful",
             "INFO     [default > discovery] scenario test matrix: destroy, syntax", "TASK [converge] ****"]
    found = [PHASE.search(line) for line in lines]
    assert [(m.group("scenario"), m.group("action")) if m else None for m in found] == [
        ("default", "side_effect"), ("default", "converge"), ("default", "idempotence"), None, None, None]
    assert phase_durations([(0.0, "create"), (5.0, "converge")], 12.5) == [("create", 5.0), ("converge", 7.5)]


@pytest.mark.parametrize("scenario, qemu", SCENARIOS)
def test_molecule_scenario(scenario, qemu, tmp_path, e2e_summary, cannot_run):
    molecule = os.path.join(BIN, "molecule")
    if not os.path.exists(molecule):
        molecule = shutil.which("molecule")
    if molecule is None:
        cannot_run("molecule is not installed next to %s nor on PATH (make setup)" % sys.executable)
    if shutil.which(qemu) is None:
        cannot_run("%s is not installed (tools/apt-packages.txt): cannot boot the test VM" % qemu)
    if os.geteuid() != 0:
        cannot_run("the test VM image is built with debootstrap, which needs root")

    results = tmp_path / "kdump-e2e.json"
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), KDUMP_E2E_RESULTS=str(results),
               ANSIBLE_FORCE_COLOR="0", PY_COLORS="0", NO_COLOR="1")
    log_path = tmp_path / ("molecule-%s.log" % scenario)
    events = []
    started = time.monotonic()
    with open(str(log_path), "w") as log:
        process = subprocess.Popen([molecule, "test", "-s", scenario], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True, errors="replace")
        for line in process.stdout:
            log.write(line)
            log.flush()
            match = PHASE.search(line)
            if match and match.group("scenario") == scenario and \
                    (not events or events[-1][1] != match.group("action")):
                events.append((time.monotonic() - started, match.group("action")))
        rc = process.wait()
    total = time.monotonic() - started

    lines = ["molecule test -s %s: exit %d after %.0f s (log: %s)" % (scenario, rc, total, log_path)]
    lines += ["  %-12s %7.0f s" % (action, seconds) for action, seconds in phase_durations(events, total)]
    if results.exists():
        lines.append("  crash test: %s" % json.dumps(json.loads(results.read_text()), sort_keys=True))
    print("\n" + "\n".join(lines))
    e2e_summary.extend(lines)

    if rc != 0:
        with open(str(log_path)) as log:
            tail = log.readlines()[-120:]
        pytest.fail("molecule test -s %s failed (exit %d); last lines:\n%s" % (scenario, rc, "".join(tail)))
    for phase in ("create", "prepare", "check", "converge", "idempotence", "side_effect", "verify"):
        assert phase in [event[1] for event in events], "molecule never ran %s" % phase
    data = json.loads(results.read_text())
    assert data["dump_path"] and float(data["seconds_to_dump"]) > 0, data
