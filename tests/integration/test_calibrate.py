# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calibration on the test VMs (`make test-calibrate`, marker vm_calibrate), one platform per test:

  1. boot a fresh guest and roll kdump out with the default plan (auto);
  2. playbooks/calibrate.yml: the smallest reservation that gives a validated dump, then the plan restored;
  3. playbooks/audit.yml with kdump_crashkernel=estimate: the table, the estimate, kdump-tools' suggested size;
  4. the `estimate` plan rolled out and crashed (playbooks/verify.yml): it must give a dump, and reserve at most
     1.5 x the measured minimum;
  5. the bound: calibrate.yml starting at the largest size that failed in 2 must end after that one try with
     first-try-failed, a message, and the host back on its planned reservation.

Numbers go to build/calibrate/<platform>/summary.json (the README's calibration table is made from them).
Select platforms with -k, e.g. `make test-calibrate PYTEST_ARGS='-k trixie-amd64'`.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTVM = os.path.join(REPO, "tests", "vm", "testvm")
BIN = os.path.dirname(sys.executable)
OUT = os.path.join(REPO, "build", "calibrate")
MIB = 1 << 20
# (suite, arch, memory MiB, inventory group, testvm extra args), as the molecule scenarios boot them
PLATFORMS = {
    "trixie-amd64": ("trixie", "amd64", 3072, "x86_64", []),
    "trixie-arm64": ("trixie", "arm64", 6144, "altra", ["--profile", "altra"]),
    "bookworm-amd64": ("bookworm", "amd64", 3072, "x86_64", []),
    "bookworm-arm64": ("bookworm", "arm64", 3072, "altra", ["--profile", "altra"]),
}


class Guest:
    def __init__(self, platform, state_dir):
        self.platform = platform
        self.suite, self.arch, self.memory, self.group, self.extra = PLATFORMS[platform]
        self.name = "cal-" + platform
        self.state_dir = state_dir
        self.out = os.path.join(OUT, platform)
        self.state = {}
        self.summary = {"platform": platform, "phases": {}}
        self.started = time.monotonic()

    def note(self, text):
        line = "[%6.0f s] %s: %s" % (time.monotonic() - self.started, self.platform, text)
        with open(os.path.join(self.out, "calibrate.log"), "a") as log:
            log.write(line + "\n")
        print(line, flush=True)

    def testvm(self, *args, timeout=3600):
        return subprocess.run([sys.executable, TESTVM] + list(args) + ["--arch", self.arch, "--suite", self.suite,
                                                                       "--name", self.name, "--state-dir",
                                                                       self.state_dir],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=timeout, check=False)

    def up(self):
        result = self.testvm("up", "--memory", str(self.memory), "--timeout", "1800", "--json", *self.extra)
        assert result.returncode == 0, "testvm up failed:\n%s" % result.stderr[-3000:]
        self.state = json.loads(result.stdout)

    def inventory(self):
        path = os.path.join(self.out, "inventory.json")
        host = {"ansible_host": self.state["address"], "ansible_port": self.state["port"],
                "ansible_user": self.state["user"], "ansible_ssh_private_key_file": self.state["identity_file"],
                "ansible_become": True, "ansible_python_interpreter": "/usr/bin/python3",
                "kdump_reboot_timeout": 1800, "crash_test_timeout": 1800}
        with open(path, "w") as handle:
            json.dump({"all": {"children": {self.group: {"hosts": {self.name: host}},
                                            "kdump_calibrate": {"hosts": {self.name: {}}}}}}, handle, indent=2)
        return path

    def playbook(self, label, playbook, *extra):
        env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
                   ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_PIPELINING="true", ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_CALLBACK_RESULT_FORMAT="yaml", ANSIBLE_RETRY_FILES_ENABLED="false",
                   ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s -o ServerAliveInterval=5 "
                                    "-o ServerAliveCountMax=3 -o StrictHostKeyChecking=no "
                                    "-o UserKnownHostsFile=/dev/null")
        started = time.monotonic()
        log_path = os.path.join(self.out, "%s.log" % label)
        with open(log_path, "w") as log:
            rc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", self.inventory(),
                                 os.path.join(REPO, "playbooks", playbook)] + list(extra),
                                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
        seconds = round(time.monotonic() - started, 1)
        self.summary["phases"][label] = {"rc": rc, "seconds": seconds}
        self.note("%s: %s exit %d after %.0f s (%s)" % (label, playbook, rc, seconds, log_path))
        with open(log_path, errors="replace") as handle:
            return rc, handle.read()

    def json_file(self, *parts):
        with open(os.path.join(self.out, *parts)) as handle:
            return json.load(handle)


@pytest.mark.vm_calibrate
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_calibrate(platform, tmp_path, e2e_summary, cannot_run):
    qemu = "qemu-system-x86_64" if PLATFORMS[platform][1] == "amd64" else "qemu-system-aarch64"
    for tool in (qemu, "ssh"):
        if shutil.which(tool) is None:
            cannot_run("%s is not installed (tools/apt-packages.txt)" % tool)
    if os.geteuid() != 0:
        cannot_run("the test VM image is built with debootstrap, which needs root")
    guest = Guest(platform, str(tmp_path / "guests"))
    shutil.rmtree(guest.out, ignore_errors=True)
    os.makedirs(guest.out)
    try:
        run_calibration(guest)
    finally:
        with open(os.path.join(guest.out, "summary.json"), "w") as handle:
            json.dump(guest.summary, handle, indent=2, sort_keys=True)
        console = guest.state.get("console_log")
        if console and os.path.exists(console):
            shutil.copyfile(console, os.path.join(guest.out, "console.log"))
        guest.testvm("down", timeout=600)
        e2e_summary.append("calibrate %s: %s" % (platform, json.dumps(guest.summary.get("result"))))


def run_calibration(guest):
    guest.up()
    guest.note("guest up (%s)" % guest.state.get("accelerator"))
    rc, text = guest.playbook("1-rollout", "rollout.yml", "-e", "kdump_reboot_ok=true")
    assert rc == 0, text[-4000:]

    rc, text = guest.playbook("2-calibrate", "calibrate.yml", "-e", "crash_test_confirm=true",
                              "-e", "calibrate_report_dir=%s" % os.path.join(guest.out, "search"))
    assert rc == 0, text[-4000:]
    search = guest.json_file("search", "calibration-%s.json" % guest.name)
    assert search["passed"] and search["outcome"] in ("converged", "max-tries"), search
    assert search["restored_bytes"] == search["planned_bytes"], search
    minimum = search["minimum_bytes"]
    failed = [item["bytes"] for item in search["tries"] if not item["passed"]]

    rc, text = guest.playbook("3-audit-estimate", "audit.yml", "-e", "kdump_crashkernel=estimate",
                              "-e", "audit_report_dir=%s" % os.path.join(guest.out, "audit"))
    assert rc == 0, text[-4000:]
    (row,) = guest.json_file("audit", "kdump-audit.json")["hosts"]
    assert row["estimate_mib"] is not None, row

    rc, text = guest.playbook("4-rollout-estimate", "rollout.yml", "-e", "kdump_reboot_ok=true",
                              "-e", "kdump_crashkernel=estimate")
    assert rc == 0, text[-4000:]
    rc, verify = guest.playbook("4-verify-estimate", "verify.yml", "-e", "crash_test_confirm=true",
                                "-e", "crash_test_hosts=all")
    guest.summary["result"] = {
        "minimum_mib": minimum / MIB, "tries": [(item["bytes"] // MIB, item["passed"], item["seconds"])
                                                for item in search["tries"]],
        "auto_mib": search["planned_bytes"] / MIB, "table_mib": row["table_mib"], "estimate_mib": row["estimate_mib"],
        "estimate_plan_mib": row["planned_mib"], "estimate_plan_args": row["plan_args"],
        "tool_suggested_mib": row["tool_suggested_mib"], "recommended": search["kdump_crashkernel"],
        "estimate_crash_test_passed": rc == 0, "estimate_over_minimum": round(row["planned_mib"] * MIB / minimum, 2)}
    guest.note("result %s" % json.dumps(guest.summary["result"]))
    assert rc == 0 and "crash test on %s: PASSED" % guest.name in verify, verify[-4000:]
    assert row["planned_mib"] * MIB <= 1.5 * minimum, guest.summary["result"]

    if not failed:
        pytest.fail("no try failed down to the floor, so the bound test has no failing size: %s" % search)
    rc, text = guest.playbook("5-calibrate-bound", "calibrate.yml", "-e", "crash_test_confirm=true",
                              "-e", "calibrate_start=%dM" % (max(failed) // MIB),
                              "-e", "calibrate_report_dir=%s" % os.path.join(guest.out, "bound"))
    bound = guest.json_file("bound", "calibration-%s.json" % guest.name)
    guest.summary["bound"] = {"rc": rc, "outcome": bound["outcome"], "message": bound["message"],
                              "tries": len(bound["tries"]), "planned_bytes": bound["planned_bytes"],
                              "restored_bytes": bound["restored_bytes"]}
    assert rc != 0 and bound["outcome"] == "first-try-failed" and len(bound["tries"]) == 1, bound
    assert "gave no validated dump" in text and bound["restored_bytes"] == bound["planned_bytes"], bound
