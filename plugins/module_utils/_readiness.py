# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Readiness: what this kernel and its tools can do (capabilities) and every broken or risky link
of the kdump chain (findings, each with a stable id, a severity and a fix).

Evidence beats version numbers: vendor kernels backport (RHEL 9's 5.14, Ampere's LTS kernels), so a
"Crash kernel" region above the low limit proves high reservations work whatever the version says.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._software import (
    config_enabled, version_tuple,
)

MIB = 1 << 20
GIB = 1 << 30
RANGE_RAM_ROUNDING = 128 * MIB
KEXEC_TOOLS_MULTI_REGION = (2, 0, 24)
ARM64_HIGH_LOW = (5, 19)
ARM64_LOW_FALLBACK = (6, 2)
ARM64_LINEAR_MAP_FIXED = (6, 4)
ARM64_KEXEC_FILE_CRASH = (5, 6)
RHEL9_HIGH_LOW_BUILD = 162  # RHEL 9.1's 5.14.0-162 carries the arm64 5.19 crashkernel series
# the Ampere seed's table: what an Altra needs when the command line says nothing
SEED_TABLE = "512M-12G:128M,12G-64G:256M,64G-128G:512M,128G-:768M"
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

INPUT_MEANING = {
    "proc/iomem": "RAM size and the reserved Crash kernel regions",
    "proc/cpuinfo": "CPU identity and count",
    "proc/cmdline": "the running kernel command line",
    "proc/sys/kernel/osrelease": "the kernel release",
    "etc/os-release": "the distribution",
    "var/lib/dpkg/status": "installed package versions",
    "installed-rpms": "installed package versions (put a sosreport's installed-rpms file at the tree's root)",
    "sys/kernel/kexec_crash_size": "the size the kernel reserved",
    "sys/kernel/kexec_crash_loaded": "whether a capture kernel is loaded",
}

_MEMPARSE = re.compile(r"^(0[xX][0-9a-fA-F]+|\d+)([KkMmGgTtPpEe]?)$")
_SHIFTS = {"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60}


def memparse(text):
    # type: (str) -> Optional[int]
    """Bytes of a kernel size string (memparse): 512M, 4G, 0x1000000, 16777216; None when malformed."""
    match = _MEMPARSE.match(text.strip())
    if not match:
        return None
    number = match.group(1)
    value = int(number, 16) if number.lower().startswith("0x") else int(number)
    return value << _SHIFTS[match.group(2).lower()]


def parse_crashkernel(token):
    # type: (str) -> Optional[Dict[str, Any]]
    """One crashkernel= argument: {kind: plain|high|low|cma, size or ranges, offset}; None when malformed."""
    value = token.split("=", 1)[1] if token.startswith("crashkernel=") else token
    for suffix in ("high", "low", "cma"):
        if value.endswith("," + suffix):
            size = memparse(value[:-len(suffix) - 1])
            return None if size is None else {"kind": suffix, "size": size, "ranges": None, "offset": None}
    offset = None
    if "@" in value:
        value, _sep, at = value.rpartition("@")
        offset = memparse(at)
        if offset is None:
            return None
    if ":" not in value:
        size = memparse(value)
        return None if size is None else {"kind": "plain", "size": size, "ranges": None, "offset": offset}
    ranges = []  # type: List[Tuple[int, Optional[int], int]]
    for entry in value.split(","):
        span, sep, size_text = entry.partition(":")
        start_text, dash, end_text = span.partition("-")
        start, size = memparse(start_text), memparse(size_text)
        end = memparse(end_text) if end_text else None
        if not sep or not dash or start is None or size is None or (end_text and end is None):
            return None
        ranges.append((start, end, size))
    return {"kind": "plain", "size": None, "ranges": ranges, "offset": offset}


def size_for_ram(parsed, ram):
    # type: (Dict[str, Any], Optional[int]) -> Optional[int]
    """Bytes a parsed crashkernel= asks for on a host with ram bytes of System RAM (0 = no match)."""
    if parsed["ranges"] is None:
        return parsed["size"]
    if ram is None:
        return None
    rounded = -(-ram // RANGE_RAM_ROUNDING) * RANGE_RAM_ROUNDING
    for start, end, size in parsed["ranges"]:
        if size >= rounded:
            return 0
        if start <= rounded and (end is None or rounded < end):
            return size
    return 0


def requested(tokens, ram):
    # type: (List[str], Optional[int]) -> Dict[str, Any]
    """What the command line asks for: the last plain crashkernel= wins; ,high only without a plain one."""
    plain = high = low = None  # type: Optional[Dict[str, Any]]
    plain_token = None
    for token in tokens:
        parsed = parse_crashkernel(token)
        if parsed is None:
            continue
        if parsed["kind"] == "plain":
            plain, plain_token = parsed, token
        elif parsed["kind"] == "high":
            high = parsed
        elif parsed["kind"] == "low":
            low = parsed
    if plain is not None:
        return {"mode": "plain", "size": size_for_ram(plain, ram), "token": plain_token,
                "low_size": low["size"] if low else None}
    if high is not None:
        return {"mode": "high", "size": high["size"], "token": None, "low_size": low["size"] if low else None}
    return {"mode": None, "size": None, "token": None, "low_size": low["size"] if low else None}


def _rhel_backport(release):
    # type: (str) -> bool
    """RHEL 9 from 5.14.0-162 (9.1) and RHEL 10+ kernels know arm64 crashkernel=,high/,low."""
    match = re.search(r"\.el(\d+)", release)
    if not match or int(match.group(1)) < 9:
        return False
    if int(match.group(1)) > 9:
        return True
    build = re.match(r"^\d+\.\d+\.\d+-(\d+)", release)
    return build is not None and int(build.group(1)) >= RHEL9_HIGH_LOW_BUILD


def _supported(value, why):
    # type: (Optional[bool], str) -> Dict[str, Any]
    return {"supported": value, "why": why}


def _older(version, floor):
    # type: (Optional[List[int]], Tuple[int, ...]) -> Optional[bool]
    return None if version is None else tuple(version[:len(floor)]) < floor


def _is_arm64(facts):
    # type: (Dict[str, Any]) -> bool
    return facts["platform"].get("arch") in ("aarch64", "arm64")


def _regions_split(facts):
    # type: (Dict[str, Any]) -> Tuple[Optional[List[Dict[str, int]]], bool, bool]
    """(regions, one below the low limit, one at or above it)."""
    regions = facts["reservation"].get("regions")
    limit = facts["memory"].get("low_limit_bytes")
    if not regions or limit is None:
        return regions, False, False
    return regions, any(r["start"] < limit for r in regions), any(r["end"] > limit for r in regions)


def capabilities(facts):
    # type: (Dict[str, Any]) -> Dict[str, Dict[str, Any]]
    """high_low_reservation, kexec_multiple_regions, kexec_file_crash: {supported, why}."""
    kernel, software = facts["kernel"], facts["software"]
    arch = facts["platform"].get("arch")
    version = kernel.get("version")
    release = kernel.get("release") or ""
    regions, has_low, has_high = _regions_split(facts)
    arm64 = _is_arm64(facts)

    if arch == "x86_64":
        high_low = _supported(True, "x86_64 has had crashkernel=X,high and ,low since Linux 3.9")
    elif not arm64:
        high_low = _supported(None, "not checked for %s" % (arch or "an unknown architecture"))
    elif has_high:
        high_low = _supported(True, "a Crash kernel region lies above the low limit in /proc/iomem")
    elif version and not _older(version, ARM64_HIGH_LOW):
        high_low = _supported(True, "arm64 supports ,high/,low since Linux 5.19 (running %s)" % release)
    elif _rhel_backport(release):
        high_low = _supported(True, "RHEL 9.1+ kernels (5.14.0-%d and later) carry the arm64 ,high/,low backport"
                              % RHEL9_HIGH_LOW_BUILD)
    elif "ampere" in release.lower():
        high_low = _supported(True, "Ampere LTS kernels carry the arm64 ,high/,low backport")
    elif version is None:
        high_low = _supported(None, "kernel release unknown")
    elif requested(kernel.get("crashkernel") or [], None)["mode"] == "high" and regions == []:
        high_low = _supported(False, "the kernel ignored crashkernel=,high: nothing is reserved")
    else:
        high_low = _supported(False, "arm64 %s predates 5.19 and /proc/iomem shows no region above the low limit "
                                     "(a backport would prove itself with one)" % release)

    kexec_version = version_tuple(software.get("kexec_tools_version"))
    loaded = facts["reservation"].get("kexec_crash_loaded")
    if arch == "x86_64":
        multi = _supported(True, "kexec-tools handles the x86_64 low region since long before 2.0.24")
    elif not arm64:
        multi = _supported(None, "not checked for %s" % (arch or "an unknown architecture"))
    elif has_low and has_high and loaded:
        multi = _supported(True, "a capture kernel is loaded into two Crash kernel regions")
    elif kexec_version is None:
        multi = _supported(None, "kexec-tools version unknown")
    elif kexec_version >= KEXEC_TOOLS_MULTI_REGION:
        multi = _supported(True, "kexec-tools %s >= 2.0.24" % software["kexec_tools_version"])
    elif software.get("family") == "redhat":
        multi = _supported(None, "kexec-tools %s < 2.0.24, but RHEL-family builds may carry the backport"
                           % software["kexec_tools_version"])
    else:
        multi = _supported(False, "kexec-tools %s < 2.0.24 loads arm64 crash kernels into one region only"
                           % software["kexec_tools_version"])

    config = kernel.get("config")
    kexec_file = config_enabled(config, "CONFIG_KEXEC_FILE")
    if kexec_file is None:
        file_crash = _supported(None, "kernel config unknown")
    elif not kexec_file:
        file_crash = _supported(False, "CONFIG_KEXEC_FILE is not set: use kexec_load (no -s)")
    elif not arm64:
        file_crash = _supported(True, "CONFIG_KEXEC_FILE=y")
    elif version and not _older(version, ARM64_KEXEC_FILE_CRASH):
        file_crash = _supported(True, "CONFIG_KEXEC_FILE=y and arm64 >= 5.6 supports crash kernels via kexec_file_load")
    elif version is None:
        file_crash = _supported(None, "kernel release unknown")
    else:
        file_crash = _supported(None, "arm64 %s predates 5.6: kexec_file_load crash support needs a backport" % release)
    return {"high_low_reservation": high_low, "kexec_multiple_regions": multi, "kexec_file_crash": file_crash}


def _fmt(size):
    # type: (Optional[int]) -> str
    if size is None:
        return "unknown"
    if size and size % GIB == 0:
        return "%dG" % (size // GIB)
    return "%dM" % (size // MIB)


class _Findings:
    def __init__(self):
        # type: () -> None
        self.items = []  # type: List[Dict[str, str]]

    def add(self, ident, severity, message, fix):
        # type: (str, str, str, str) -> None
        self.items.append({"id": ident, "severity": severity, "message": message, "fix": fix})

    def sorted(self):
        # type: () -> List[Dict[str, str]]
        return sorted(self.items, key=lambda item: SEVERITY_ORDER[item["severity"]])


def _reserved(facts):
    # type: (Dict[str, Any]) -> Optional[bool]
    reservation = facts["reservation"]
    if reservation.get("regions"):
        return True
    size = reservation.get("kexec_crash_size")
    if size:
        return True
    if reservation.get("regions") == [] or size == 0:
        return False
    return None


def _reservation_findings(facts, out):
    # type: (Dict[str, Any], _Findings) -> None
    kernel, memory, reservation = facts["kernel"], facts["memory"], facts["reservation"]
    tokens = kernel.get("crashkernel") or []
    reserved = _reserved(facts)
    if memory.get("iomem_zeroed"):
        out.add("iomem-unreadable", "info",
                "/proc/iomem shows only zero addresses (read without root): RAM and Crash kernel regions are unknown.",
                "Gather facts with become: true.")
    if reserved is False and tokens:
        out.add("crashkernel-reservation-failed", "error",
                "The command line asks for %s but the kernel reserved nothing." % " ".join(tokens),
                "Read `dmesg | grep -i crashkernel`; on arm64 hosts with little RAM below 4 GiB (Altra) use "
                "crashkernel=<size>,high crashkernel=<small>,low (kdump_crashkernel: auto does), then reboot.")
    elif reserved is False:
        out.add("no-crashkernel-reserved", "error",
                "No crashkernel memory is reserved: a panic cannot start a capture kernel.",
                "Apply the fleetops.kdump.kdump role (kdump_crashkernel: auto) or add crashkernel= to the kernel "
                "command line, then reboot.")
    if reserved and reservation.get("kexec_crash_loaded") is False:
        out.add("crash-kernel-not-loaded", "error",
                "Crash kernel memory is reserved but no capture kernel is loaded (kexec_crash_loaded=0).",
                "Start the kdump service (%s) and read its log (`kdump-config status` / `kdumpctl status`)."
                % (facts["software"].get("service") or "kdump"))


def _arm64_findings(facts, caps, out):
    # type: (Dict[str, Any], Dict[str, Dict[str, Any]], _Findings) -> None
    kernel, memory, software = facts["kernel"], facts["memory"], facts["software"]
    version = kernel.get("version")
    tokens = kernel.get("crashkernel") or []
    ask = requested(tokens, memory.get("total_bytes"))
    regions, has_low, has_high = _regions_split(facts)
    reserved = _reserved(facts)
    low_bytes = memory.get("low_bytes")

    wants_two = (has_low and has_high) or ask["mode"] == "high" or ask["low_size"] is not None
    kexec_version = version_tuple(software.get("kexec_tools_version"))
    if wants_two and kexec_version is not None and kexec_version < KEXEC_TOOLS_MULTI_REGION \
            and not facts["reservation"].get("kexec_crash_loaded"):
        out.add("kexec-tools-too-old-for-high-low", "error",
                "kexec-tools %s cannot load an arm64 capture kernel into a high + low reservation (needs >= 2.0.24)."
                % software["kexec_tools_version"],
                "Upgrade kexec-tools to 2.0.24 or later, or reserve one low region only.")

    need = ask["size"]
    if not need and memory.get("total_bytes"):
        need = size_for_ram(parse_crashkernel(SEED_TABLE) or {}, memory["total_bytes"])
    short = bool(low_bytes is not None and need and need > low_bytes // 4)
    if short and caps["high_low_reservation"]["supported"] is not True:
        severity = "warning" if caps["high_low_reservation"]["supported"] is False else "info"
        out.add("high-low-unsupported-low-ram-short", severity,
                "This arm64 kernel cannot reserve crashkernel above the low limit (%s), and %s of RAM lies below it "
                "for a %s reservation." % (caps["high_low_reservation"]["why"], _fmt(low_bytes), _fmt(need)),
                "Boot a kernel with arm64 ,high/,low support (upstream 5.19+, RHEL 9, Ampere LTS) or keep the "
                "reservation small enough for low RAM.")

    in_window = version is not None and not _older(version, ARM64_HIGH_LOW) and _older(version, ARM64_LOW_FALLBACK)
    if in_window and ask["mode"] == "plain" and ask["size"]:
        if reserved is False:
            out.add("plain-crashkernel-low-only", "error",
                    "%s is a plain reservation: arm64 %s searches only below the low limit and does not fall back "
                    "above it, and nothing got reserved." % (ask["token"], kernel.get("release")),
                    "Use crashkernel=%s,high crashkernel=16M,low (or kdump_crashkernel: auto), then reboot."
                    % _fmt(ask["size"]))
        elif reserved is None and low_bytes is not None and ask["size"] > low_bytes // 4:
            out.add("plain-crashkernel-low-only", "warning",
                    "%s must fit below the low limit on arm64 %s (no fallback above it), where only %s of RAM lies."
                    % (ask["token"], kernel.get("release"), _fmt(low_bytes)),
                    "Use crashkernel=%s,high crashkernel=16M,low (or kdump_crashkernel: auto)." % _fmt(ask["size"]))

    if version is not None and _older(version, ARM64_LINEAR_MAP_FIXED) and (reserved or tokens):
        out.add("arm64-linear-map-cost", "info",
                "arm64 kernels before 6.4 map all memory with page granularity once crashkernel is reserved "
                "(a measurable TLB cost).",
                "Accept it, or move to a 6.4+ kernel where the reservation no longer forces a page-granular map.")

    if facts["platform"].get("soc") == "unknown":
        out.add("soc-unidentified", "info",
                "The arm64 SoC could not be identified (%s)." % ("; ".join(facts["platform"].get("soc_evidence") or [])
                                                                 or "no SOC_ID, SMBIOS or DMI data"),
                "Gather facts on the live host, or include sys/firmware/dmi and sys/devices/soc0 in the captured tree.")


def _kernel_config_findings(facts, out):
    # type: (Dict[str, Any], _Findings) -> None
    config = facts["kernel"].get("config")
    if config is None:
        return
    release = facts["kernel"].get("release") or "this kernel"
    if not (config_enabled(config, "CONFIG_KEXEC") or config_enabled(config, "CONFIG_KEXEC_FILE")):
        out.add("kernel-config-no-kexec", "error",
                "%s is built without CONFIG_KEXEC and CONFIG_KEXEC_FILE: no capture kernel can be loaded." % release,
                "Boot a distribution kernel built with kexec support.")
    if not config_enabled(config, "CONFIG_CRASH_DUMP"):
        out.add("kernel-config-no-crash-dump", "error",
                "%s is built without CONFIG_CRASH_DUMP." % release,
                "Boot a kernel built with CONFIG_CRASH_DUMP=y (every major distribution kernel is).")
    if not config_enabled(config, "CONFIG_PROC_VMCORE"):
        out.add("kernel-config-no-proc-vmcore", "error",
                "%s is built without CONFIG_PROC_VMCORE: the capture kernel cannot expose /proc/vmcore." % release,
                "Boot a kernel built with CONFIG_PROC_VMCORE=y.")
    if not config_enabled(config, "CONFIG_MAGIC_SYSRQ"):
        out.add("kernel-config-no-magic-sysrq", "warning",
                "%s is built without CONFIG_MAGIC_SYSRQ: the crash test cannot use sysrq-c." % release,
                "Boot a kernel with CONFIG_MAGIC_SYSRQ=y to run the crash_test role.")


def _software_findings(facts, out):
    # type: (Dict[str, Any], _Findings) -> None
    software = facts["software"]
    if software.get("kexec_tools_installed") is False:
        out.add("kexec-tools-missing", "warning", "kexec-tools is not installed.",
                "Install kexec-tools (the fleetops.kdump.kdump role does).")
    elif software.get("kexec_tools_installed") and version_tuple(software.get("kexec_tools_version")) is None:
        out.add("kexec-tools-version-unknown", "info",
                "kexec-tools is installed but its version (%r) could not be read." % software.get("kexec_tools_version"),
                "Check the package manager's record for kexec-tools.")
    if software.get("makedumpfile_installed") is False:
        out.add("makedumpfile-missing", "warning",
                "makedumpfile is not installed: dumps will be full size or fail.",
                "Install makedumpfile (the fleetops.kdump.kdump role does).")
    package_missing = software.get("kdump_package_installed") is False
    if package_missing:
        out.add("kdump-package-missing", "warning", "%s is not installed." % software["kdump_package"],
                "Install %s (the fleetops.kdump.kdump role does)." % software["kdump_package"])
    if software.get("service_enabled") is False and not package_missing:
        out.add("kdump-service-not-enabled", "warning",
                "The %s service is not enabled: no capture kernel will be loaded after a reboot." % software["service"],
                "systemctl enable %s (the fleetops.kdump.kdump role does)." % software["service"])
    if software.get("service_active") is False and software.get("service_enabled") is not False and not package_missing:
        out.add("kdump-service-not-active", "warning",
                "The %s service is enabled but not active." % software["service"],
                "systemctl restart %s and read its log." % software["service"])
    if software.get("use_kdump") is False:
        out.add("kdump-disabled-in-config", "warning",
                "/etc/default/kdump-tools sets USE_KDUMP=0: kdump-tools will not load a capture kernel.",
                "Set USE_KDUMP=1 (the fleetops.kdump.kdump role does).")


def findings(facts, caps, missing_inputs, live=False):
    # type: (Dict[str, Any], Dict[str, Dict[str, Any]], List[str], bool) -> List[Dict[str, str]]
    """Every finding for a host's facts, errors first. live: the facts come from the running system."""
    out = _Findings()
    _reservation_findings(facts, out)
    if _is_arm64(facts):
        _arm64_findings(facts, caps, out)
    _kernel_config_findings(facts, out)
    _software_findings(facts, out)
    platform = facts["platform"]
    if platform.get("agdi"):
        out.add("agdi-present", "warning" if platform.get("is_altra") else "info",
                "The firmware has an ACPI AGDI table: the BMC can panic the host through SDEI. On Altra with "
                "5.17-era kernels the capture kernel hung after an AGDI-triggered panic while sysrq-c worked "
                "(ampere-lts-kernel issue 160).",
                "Validate kdump with the crash_test role (sysrq-c) and, before relying on BMC-triggered dumps, "
                "test one on this kernel.")
    seen = set()
    for path in missing_inputs:
        if path in seen:
            continue
        seen.add(path)
        meaning = INPUT_MEANING.get(path)
        if meaning is None:
            meaning = "the kernel config" if "config" in path else "a kdump input"
        if live:
            fix = "The running kernel or system does not provide it (see the other findings), or it is not readable."
        else:
            fix = "Gather facts on the live host (root: /) or include that file in the captured tree."
        out.add("input-missing", "info", "/%s is missing or unreadable: %s is unknown (null)." % (path, meaning), fix)
    return out.sorted()
