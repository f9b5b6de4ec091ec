"""Role crash_test run by ansible-playbook against localhost - never able to crash this machine.

Three layers keep the real trigger away: every guard run skips the tag crash_test_trigger, every run points
__crash_test_sysrq_trigger (and the /proc files the role reads) at scratch files, and the guard hosts must fail
before any task of crash.yml runs. The simulated runs let the trigger write "c" into the scratch file; a helper
thread then plays the crash (new boot id, dump files) the way kdump would.
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import threading
import tempfile
import time

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
COLLECTIONS = os.path.join(REPO, "build", "collections")
PLAYBOOK_BIN = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
sys.path.insert(0, os.path.join(REPO, "tests", "fixtures", "vmcores"))
import make_vmcores as build  # noqa: E402

STAMP = "202411251705"
FIRST_CRASH_TASK = "Record the dumps already on the host"
TRIGGER_TASK = "Trigger the kernel crash with sysrq-c in the background"

RECORD_CALLBACK = '''
import json, os
from ansible.plugins.callback import CallbackBase

class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.events = []

    def _add(self, status, result):
        data = result._result
        entry = {"host": result._host.get_name(), "task": result._task.name, "status": status,
                 "msg": str(data.get("msg", ""))}
        facts = data.get("ansible_facts") or {}
        if "crash_test_result" in facts:
            entry["crash_test_result"] = facts["crash_test_result"]
        self.events.append(entry)

    def v2_runner_on_ok(self, result):
        self._add("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add("failed", result)

    def v2_runner_on_skipped(self, result):
        self._add("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._add("unreachable", result)

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["CRASH_TEST_RECORD"], "w") as handle:
            json.dump(self.events, handle, default=str)
'''

FAKE_FACTS_MODULE = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

def main():
    module = AnsibleModule(argument_spec=dict(facts=dict(type="dict", required=True)), supports_check_mode=True)
    module.exit_json(changed=False, ansible_facts={"kdump": module.params["facts"]})

main()
'''

PLAYBOOK = [{
    "name": "Crash test against localhost stand-ins",
    "hosts": "all",
    "gather_facts": False,
    "pre_tasks": [{"name": "Inject kdump facts", "fake_kdump_facts": {"facts": "{{ fake_kdump }}"},
                   "when": "fake_kdump is defined"}],
    "roles": [{"role": "fleetops.kdump.crash_test"}],
}]

# Per-host scratch paths, templated per host from its sim_dir.
SCRATCH_VARS = {
    "__crash_test_sysrq_trigger": "{{ sim_dir }}/sysrq-trigger",
    "__crash_test_boot_id_path": "{{ sim_dir }}/boot_id",
    "__crash_test_uptime_path": "{{ sim_dir }}/uptime",
    "__crash_test_vmcore_path": "{{ sim_dir }}/vmcore",
}


def kdump_facts(virtualization="kvm", loaded=True, findings=()):
    return {"platform": {"virtualization": virtualization},
            "reservation": {"kexec_crash_loaded": loaded, "total_bytes": 268435456 if loaded else 0},
            "findings": list(findings)}


MARKER_TOP = tempfile.mkdtemp(prefix="fleetops-crash-test-", dir="/var/tmp")
atexit.register(shutil.rmtree, MARKER_TOP, True)


def run_playbook(tmp_path, hosts, extra_args=(), extra_vars=None):
    """Run the role on local stand-in hosts; return (rc, output, events by host)."""
    (tmp_path / "library").mkdir(exist_ok=True)
    (tmp_path / "library" / "fake_kdump_facts.py").write_text(FAKE_FACTS_MODULE)
    (tmp_path / "callback_plugins").mkdir(exist_ok=True)
    (tmp_path / "callback_plugins" / "record.py").write_text(RECORD_CALLBACK)
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    inventory = {"all": {"hosts": {}}}
    for name, host_vars in hosts.items():
        sim_dir = tmp_path / name
        if not sim_dir.is_symlink():  # the marker dir must survive a reboot, so the role refuses /tmp: use /var/tmp
            real = os.path.join(MARKER_TOP, "%s-%s" % (tmp_path.name, name))
            if sim_dir.exists():
                shutil.move(str(sim_dir), real)
            else:
                os.mkdir(real)
            sim_dir.symlink_to(real)
        (sim_dir / "boot_id").write_text("11111111-2222-3333-4444-555555555555\n")
        (sim_dir / "uptime").write_text("86400.00 170000.00\n")
        inventory["all"]["hosts"][name] = dict(
            dict(ansible_connection="local", ansible_python_interpreter=sys.executable, sim_dir=str(sim_dir),
                 crash_test_path=str(sim_dir.resolve() / "crash"), crash_test_marker_dir=str(sim_dir.resolve())),
            **host_vars)
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    record = tmp_path / "record.json"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LIBRARY=str(tmp_path / "library"),
               ANSIBLE_CALLBACK_PLUGINS=str(tmp_path / "callback_plugins"), ANSIBLE_CALLBACKS_ENABLED="record",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS="12", ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_ASYNC_DIR=str(tmp_path / "async"), CRASH_TEST_RECORD=str(record),
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_PIPELINING="1")
    variables = dict(SCRATCH_VARS, **(extra_vars or {}))
    command = [PLAYBOOK_BIN, "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "playbook.yml"),
               "-e", json.dumps(variables)] + list(extra_args)
    done = subprocess.run(command, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=600, check=False)
    output = done.stdout.decode("utf-8", "replace")
    events = {}
    for event in json.loads(record.read_text()) if record.exists() else []:
        events.setdefault(event["host"], []).append(event)
    return done.returncode, output, events


def tasks_run(events, host):
    return [event["task"] for event in events.get(host, []) if event["status"] != "skipped"]


def failure(events, host):
    failed = [event for event in events.get(host, []) if event["status"] in ("failed", "unreachable")]
    assert failed, "host %s did not fail" % host
    return failed[-1]


# --- guards ---------------------------------------------------------------------------------------------------

GUARD_HOSTS = {
    "unset": ({}, "Refuse unless crash_test_confirm is true",
              "Refusing to crash unset: crash_test_confirm is not true"),
    "false": ({"crash_test_confirm": False}, "Refuse unless crash_test_confirm is true",
              "Set crash_test_confirm: true"),
    "string_no": ({"crash_test_confirm": "no"}, "Refuse unless crash_test_confirm is true",
                  "crash_test_confirm is not true"),
    "not_a_bool": ({"crash_test_confirm": "maybe"}, None, "crash_test_confirm"),
    "bad_timing": ({"crash_test_confirm": True, "crash_test_timeout": 10, "crash_test_reconnect_delay": 30},
                   "Check the timing variables", "crash_test_timeout (10) larger than crash_test_reconnect_delay"),
    "physical": ({"crash_test_confirm": True, "crash_test_refresh_facts": False,
                  "fake_kdump": kdump_facts(virtualization="none")},
                 "Refuse to crash a physical host unless crash_test_allow_physical is true",
                 'virtualization is "none"'),
    "unknown_virt": ({"crash_test_confirm": True, "crash_test_refresh_facts": False,
                      "fake_kdump": kdump_facts(virtualization=None)},
                     "Refuse to crash a physical host unless crash_test_allow_physical is true",
                     'virtualization is "unknown"'),
    "not_loaded": ({"crash_test_confirm": True, "crash_test_refresh_facts": False, "crash_test_allow_physical": True,
                    "fake_kdump": kdump_facts(virtualization="none", loaded=False, findings=[
                        {"id": "crashkernel-missing", "severity": "error", "message": "no crashkernel= argument",
                         "fix": "apply role kdump"}])},
                   "Refuse unless a capture kernel is loaded", "crashkernel-missing: no crashkernel= argument"),
    # crash_test_path unset: the service's own directory, unless the service sends dumps off the host
    "dump_on_server": ({"crash_test_confirm": True, "crash_test_refresh_facts": False, "crash_test_path": None,
                        "fake_kdump": dict(kdump_facts(), software={"dump_target": {
                            "type": "ssh", "path": "/var/crash", "location": "kdump@dumps"}})},
                       "Refuse unless the new dump can be found on the host",
                       "sends dumps to a ssh target (kdump@dumps, directory /var/crash)"),
    "dump_dir_unknown": ({"crash_test_confirm": True, "crash_test_refresh_facts": False, "crash_test_path": None,
                          "fake_kdump": kdump_facts()},
                         "Refuse unless the new dump can be found on the host", "dump directory is unknown"),
}


@pytest.fixture(scope="module")
def guard_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("guards")
    hosts = {name: spec[0] for name, spec in GUARD_HOSTS.items()}
    rc, output, events = run_playbook(tmp_path, hosts, extra_args=["--skip-tags", "crash_test_trigger"])
    return tmp_path, rc, output, events


@pytest.mark.parametrize("host", sorted(GUARD_HOSTS))
def test_guard_refuses_before_anything_changes(guard_run, host):
    tmp_path, rc, output, events = guard_run
    _vars, task, message = GUARD_HOSTS[host]
    assert rc != 0, output
    failed = failure(events, host)
    if task is not None:
        assert failed["task"] == task
    else:  # the role's argument spec validation
        assert "argument" in failed["task"].lower() or "arg spec" in failed["task"].lower()
    assert message in failed["msg"], failed["msg"]
    ran = tasks_run(events, host)
    assert FIRST_CRASH_TASK not in ran and TRIGGER_TASK not in ran
    assert not (tmp_path / host / "sysrq-trigger").exists()
    assert not (tmp_path / host / "fleetops-crash-test.marker").exists()


def test_confirm_guard_is_the_first_task_that_can_fail(guard_run):
    _tmp_path, _rc, _output, events = guard_run
    ran = tasks_run(events, "unset")
    assert ran[-1] == "Refuse unless crash_test_confirm is true"
    assert "Gather kdump facts" not in ran and "Inject kdump facts" not in ran


def test_trigger_rechecks_the_guards_when_a_run_starts_after_them(tmp_path):
    hosts = {"sneaky": {"crash_test_trigger_delay": 1, "crash_test_reconnect_delay": 2, "crash_test_timeout": 10}}
    rc, output, events = run_playbook(
        tmp_path, hosts, extra_args=["--start-at-task", "Touch the crash marker (dumps newer than it are new)"])
    assert rc != 0, output
    assert "Refuse unless crash_test_confirm is true" not in tasks_run(events, "sneaky")
    trigger = [event["status"] for event in events.get("sneaky", []) if event["task"] == TRIGGER_TASK]
    assert trigger == ["skipped"], output
    time.sleep(1.5)  # a detached trigger would have fired by now
    assert not (tmp_path / "sneaky" / "sysrq-trigger").exists()


def test_guards_run_whatever_tags_are_selected(tmp_path):
    hosts = {"tagged": {}}
    rc, output, events = run_playbook(tmp_path, hosts, extra_args=["--tags", "crash_test_trigger"])
    assert rc != 0, output
    assert failure(events, "tagged")["task"] == "Refuse unless crash_test_confirm is true"
    assert not (tmp_path / "tagged" / "sysrq-trigger").exists()


def test_check_mode_runs_only_the_guards(tmp_path):
    hosts = {"checked": {"crash_test_confirm": True, "crash_test_refresh_facts": False, "fake_kdump": kdump_facts()}}
    rc, output, events = run_playbook(tmp_path, hosts, extra_args=["--check", "--skip-tags", "crash_test_trigger"])
    assert rc == 0, output
    ran = tasks_run(events, "checked")
    assert "Say what a real run would do" in ran and FIRST_CRASH_TASK not in ran
    assert not (tmp_path / "checked" / "sysrq-trigger").exists()


# --- simulated crashes ------------------------------------------------------------------------------------------


def debian_dump(crash_dir, dump=None, dmesg=build.DMESG_WITH_SYSRQ, mtime=None, stamp=STAMP):
    directory = os.path.join(crash_dir, stamp)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "dump." + stamp)
    with open(path, "wb") as handle:
        handle.write(build.build_kdump_compressed() if dump is None else dump)
    if dmesg is not None:
        with open(os.path.join(directory, "dmesg." + stamp), "w") as handle:
            handle.write(dmesg)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def play_crash(sim_dir, scenario):
    """What the host would show after a crash, per scenario."""
    crash_dir = os.path.join(sim_dir, "crash")
    if scenario == "no_reboot":
        return
    if scenario == "no_return":
        return
    with open(os.path.join(sim_dir, "boot_id"), "w") as handle:
        handle.write("99999999-8888-7777-6666-555555555555\n")
    with open(os.path.join(sim_dir, "uptime"), "w") as handle:
        handle.write("1.50 1.00\n")
    if scenario == "pass":
        debian_dump(crash_dir)
    elif scenario == "bad_dmesg":
        debian_dump(crash_dir, dmesg=build.DMESG_WITHOUT_SYSRQ)
    elif scenario == "no_dmesg":
        debian_dump(crash_dir, dmesg=None)
    elif scenario == "wrong_format":
        debian_dump(crash_dir, dump=build.build_elf_core())
    elif scenario == "incomplete":
        directory = os.path.join(crash_dir, "127.0.0.1-2024-11-25-17:05:33")
        os.makedirs(directory)
        with open(os.path.join(directory, "vmcore-incomplete"), "wb") as handle:
            handle.write(build.build_kdump_compressed()[:10000])
    elif scenario == "rtc_wrong":
        debian_dump(crash_dir, mtime=time.time() - 7200, stamp="202411251505")
    elif scenario == "capture_kernel":
        open(os.path.join(sim_dir, "vmcore"), "w").close()


SIM_HOSTS = {
    "pass": None,
    "no_reboot": "boot_id_unchanged",
    "no_return": "host_did_not_return",
    "capture_kernel": "reached_capture_kernel",
    "no_dump": "no_new_dump",
    "rtc_wrong": "no_new_dump",
    "wrong_format": "wrong_format",
    "incomplete": "incomplete_dump",
    "no_dmesg": "no_dmesg",
    "bad_dmesg": "dmesg_without_crash",
}


@pytest.fixture(scope="module")
def simulated_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("simulated")
    hosts = {}
    for name in SIM_HOSTS:
        hosts[name] = {"crash_test_confirm": True, "crash_test_refresh_facts": False, "fake_kdump": kdump_facts(),
                       "crash_test_trigger_delay": 1, "crash_test_reconnect_delay": 4, "crash_test_timeout": 12}
        crash_dir = tmp_path / name / "crash"
        crash_dir.mkdir(parents=True)
        # an older dump from an earlier crash, which must not be taken for the new one
        debian_dump(str(crash_dir), mtime=time.time() - 86400, stamp="202401010000")
    hosts["wrong_format"]["crash_test_formats"] = ["kdump_compressed"]
    # "pass" sets no crash_test_path: the role looks where the facts say the service writes (the real path of
    # the host's sim_dir, which run_playbook links to a directory under /var/tmp)
    hosts["pass"].update(crash_test_path=None, fake_kdump=dict(kdump_facts(), software={"dump_target": {
        "type": "local", "path": os.path.join(MARKER_TOP, "%s-pass" % tmp_path.name, "crash"), "location": None}}))
    # "no_return" stops answering once the trigger task ran (it creates the host's async job directory):
    # its connection turns into ssh to a closed port
    hosts["no_return"].update(
        ansible_async_dir="{{ sim_dir }}/async",
        ansible_connection="{{ 'ssh' if (sim_dir ~ '/async') is exists else 'local' }}",
        ansible_host="127.0.0.1", ansible_port=9, ansible_ssh_timeout=2, crash_test_timeout=8)

    stop = threading.Event()
    played = set()

    def watch():
        while not stop.is_set():
            for name in SIM_HOSTS:
                trigger = tmp_path / name / "sysrq-trigger"
                if name not in played and trigger.exists() and trigger.read_text().strip() == "c":
                    played.add(name)
                    play_crash(str(tmp_path / name), name)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        rc, output, events = run_playbook(tmp_path, hosts)
    finally:
        stop.set()
        watcher.join()
    return tmp_path, rc, output, events, played


def crash_result(events, host):
    results = [event["crash_test_result"] for event in events.get(host, []) if "crash_test_result" in event]
    assert results, "no crash_test_result for %s" % host
    return results[-1]


def test_every_simulated_host_wrote_the_trigger(simulated_run):
    tmp_path, _rc, output, _events, played = simulated_run
    assert played == set(SIM_HOSTS), output
    for name in SIM_HOSTS:
        assert (tmp_path / name / "sysrq-trigger").read_text() == "c\n"


def test_simulated_crash_passes_with_numbers_and_paths(simulated_run):
    tmp_path, _rc, output, events, _played = simulated_run
    result = crash_result(events, "pass")
    assert result["passed"] is True and result["failed_link"] is None, output
    assert result["dump_path"] == str((tmp_path / "pass").resolve() / "crash" / STAMP / ("dump." + STAMP))
    assert result["dmesg_path"] == str((tmp_path / "pass").resolve() / "crash" / STAMP / ("dmesg." + STAMP))
    assert (result["dump_format"], result["dump_release"], result["dump_machine"]) == (
        "kdump_compressed", "6.1.0-27-arm64", "aarch64")
    assert result["dmesg_crash_line"] == "[  232.910145] sysrq: Trigger a crash"
    assert (result["dumps_before"], result["new_dumps"]) == (1, 1)
    assert result["boot_id_before"] != result["boot_id_after"]
    assert result["trigger_time_source"] == "stamp"
    assert 0 <= result["seconds_to_dump"] < 30
    assert result["seconds_to_dump"] <= result["seconds_to_return"] < 60
    assert result["wait_seconds"] >= 4
    assert "kdump works on pass" in result["message"]
    assert not (tmp_path / "pass" / "fleetops-crash-test.marker").exists()
    assert not (tmp_path / "pass" / "fleetops-crash-test.trigger").exists()
    assert "crash test on pass: PASSED" in output


@pytest.mark.parametrize("host", sorted(name for name, link in SIM_HOSTS.items() if link))
def test_simulated_failure_names_the_broken_link(simulated_run, host):
    _tmp_path, rc, output, events, _played = simulated_run
    assert rc != 0
    result = crash_result(events, host)
    assert result["passed"] is False and result["failed_link"] == SIM_HOSTS[host], output
    failed = failure(events, host)
    assert failed["task"] == "Fail at the broken link"
    assert failed["msg"].startswith(SIM_HOSTS[host] + ":")


def test_failure_messages_carry_the_evidence(simulated_run):
    _tmp_path, _rc, _output, events, _played = simulated_run
    assert "answered with its old boot id 11111111-2222-3333-4444-555555555555" in crash_result(
        events, "no_reboot")["message"]
    assert "did not answer within 8 s" in crash_result(events, "no_return")["message"]
    assert "RTC" not in crash_result(events, "no_dump")["message"]
    rtc = crash_result(events, "rtc_wrong")["message"]
    assert "1 dump(s) did appear" in rtc and "dump.202411251505" in rtc and "clock of the capture kernel (RTC) is wrong" in rtc
    assert "the name says the dump was never finished" in crash_result(events, "incomplete")["message"]
    assert "is elf, not one of kdump_compressed" in crash_result(events, "wrong_format")["message"]
    assert 'has no "sysrq: Trigger a crash" line' in crash_result(events, "bad_dmesg")["message"]
