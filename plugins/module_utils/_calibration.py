# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The search of playbooks/calibrate.yml: the smallest crashkernel reservation that still gives a validated dump.

The first try is the host's plan as written (or calibrate_start). If it passes, the search bisects down between it and the
floor in whole steps; every try is reboot + crash + validation, reported back with record(). It ends when the
interval is one step wide, at the floor, after max_tries tries, when one more try would exceed the time budget,
or when a try leaves the host unreachable (the last good size stands). A failing first try ends it at once.
The state is a plain dict, so the playbook can keep it in a fact between tries."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from typing import Any, Dict, List, Optional

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import MIB, format_size, human_size
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.sizes import operator_size

DEFAULTS = {"step": "16M", "floor": "64M", "max_tries": 8, "time_budget": 7200, "margin_percent": 25,
            "start": None}
MIN_FLOOR = 64 * MIB  # below this the plan refuses (crashkernel-too-small); no capture kernel boots in it
SKIPPED_GROUPS = ("kdump_calibrate", "kdump_canary", "ungrouped", "all")


class CalibrationError(ValueError):
    """Bad calibrate_* input; the message names the variable and the fix."""


def _size(value: Any, name: str) -> int:
    try:
        size = operator_size(value, name)
    except ValueError as exc:
        raise CalibrationError(str(exc))
    if size <= 0 or size % MIB:
        raise CalibrationError("%s is %s; give a whole number of MiB such as '16M'." % (name, human_size(size)))
    return size


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) and not (isinstance(value, str) and value.isdigit()):
        raise CalibrationError("%s is %r; give a whole number from %d to %d." % (name, value, low, high))
    number = int(value)
    if not low <= number <= high:
        raise CalibrationError("%s is %d; give a whole number from %d to %d." % (name, number, low, high))
    return number


def settings(raw: Any) -> Dict[str, Any]:
    """calibrate_* variables checked: {step, floor, max_tries, time_budget, margin_percent, start}."""
    given = dict(DEFAULTS)
    given.update({key: value for key, value in (raw or {}).items() if value is not None})
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise CalibrationError("unknown calibration setting(s): %s; known: %s" % (", ".join(unknown),
                                                                                  ", ".join(sorted(DEFAULTS))))
    out: Dict[str, Any] = {
        "step": _size(given["step"], "calibrate_step"),
        "floor": _size(given["floor"], "calibrate_floor"),
        "max_tries": _int(given["max_tries"], "calibrate_max_tries", 1, 50),
        "time_budget": _int(given["time_budget"], "calibrate_time_budget", 60, 7 * 86400),
        "margin_percent": _int(given["margin_percent"], "calibrate_margin_percent", 0, 200),
        "start": None if given["start"] is None else _size(given["start"], "calibrate_start"),
    }
    if out["floor"] < MIN_FLOOR:
        raise CalibrationError("calibrate_floor is %s; no capture kernel boots below 64 MiB, so give at least "
                               "'64M'." % human_size(out["floor"]))
    return out


def start(plan: Dict[str, Any], raw_settings: Any) -> Dict[str, Any]:
    """The search state for a host whose plan is `plan` (kdump_assessment.plan)."""
    conf = settings(raw_settings)
    expected = plan.get("expected") if isinstance(plan, dict) else None
    args = plan.get("args") if isinstance(plan, dict) else None
    if not isinstance(expected, dict) or not isinstance(expected.get("size"), int) or not expected["size"] or not args:
        raise CalibrationError("the host has no plan to calibrate from (kdump_assessment.plan is empty); fix the "
                               "findings that block its rollout first.")
    high_low = any(str(arg).endswith(",high") for arg in args)
    low = (expected.get("low_size") or 0) if high_low else 0
    planned = expected["size"] + (expected.get("low_size") or 0)
    first = conf["start"] or planned
    if first <= conf["floor"]:
        raise CalibrationError("the first try, %s, is not above calibrate_floor (%s); lower calibrate_floor or "
                               "raise calibrate_start." % (human_size(first), human_size(conf["floor"])))
    if high_low and conf["floor"] <= low:
        raise CalibrationError("calibrate_floor (%s) must be above the plan's low region (%s)."
                               % (human_size(conf["floor"]), human_size(low)))
    return {"settings": conf, "planned_bytes": planned, "planned_args": list(args), "high_low": high_low,
            "low_bytes": low, "good": None, "bad": None, "tries": [], "next_bytes": first,
            "next_args": list(args) if first == planned else args_for(high_low, low, first),  # the plan as written
            "done": False, "outcome": None, "message": ""}


def args_for(high_low: bool, low: int, size: int) -> List[str]:
    """The crashkernel= args of a try of `size` bytes in all, in the plan's form."""
    if high_low:
        return ["crashkernel=%s,high" % format_size(size - low), "crashkernel=%s,low" % format_size(low)]
    return ["crashkernel=%s" % format_size(size)]


def _next(state: Dict[str, Any]) -> Optional[int]:
    conf = state["settings"]
    step, good = conf["step"], state["good"]
    bad = state["bad"] if state["bad"] is not None else conf["floor"] - step  # below the floor counts as failing
    if good - bad <= step:
        return None
    return bad + max(1, (good - bad) // step // 2) * step


def record(state: Dict[str, Any], passed: Any, seconds: Any, reachable: Any = True, link: Any = None,
           message: Any = "") -> Dict[str, Any]:
    """The state after the try of state['next_bytes']: passed (a validated dump), its wall seconds, whether the
    host answered afterwards, and the failed link and message of a failed try."""
    if state.get("done"):
        raise CalibrationError("the calibration of this host has ended; record() was called again.")
    state = dict(state, tries=list(state["tries"]))
    size = state["next_bytes"]
    passed = bool(passed) and bool(reachable)  # a dump is validated on a host that answers
    state["tries"].append({"bytes": size, "args": state["next_args"], "passed": bool(passed),
                           "seconds": int(seconds or 0), "link": None if passed else (link or "unknown"),
                           "message": "" if passed else str(message or "")})
    conf = state["settings"]
    if passed:
        state["good"] = size
    elif state["good"] is None:
        return _end(state, "first-try-failed", "The first try, %s, gave no validated dump (%s): the search cannot "
                    "go below a size that fails. Raise kdump_crashkernel (or calibrate_start) and calibrate again."
                    % (" ".join(state["next_args"]), link or "unknown"))
    else:
        state["bad"] = size
    if not reachable:
        return _end(state, "unreachable", "The host did not answer after the try of %s; the search ends with the "
                    "last good size, %s. Bring the host back (its boot loader holds the try's size) and run "
                    "playbooks/rollout.yml." % (human_size(size), human_size(state["good"])))
    following = _next(state)
    used = sum(item["seconds"] for item in state["tries"])
    longest = max(item["seconds"] for item in state["tries"])
    if following is None:
        return _end(state, "converged", "Bisected to one step (%s): %s works%s." % (
            human_size(conf["step"]), human_size(state["good"]),
            ", the floor" if state["good"] == conf["floor"] else
            ", %s does not" % human_size(state["bad"]) if state["bad"] is not None else ""))
    if len(state["tries"]) >= conf["max_tries"]:
        return _end(state, "max-tries", "calibrate_max_tries (%d) reached; %s is the smallest size that worked, "
                    "the next try would have been %s."
                    % (conf["max_tries"], human_size(state["good"]), human_size(following)))
    if used + longest > conf["time_budget"]:
        return _end(state, "time-budget", "calibrate_time_budget (%d s) would be exceeded by one more try (%d s "
                    "used, the longest took %d s); %s is the smallest size that worked."
                    % (conf["time_budget"], used, longest, human_size(state["good"])))
    state["next_bytes"] = following
    state["next_args"] = args_for(state["high_low"], state["low_bytes"], following)
    return state


def _end(state: Dict[str, Any], outcome: str, message: str) -> Dict[str, Any]:
    state.update(done=True, outcome=outcome, message=message, next_bytes=None, next_args=[])
    return state


def report(state: Dict[str, Any], host: str, group_names: Any = None, group: Any = None) -> Dict[str, Any]:
    """What calibrate writes: the measured minimum, the margin, the resulting kdump_crashkernel and its group."""
    conf = state["settings"]
    minimum = state["good"]
    names = [name for name in (group_names or []) if name not in SKIPPED_GROUPS]
    target = group or (names[0] if names else host)
    result: Dict[str, Any] = {"host": host, "group": target, "outcome": state["outcome"],
                              "message": state["message"], "passed": minimum is not None,
                              "minimum_bytes": minimum, "planned_bytes": state["planned_bytes"],
                              "planned_args": state["planned_args"], "margin_percent": conf["margin_percent"],
                              "step_bytes": conf["step"], "floor_bytes": conf["floor"], "tries": state["tries"],
                              "recommended_bytes": None, "kdump_crashkernel": None, "kdump_crashkernel_low": None,
                              "planned_over_minimum": None}
    if minimum is None:
        return result
    step = conf["step"]
    recommended = -(-(minimum * (100 + conf["margin_percent"])) // (100 * step)) * step
    result["recommended_bytes"] = recommended
    result["planned_over_minimum"] = round(float(state["planned_bytes"]) / minimum, 2)
    if state["high_low"]:
        result["kdump_crashkernel"] = "%s,high" % format_size(recommended - state["low_bytes"])
        result["kdump_crashkernel_low"] = format_size(state["low_bytes"])
    else:
        result["kdump_crashkernel"] = format_size(recommended)
    return result
