# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""/proc/iomem: System RAM, RAM below the crashkernel low limit, and the "Crash kernel" regions.

/proc/iomem prints one resource per line, `start-end : name`, ends inclusive, nested resources
indented by two spaces per level. Read by a non-root user every address is zero.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict, List, Optional, Tuple

GIB = 1 << 30
MIB = 1 << 20
DEFAULT_LOW_LIMIT = 4 * GIB
SYSTEM_RAM = "System RAM"
CRASH_KERNEL = "Crash kernel"

_LINE = re.compile(r"^( *)([0-9a-fA-F]+)-([0-9a-fA-F]+) : (.*)$")
_DMESG_LOW_LIMIT = re.compile(r"low RAM limit:\s*(\d+)\s*MB")

# (depth, start, end exclusive, name)
IomemEntry = Tuple[int, int, int, str]


def parse_iomem(text):
    # type: (Optional[str]) -> Optional[List[IomemEntry]]
    """Entries of /proc/iomem; None when the text holds no entry at all (empty or garbage)."""
    if not text:
        return None
    entries = []  # type: List[IomemEntry]
    for line in text.splitlines():
        match = _LINE.match(line.rstrip())
        if not match:
            continue
        start, end = int(match.group(2), 16), int(match.group(3), 16)
        if end < start:
            continue
        entries.append((len(match.group(1)) // 2, start, end + 1, match.group(4).strip()))
    return entries or None


def is_zeroed(entries):
    # type: (List[IomemEntry]) -> bool
    """True when every address reads 0 (the kernel hides addresses from non-root readers)."""
    return all(start == 0 and end == 1 for _depth, start, end, _name in entries)


def system_ram(entries):
    # type: (List[IomemEntry]) -> List[Tuple[int, int]]
    """System RAM ranges, each counted once: one nested inside another System RAM is skipped."""
    ranges = []  # type: List[Tuple[int, int]]
    ancestors = []  # type: List[str]
    for depth, start, end, name in entries:
        del ancestors[depth:]
        if name == SYSTEM_RAM and SYSTEM_RAM not in ancestors:
            ranges.append((start, end))
        ancestors.extend([""] * (depth - len(ancestors)))
        ancestors.append(name)
    return ranges


def crash_regions(entries):
    # type: (List[IomemEntry]) -> List[Dict[str, int]]
    """Every "Crash kernel" range at any depth (x86 nests it in System RAM, arm64 too), sorted."""
    found = sorted((start, end) for _depth, start, end, name in entries if name == CRASH_KERNEL)
    return [{"start": start, "end": end, "size": end - start} for start, end in found]


def bytes_below(ranges, limit):
    # type: (List[Tuple[int, int]], int) -> int
    return sum(max(0, min(end, limit) - start) for start, end in ranges if start < limit)


def low_limit(arch, config, dmesg_text, ram):
    # type: (Optional[str], Optional[Dict[str, Optional[str]]], Optional[str], List[Tuple[int, int]]) -> Tuple[Optional[int], str]
    """(limit, source): where "low" memory ends for crashkernel on this host.

    The kernel's own word wins (arm64 logs "low RAM limit: NMB" when it reserves low memory); an arm64
    kernel without ZONE_DMA and ZONE_DMA32 treats all RAM as low; else 4 GiB (x86_64 and most arm64).
    """
    if dmesg_text:
        found = _DMESG_LOW_LIMIT.findall(dmesg_text)
        if found:
            return int(found[-1]) * MIB, "dmesg"
    if arch in ("aarch64", "arm64") and config:
        if config.get("CONFIG_ZONE_DMA") != "y" and config.get("CONFIG_ZONE_DMA32") != "y":
            top = max((end for _start, end in ram), default=None)
            return top, "config"
    return DEFAULT_LOW_LIMIT, "default"


def memory_facts(entries, arch, config, dmesg_text):
    # type: (Optional[List[IomemEntry]], Optional[str], Optional[Dict[str, Optional[str]]], Optional[str]) -> Dict[str, Any]
    """The `memory` facts; sizes None when /proc/iomem is missing, garbage or zeroed."""
    usable = entries is not None and not is_zeroed(entries)
    ram = system_ram(entries) if usable and entries is not None else []
    limit, source = low_limit(arch, config, dmesg_text, ram)
    if usable and not ram:
        usable = False
    return {
        "total_bytes": sum(end - start for start, end in ram) if usable else None,
        "low_limit_bytes": limit,
        "low_limit_source": source,
        "low_bytes": bytes_below(ram, limit) if usable and limit is not None else None,
        "iomem_zeroed": entries is not None and is_zeroed(entries),
    }


def _parse_int(text):
    # type: (Optional[str]) -> Optional[int]
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def reservation_facts(entries, limit, crash_size_text, crash_loaded_text):
    # type: (Optional[List[IomemEntry]], Optional[int], Optional[str], Optional[str]) -> Dict[str, Any]
    """The `reservation` facts: "Crash kernel" regions split at the low limit, plus the sysfs view."""
    usable = entries is not None and not is_zeroed(entries)
    regions = crash_regions(entries) if usable and entries is not None else None
    low = high = None  # type: Optional[int]
    if regions is not None and limit is not None:
        spans = [(region["start"], region["end"]) for region in regions]
        low = bytes_below(spans, limit)
        high = sum(region["size"] for region in regions) - low
    loaded = None  # type: Optional[bool]
    if crash_loaded_text is not None and crash_loaded_text.strip() in ("0", "1"):
        loaded = crash_loaded_text.strip() == "1"
    return {
        "regions": regions,
        "total_bytes": sum(region["size"] for region in regions) if regions is not None else None,
        "low_bytes": low,
        "high_bytes": high,
        "kexec_crash_size": _parse_int(crash_size_text),
        "kexec_crash_loaded": loaded,
    }
