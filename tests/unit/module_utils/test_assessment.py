# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_assessment: the role's verdict per host, from facts gathered on the captured trees of tests/fixtures/hosts
(tests/fixtures/hosts/README.md says where each came from), edited where a case needs another state."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import os

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils import _assessment as assessment
from ansible_collections.fleetops.kdump.plugins.modules.kdump_facts import gather_facts

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "fixtures", "hosts")
# what the kdump role passes on Debian (vars/main.yml __kdump_assess_inputs, vars/Debian.yml)
DEBIAN = {"families": ["debian", "redhat", "suse"], "service": "kdump-tools",
          "failure_actions": ["reboot", "halt", "poweroff", "shell", "dump_to_rootfs"],
          "failure_actions_local_only": ["dump_to_rootfs"], "kallsyms_text_fix": True, "copy_fallback": True,
          "capture_unit": "kdump-tools-dump.service"}
_CACHE = {}


def host(name):
    if name not in _CACHE:
        _CACHE[name] = gather_facts(os.path.join(FIXTURES, name))
    return copy.deepcopy(_CACHE[name])


def assess(facts, **inputs):
    return assessment.assess(facts, dict(DEBIAN, **inputs))


def ids(items):
    return [item["id"] for item in items]


def test_a_fresh_host_is_ready_and_everything_missing_is_deferred_to_the_rollout():
    result = assess(host("debian13-amd64-qemu"))
    assert result["ready"] and not result["up_to_date"] and result["blocking"] == []
    assert set(ids(result["deferred"])) == {
        "no-crashkernel-reserved", "kexec-tools-missing", "makedumpfile-missing", "kdump-package-missing"}
    assert result["plan"]["args"] == ["crashkernel=2G-64G:256M,64G-:512M"]
    assert result["planned_bytes"] == 256 << 20 and result["reserved_bytes"] == 0
    assert [region["size"] for region in result["planned_regions"]] == [256 << 20]
    assert all(item["source"] == "facts" for item in result["deferred"])


def test_a_host_booted_with_the_plan_and_holding_it_is_up_to_date():
    result = assess(host("ampere-altra-max"))
    assert result["ready"] and result["up_to_date"] and result["deferred"] == []
    assert result["planned_bytes"] == result["reserved_bytes"] == 784 << 20


@pytest.mark.parametrize("regions", [
    # probe 12 S1: the planned 784 MiB in a layout the plan does not give
    [{"start": 0x87fc0000000, "end": 0x87fc1000000, "size": 16 << 20},
     {"start": 0x87fd0000000, "end": 0x87fd0000000 + (768 << 20), "size": 768 << 20}],  # both high
    [{"start": 0x90000000, "end": 0x90000000 + (784 << 20), "size": 784 << 20}],  # one low region
    None,  # regions unknown: nothing proves the layout
])
def test_the_planned_total_in_another_layout_is_not_up_to_date(regions):
    facts = host("ampere-altra-max")
    facts["reservation"]["regions"] = regions
    result = assess(facts)
    assert result["planned_bytes"] == result["reserved_bytes"] and not result["up_to_date"]


@pytest.mark.parametrize("loaded", [None, False])
def test_no_proof_of_a_loaded_capture_kernel_is_not_up_to_date(loaded):
    # probe 13 M3: kexec_crash_loaded unreadable (null) proves nothing
    facts = host("ampere-altra-max")
    facts["reservation"]["kexec_crash_loaded"] = loaded
    assert not assess(facts)["up_to_date"]


def test_a_host_with_a_blocking_finding_is_not_up_to_date():
    # probe 12 M14: kexec-no-text-symbol blocks (fix off) on a host that already holds its plan
    facts = host("ampere-altra-max")
    facts["findings"].append({"id": "kexec-no-text-symbol", "severity": "error", "message": "m", "fix": "f"})
    result = assess(facts, kallsyms_text_fix=False)
    assert not result["ready"] and not result["up_to_date"]


def test_same_bytes_under_other_arguments_is_not_up_to_date():
    # rhel9: 512 MiB reserved by the RHEL table; the plan writes kdump-utils' table, which gives 512 MiB too
    result = assess(host("rhel9-x86_64"))
    assert result["planned_bytes"] == result["reserved_bytes"] and not result["up_to_date"]


def test_an_invalid_policy_is_a_blocking_finding_that_cannot_be_accepted():
    result = assess(host("debian13-amd64-qemu"), crashkernel="bogus", accept_findings=["crashkernel-policy-invalid"])
    assert ids(result["blocking"]) == ["crashkernel-policy-invalid"] and result["accepted"] == []
    assert result["blocking"][0]["message"].startswith("crashkernel_plan: ")
    assert result["blocking"][0]["source"] == "role variables"
    assert result["plan"] == {} and result["planned_bytes"] is None and not result["ready"]


def test_an_error_of_the_plan_can_be_accepted():
    result = assess(host("debian13-amd64-qemu"), crashkernel="12G", accept_findings=["crashkernel-size-exceeds-ram"])
    assert ids(result["accepted"]) == ["crashkernel-size-exceeds-ram"] and result["ready"]
    assert result["accepted"][0]["source"] == 'kdump_crashkernel="12G"'
    refused = assess(host("debian13-amd64-qemu"), crashkernel="12G")
    assert ids(refused["blocking"]) == ["crashkernel-size-exceeds-ram"]


def test_contradictory_facts_cannot_be_accepted():
    facts = host("debian13-amd64-qemu")
    facts["findings"].append({"id": "input-implausible", "severity": "error", "message": "m", "fix": "f"})
    result = assess(facts, accept_findings=["input-implausible", "crashkernel-facts-incomplete"])
    assert {"input-implausible", "crashkernel-facts-incomplete"} <= set(ids(result["blocking"]))
    assert result["accepted"] == []


@pytest.mark.parametrize("inputs, systemd, copy_has_text, verdict", [
    ({}, None, None, "deferred"),  # captured tree: the rollout installs the fix
    ({}, True, None, "deferred"),
    ({}, False, None, "blocking"),  # the fix needs systemd
    ({"kallsyms_text_fix": False}, True, None, "blocking"),
    ({}, True, True, "handled"),  # the fix is in place and the copy has _text
    ({}, True, False, "deferred"),
])
def test_the_kallsyms_fix_defers_or_handles_its_finding(inputs, systemd, copy_has_text, verdict):
    facts = host("debian12-arm64-qemu-altra")
    facts["software"].update(systemd_running=systemd, kallsyms_copy_has_text=copy_has_text)
    result = assess(facts, **inputs)
    for name in ("deferred", "blocking", "handled"):
        assert ("kexec-no-text-symbol" in ids(result[name])) == (name == verdict), name
    assert result["fixes"]["kexec-no-text-symbol"] == (verdict != "blocking")


@pytest.mark.parametrize("inputs, in_place, verdict", [
    ({}, None, "deferred"),
    ({}, True, "handled"),
    ({"copy_fallback": False}, None, "blocking"),
    ({"capture_unit": ""}, None, "blocking"),  # a family whose capture unit is unknown cannot take it
])
def test_the_copy_fallback_defers_or_handles_its_finding(inputs, in_place, verdict):
    result = assess(host("debian13-arm64-qemu-altra"), copy_fallback_in_place=in_place, **inputs)
    for name in ("deferred", "blocking", "handled"):
        assert ("makedumpfile-cannot-read-kernel" in ids(result[name])) == (name == verdict), name


def test_arguments_the_plan_replaces_defer_their_findings_but_block_when_planned_again():
    altra = host("ampere-altra-mtjade")
    replaced = assess(altra)
    assert {"crashkernel-reservation-failed", "plain-crashkernel-low-only"} <= set(ids(replaced["deferred"]))
    again = assess(altra, crashkernel="512M-12G:128M,12G-64G:256M,64G-128G:512M,128G-:768M", crashkernel_low="16M")
    assert {"crashkernel-reservation-failed", "plain-crashkernel-low-only"} <= set(ids(again["blocking"]))


def test_a_problem_the_facts_and_the_plan_both_see_is_reported_once():
    facts = host("debian13-arm64-qemu-altra")
    facts["software"]["kexec_tools_version"] = "2.0.22"
    facts["findings"].append({"id": "kexec-tools-too-old-for-high-low", "severity": "error",
                              "message": "from the facts", "fix": "f"})
    result = assess(facts)
    every = result["blocking"] + result["deferred"] + result["accepted"] + result["warnings"]
    assert [item["message"] for item in every if item["id"] == "kexec-tools-too-old-for-high-low"] == \
        ["from the facts"]
    # without the facts' finding the plan's own is kept
    facts["findings"].pop()
    result = assess(facts)
    assert [item["source"] for item in result["blocking"] if item["id"] == "kexec-tools-too-old-for-high-low"] == \
        ["kdump_crashkernel=\"auto\""]


@pytest.mark.parametrize("compressions, compression, blocked", [
    (["zstd"], "lzo", True),
    (["lzo", "zstd"], "lzo", False),
    ([], "zlib", False),  # always built in
    (None, "zstd", False),  # unknown (captured tree, or not installed yet): config.yml checks after installing
])
def test_compression_is_checked_against_makedumpfile(compressions, compression, blocked):
    facts = host("debian13-amd64-qemu")
    facts["software"]["makedumpfile_compressions"] = compressions
    result = assess(facts, compression=compression)
    assert ("compression-unsupported" in ids(result["blocking"])) == blocked


def test_role_findings_about_the_target_and_the_distribution():
    facts = host("debian13-amd64-qemu")
    result = assess(facts, target_type="ssh", failure_action="dump_to_rootfs", ssh_key="/k", ssh_key_exists=False,
                    target_location="dump@collector")
    assert ids(result["blocking"]) == ["failure-action-unsupported"]
    # the rollout creates a missing key, so it only warns, and says how the key gets authorized
    warning = [item for item in result["warnings"] if item["id"] == "ssh-key-missing"][0]
    assert "dump@collector" in warning["message"] and "propagate" in warning["message"]
    assert "ssh-key-missing" not in ids(assess(facts, target_type="ssh", ssh_key_exists=None)["warnings"])
    facts["software"]["family"] = "gentoo"
    result = assess(facts)
    assert ids(result["blocking"]) == ["unsupported-distribution"]


def test_disabled_kdump_plans_nothing():
    result = assess(host("debian13-amd64-qemu"), enabled=False, crashkernel="bogus")
    assert result["plan"] == {} and not result["up_to_date"] and "crashkernel-policy-invalid" not in ids(
        result["blocking"])


@pytest.mark.parametrize("facts, inputs, words", [
    ("not facts", {}, "ansible_facts.kdump first"),
    ({}, ["a"], "dict of role inputs"),
    ({}, {"crashkernal": "1G"}, "unknown input(s) crashkernal"),
    ({}, {"accept_findings": "kexec-no-text-symbol"}, "accept_findings must be a list"),
])
def test_wrong_arguments_are_refused(facts, inputs, words):
    with pytest.raises(assessment.AssessmentError, match=r"(?i)" + words.replace("(", r"\(").replace(")", r"\)")):
        assessment.assess(facts, inputs)


def test_findings_left_after_the_rollout():
    facts = host("debian13-arm64-qemu-altra")
    left = ids(assessment.findings_left(facts, dict(DEBIAN)))
    assert "kdump-package-missing" in left and "makedumpfile-cannot-read-kernel" not in left
    left = ids(assessment.findings_left(facts, dict(DEBIAN, copy_fallback=False,
                                                    accept_findings=["makedumpfile-cannot-read-kernel"])))
    assert "makedumpfile-cannot-read-kernel" not in left
    arm64 = host("debian12-arm64-qemu-altra")
    assert "kexec-no-text-symbol" in ids(assessment.findings_left(arm64, dict(DEBIAN)))
    arm64["software"].update(systemd_running=True, kallsyms_copy_has_text=True)
    assert "kexec-no-text-symbol" not in ids(assessment.findings_left(arm64, dict(DEBIAN)))


def test_a_dump_target_the_host_cannot_log_in_to_blocks():
    facts = host("debian13-amd64-qemu")
    probe = {"rc": 255, "command": "ssh -i /root/.ssh/k -o BatchMode=yes kdumper@10.0.2.2 mkdir -p /srv/crash",
             "output": "ssh: connect to host 10.0.2.2 port 2222: Connection refused"}
    result = assess(facts, target_type="ssh", target_location="kdumper@10.0.2.2", ssh_key="/root/.ssh/k",
                    ssh_key_exists=True, target_server="dumpsrv", target_probe=probe)
    finding = {item["id"]: item for item in result["blocking"]}["dump-target-unreachable"]
    assert "Connection refused" in finding["message"] and "exit 255" in finding["message"]
    assert "kdumper" in finding["fix"] and result["ready"] is False
    accepted = assess(facts, target_type="ssh", target_location="kdumper@10.0.2.2", ssh_key_exists=True,
                      target_probe=probe, accept_findings=["dump-target-unreachable"])
    assert "dump-target-unreachable" in ids(accepted["blocking"])  # cannot be waived
    reached = assess(facts, target_type="ssh", target_location="kdumper@10.0.2.2", ssh_key_exists=True,
                     target_probe=dict(probe, rc=0, output=""))
    assert "dump-target-unreachable" not in ids(reached["blocking"])
    assert "dump-target-unreachable" not in ids(assess(facts, target_type="ssh", target_probe=None)["blocking"])
