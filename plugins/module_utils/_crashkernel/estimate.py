# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The size estimate of one host's capture kernel, from its `capture` facts, after kdumpctl's `estimate`
(kdump-utils): kernel image memory + loaded modules + 3 x kdump initrd + 16 MiB runtime + LUKS2 Argon2 memory,
rounded up to a MiB; and the distribution tool's own suggestion where it prints one (kdump-tools 1.10's
`kdump-config show`, sized from the memory its capture environment used when it last ran).

The `estimate` policy plans what the evidence says: with a tool suggestion, max(the estimate, the suggestion),
which replaces the table (both measure this host's own capture kernel and initrd; the table guesses from RAM
alone); without one, max(the table auto uses, the estimate), as kdumpctl recommends."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from typing import Any, Dict, List, Optional

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import GIB, MIB, format_size, human_size
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import CRASHKERNEL, _finding, _get

RUNTIME_BYTES = 16 * MIB         # kdumpctl's allowance for the capture kernel's own allocations
INITRD_COPIES = 3                # the initrd image, its unpacked rootfs, and the page cache on top
LUKS_DEFAULT_ARGON = 1 * GIB     # cryptsetup's largest default Argon2 memory, used when luksDump was not read
TERM_LIMIT = 64 * GIB            # a fact above this is not a capture kernel's input but garbage
FORMULA = "kernel image + loaded modules + 3 x kdump initrd + 16 MiB runtime + LUKS2 Argon2 memory"


def _size_fact(capture: Dict[str, Any], name: str) -> Optional[int]:
    value = capture.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= TERM_LIMIT:
        return None
    return value


def estimate(facts: Dict[str, Any]) -> Dict[str, Any]:
    """{bytes (None when a required fact is missing), terms [{name, bytes}], missing [fact names], notes}."""
    capture = _get(facts, "capture")
    capture = capture if isinstance(capture, dict) else {}
    kernel = _size_fact(capture, "kernel_image_bytes")
    initrd = _size_fact(capture, "kdump_initrd_bytes")
    missing = [name for name, value in (("capture.kernel_image_bytes", kernel),
                                        ("capture.kdump_initrd_bytes", initrd)) if value is None]
    notes: List[str] = []
    modules = _size_fact(capture, "loaded_modules_bytes")
    if modules is None:
        modules = 0
        notes.append("the loaded modules are unknown and count as 0")
    luks = capture.get("luks2_devices")
    argon = _size_fact(capture, "luks2_argon_bytes")
    if isinstance(luks, list) and luks and argon is None:
        argon = LUKS_DEFAULT_ARGON
        notes.append("%d LUKS2 device(s) whose Argon2 memory was not read count as cryptsetup's default "
                     "maximum, 1 GiB" % len(luks))
    copies = None if initrd is None else INITRD_COPIES * initrd
    terms: List[Dict[str, Any]] = [
        {"name": "kernel image", "bytes": kernel}, {"name": "loaded modules", "bytes": modules},
        {"name": "%d x kdump initrd" % INITRD_COPIES, "bytes": copies}, {"name": "runtime", "bytes": RUNTIME_BYTES}]
    if argon:
        terms.append({"name": "LUKS2 Argon2", "bytes": argon})
    total: Optional[int] = None
    if not missing:
        total = -(-sum(int(term["bytes"]) for term in terms) // MIB) * MIB
    suggested = _size_fact(capture, "tool_suggested_bytes")
    known = [value for value in (total, suggested) if value is not None]
    return {"bytes": total, "terms": terms, "missing": missing, "notes": notes, "tool_suggested_bytes": suggested,
            "needed_bytes": max(known) if known else None}


def describe(result: Dict[str, Any]) -> str:
    """'212 MiB = kernel image 55.9 MiB + ...' for messages."""
    parts = " + ".join("%s %s" % (term["name"], human_size(term["bytes"]))
                       for term in result["terms"] if term["bytes"] is not None)
    text = "%s = %s" % (human_size(result["bytes"]), parts) if result["bytes"] is not None else parts
    if result.get("tool_suggested_bytes") is not None:
        text += "; kdump-config show suggests %s" % human_size(result["tool_suggested_bytes"])
    return text + ("; " + "; ".join(result["notes"]) if result["notes"] else "")


def total_bytes(expected: Dict[str, Any]) -> Optional[int]:
    """What a reservation prediction reserves in all (high + low), None when it reserves nothing."""
    size = expected.get("size")
    return size + (expected.get("low_size") or 0) if isinstance(size, int) and size > 0 else None


def estimate_args(args: List[str], table_expected: Dict[str, Any], result: Dict[str, Any],
                  findings: List[Dict[str, str]]) -> List[str]:
    """The `estimate` policy: with a tool suggestion, max(estimate, suggestion) as a fixed size; else the table's
    args when they reserve at least the estimate, else the estimate as a fixed size (in a high+low plan the high
    part takes the difference, the low region stays)."""
    table = total_bytes(table_expected)
    need, suggested = result["needed_bytes"], result["tool_suggested_bytes"]
    if need is None:
        findings.append(_finding(
            "crashkernel-estimate-unavailable", "warning",
            "kdump_crashkernel is estimate, but %s %s unknown and no tool suggests a size, so the table's %s is "
            "planned." % (" and ".join(result["missing"]), "is" if len(result["missing"]) == 1 else "are",
                          human_size(table)),
            "The kdump initrd exists once the kdump service has loaded the capture kernel: run the rollout again "
            "after the first one, which replans from the estimate."))
        return args
    if table is None or need == table or suggested is None and need < table:
        findings.append(_finding("crashkernel-estimate", "info", "The estimate is %s, within the table's %s, so "
                                 "the table is planned." % (describe(result), human_size(table))))
        return args
    high = [arg for arg in args if arg.endswith(",high")]
    low = table_expected.get("low_size") or 0
    if high and need > low:
        planned = [CRASHKERNEL + format_size(need - low) + ",high"] + [arg for arg in args if arg not in high]
    else:
        planned = [CRASHKERNEL + format_size(need)]
    why = ("the distribution tool measured this host's capture environment, so %s replaces the table's %s"
           % (human_size(need), human_size(table)) if suggested is not None else "above the table's %s"
           % human_size(table))
    findings.append(_finding("crashkernel-estimate", "info", "The estimate is %s: %s, and %s is planned."
                             % (describe(result), why, " ".join(planned))))
    return planned


def below_estimate(result: Dict[str, Any], expected: Dict[str, Any], reserved: Any) -> List[Dict[str, str]]:
    """A warning when the planned or the running reservation is below the estimate (kdumpctl warns the same)."""
    need = result["needed_bytes"]
    if need is None:
        return []
    planned = total_bytes(expected)
    short = []
    if planned is not None and planned < need:
        short.append("the plan reserves %s" % human_size(planned))
    if isinstance(reserved, int) and not isinstance(reserved, bool) and 0 < reserved < need and reserved != planned:
        short.append("the running kernel reserved %s" % human_size(reserved))
    if not short:
        return []
    text = " and ".join(short)
    return [_finding("crashkernel-below-estimate", "warning",
                     "%s, below %s (the estimate: %s): the capture kernel may run out of memory before it writes "
                     "a dump." % (text[0].upper() + text[1:], human_size(need), describe(result)),
                     "Use kdump_crashkernel: estimate, or measure the smallest working size with "
                     "playbooks/calibrate.yml.")]
