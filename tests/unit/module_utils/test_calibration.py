# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The calibration search against simulated hosts: a host gives a dump when its reservation is at least its
threshold; each try takes a fixed number of seconds."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils._calibration import (
    CalibrationError, record, report, settings, start)

M = 1 << 20
PLAIN = {"args": ["crashkernel=2G-64G:256M,64G-:512M"],
         "expected": {"region": "low", "size": 256 * M, "low_size": 0}}
ALTRA = {"args": ["crashkernel=128M,high", "crashkernel=16M,low"],
         "expected": {"region": "high", "size": 128 * M, "low_size": 16 * M}}


def run(plan, threshold, conf=None, seconds=300, unreachable_at=None):
    state = start(plan, conf)
    while not state["done"]:
        size = state["next_bytes"]
        state = record(state, size >= threshold, seconds, reachable=size != unreachable_at,
                       link=None if size >= threshold else "no_new_dump", message="no dump")
    return state


@pytest.mark.parametrize("threshold", [64 * M, 70 * M, 100 * M, 144 * M, 150 * M, 240 * M, 256 * M])
def test_the_search_finds_the_smallest_working_step(threshold):
    state = run(PLAIN, threshold)
    smallest = -(-threshold // (16 * M)) * 16 * M
    assert state["outcome"] == "converged" and state["good"] == smallest
    assert len(state["tries"]) <= 5  # 256 down to 64 in 16 MiB steps: 1 + ceil(log2(13))
    assert state["tries"][0]["bytes"] == 256 * M and state["tries"][0]["args"] == PLAIN["args"]  # no reboot
    assert all(item["bytes"] % (16 * M) == 0 and item["bytes"] >= 64 * M for item in state["tries"])


def test_a_failing_first_try_ends_the_search_at_once():
    state = run(PLAIN, 300 * M)
    assert state["outcome"] == "first-try-failed" and len(state["tries"]) == 1 and state["good"] is None
    assert state["message"].startswith("The first try, crashkernel=2G-64G:256M,64G-:512M, gave no validated dump "
                                       "(no_new_dump)")
    result = report(state, "vm1", ["x86_64"])
    assert result["passed"] is False and result["kdump_crashkernel"] is None and result["minimum_bytes"] is None


def test_calibrate_start_replaces_the_plan_as_the_first_try():
    state = run(PLAIN, 112 * M, {"start": "96M"})
    assert state["outcome"] == "first-try-failed" and state["tries"][0]["args"] == ["crashkernel=96M"]
    assert state["planned_bytes"] == 256 * M  # what the playbook restores


def test_max_tries_bounds_the_search():
    state = run(PLAIN, 100 * M, {"max_tries": 2})
    assert state["outcome"] == "max-tries" and len(state["tries"]) == 2 and state["good"] == 144 * M
    assert "the next try would have been" in state["message"]


def test_the_time_budget_bounds_the_search():
    state = run(PLAIN, 100 * M, {"time_budget": 1000}, seconds=400)
    assert state["outcome"] == "time-budget" and len(state["tries"]) == 2
    assert "800 s used" in state["message"]


def test_an_unreachable_host_ends_the_search_with_the_last_good_size():
    state = run(PLAIN, 130 * M, unreachable_at=144 * M)
    assert state["outcome"] == "unreachable" and state["good"] == 256 * M
    assert "last good size, 256 MiB" in state["message"]


def test_altra_tries_keep_the_low_region_and_grow_the_high_one():
    state = run(ALTRA, 100 * M)
    assert state["tries"][0]["args"] == ["crashkernel=128M,high", "crashkernel=16M,low"]
    assert state["good"] == 112 * M
    assert all(item["args"][1] == "crashkernel=16M,low" for item in state["tries"])
    result = report(state, "altra1", ["kdump_calibrate", "altra"], None)
    assert result["group"] == "altra" and result["kdump_crashkernel"] == "128M,high"  # 112 x 1.25 = 140 -> 144
    assert result["kdump_crashkernel_low"] == "16M"


def test_the_report_adds_the_margin_and_rounds_up_to_the_step():
    result = report(run(PLAIN, 150 * M), "vm1", ["kdump_calibrate", "ungrouped"])
    assert result["minimum_bytes"] == 160 * M and result["recommended_bytes"] == 208 * M  # 200 -> 208
    assert result["kdump_crashkernel"] == "208M" and result["group"] == "vm1"
    assert result["planned_over_minimum"] == 1.6
    assert report(run(PLAIN, 150 * M, {"margin_percent": 0}), "vm1", group="g")["kdump_crashkernel"] == "160M"


@pytest.mark.parametrize("conf, variable", [
    ({"step": 16}, "calibrate_step"), ({"step": "1500K"}, "calibrate_step"), ({"floor": "32M"}, "calibrate_floor"),
    ({"max_tries": 0}, "calibrate_max_tries"), ({"max_tries": True}, "calibrate_max_tries"),
    ({"time_budget": 5}, "calibrate_time_budget"), ({"margin_percent": 500}, "calibrate_margin_percent"),
    ({"start": "lots"}, "calibrate_start"), ({"stpe": "16M"}, "stpe")])
def test_bad_settings_name_the_variable(conf, variable):
    with pytest.raises(CalibrationError, match=variable):
        settings(conf)


def test_a_host_without_a_plan_or_a_first_try_at_the_floor_is_refused():
    with pytest.raises(CalibrationError, match="no plan to calibrate"):
        start({"args": [], "expected": {"size": 0}}, None)
    with pytest.raises(CalibrationError, match="not above calibrate_floor"):
        start(PLAIN, {"start": "64M"})
    with pytest.raises(CalibrationError, match="above the plan's low region"):
        start({"args": ["crashkernel=256M,high", "crashkernel=128M,low"],
               "expected": {"size": 256 * M, "low_size": 128 * M}}, {"floor": "64M"})


def test_recording_after_the_end_is_an_error():
    with pytest.raises(CalibrationError, match="has ended"):
        record(run(PLAIN, 100 * M), True, 10)
