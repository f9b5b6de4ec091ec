# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The crash test's verdict: from what the crash_test role read on the host before and after sysrq-c, the
first broken link of the chain (or none), its message, and the timings (crash_test_result, docs/interfaces.md)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
from typing import Any, Dict, List, Optional

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import MIB

# Links the role finds broken while it waits for the host; the dump links are judged here, in this order.
WAIT_LINKS = ("host_did_not_return", "boot_id_unchanged", "reached_capture_kernel")
DUMP_LINKS = ("no_new_dump", "wrong_format", "incomplete_dump", "no_dmesg", "dmesg_without_crash")
LINKS = WAIT_LINKS + DUMP_LINKS

EVIDENCE_DEFAULTS: Dict[str, Any] = {
    "host": "",
    "link": None,  # one of WAIT_LINKS when the role stopped before the dump could be looked for
    "boot_id_before": "",
    "boot_id_after": "",
    "marker_time": None,
    "stamp": "",
    "clock": [],  # `date +%s.%N` and the first field of /proc/uptime, as the host printed them
    "dumps_before": [],
    "new_dumps": [],
    "latest": None,
    "all_dumps": [],
    "wait_seconds": None,
    "capture_loaded": None,  # kexec_crash_loaded before the crash
    "reserved_bytes": None,  # the crash kernel reservation before the crash
    "estimate_bytes": None,  # what the auto policy plans for this host
}
SETTINGS_DEFAULTS: Dict[str, Any] = {
    "path": "",
    "formats": ["kdump_compressed", "flattened", "elf"],
    "require_dmesg": True,
    "timeout": 0,
    "reconnect_delay": 0,
    "trigger_delay": 0,
    "dump_host": None,  # inventory name of the ssh target's server the dumps were looked for on; None: the host
}
_EPOCH_RE = re.compile(r"^[0-9]+$")


class VerdictError(ValueError):
    """The arguments are not what the crash_test role passes."""


def _merged(given: Any, defaults: Dict[str, Any], what: str) -> Dict[str, Any]:
    if not isinstance(given, dict):
        raise VerdictError("crash_test_verdict expects a dict of %s, got %r" % (what, type(given).__name__))
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise VerdictError("crash_test_verdict: unknown %s key(s) %s; known: %s"
                           % (what, ", ".join(unknown), ", ".join(sorted(defaults))))
    return dict(defaults, **given)


def _floats(lines: Any) -> List[float]:
    out = []
    for line in lines if isinstance(lines, list) else []:
        try:
            out.append(float(str(line).strip()))
        except ValueError:
            return []
    return out


def broken_link(dump: Optional[Dict[str, Any]], settings: Dict[str, Any]) -> Optional[str]:
    """The first dump link that is broken, or None when the new dump proves kdump works."""
    if not dump:
        return "no_new_dump"
    if dump.get("format") not in settings["formats"]:
        return "wrong_format"
    if not dump.get("complete"):
        return "incomplete_dump"
    if settings["require_dmesg"] and not dump.get("dmesg_source"):
        return "no_dmesg"
    if settings["require_dmesg"] and not dump.get("dmesg_has_sysrq"):
        return "dmesg_without_crash"
    return None


def _mib(value: Any) -> str:
    return "%.0f MiB" % (value / float(MIB)) if isinstance(value, int) and not isinstance(value, bool) else "unknown"


def _no_new_dump_message(ev: Dict[str, Any], settings: Dict[str, Any]) -> str:
    host = ev["host"]
    before = set(entry.get("path") for entry in ev["dumps_before"] if isinstance(entry, dict))
    unseen = [entry.get("path") for entry in ev["all_dumps"] if isinstance(entry, dict)
              and entry.get("path") not in before]
    hint = (" %d dump(s) did appear (%s) dated before the crash: the clock of the capture kernel (RTC) is wrong."
            % (len(unseen), ", ".join(str(item) for item in unseen))) if unseen else ""
    where = "%s on %s" % (settings["path"], settings["dump_host"]) if settings["dump_host"] else settings["path"]
    loaded = {True: "was loaded", False: "was not loaded"}.get(ev["capture_loaded"], "may not have been loaded")
    back = "after %s s" % ev["wait_seconds"] if ev["wait_seconds"] is not None else "again"
    reserved, estimate = ev["reserved_bytes"], ev["estimate_bytes"]
    small = isinstance(reserved, int) and isinstance(estimate, int) and reserved < estimate
    return ("no_new_dump: the capture kernel %s, %s came back %s, but %s has no dump newer than the crash marker. "
            "Reserved %s for the capture kernel, against %s that the auto policy plans for this host%s. %s"
            "(a crash_test_path set by hand must name the directory of kdump.conf path / KDUMP_COREDIR / "
            "KDUMP_SAVEDIR).%s"
            % (loaded, host, back, where, _mib(reserved), _mib(estimate),
               ": too little for the capture kernel to boot and save a dump is the likely cause" if small else "",
               "Raise kdump_crashkernel, then look at the kdump log of the capture boot on the console " if small else
               "The capture kernel did not save one (see the kdump log of that boot on the console), or saved it "
               "elsewhere ", hint))


def _message(link: Optional[str], ev: Dict[str, Any], settings: Dict[str, Any], dump: Dict[str, Any]) -> str:
    host, path = ev["host"], dump.get("path") or ""
    problems = "; ".join(dump.get("problems") or [])
    if link is None:
        return ("kdump works on %s: the crash left %s (%s, %.1f MiB, kernel %s) and a %s showing the sysrq crash."
                % (host, path, dump.get("format"), (dump.get("size") or 0) / float(MIB),
                   dump.get("release") or "unknown",
                   "kernel log inside the dump" if dump.get("dmesg_source") == "dump" else "dmesg"))
    if link == "host_did_not_return":
        return ("host_did_not_return: %s did not answer within %s s of the crash. Watch its console - the capture "
                "kernel may hang or run out of memory (crashkernel reservation too small), makedumpfile may still be "
                "writing (raise crash_test_timeout), or kdump does not reboot when done (kdump.conf "
                "final_action/failure_action)." % (host, settings["timeout"]))
    if link == "boot_id_unchanged":
        return ("boot_id_unchanged: %s answered with its old boot id %s, so it never crashed (was sysrq-c written? see "
                "its dmesg) or it was reached before it went down (raise crash_test_reconnect_delay, now %s s)."
                % (host, ev["boot_id_before"], settings["reconnect_delay"]))
    if link == "reached_capture_kernel":
        return ("reached_capture_kernel: %s answered while still running the capture kernel (/proc/vmcore exists), "
                "before the dump was finished. Raise crash_test_reconnect_delay (now %s s) or keep sshd out of the "
                "kdump environment." % (host, settings["reconnect_delay"]))
    if link == "no_new_dump":
        return _no_new_dump_message(ev, settings)
    if link == "wrong_format":
        return "wrong_format: %s is %s, not one of %s. %s" % (
            path, dump.get("format"), ", ".join(settings["formats"]), problems)
    if link == "incomplete_dump":
        return ("incomplete_dump: %s is not a complete dump - %s. The disk may be too small for it, or makedumpfile "
                "was interrupted." % (path, problems))
    if link == "no_dmesg":
        log = ((dump.get("header") or {}).get("kernel_log") or {}).get("problem") or "not an ELF dump"
        return ("no_dmesg: no dmesg was saved next to %s (Debian dmesg.<stamp>, RHEL vmcore-dmesg.txt) and none could "
                "be read from the dump itself (%s); the dmesg step of kdump failed or is off (kdump-tools "
                "KDUMP_DUMP_DMESG=1)." % (path, log))
    return ('dmesg_without_crash: %s has no "sysrq: Trigger a crash" line, so %s is not from this crash test.'
            % (dump.get("dmesg_path") or "the kernel log inside the dump", path))


def verdict(evidence: Any, settings: Any) -> Dict[str, Any]:
    """crash_test_result for one host."""
    ev = _merged(evidence, EVIDENCE_DEFAULTS, "evidence")
    settings = _merged(settings, SETTINGS_DEFAULTS, "settings")
    if ev["link"] not in (None, "") + WAIT_LINKS:
        raise VerdictError("crash_test_verdict: link must be one of %s or null, got %r"
                           % (", ".join(WAIT_LINKS), ev["link"]))
    latest = ev["latest"] if isinstance(ev["latest"], dict) and ev["latest"] else None
    dump = latest or {}
    link = ev["link"] or broken_link(latest, settings)
    stamp = str(ev["stamp"] or "").strip()
    marker = ev["marker_time"]
    trigger: Optional[float] = None
    if _EPOCH_RE.match(stamp):
        trigger, source = float(stamp), "stamp"
    else:
        trigger = float(marker) + float(settings["trigger_delay"]) if marker is not None else None
        source = "marker"
    clock = _floats(ev["clock"])

    def since_trigger(value: Optional[float]) -> Optional[float]:
        return round(value - trigger, 1) if value is not None and trigger is not None else None

    return {
        "host": ev["host"],
        "passed": link is None,
        "failed_link": link,
        "message": _message(link, ev, settings, dump),
        "crash_path": settings["path"],
        "boot_id_before": str(ev["boot_id_before"] or "").strip() or None,
        "boot_id_after": str(ev["boot_id_after"] or "").strip() or None,
        "marker_time": marker,
        "trigger_time": trigger,
        "trigger_time_source": source,
        "dumps_before": len(ev["dumps_before"]),
        "new_dumps": len(ev["new_dumps"]),
        "dump": latest,
        "dump_path": dump.get("path"),
        "dump_format": dump.get("format"),
        "dump_size": dump.get("size"),
        "dump_complete": dump.get("complete"),
        "dump_problems": dump.get("problems") or [],
        "dump_release": dump.get("release"),
        "dump_machine": dump.get("machine"),
        "dmesg_path": dump.get("dmesg_path"),
        "dmesg_source": dump.get("dmesg_source"),
        "dmesg_has_sysrq": dump.get("dmesg_has_sysrq"),
        "dmesg_crash_line": dump.get("dmesg_crash_line"),
        "seconds_to_dump": since_trigger(dump.get("mtime")) if latest else None,
        "seconds_to_boot": since_trigger(clock[0] - clock[1]) if len(clock) == 2 else None,
        "seconds_to_return": since_trigger(clock[0]) if len(clock) == 2 else None,
        "wait_seconds": ev["wait_seconds"],
    }
