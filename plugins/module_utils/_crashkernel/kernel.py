# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel's side: which behaviour model a kernel release follows, and its own crashkernel= parsing step by
step (last token wins, left-to-right range scan, 64-bit wrap-around, trailing text ignored), as reserve() uses it.

The rules come from the kernel sources; docs/crashkernel.md lists each with its file, function and version."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import (
    GIB, MIB, brief as _brief, canonical_arch, release_version, split_cmdline,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import (
    CRASHKERNEL, CrashkernelError, U64_MASK,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.sizes import (
    _at, _memparse, _scan_number, human_size,
)


# Range matching rounds System RAM up to this step (kernel/crash_core.c parse_crashkernel_mem(), 6.0+).
RAM_ROUND_STEP = 128 * MIB


# Low memory assumed taken (kernel image, initrd, early allocations, firmware holes) before the
# crashkernel reservation runs; a low attempt fits when size <= low RAM - LOW_MARGIN.
LOW_MARGIN = 64 * MIB


# Low limit assumed when the facts do not say how much RAM is low (arm64 DMA limit / x86 4 GiB).
ASSUMED_LOW_LIMIT = 4 * GIB
ARM64_DEFAULT_LOW = 128 * MIB          # arm64 DEFAULT_CRASH_KERNEL_LOW_SIZE (6.2+)
X86_SWIOTLB_DEFAULT = 64 * MIB         # IO_TLB_DEFAULT_SIZE
X86_OLD_LOW_LIMIT = 896 * MIB          # x86_64 CRASH_ADDR_LOW_MAX before 5.2
IO_TLB_SHIFT = 11
IO_TLB_SEGSIZE = 128


# Kernel behaviour models (see docs/crashkernel.md).
MODEL_ARM64_LEGACY = "arm64-legacy"    # arm64 < 5.19, RHEL 8, RHEL 9 before 5.14.0-162
MODEL_ARM64_519 = "arm64-5.19"         # arm64 5.19 - 6.1, RHEL 9 from 5.14.0-162
MODEL_ARM64_62 = "arm64-6.2"           # arm64 6.2 - 6.6
MODEL_X86_OLD = "x86_64-legacy"        # x86_64 < 5.2
MODEL_X86_52 = "x86_64-5.2"            # x86_64 5.2 - 6.6, RHEL 8 and 9
MODEL_GENERIC = "generic"              # 6.7+ both arches (kernel/crash_reserve.c)
MODELS = (MODEL_ARM64_LEGACY, MODEL_ARM64_519, MODEL_ARM64_62, MODEL_X86_OLD, MODEL_X86_52, MODEL_GENERIC)
RHEL9_HIGH_LOW_BUILD = 162             # RHEL 9.1 kernel 5.14.0-162 carries the 5.19 arm64 series


_RHEL_RE = re.compile(r"\.el([0-9]{1,3})(?:_[0-9]{1,4})*(?=$|[.+~])")
_BUILD_RE = re.compile(r"^\s*[0-9]+\.[0-9]+(?:\.[0-9]+)?-([0-9]{1,7})(?![0-9])")


def parse_kernel_release(release: Any) -> Dict[str, Any]:
    """'6.1.0-27-arm64' -> version (6, 1, 0); '5.14.0-427.el9.aarch64' -> also rhel 9, build 427."""
    if not isinstance(release, str):
        raise CrashkernelError("kernel: expected a release string like '6.1.0-27-arm64', got %r" % (release,))
    version = release_version(release)
    if version is None:
        raise CrashkernelError("kernel: %r is not a kernel release; expected something like '6.1.0-27-arm64' "
                               "or '5.14.0-427.el9.aarch64' (uname -r)" % release)
    rhel = _RHEL_RE.search(release)
    build = _BUILD_RE.match(release)
    return {"release": release, "version": version, "rhel": int(rhel.group(1)) if rhel else None,
            "build": int(build.group(1)) if build else None}


def normalize_arch(arch: Any) -> str:
    name = canonical_arch(arch)
    if name is None:
        raise CrashkernelError("arch: %r is not modelled; use aarch64 or x86_64" % (arch,))
    return name


# Upstream behaviour by release: the first model whose end the version lies below; MODEL_GENERIC after the last.
UPSTREAM_MODELS = {
    "aarch64": (((5, 19, 0), MODEL_ARM64_LEGACY), ((6, 2, 0), MODEL_ARM64_519), ((6, 7, 0), MODEL_ARM64_62)),
    "x86_64": (((5, 2, 0), MODEL_X86_OLD), ((6, 7, 0), MODEL_X86_52)),
}


def upstream_model(arch: str, version: Tuple[int, ...]) -> str:
    """The model an upstream kernel of this version follows."""
    for end, name in UPSTREAM_MODELS[arch]:
        if version < end:
            return name
    return MODEL_GENERIC


def kernel_model(arch: str,
                 release: Optional[str] = None,
                 high_low_supported: Optional[bool] = None,
                 model: Optional[str] = None) -> Dict[str, Any]:
    """Which reservation code a kernel runs: name, RAM rounding, ,cma support, notes on assumptions."""
    arch = normalize_arch(arch)
    notes: List[str] = []
    if release is None or release == "":
        info: Dict[str, Any] = {"release": None, "version": (99, 0, 0), "rhel": None, "build": None}
        notes.append("The kernel release is unknown, so the newest upstream behaviour is assumed.")
    else:
        info = parse_kernel_release(release)
    version, rhel, build = info["version"], info["rhel"], info["build"]
    if arch == "aarch64":
        if rhel == 8:
            name = MODEL_ARM64_LEGACY
        elif rhel == 9:
            if build is None:
                name = MODEL_ARM64_LEGACY
                notes.append("The RHEL 9 build number of %r cannot be read, so the kernel is modelled like RHEL "
                             "9 before 5.14.0-162 (no ,high/,low)." % _brief(str(info["release"])))
            elif build < RHEL9_HIGH_LOW_BUILD:
                name = MODEL_ARM64_LEGACY
            else:
                name = MODEL_ARM64_519
                notes.append("RHEL 9 (5.14.0-162 and later) is modelled like upstream 5.19-6.1: it knows "
                             ",high/,low but a plain crashkernel= is not assumed to fall back above 4 GiB.")
        else:
            name = upstream_model(arch, version)
        if high_low_supported is True and name == MODEL_ARM64_LEGACY:
            name = MODEL_ARM64_519
            notes.append("The facts report that this kernel reserves high+low regions (a backport), so it is "
                         "modelled like upstream 5.19-6.1.")
    else:
        name = MODEL_X86_52 if rhel in (8, 9) else upstream_model(arch, version)
    if model is not None:
        if model not in MODELS:
            raise CrashkernelError("model: %r is unknown; use one of %s" % (model, ", ".join(MODELS)))
        if model.startswith("arm64") and arch != "aarch64" or model.startswith("x86") and arch != "x86_64":
            raise CrashkernelError("model: %r does not match arch %s" % (model, arch))
        name = model
    roundup = version >= (6, 0, 0) or (rhel is not None and rhel >= 8)
    cma_suffix = version >= (6, 17, 0) and rhel is None
    suffixes = (",high", ",low", ",cma") if cma_suffix else (",high", ",low")
    return {
        "name": name,
        "arch": arch,
        "release": info["release"],
        "version": version,
        "rhel": rhel,
        "roundup": roundup,
        "suffixes": suffixes,
        "cma_reserve": cma_suffix and arch == "x86_64" and name == MODEL_GENERIC,
        "swiotlb_areas": version >= (6, 0, 0),
        "notes": notes,
    }


# The kernel's own parsing (kernel/crash_core.c until 6.8, kernel/crash_reserve.c from 6.9), step by step.
def _k_last_token(cmdline: str, suffix: Optional[str], known_suffixes: Tuple[str, ...]) -> Optional[int]:
    """get_last_crashkernel(): value position of the last matching 'crashkernel=' (found by strstr)."""
    chosen = None
    found = cmdline.find(CRASHKERNEL)
    while found != -1:
        end = cmdline.find(" ", found)
        if end == -1:
            end = len(cmdline)
        if suffix is None:
            if not any(cmdline[end - len(known):end] == known for known in known_suffixes):
                chosen = found
        elif cmdline[end - len(suffix):end] == suffix:
            chosen = found
        found = cmdline.find(CRASHKERNEL, found + 1)
    return None if chosen is None else chosen + len(CRASHKERNEL)


def _k_simple(cmdline: str, pos: int) -> Tuple[str, int, int, str]:
    size, cur = _memparse(cmdline, pos)
    if cur == pos:
        return "invalid", 0, 0, "memory value expected"
    base = 0
    char = _at(cmdline, cur)
    if char == "@":
        base, cur = _memparse(cmdline, cur + 1)
    elif char not in (" ", "\0"):
        return "invalid", 0, 0, "unrecognized char: %s" % char
    return "ok", size & U64_MASK, base & U64_MASK, ""


def _k_ranges(cmdline: str, pos: int, system_ram: int, roundup: bool) -> Tuple[str, int, int, str]:
    """parse_crashkernel_mem(): entries left to right, size checked as read, first match wins."""
    total = -(-system_ram // RAM_ROUND_STEP) * RAM_ROUND_STEP if roundup else system_ram
    cur = pos
    chosen = 0
    while True:
        start, tmp = _memparse(cmdline, cur)
        if tmp == cur:
            return "invalid", 0, 0, "Memory value expected"
        start &= U64_MASK
        cur = tmp
        if _at(cmdline, cur) != "-":
            return "invalid", 0, 0, "'-' expected"
        cur += 1
        end = U64_MASK
        if _at(cmdline, cur) != ":":
            end, tmp = _memparse(cmdline, cur)
            if tmp == cur:
                return "invalid", 0, 0, "Memory value expected"
            end &= U64_MASK
            cur = tmp
            if end <= start:
                return "invalid", 0, 0, "end <= start"
        if _at(cmdline, cur) != ":":
            return "invalid", 0, 0, "':' expected"
        cur += 1
        size, tmp = _memparse(cmdline, cur)
        if tmp == cur:
            return "invalid", 0, 0, "Memory value expected"
        size &= U64_MASK
        cur = tmp
        if size >= total:
            return "invalid", 0, 0, "invalid size (%s is not below the %s of RAM used for matching)" % (
                human_size(size), human_size(total))
        if start <= total < end:
            chosen = size
            if size == 0:
                return "ok", 0, 0, "zero-match"
            break
        char = _at(cmdline, cur)
        cur += 1
        if char != ",":
            break
    base = 0
    if chosen > 0:
        while _at(cmdline, cur) not in ("\0", " ", "@"):
            cur += 1
        if _at(cmdline, cur) == "@":
            base, tmp = _memparse(cmdline, cur + 1)
            if tmp == cur + 1:
                return "invalid", 0, 0, "Memory value expected after '@'"
            base &= U64_MASK
    return "ok", chosen, base, ""


def _k_suffix(cmdline: str, pos: int, suffix: str) -> Tuple[str, int, int, str]:
    size, cur = _memparse(cmdline, pos)
    if cur == pos:
        return "invalid", 0, 0, "memory value expected"
    if cmdline[cur:cur + len(suffix)] != suffix:
        return "invalid", 0, 0, "unrecognized char: %s" % _at(cmdline, cur)
    cur += len(suffix)
    if _at(cmdline, cur) not in (" ", "\0"):
        return "invalid", 0, 0, "unrecognized char: %s" % _at(cmdline, cur)
    return "ok", size & U64_MASK, 0, ""


def _k_parse(cmdline: str,
             system_ram: int,
             suffix: Optional[str],
             model: Dict[str, Any]) -> Tuple[str, int, int, str, str]:
    """__parse_crashkernel(): (status absent|invalid|ok, size, base, kernel message, token text)."""
    pos = _k_last_token(cmdline, suffix, model["suffixes"])
    if pos is None:
        return "absent", 0, 0, "", ""
    end = cmdline.find(" ", pos)
    token = CRASHKERNEL + cmdline[pos:] if end == -1 else CRASHKERNEL + cmdline[pos:end]
    if suffix is not None:
        result = _k_suffix(cmdline, pos, suffix)
    else:
        colon = cmdline.find(":", pos)
        space = cmdline.find(" ", pos)
        if colon != -1 and (space == -1 or colon < space):
            result = _k_ranges(cmdline, pos, system_ram, model["roundup"])
        else:
            result = _k_simple(cmdline, pos)
    return result[0], result[1], result[2], result[3], token


def swiotlb_size(cmdline: str, areas: bool = True) -> int:
    """swiotlb_size_or_default() after the swiotlb= early params (kernel/dma/swiotlb.c)."""
    nslabs = X86_SWIOTLB_DEFAULT >> IO_TLB_SHIFT
    for word in split_cmdline(cmdline):
        if not word.startswith("swiotlb="):
            continue
        arg = word[len("swiotlb="):]
        cur = 0
        if _at(arg, cur).isdigit():
            count, cur = _scan_number(arg, cur)
            count &= U64_MASK
            nslabs = -(-count // IO_TLB_SEGSIZE) * IO_TLB_SEGSIZE
        if _at(arg, cur) == ",":
            cur += 1
        if areas and _at(arg, cur).isdigit():
            count, cur = _scan_number(arg, cur)
            nareas = 1 if count == 0 else 1 << (count - 1).bit_length()
            if nslabs < IO_TLB_SEGSIZE * nareas:
                nslabs = IO_TLB_SEGSIZE * nareas
            elif nslabs & (nslabs - 1):
                nslabs = 1 << nslabs.bit_length()
    return nslabs << IO_TLB_SHIFT


def default_low_size(arch: str, cmdline: str, model: Dict[str, Any]) -> int:
    """The low region a kernel adds on its own: 128 MiB on arm64, max(swiotlb + 8 MiB, 256 MiB) on x86_64."""
    if arch == "aarch64":
        return ARM64_DEFAULT_LOW
    return max(swiotlb_size(cmdline, model["swiotlb_areas"]) + 8 * MIB, 256 * MIB)
