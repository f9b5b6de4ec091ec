"""Role fleetops.kdump.kdump, tasks_from assess: the findings are sorted right for real host trees.

One ansible-playbook run (connection local, check mode) assesses every case: the kdump_facts module reads
a fixture tree (tests/fixtures/hosts) given as kdump_facts_root, the real crashkernel_plan filter
plans, and each case's kdump_assessment is written to a JSON file that the tests below read.
"""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import local_host, run_playbook  # noqa: E402  pylint: disable=wrong-import-position

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "hosts")

CASES = {
    "fresh-debian": {"fixture": "debian12-amd64-qemu"},
    "altra": {"fixture": "ampere-altra-mtjade"},
    # the arguments this Altra booted with (and failed to reserve with), planned again
    "altra-same-args": {"fixture": "ampere-altra-mtjade",
                        "kdump_crashkernel": "512M-12G:128M,12G-64G:256M,64G-128G:512M,128G-:768M 16M,low"},
    "ampereone": {"fixture": "ampereone"},
    # Debian 12 arm64: no _text in /proc/kallsyms, no kexec_file_load (finding kexec-no-text-symbol)
    "debian-arm64": {"fixture": "debian12-arm64-qemu-altra"},
    "debian-arm64-no-fix": {"fixture": "debian12-arm64-qemu-altra", "kdump_kallsyms_text_fix": False},
    # Debian 13 arm64: 4K pages with 52-bit VA, which no released makedumpfile reads
    "debian13-arm64": {"fixture": "debian13-arm64-qemu-altra"},
    "debian13-arm64-no-fallback": {"fixture": "debian13-arm64-qemu-altra", "kdump_vmcore_copy_fallback": False},
    "rhel9": {"fixture": "rhel9-x86_64"},
    # a misspelt variable is warned about, naming the one meant; the default policy is planned
    "typo": {"fixture": "debian12-amd64-qemu", "kdump_crashkernal": "1G"},
    "too-big": {"fixture": "debian12-amd64-qemu", "kdump_crashkernel": "12G"},
    "too-big-accepted": {"fixture": "debian12-amd64-qemu", "kdump_crashkernel": "12G",
                         "kdump_accept_findings": ["crashkernel-size-exceeds-ram"]},
    "bogus": {"fixture": "debian12-amd64-qemu", "kdump_crashkernel": "bogus",
              "kdump_accept_findings": ["crashkernel-policy-invalid"]},
    "dump-to-rootfs-over-ssh": {"fixture": "debian12-amd64-qemu", "kdump_failure_action": "dump_to_rootfs",
                                "kdump_target": {"type": "ssh", "location": "dump@collector",
                                                 "ssh_key": "/nonexistent/kdump_key"}},
    # this machine itself (root /): the ssh key of the dump target is looked for on the live host
    "live-missing-ssh-key": {"fixture": None,
                             "kdump_target": {"type": "ssh", "location": "dump@collector",
                                              "ssh_key": "/nonexistent/kdump_key"}},
}

PLAYBOOK = """
- hosts: all
  gather_facts: false
  check_mode: true
  tasks:
    - ansible.builtin.include_role:
        name: fleetops.kdump.kdump
        tasks_from: assess
    - ansible.builtin.copy:
        content: "{{ kdump_assessment | to_json }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
        mode: "0644"
      check_mode: false
"""


@pytest.fixture(scope="module")
def assessments(tmp_path_factory):
    work = tmp_path_factory.mktemp("assess")
    hosts = {}
    for name, case in CASES.items():
        root = os.path.join(FIXTURES, case["fixture"]) if case["fixture"] else "/"
        hosts[name] = local_host(kdump_facts_root=root, out_dir=str(work),
                                 **{key: value for key, value in case.items() if key != "fixture"})
    run = run_playbook(work, hosts, PLAYBOOK)
    assert run.returncode == 0, run.stdout[-6000:]
    found = {name: json.loads((work / (name + ".json")).read_text()) for name in CASES}
    found["output"] = run.stdout
    return found


def test_misspelt_variable_is_warned_about_with_the_name_meant(assessments):
    assert "kdump_crashkernal is not a variable of the fleetops.kdump roles and is ignored; did you mean " \
           "kdump_crashkernel?" in " ".join(assessments["output"].split())
    assert assessments["typo"]["plan"]["args"] == assessments["fresh-debian"]["plan"]["args"]
    assert "kdump_crashkernel_low is not a variable" not in assessments["output"]


def ids(findings):
    return sorted(finding["id"] for finding in findings)


def test_fresh_debian_guest_is_ready_and_only_lacks_the_setup(assessments):
    fresh = assessments["fresh-debian"]
    assert fresh["ready"] is True and fresh["up_to_date"] is False
    assert ids(fresh["deferred"]) == ["kdump-package-missing", "kexec-tools-missing", "makedumpfile-missing",
                                      "no-crashkernel-reserved"]
    assert fresh["warnings"] == []
    assert fresh["blocking"] == [] and fresh["accepted"] == []
    assert fresh["plan"]["args"] == ["crashkernel=2G-64G:256M,64G-:512M"]
    assert fresh["planned_bytes"] == 256 * 1024 * 1024
    assert fresh["reserved_bytes"] == 0


def test_altra_failed_plain_reservation_is_fixed_by_the_high_low_plan(assessments):
    altra = assessments["altra"]
    assert ids(altra["deferred"]) == ["crashkernel-reservation-failed", "kexec-no-text-symbol",
                                      "plain-crashkernel-low-only"]
    assert altra["ready"] is True
    assert altra["plan"]["policy"] == "altra"
    assert [arg.split(",")[-1] for arg in altra["plan"]["args"]] == ["high", "low"]
    assert "agdi-present" in ids(altra["warnings"])


def test_the_same_failed_arguments_again_block(assessments):
    same = assessments["altra-same-args"]
    assert same["plan"]["args"] == ["crashkernel=512M-12G:128M,12G-64G:256M,64G-128G:512M,128G-:768M",
                                    "crashkernel=16M,low"]
    assert "crashkernel-reservation-failed" in ids(same["blocking"])
    assert same["ready"] is False


def test_loaded_but_idle_capture_kernel_is_deferred(assessments):
    one = assessments["ampereone"]
    assert "crash-kernel-not-loaded" in ids(one["deferred"]) and one["ready"] is True


def test_missing_text_symbol_is_fixed_by_the_rollout_unless_the_fix_is_off(assessments):
    fixed = assessments["debian-arm64"]
    assert "kexec-no-text-symbol" in ids(fixed["deferred"]) and fixed["ready"] is True
    assert fixed["handled"] == []
    off = assessments["debian-arm64-no-fix"]
    assert "kexec-no-text-symbol" in ids(off["blocking"]) and off["ready"] is False
    assert "kexec-no-text-symbol" not in ids(off["deferred"])


def test_debian13_arm64_makedumpfile_gap_is_left_to_the_copy_fallback(assessments):
    fallback = assessments["debian13-arm64"]
    assert "makedumpfile-cannot-read-kernel" in ids(fallback["deferred"]) and fallback["ready"] is True
    assert fallback["plan"]["args"] == ["crashkernel=128M,high", "crashkernel=16M,low"]
    off = assessments["debian13-arm64-no-fallback"]
    assert "makedumpfile-cannot-read-kernel" in ids(off["blocking"]) and off["ready"] is False


def test_configured_rhel_host_is_ready(assessments):
    assert assessments["rhel9"]["ready"] is True and assessments["rhel9"]["blocking"] == []


def test_a_reservation_larger_than_ram_blocks_unless_accepted(assessments):
    too_big = assessments["too-big"]
    assert too_big["ready"] is False
    blocking = {f["id"]: f for f in too_big["blocking"]}
    assert "crashkernel-size-exceeds-ram" in blocking
    assert blocking["crashkernel-size-exceeds-ram"]["source"] == 'kdump_crashkernel="12G"'
    accepted = assessments["too-big-accepted"]
    assert ids(accepted["accepted"]) == ["crashkernel-size-exceeds-ram"]
    assert "crashkernel-size-exceeds-ram" not in ids(accepted["blocking"])


def test_invalid_policy_blocks_and_cannot_be_accepted(assessments):
    bogus = assessments["bogus"]
    finding = {f["id"]: f for f in bogus["blocking"]}["crashkernel-policy-invalid"]
    assert "kdump_crashkernel" in finding["message"] and "bogus" in finding["message"]
    assert "Task failed" not in finding["message"]
    assert bogus["accepted"] == [] and bogus["plan"] == {}


def test_host_dependent_input_findings(assessments):
    case = assessments["dump-to-rootfs-over-ssh"]
    assert "failure-action-unsupported" in ids(case["blocking"])
    # a captured tree holds no private keys: the ssh key is only looked for on a live host
    assert "ssh-key-missing" not in ids(case["blocking"])
    live = assessments["live-missing-ssh-key"]
    assert "ssh-key-missing" not in ids(live["blocking"])
    finding = {f["id"]: f for f in live["warnings"]}["ssh-key-missing"]
    assert "/nonexistent/kdump_key" in finding["message"] and "ssh-keygen" in finding["fix"]
