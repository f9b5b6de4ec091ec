# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet scenario (`make test-fleet`, marker vm_fleet): a rolling rollout over three Debian 13 amd64 guests
(fleet-1 in kdump_canary) plus a small dump server guest, with faults injected each on its own host.

  A  fleet-1 (canary): a grub hook fails update-grub once the planned crashkernel= is in the defaults.
     kernel_cmdline must restore the boot files byte for byte and fail with the hook's output; the rollout
     stops after the canary batch and fleet-2, fleet-3 keep their fingerprint (boot config, packages, /etc).
  B  fleet-2: its network stays down on the next boot. The reboot wait is bounded (kdump_reboot_timeout) and
     the failure names the host and the link; fleet-3 keeps its fingerprint. The test resets fleet-2.
  C  fleet-3 gets a reservation that loads but is too small for the capture kernel (FLEET_SMALL_CRASHKERNEL);
     the rollout completes every host; the crash test on fleet-3 fails at no_new_dump with its evidence.
  D  faults removed (fleet-3 back to auto): the rollout completes and changes only fleet-3.
  F  fleet-1 gets the ssh dump target (the dump server, reached at 10.0.2.2:<its forwarded port>): the rollout
     changes only fleet-1; the crash test on fleet-1 passes with the dump validated on the server
     (vmcore_info delegated there).
  G  playbooks/audit.yml shows the fleet: per host status, reserved vs planned, crash test results (read from
     the jsonfile fact cache, where crash_test_result is kept).
  E  fleet-1's dump server cannot be reached (nothing listens on the target port): the login probe blocks it
     with dump-target-unreachable before its kdump configuration or boot loader changes; no reboot, and the
     later batches do not run.
  H  the audit of a degraded fleet: fleet-2 asks for more than its RAM (blocked, with the finding), fleet-3
     is shut down (unreachable), fleet-1 done with its passed crash test.

All guest traffic stays on this machine: guests reach each other only through QEMU user networking
(10.0.2.2 is this machine's loopback). Numbers go to build/fleet/fleet-summary.json and the closing summary.

Run: make test-fleet   (about an hour under TCG on 2 cores; needs root, qemu and the cached Debian 13 image)
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(REPO, "tests", "integration", "fleet")
TESTVM = os.path.join(REPO, "tests", "vm", "testvm")
BIN = os.path.dirname(sys.executable)
OUT = os.path.join(REPO, "build", "fleet")
FLEET = ["fleet-1", "fleet-2", "fleet-3"]
SERVER = "dumpsrv"
# What a 3 GiB Debian 13 amd64 guest is planned to boot with (kdump-utils table, as molecule/default states).
PLANNED_ARG = "crashkernel=2G-64G:256M,64G-:512M"
SMALL_CRASHKERNEL = os.environ.get("FLEET_SMALL_CRASHKERNEL", "96M")
REBOOT_TIMEOUT = int(os.environ.get("FLEET_REBOOT_TIMEOUT", "420"))
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                   r"\s+failed=(?P<failed>\d+)")


def recap(text):
    """{host: {ok, changed, unreachable, failed}} from ansible-playbook's PLAY RECAP."""
    return {m.group("host"): {k: int(m.group(k)) for k in ("ok", "changed", "unreachable", "failed")}
            for m in (RECAP.match(line) for line in text.splitlines()) if m}


def test_recap_parser():
    text = ("PLAY RECAP ****\nfleet-1                    : ok=12   changed=3    unreachable=0    failed=1    "
            "skipped=4\nlocalhost : ok=1 changed=0 unreachable=0 failed=0 skipped=0\n")
    assert recap(text) == {"fleet-1": {"ok": 12, "changed": 3, "unreachable": 0, "failed": 1},
                           "localhost": {"ok": 1, "changed": 0, "unreachable": 0, "failed": 0}}


def detection_seconds(timeline, task, host):
    """Seconds from the start of the last `task` before `host` failed to its failure, from a playbook timeline
    of (seconds, line); None when the host did not fail or the task never started."""
    begun = None
    for seconds, line in timeline:
        if line.startswith("TASK [") and task in line:
            begun = seconds
        elif line.startswith("fatal: [%s]" % host):
            return None if begun is None else round(seconds - begun, 1)
    return None


def test_detection_seconds():
    timeline = [(1.0, "TASK [r : Reboot the host] ***"), (2.0, "ok: [fleet-1]"),
                (50.0, "TASK [r : Reboot the host] ***"), (480.5, "fatal: [fleet-2]: FAILED! => "),
                (481.0, "fatal: [fleet-3]: FAILED! => ")]
    assert detection_seconds(timeline, "Reboot the host", "fleet-2") == 430.5
    assert detection_seconds(timeline, "Reboot the host", "fleet-9") is None
    assert detection_seconds(timeline, "Crash", "fleet-2") is None


def capture_console(text):
    """The lines of a guest's serial console after its last sysrq crash that tell why the capture kernel gave no
    dump (memory, panic, kdump-tools), at most 20."""
    start = text.rfind("sysrq: Trigger a crash")
    if start < 0:
        return []
    words = ("Out of memory", "oom-kill", "Kernel panic", "Killed process", "kdump-tools", "kdump:", "not syncing",
             "Cannot allocate", "-ENOMEM")
    lines = [line.strip() for line in text[start:].splitlines() if any(word in line for word in words)]
    return lines[:20]


def test_capture_console():
    text = ("boot\n[ 1.0] Out of memory: early\n[ 9.0] sysrq: Trigger a crash\n[ 0.0] Linux version 6.12\n"
            "[ 3.1] Out of memory: Killed process 201 (systemd-udevd)\n[ 4.0] Kernel panic - not syncing: OOM\n")
    assert capture_console(text) == [
        "[ 3.1] Out of memory: Killed process 201 (systemd-udevd)", "[ 4.0] Kernel panic - not syncing: OOM"]
    assert capture_console("no crash here\n") == []


class Fleet:
    def __init__(self, state_dir, log):
        self.state_dir = state_dir
        self.log = log
        self.state = {}
        self.summary = {"phases": {}, "faults": {}}
        self.timelines = {}
        self.started = time.monotonic()

    def note(self, text):
        line = "[%6.0f s] %s" % (time.monotonic() - self.started, text)
        self.log.write(line + "\n")
        self.log.flush()
        print(line, flush=True)

    def testvm(self, *args, timeout=1800):
        return subprocess.run([sys.executable, TESTVM] + list(args) + ["--state-dir", self.state_dir],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=timeout, check=False)

    def up(self, names):
        """Boot the guests at once; each on a fresh overlay of the cached image."""
        procs = {}
        for name in names:
            memory, cpus = ("1024", "1") if name == SERVER else ("3072", "1")
            procs[name] = subprocess.Popen(
                [sys.executable, TESTVM, "up", "--suite", "trixie", "--name", name, "--memory", memory,
                 "--cpus", cpus, "--timeout", "1200", "--json", "--state-dir", self.state_dir],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=3600)
            assert proc.returncode == 0, "testvm up %s failed:\n%s" % (name, err[-3000:])
            self.state[name] = json.loads(out)

    def ssh(self, name, body, args="", check=True, timeout=600):
        """Run the shell text `body` as root on the guest (sh -s, so no quoting through ssh); returns the result."""
        state = self.state[name]
        result = subprocess.run(
            ["ssh", "-i", state["identity_file"], "-p", str(state["port"]), "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
             "-o", "ConnectTimeout=10", "%s@%s" % (state["user"], state["address"]), "sudo sh -s -- %s" % args],
            input=body, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout,
            check=False)
        if check:
            assert result.returncode == 0, "%s: exit %d: %s\n%s" % (
                name, result.returncode, body[:200], result.stderr[-2000:])
        return result

    def run_file(self, name, path, args=""):
        with open(path) as handle:
            return self.ssh(name, handle.read(), args).stdout

    def fingerprint(self, name):
        return self.run_file(name, os.path.join(REPO, "molecule", "default", "fingerprint.sh"))

    def untouched(self, name):
        """What must not change on a host a failed rollout stops at: its boot id (no reboot), root's ssh config
        (the dump target's port), boot files, kdump configuration, packages and /etc (the fingerprint)."""
        return {"boot_id": self.ssh(name, "cat /proc/sys/kernel/random/boot_id").stdout.strip(),
                "root_ssh_config": self.ssh(name, "md5sum < /root/.ssh/config 2>/dev/null || echo none").stdout,
                "boot_files": self.boot_files(name), "fingerprint": self.fingerprint(name)}

    def keep_console(self, name):
        """Copy the guest's serial console log to build/fleet/<name>-console.log; returns its text."""
        path = self.state.get(name, {}).get("console_log")
        if not path or not os.path.exists(path):
            return ""
        shutil.copyfile(path, os.path.join(OUT, "%s-console.log" % name))
        with open(path, errors="replace") as handle:
            return handle.read()

    def boot_files(self, name):
        return self.run_file(name, os.path.join(HERE, "boot-files.sh"))

    def inventory(self, path, host_vars, ssh_target=False, target_port=None):
        server = self.state[SERVER]
        hosts = {}
        for name in FLEET + [SERVER]:
            state = self.state[name]
            hosts[name] = dict({"ansible_host": state["address"], "ansible_port": state["port"],
                                "ansible_user": state["user"],
                                "ansible_ssh_private_key_file": state["identity_file"]},
                               **host_vars.get(name, {}))
        target = {"type": "ssh", "location": "kdumper@10.0.2.2", "port": target_port or server["port"], "path": "/srv/crash",
                  "server": SERVER}
        data = {"all": {
            "vars": {"ansible_become": True, "ansible_python_interpreter": "/usr/bin/python3"},
            "children": {
                "fleet": {"hosts": {name: hosts[name] for name in FLEET},
                          "vars": {"kdump_reboot_ok": True, "kdump_reboot_timeout": REBOOT_TIMEOUT,
                                   "rollout_serial": [1, 1, "100%"], "crash_test_timeout": 900}},
                "kdump_canary": {"hosts": {"fleet-1": {"kdump_target": target, "crash_test_dump_host": SERVER}
                                           if ssh_target else {}}},
                "dump_servers": {"hosts": {SERVER: hosts[SERVER]}},
            }}}
        with open(path, "w") as handle:
            json.dump(data, handle, indent=2)

    def playbook(self, label, playbook, inventory, *extra, limit="fleet"):
        env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
                   ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_PIPELINING="true", ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_CALLBACK_RESULT_FORMAT="yaml", ANSIBLE_RETRY_FILES_ENABLED="false",
                   ANSIBLE_CACHE_PLUGIN="jsonfile", ANSIBLE_CACHE_PLUGIN_CONNECTION=os.path.join(OUT, "facts"),
                   ANSIBLE_SSH_ARGS="-C -o ControlMaster=auto -o ControlPersist=60s -o ServerAliveInterval=5 "
                                    "-o ServerAliveCountMax=3")
        log_path = os.path.join(OUT, "%s.log" % label)
        started = time.monotonic()
        timeline = []
        with open(log_path, "w") as log:
            proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), "-i", inventory, "--limit", limit,
                                     os.path.join(REPO, "playbooks", playbook)] + list(extra),
                                    cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    universal_newlines=True, errors="replace")
            for line in proc.stdout:
                timeline.append((time.monotonic() - started, line.rstrip("\n")))
                log.write(line)
            rc = proc.wait()
        seconds = round(time.monotonic() - started, 1)
        self.timelines[label] = timeline
        text = "\n".join(entry[1] for entry in timeline)
        self.summary["phases"][label] = {"playbook": playbook, "rc": rc, "seconds": seconds, "recap": recap(text)}
        self.note("%s: ansible-playbook %s exit %d after %.0f s (log %s)" % (label, playbook, rc, seconds, log_path))
        return rc, text


def failure_messages(text, host):
    """The msg lines of the fatal/failed results of `host` in an ansible-playbook log."""
    out = []
    for match in re.finditer(r"^fatal: \[%s\]: FAILED! =>(.*?)(?=^\S|\Z)" % re.escape(host), text, re.M | re.S):
        out.append(match.group(1).strip())
    return out


def first_line_with(messages, word):
    for message in messages:
        for line in message.splitlines():
            if word in line:
                return line.strip()
    return None


@pytest.mark.vm_fleet
def test_fleet_rollout_with_faults(tmp_path, e2e_summary, cannot_run):
    for tool in ("qemu-system-x86_64", "ssh"):
        if shutil.which(tool) is None:
            cannot_run("%s is not installed (tools/apt-packages.txt)" % tool)
    if os.geteuid() != 0:
        cannot_run("the test VM image is built with debootstrap, which needs root")
    if not os.path.exists(os.path.join(BIN, "ansible-playbook")):
        cannot_run("ansible-playbook is not installed next to %s (make setup)" % sys.executable)
    shutil.rmtree(OUT, ignore_errors=True)  # the fact cache of an earlier run holds its crash test results
    os.makedirs(OUT)
    state_dir = str(tmp_path / "guests")
    with open(os.path.join(OUT, "fleet.log"), "w") as log:
        fleet = Fleet(state_dir, log)
        try:
            run_scenario(fleet, str(tmp_path / "inventory.json"))
        finally:
            with open(os.path.join(OUT, "fleet-summary.json"), "w") as handle:
                json.dump(fleet.summary, handle, indent=2, sort_keys=True)
            for name in FLEET + [SERVER]:
                fleet.keep_console(name)
                fleet.testvm("down", "--name", name, "--keep-logs", timeout=300)
            e2e_summary.extend(["fleet: %s" % line for line in json.dumps(fleet.summary["faults"]).split("\n")])


def run_scenario(fleet, inventory):
    started = time.monotonic()
    fleet.up(FLEET + [SERVER])
    fleet.summary["phases"]["boot"] = {"seconds": round(time.monotonic() - started, 1)}
    fleet.note("4 guests up")
    for name in FLEET + [SERVER]:
        # distinct host names: kdump-tools names remote dump directories <hostname>-<stamp> (HOSTTAG=hostname)
        fleet.ssh(name, "hostnamectl set-hostname %s && sed -i 's/^127.0.1.1.*/127.0.1.1\\t%s/' /etc/hosts"
                  % (name, name))
    # '*' not '!': sshd refuses key logins to accounts whose password is locked
    fleet.ssh(SERVER, "id kdumper >/dev/null 2>&1 || useradd --create-home --shell /bin/sh kdumper; usermod -p '*' kdumper")
    # fleet-1 already has kdump-tools (whose postinst runs update-grub), so the boot files before the rollout are
    # the ones kernel_cmdline starts from
    fleet.ssh("fleet-1", "apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q -y install kdump-tools",
              timeout=1800)
    before = {name: fleet.fingerprint(name) for name in FLEET}

    # A: bootloader update fails on the canary
    fleet.run_file("fleet-1", os.path.join(HERE, "fault-grub-hook.sh"), "'%s'" % PLANNED_ARG)
    boot_before = fleet.boot_files("fleet-1")
    fleet.inventory(inventory, {})
    t0 = time.monotonic()
    rc, text = fleet.playbook("A-bootloader-fault", "rollout.yml", inventory)
    messages = failure_messages(text, "fleet-1")
    boot_after = fleet.boot_files("fleet-1")
    fleet.summary["faults"]["bootloader_update_fails"] = {
        "host": "fleet-1", "rc": rc, "seconds_to_failure": round(time.monotonic() - t0, 1),
        "seconds_from_task_start": detection_seconds(fleet.timelines["A-bootloader-fault"],
                                                     "Write the crashkernel arguments", "fleet-1"),
        "message": first_line_with(messages, "files were restored"),
        "hook_output": first_line_with(messages, "fleet test fault"),
        "boot_files_restored": boot_after == boot_before,
        "untouched": {name: fleet.fingerprint(name) == before[name] for name in ("fleet-2", "fleet-3")}}
    fleet.note("A: %s" % json.dumps(fleet.summary["faults"]["bootloader_update_fails"]))
    assert rc != 0, "the rollout must fail when update-grub fails on the canary"
    assert first_line_with(messages, "fleet test fault"), "the failure must carry update-grub's output: %s" % messages
    assert boot_after == boot_before, "boot files of fleet-1 differ after the rollback:\n%s\n%s" % (
        boot_before, boot_after)
    assert all(fleet.summary["faults"]["bootloader_update_fails"]["untouched"].values())
    fleet.ssh("fleet-1", "rm -f /etc/grub.d/01_fleet_fault")

    # B: fleet-2 does not come back from its reboot
    fleet.run_file("fleet-2", os.path.join(HERE, "fault-no-network.sh"))
    t0 = time.monotonic()
    rc, text = fleet.playbook("B-host-does-not-return", "rollout.yml", inventory)
    messages = failure_messages(text, "fleet-2")
    fault_b = {"host": "fleet-2", "rc": rc, "seconds_to_failure": round(time.monotonic() - t0, 1),
               "seconds_from_reboot": detection_seconds(fleet.timelines["B-host-does-not-return"],
                                                        "Reboot the host", "fleet-2"),
               "reboot_timeout": REBOOT_TIMEOUT,
               "message": first_line_with(messages, "host_did_not_return"),
               "canary_done": fleet.summary["phases"]["B-host-does-not-return"]["recap"].get("fleet-1", {}).get(
                   "failed") == 0,
               "untouched": {"fleet-3": fleet.fingerprint("fleet-3") == before["fleet-3"]}}
    reset = fleet.testvm("reset", "--name", "fleet-2", "--wait", "--timeout", "900", timeout=1000)
    fault_b["back_after_reset"] = reset.returncode == 0
    if reset.returncode == 0:
        fault_b["fault_ran"] = "network taken down" in fleet.ssh(
            "fleet-2", "journalctl -b -1 -u fleet-fault-no-network --no-pager", check=False).stdout
    fleet.summary["faults"]["host_does_not_return"] = fault_b
    fleet.note("B: %s" % json.dumps(fault_b))
    assert rc != 0 and fault_b["message"] and "fleet-2" in fault_b["message"], messages
    assert fault_b["canary_done"] and fault_b["untouched"]["fleet-3"] and fault_b["back_after_reset"]
    assert fault_b.get("fault_ran"), "fleet-2's journal of the failed boot does not show the injected fault"

    # C: fleet-3 reserves too little for the capture kernel; the rest completes, then both crash tests
    fleet.inventory(inventory, {"fleet-3": {"kdump_crashkernel": SMALL_CRASHKERNEL}})
    rc, text = fleet.playbook("C-rollout-small-reservation", "rollout.yml", inventory)
    assert rc == 0, "rollout C failed: %s" % failure_messages(text, "fleet-3")[:1]
    t0 = time.monotonic()
    rc, text = fleet.playbook("C-crash-test-small", "verify.yml", inventory, "-e", "crash_test_confirm=true",
                              "-e", "crash_test_hosts=fleet-3")
    messages = failure_messages(text, "fleet-3")
    fault_c = {"host": "fleet-3", "crashkernel": SMALL_CRASHKERNEL, "rc": rc,
               "seconds_to_failure": round(time.monotonic() - t0, 1),
               "seconds_from_crash": detection_seconds(fleet.timelines["C-crash-test-small"],
                                                       "Trigger the kernel crash", "fleet-3"),
               "message": first_line_with(messages, "no_new_dump") or (messages[:1] or [None])[0],
               "capture_console": capture_console(fleet.keep_console("fleet-3"))}
    fleet.summary["faults"]["crash_produces_no_dump"] = fault_c
    fleet.note("C: %s" % json.dumps(fault_c))
    assert rc != 0 and fault_c["message"] and fault_c["message"].find("no_new_dump") >= 0, messages

    # D: faults removed: every host completes, only fleet-3 changes
    fleet.inventory(inventory, {})
    rc, text = fleet.playbook("D-rollout-clean", "rollout.yml", inventory)
    changed = {host: counts["changed"] for host, counts in
               fleet.summary["phases"]["D-rollout-clean"]["recap"].items() if host in FLEET}
    fleet.summary["clean_rerun_changed"] = changed
    assert rc == 0, failure_messages(text, "fleet-3")[:1]
    assert changed["fleet-1"] == 0 and changed["fleet-2"] == 0 and changed["fleet-3"] > 0, changed

    # F: fleet-1 sends its dumps to the dump server over ssh; crash it and validate the dump on the server
    fleet.inventory(inventory, {}, ssh_target=True)
    rc, text = fleet.playbook("F-rollout-ssh-target", "rollout.yml", inventory)
    assert rc == 0, failure_messages(text, "fleet-1")[:1]
    changed = fleet.summary["phases"]["F-rollout-ssh-target"]["recap"]
    assert changed["fleet-2"]["changed"] == 0 and changed["fleet-3"]["changed"] == 0, changed
    rc_ssh, text_ssh = fleet.playbook("F-crash-test-ssh", "verify.yml", inventory, "-e", "crash_test_confirm=true",
                                      "-e", "crash_test_hosts=fleet-1", limit="fleet")
    summary = re.findall(r"kdump works on fleet-1[^\n\"]*", text_ssh)
    fleet.summary["ssh_target"] = {"rc": rc_ssh, "seconds": fleet.summary["phases"]["F-crash-test-ssh"]["seconds"],
                                   "message": summary[0] if summary else
                                   (failure_messages(text_ssh, "fleet-1") or [None])[0],
                                   "server_listing": fleet.ssh(SERVER, "ls -lR /srv/crash", check=False).stdout}
    fleet.note("ssh target: %s" % json.dumps(fleet.summary["ssh_target"]))
    assert rc_ssh == 0 and summary, "crash test with the ssh target failed: %s" % fleet.summary["ssh_target"]

    # G: the audit shows the fleet as it is (crash test results from the fact cache the crash tests wrote)
    report_dir = os.path.join(OUT, "audit")
    rc, text = fleet.playbook("G-audit", "audit.yml", inventory, "-e", "audit_report_dir=%s" % report_dir)
    assert rc == 0
    with open(os.path.join(report_dir, "kdump-audit.json")) as handle:
        report = json.load(handle)
    rows = {row["host"]: row for row in report["hosts"]}
    fleet.summary["audit"] = {"totals": report["totals"],
                              "hosts": {h: {k: rows[h].get(k) for k in ("status", "reserved_mib", "planned_mib",
                                                                        "crash_test")} for h in rows}}
    assert all(rows[name]["status"] == "done" for name in FLEET), fleet.summary["audit"]
    assert rows["fleet-1"]["crash_test"]["passed"] is True
    assert rows["fleet-3"]["crash_test"]["failed_link"] == "no_new_dump"

    # E: the dump server cannot be reached (nothing listens on the target port): fleet-1 is blocked with a
    # finding before its kdump configuration or boot loader changes, is not rebooted, and the rollout stops
    before_e = {name: fleet.untouched(name) for name in FLEET}
    fleet.inventory(inventory, {}, ssh_target=True, target_port=closed_port())
    t0 = time.monotonic()
    rc, text = fleet.playbook("E-dump-server-unreachable", "rollout.yml", inventory)
    messages = failure_messages(text, "fleet-1")
    after_e = {name: fleet.untouched(name) for name in FLEET}
    fault_e = {"host": "fleet-1", "rc": rc, "seconds_to_failure": round(time.monotonic() - t0, 1),
               "message": first_line_with(messages, "dump-target-unreachable"),
               "untouched": {name: {key: before_e[name][key] == after_e[name][key] for key in before_e[name]}
                             for name in FLEET},
               "recap": fleet.summary["phases"]["E-dump-server-unreachable"]["recap"]}
    fleet.summary["faults"]["dump_server_unreachable"] = fault_e
    fleet.note("E: %s" % json.dumps(fault_e))
    assert rc != 0 and fault_e["message"], messages
    assert all(all(checks.values()) for checks in fault_e["untouched"].values()), fault_e["untouched"]
    assert set(fault_e["recap"]) & set(FLEET) == {"fleet-1"}, "later batches ran: %s" % fault_e["recap"]

    # H: the audit of a fleet that is not all well: fleet-2 asks for more than its RAM (blocked with the
    # finding), fleet-3 is down (unreachable), fleet-1 is done with its crash test
    fleet.testvm("down", "--name", "fleet-3", "--keep-logs", timeout=300)  # its console is copied at the end
    fleet.inventory(inventory, {"fleet-2": {"kdump_crashkernel": "4G"}}, ssh_target=True)
    report_dir = os.path.join(OUT, "audit-degraded")
    rc, text = fleet.playbook("H-audit-degraded", "audit.yml", inventory, "-e", "audit_report_dir=%s" % report_dir)
    with open(os.path.join(report_dir, "kdump-audit.json")) as handle:
        report = json.load(handle)
    rows = {row["host"]: row for row in report["hosts"]}
    fleet.summary["audit_degraded"] = {
        "rc": rc, "totals": report["totals"],
        "hosts": {h: {"status": rows[h]["status"], "blocking": [f["id"] for f in rows[h].get("blocking", [])],
                      "error": rows[h].get("error")} for h in rows},
        "table": text.partition("TASK [Show the table]")[2].partition("\nTASK [")[0].strip().splitlines()[1:]}
    fleet.note("H: %s" % json.dumps(fleet.summary["audit_degraded"]))
    assert rows["fleet-1"]["status"] == "done" and rows["fleet-1"]["crash_test"]["passed"] is True
    assert rows["fleet-2"]["status"] == "blocked" and rows["fleet-2"]["blocking"], rows["fleet-2"]
    assert rows["fleet-3"]["status"] == "unreachable", rows["fleet-3"]
    assert report["totals"]["blocked"] == 1 and report["totals"]["unreachable"] == 1, report["totals"]


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
