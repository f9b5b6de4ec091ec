# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_crash_verdict: the first broken link, its message and the timings. The dump entries have the shape
vmcore_info returns (the values are those of a Debian 13 amd64 crash test run in the test VM)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils._crash_verdict import VerdictError, verdict

DUMP = {"path": "/var/crash/202612030915/dump.202612030915", "format": "flattened", "size": 394264576,
        "complete": True, "problems": [], "release": "6.12.57+deb13-amd64", "machine": "x86_64",
        "dmesg_path": "/var/crash/202612030915/dmesg.202612030915", "dmesg_source": "file",
        "dmesg_has_sysrq": True, "dmesg_crash_line": "sysrq: Trigger a crash", "mtime": 1764753347.3}
SETTINGS = {"path": "/var/crash", "formats": ["kdump_compressed", "flattened", "elf"], "require_dmesg": True,
            "timeout": 900, "reconnect_delay": 30, "trigger_delay": 2}


def evidence(**changes):
    base = {"host": "vm", "boot_id_before": "a\n", "boot_id_after": "b\n", "marker_time": 1764753298.0,
            "stamp": "1764753300\n", "clock": ["1764753395.2", "48.10"], "dumps_before": [],
            "new_dumps": [DUMP], "latest": DUMP, "all_dumps": [DUMP], "wait_seconds": 97}
    base.update(changes)
    return base


def test_a_complete_dump_with_the_crash_line_passes_with_timings():
    result = verdict(evidence(), SETTINGS)
    assert result["passed"] and result["failed_link"] is None
    assert result["message"].startswith("kdump works on vm: the crash left /var/crash/202612030915/dump")
    assert "376.0 MiB" in result["message"] and "showing the sysrq crash" in result["message"]
    assert result["trigger_time"] == 1764753300.0 and result["trigger_time_source"] == "stamp"
    assert (result["seconds_to_dump"], result["seconds_to_boot"], result["seconds_to_return"]) == (47.3, 47.1, 95.2)
    assert result["boot_id_before"] == "a" and result["new_dumps"] == 1 and result["wait_seconds"] == 97


def test_without_a_stamp_the_marker_time_plus_the_delay_is_the_trigger():
    result = verdict(evidence(stamp=""), SETTINGS)
    assert result["trigger_time"] == 1764753300.0 and result["trigger_time_source"] == "marker"


@pytest.mark.parametrize("changes, link, words", [
    ({"latest": None, "new_dumps": []}, "no_new_dump", "has no dump newer than the crash marker"),
    ({"latest": dict(DUMP, format="elf")}, None, "kdump works"),
    ({"latest": dict(DUMP, format="unknown", problems=["not a dump"])}, "wrong_format", "not one of"),
    ({"latest": dict(DUMP, complete=False, problems=["cut after 12 MiB"])}, "incomplete_dump", "cut after 12 MiB"),
    ({"latest": dict(DUMP, dmesg_source=None)}, "no_dmesg", "KDUMP_DUMP_DMESG=1"),
    ({"latest": dict(DUMP, dmesg_has_sysrq=False)}, "dmesg_without_crash", "is not from this crash test"),
    ({"link": "host_did_not_return", "latest": None}, "host_did_not_return", "did not answer within 900 s"),
    ({"link": "boot_id_unchanged"}, "boot_id_unchanged", "its old boot id a"),
    ({"link": "reached_capture_kernel"}, "reached_capture_kernel", "now 30 s"),
])
def test_the_first_broken_link_is_named(changes, link, words):
    result = verdict(evidence(**changes), SETTINGS)
    assert result["failed_link"] == link and result["passed"] == (link is None)
    assert words in result["message"]
    if link:
        assert result["message"].startswith(link + ": ")


def test_the_order_of_the_dump_links():
    # an incomplete dump without dmesg fails at incomplete_dump, the earlier link
    result = verdict(evidence(latest=dict(DUMP, complete=False, dmesg_source=None)), SETTINGS)
    assert result["failed_link"] == "incomplete_dump"


def test_dmesg_is_not_required_when_the_operator_says_so():
    result = verdict(evidence(latest=dict(DUMP, dmesg_source=None)), dict(SETTINGS, require_dmesg=False))
    assert result["passed"]


def test_dumps_dated_before_the_crash_hint_at_a_wrong_capture_kernel_clock():
    old = dict(DUMP, path="/var/crash/197001010000/dump.197001010000")
    result = verdict(evidence(latest=None, new_dumps=[], all_dumps=[old]), SETTINGS)
    assert "1 dump(s) did appear (/var/crash/197001010000/dump.197001010000)" in result["message"]
    assert "RTC" in result["message"]


def test_unreadable_clock_lines_leave_the_timings_unknown():
    result = verdict(evidence(clock=["Thu Dec  3", "x"]), SETTINGS)
    assert result["seconds_to_boot"] is None and result["seconds_to_return"] is None
    assert result["seconds_to_dump"] == 47.3


@pytest.mark.parametrize("ev, settings, words", [
    ("x", SETTINGS, "dict of evidence"),
    (evidence(colour="red"), SETTINGS, "unknown evidence key(s) colour"),
    (evidence(), dict(SETTINGS, colour="red"), "unknown settings key(s) colour"),
    (evidence(link="crashed"), SETTINGS, "link must be one of"),
])
def test_wrong_arguments_are_refused(ev, settings, words):
    with pytest.raises(VerdictError, match=words.replace("(", r"\(").replace(")", r"\)")):
        verdict(ev, settings)


def test_no_new_dump_names_the_evidence_and_a_reservation_below_the_plan():
    mib = 1024 * 1024
    small = verdict(evidence(latest=None, new_dumps=[], capture_loaded=True, reserved_bytes=96 * mib,
                             estimate_bytes=256 * mib, wait_seconds=142),
                    dict(SETTINGS, dump_host="dumpsrv", path="/srv/crash"))
    assert small["failed_link"] == "no_new_dump"
    for words in ("capture kernel was loaded", "came back after 142 s", "/srv/crash on dumpsrv", "Reserved 96 MiB",
                  "256 MiB that the auto policy plans", "too little", "Raise kdump_crashkernel"):
        assert words in small["message"], (words, small["message"])
    enough = verdict(evidence(latest=None, new_dumps=[], capture_loaded=True, reserved_bytes=256 * mib,
                              estimate_bytes=256 * mib), SETTINGS)
    assert "too little" not in enough["message"] and "did not save one" in enough["message"]
    unknown = verdict(evidence(latest=None, new_dumps=[]), SETTINGS)["message"]
    assert "may not have been loaded" in unknown and "Reserved unknown" in unknown
