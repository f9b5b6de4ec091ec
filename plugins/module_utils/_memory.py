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

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import GIB, MAX_RAM, MIB, decimal, human_size, is_arm64

KIB = 1 << 10
U64_MAX = (1 << 64) - 1
MIN_MEMTOTAL = 32 * MIB
DEFAULT_LOW_LIMIT = 4 * GIB
SYSTEM_RAM = "System RAM"
CRASH_KERNEL = "Crash kernel"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # CR is allowed: a CRLF copy keeps its values
_LINE = re.compile(r"^( *)([0-9a-fA-F]+)-([0-9a-fA-F]+) : (.*)$")
_MEMTOTAL = re.compile(r"^MemTotal:[ \t]+([0-9]{1,20})[ \t]*kB[ \t]*\r?$", re.M)  # a CRLF copy is read too
_DMESG_LOW_LIMIT = re.compile(r"low RAM limit:\s*(-?[0-9]+)\s*MB")
MIN_LOW_LIMIT = 256 * MIB  # the smallest DMA zone an arm64 kernel sets up (30-bit SoCs) is 1 GiB

# (depth, start, end exclusive, name)
IomemEntry = Tuple[int, int, int, str]
# (file relative to the tree's root, why it is not believed)
Problems = List[Tuple[str, str]]
Config = Optional[Dict[str, Optional[str]]]
Version = Optional[List[int]]  # [major, minor, patch] of the kernel release


def parse_iomem(text: Optional[str]) -> Optional[List[IomemEntry]]:
    """Entries of /proc/iomem; None when the text holds no entry at all (empty or garbage)."""
    if not text:
        return None
    entries: List[IomemEntry] = []
    for line in text.split("\n"):
        match = _LINE.match(line.rstrip())
        if not match:
            continue
        start, end = int(match.group(2), 16), int(match.group(3), 16)
        if end < start or end > U64_MAX:
            continue
        entries.append((len(match.group(1)) // 2, start, end + 1, match.group(4).strip()))
    return entries or None


def iomem_problems(text: Optional[str], entries: Optional[List[IomemEntry]]) -> List[str]:
    """Why a /proc/iomem text cannot be believed: malformed or cut-off lines, addresses past 64 bits,
    System RAM ranges that overlap or repeat. [] for a sound file (and for an absent or zeroed one)."""
    if text is None or entries is not None and is_zeroed(entries):
        return []
    if entries is None:
        what = "empty" if not text.strip() else "%d bytes of something else" % len(text)
        return ["it holds no 'start-end : name' line (%s)" % what]
    problems: List[str] = []
    for number, line in enumerate(text.split("\n"), 1):
        match = _LINE.match(line.rstrip())
        if not line.strip():
            continue
        if _CONTROL.search(line):
            problems.append("line %d holds a control character, which the kernel never writes (%r)"
                            % (number, line[:60]))
        elif not match:
            problems.append("line %d is not 'start-end : name' (%r)" % (number, line[:60]))
        elif int(match.group(3), 16) > U64_MAX or int(match.group(2), 16) > U64_MAX:
            problems.append("line %d has an address beyond 64 bits" % number)
        elif int(match.group(3), 16) < int(match.group(2), 16):
            problems.append("line %d ends before it starts" % number)
        if len(problems) >= 3:
            break
    if not text.endswith("\n"):
        problems.append("the last line is cut off (the file is truncated)")
    ram = sorted(system_ram(entries))
    for first, second in zip(ram, ram[1:]):
        if second[0] < first[1]:
            problems.append("System RAM %#x-%#x %s %#x-%#x" % (
                first[0], first[1] - 1, "repeats" if first == second else "overlaps", second[0], second[1] - 1))
            break
    total = sum(end - start for start, end in ram)
    if not ram:
        problems.append("it lists no System RAM")
    elif total > MAX_RAM:
        problems.append("System RAM adds up to %d TiB, more than any machine can address" % (total >> 40))
    problems.extend(_crash_region_problems(crash_regions(entries), ram))
    return problems


def _crash_region_problems(regions: List[Dict[str, int]], ram: List[Tuple[int, int]]) -> List[str]:
    """A Crash kernel region is carved out of System RAM, once: repeats, overlaps and regions outside
    System RAM are not what a kernel writes."""
    for first, second in zip(regions, regions[1:]):
        if second["start"] < first["end"]:
            return ["Crash kernel %#x-%#x %s %#x-%#x" % (
                first["start"], first["end"] - 1, "repeats" if first == second else "overlaps",
                second["start"], second["end"] - 1)]
    merged: List[List[int]] = []
    for start, end in sorted(ram):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for region in regions:
        if not any(start <= region["start"] and region["end"] <= end for start, end in merged):
            return ["Crash kernel %#x-%#x lies outside System RAM" % (region["start"], region["end"] - 1)]
    return []


def meminfo_total(text: Optional[str], problems: Optional[Problems] = None) -> Optional[int]:
    """MemTotal of /proc/meminfo in bytes; None when absent, malformed or implausible (why added to problems
    when the file is there)."""
    if text is None:
        return None
    found = _MEMTOTAL.findall(text)
    why = None
    if not found:
        why = "it has no line 'MemTotal: <n> kB'"
    elif len(set(found)) > 1:
        why = "it has %d different MemTotal lines" % len(set(found))
    elif not MIN_MEMTOTAL <= int(found[0]) * KIB <= MAX_RAM:
        why = "MemTotal of %s kB is not the memory of a machine that runs Linux" % found[0]
    if why is not None:
        if problems is not None:
            problems.append(("proc/meminfo", why + "; the iomem RAM size is not cross-checked"))
        return None
    return int(found[0]) * KIB


def ram_cross_check(total: int, mem_total: Optional[int], installed: Optional[int]) -> List[Tuple[str, str]]:
    """(file, why) for each independent source the iomem System RAM total contradicts. The kernel counts
    in MemTotal only what it manages, so MemTotal <= System RAM; RAM cannot exceed the installed DIMMs."""
    problems: List[Tuple[str, str]] = []
    if mem_total is not None:
        if total < mem_total:
            problems.append(("proc/meminfo", "MemTotal (%d MiB) is more than the System RAM of /proc/iomem "
                             "(%d MiB): one of the two is truncated or from another host; the RAM size is null"
                             % (mem_total >> 20, total >> 20)))
        elif total > 2 * mem_total:
            problems.append(("proc/meminfo", "the System RAM of /proc/iomem (%d MiB) is more than twice MemTotal "
                             "(%d MiB): entries are repeated or from another host; the RAM size is null"
                             % (total >> 20, mem_total >> 20)))
    if installed is not None and total > installed + installed // 64:
        problems.append(("sys/firmware/dmi/entries", "the System RAM of /proc/iomem (%d MiB) is more than the "
                         "installed memory devices SMBIOS lists (%d MiB); the RAM size is null" % (total >> 20, installed >> 20)))
    return problems


def is_zeroed(entries: List[IomemEntry]) -> bool:
    """True when every address reads 0 (the kernel hides addresses from non-root readers)."""
    return all(start == 0 and end == 1 for _depth, start, end, _name in entries)


def system_ram(entries: List[IomemEntry]) -> List[Tuple[int, int]]:
    """System RAM ranges, each counted once: one nested inside another System RAM is skipped."""
    ranges: List[Tuple[int, int]] = []
    ancestors: List[str] = []
    for depth, start, end, name in entries:
        del ancestors[depth:]
        if name == SYSTEM_RAM and SYSTEM_RAM not in ancestors:
            ranges.append((start, end))
        ancestors.extend([""] * (depth - len(ancestors)))
        ancestors.append(name)
    return ranges


def crash_regions(entries: List[IomemEntry]) -> List[Dict[str, int]]:
    """Every "Crash kernel" range at any depth (x86 nests it in System RAM, arm64 too), sorted."""
    found = sorted((start, end) for _depth, start, end, name in entries if name == CRASH_KERNEL)
    return [{"start": start, "end": end, "size": end - start} for start, end in found]


def bytes_below(ranges: List[Tuple[int, int]], limit: int) -> int:
    return sum(max(0, min(end, limit) - start) for start, end in ranges if start < limit)


def low_limit(arch: Optional[str],
              config: Config,
              dmesg_text: Optional[str],
              ram: List[Tuple[int, int]],
              problems: Optional[Problems] = None,
              dmesg_path: str = "var/log/dmesg",
              version: Version = None) -> Tuple[Optional[int], str]:
    """(limit, source): where "low" memory ends for crashkernel on this host.

    The kernel's own word wins (arm64 logs "low RAM limit: NMB" when it reserves low memory); an arm64
    kernel without ZONE_DMA and ZONE_DMA32 treats all RAM as low; on arm64 RAM that starts at or above
    4 GiB moves the DMA zone (max_zone_phys): to the end of RAM from 5.15, to the 4 GiB window the RAM
    starts in before; else 4 GiB (x86_64 and most arm64).
    """
    lowest = min((start for start, _end in ram), default=0)
    top = max((end for _start, end in ram), default=None)
    if dmesg_text:
        found = _DMESG_LOW_LIMIT.findall(dmesg_text)
        if found:
            value = int(found[-1]) * MIB if len(found[-1]) <= 12 else None
            why = None
            if len(set(found)) > 1:
                shown = ", ".join(sorted(set(found))[:4])
                why = "it logs %d different 'low RAM limit' values (%s MB)" % (len(set(found)), shown)
            elif value is None or not MIN_LOW_LIMIT <= value <= MAX_RAM or value <= lowest:
                why = "its 'low RAM limit: %s MB' is not a limit a kernel sets here" % found[-1][:20]
            if why is None:
                return value, "dmesg"
            if problems is not None:
                problems.append((dmesg_path, why + "; the default is used"))
    if is_arm64(arch) and config:
        if config.get("CONFIG_ZONE_DMA") != "y" and config.get("CONFIG_ZONE_DMA32") != "y":
            return top, "config"
    if is_arm64(arch) and top is not None and lowest >= DEFAULT_LOW_LIMIT:
        if version is not None and list(version[:2]) >= [5, 15]:
            return top, "dram-above-4g"
        return min(top, (lowest & ~(DEFAULT_LOW_LIMIT - 1)) + DEFAULT_LOW_LIMIT), "dram-above-4g"
    return DEFAULT_LOW_LIMIT, "default"


def _believed(entries: Optional[List[IomemEntry]], problems: Problems) -> bool:
    """/proc/iomem can be used: parsed, addresses visible, and not found implausible."""
    return entries is not None and not is_zeroed(entries) and not any(name == "proc/iomem" for name, _why in problems)


def memory_facts(entries: Optional[List[IomemEntry]], arch: Optional[str], config: Config,
                 dmesg_text: Optional[str], mem_total: Optional[int] = None, installed: Optional[int] = None,
                 problems: Optional[Problems] = None, dmesg_path: str = "var/log/dmesg",
                 version: Version = None) -> Dict[str, Any]:
    """The `memory` facts; sizes None when /proc/iomem is missing, garbage, zeroed, or contradicted by
    MemTotal or SMBIOS. problems: (file, why) pairs found so far; contradictions are added to it."""
    found = problems if problems is not None else []
    usable = _believed(entries, found)
    ram = system_ram(entries) if usable and entries is not None else []
    limit, source = low_limit(arch, config, dmesg_text, ram, found, dmesg_path, version)
    total = sum(end - start for start, end in ram)
    if usable and not ram:
        usable = False
    if usable:
        contradictions = ram_cross_check(total, mem_total, installed)
        found.extend(contradictions)
        usable = not contradictions
    return {
        "total_bytes": total if usable else None,
        "low_limit_bytes": limit,
        "low_limit_source": source,
        "low_bytes": bytes_below(ram, limit) if usable and limit is not None else None,
        "iomem_zeroed": entries is not None and is_zeroed(entries),
        "meminfo_total_bytes": mem_total,
        "installed_bytes": installed,
    }


def crash_size_problem(value: Optional[int], regions: Optional[List[Dict[str, int]]]) -> Optional[str]:
    """Why a kexec_crash_size value contradicts the "Crash kernel" regions, else None. The kernel reports
    the main region there (6.1) or all of them (6.12); shrinking it shrinks the region too."""
    if value is None:
        return None
    if value < 0 or value > MAX_RAM:
        return "%d is not a size a kernel can reserve" % value
    if regions is None:
        return None
    sizes = set(region["size"] for region in regions)
    sizes.add(sum(region["size"] for region in regions))
    if not regions and value == 0 or regions and value in sizes:
        return None
    shown = ", ".join("%s at %#x" % (human_size(region["size"]), region["start"]) for region in regions[:4]) or "none"
    if len(regions) > 4:
        shown += " and %d more" % (len(regions) - 4)
    return "it says %d bytes, but the Crash kernel regions of /proc/iomem are: %s" % (value, shown)


def reservation_facts(entries: Optional[List[IomemEntry]],
                      limit: Optional[int],
                      crash_size_text: Optional[str],
                      crash_loaded_text: Optional[str],
                      problems: Optional[Problems] = None) -> Dict[str, Any]:
    """The `reservation` facts: "Crash kernel" regions split at the low limit, plus the sysfs view.
    problems: (file, why) pairs; an implausible /proc/iomem gives no regions, a kexec_crash_size that
    contradicts them gives null, each added to problems."""
    found = problems if problems is not None else []
    usable = _believed(entries, found)
    regions = crash_regions(entries) if usable and entries is not None else None
    low: Optional[int] = None
    high: Optional[int] = None
    if regions is not None and limit is not None:
        spans = [(region["start"], region["end"]) for region in regions]
        low = bytes_below(spans, limit)
        high = sum(region["size"] for region in regions) - low
    loaded: Optional[bool] = None
    if crash_loaded_text is not None:
        if crash_loaded_text.strip() in ("0", "1"):
            loaded = crash_loaded_text.strip() == "1"
        else:
            found.append(("sys/kernel/kexec_crash_loaded", "%r is neither 0 nor 1" % crash_loaded_text[:20]))
    crash_size = decimal(crash_size_text, 20)
    why = crash_size_problem(crash_size, regions)
    if crash_size_text is not None and crash_size is None:
        why = "%r is not a decimal number of bytes" % crash_size_text[:30]
    if why:
        found.append(("sys/kernel/kexec_crash_size", why))
        crash_size = None
    if loaded and regions == [] and crash_size == 0:
        found.append(("sys/kernel/kexec_crash_loaded", "it says a capture kernel is loaded, but nothing is reserved "
                      "for one (no Crash kernel region, kexec_crash_size 0)"))
        loaded = None
    return {
        "regions": regions,
        "total_bytes": sum(region["size"] for region in regions) if regions is not None else None,
        "low_bytes": low,
        "high_bytes": high,
        "kexec_crash_size": crash_size,
        "kexec_crash_loaded": loaded,
    }
