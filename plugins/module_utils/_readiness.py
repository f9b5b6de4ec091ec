# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Readiness: what this kernel and its tools can do (capabilities) and every broken or risky link
of the kdump chain (findings, each with a stable id, a severity and a fix).

Evidence beats version numbers: vendor kernels backport (RHEL 9's 5.14, Ampere's LTS kernels), so a
"Crash kernel" region above the low limit proves high reservations work whatever the version says.

crashkernel= values are never parsed here: the crashkernel engine (_crashkernel/) reads them exactly as
the kernel does and predicts what it reserves (reserve()), so the facts and crashkernel_plan agree.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import (
    CRASHKERNEL, SUFFIX_OF_KIND, CrashkernelError,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.syntax import format_value
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.kernel import (
    MODEL_ARM64_519, MODEL_ARM64_LEGACY, RHEL9_HIGH_LOW_BUILD, kernel_model, parse_kernel_release,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.reserve import reserve
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.plan import KEXEC_TOOLS_MULTI_REGION
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.tables import TABLE_ALTRA
from ansible_collections.fleetops.kdump.plugins.module_utils._kernel import config_enabled
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import decimal, format_size, is_arm64, version_tuple

ARM64_LINEAR_MAP_FIXED = (6, 4)
ARM64_KEXEC_FILE_CRASH = (5, 6)
# makedumpfile upstream issue 18: no release up to 1.7.9 reads 4K-page arm64 kernels built with VA_BITS=52
# (Debian 13's 6.12); the fix is on its master branch only.
MAKEDUMPFILE_ARM64_LPA2_BROKEN_UP_TO = (1, 7, 9)
FORM_RAM = 1 << 40  # RAM assumed when /proc/iomem is unreadable and only the form of crashkernel= matters
# the Ampere seed's table: what an Altra needs when the command line says nothing
SEED_TABLE = format_value({"kind": "ranges", "size": None, "offset": None,
                           "ranges": [{"start": start, "end": end, "size": size} for start, end, size in TABLE_ALTRA]})
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

# Findings that only say "kdump is not set up yet": the rollout fixes them, so they never block it, and
# none of them may be left after it.
SETUP_FINDINGS = ("no-crashkernel-reserved", "crash-kernel-not-loaded", "kexec-tools-missing", "makedumpfile-missing",
                  "kdump-package-missing", "kdump-service-not-enabled", "kdump-service-not-active",
                  "kdump-disabled-in-config", "kdump-config-missing")
# Findings about the crashkernel= arguments the host booted with: a plan that writes other arguments fixes them.
CURRENT_CMDLINE_FINDINGS = ("crashkernel-reservation-failed", "plain-crashkernel-low-only")
# Findings the role's optional fixes handle (kdump_kallsyms_text_fix, kdump_vmcore_copy_fallback).
KALLSYMS_FIX_FINDING = "kexec-no-text-symbol"
COPY_FALLBACK_FINDING = "makedumpfile-cannot-read-kernel"

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


class Predictor:
    """The crashkernel engine's reserve() for one host: its crashkernel= args, RAM, page size and kernel.

    Every call returns reserve()'s result, or None when the facts cannot feed it (RAM unknown, an
    architecture or kernel release the engine does not model). Malformed crashkernel= values are not
    an error here: the engine predicts what the kernel does with them (reject them, reserve nothing).
    """

    def __init__(self, facts: Dict[str, Any], high_low_supported: Optional[bool] = None) -> None:
        ram = facts["memory"].get("total_bytes")
        page_size = facts["platform"].get("page_size")
        self.ram = ram if isinstance(ram, int) and not isinstance(ram, bool) and ram > 0 else None
        self.cmdline = " ".join(facts["kernel"].get("crashkernel") or [])
        self.arch = facts["platform"].get("arch")
        self.release = facts["kernel"].get("release") or None
        try:
            parse_kernel_release(self.release)
        except CrashkernelError:
            self.release = None  # not a release: the engine then assumes the newest kernel, as for an unknown one
        self.page_size = page_size if page_size in (4096, 16384, 65536) else 4096
        self.high_low_supported = high_low_supported

    def __call__(self,
                 low_ram: Optional[int],
                 low_margin: Optional[int] = None,
                 model: Optional[str] = None,
                 cmdline: Optional[str] = None,
                 ram: Optional[int] = None) -> Optional[Dict[str, Any]]:
        """reserve() with low_ram bytes below the low limit (None: assume low placements fit); ram
        replaces the host's RAM (for questions about the form of the command line when it is unknown)."""
        ram = ram or self.ram
        if ram is None:
            return None
        try:
            return reserve(self.cmdline if cmdline is None else cmdline, ram, self.arch, self.release,
                           low_ram=low_ram, low_margin=low_margin, page_size=self.page_size, model=model,
                           high_low_supported=self.high_low_supported)
        except CrashkernelError:
            return None

    def upstream_model(self) -> Optional[Dict[str, Any]]:
        """The engine's model of the running kernel from its release alone (no backport evidence)."""
        try:
            return kernel_model(self.arch, self.release) if self.release else None
        except CrashkernelError:
            return None

    def asked(self, model: Optional[str] = None, cmdline: Optional[str] = None) -> Optional[int]:
        """Bytes the kernel reads from the command line for this RAM (0: nothing usable; None: unknown).

        Counting all RAM as low makes every request the kernel accepts fit, so the size is what it read.
        """
        result = self(low_ram=self.ram, low_margin=0, model=model, cmdline=cmdline)
        if result is None:
            return None
        return result["size"] if result["region"] != "none" else 0


def _supported(value: Optional[bool], why: str) -> Dict[str, Any]:
    return {"supported": value, "why": why}


def _older(version: Optional[List[int]], floor: Tuple[int, ...]) -> Optional[bool]:
    return None if version is None else tuple(version[:len(floor)]) < floor


def _is_arm64(facts: Dict[str, Any]) -> bool:
    return is_arm64(facts["platform"].get("arch"))


def _regions_split(facts: Dict[str, Any]) -> Tuple[Optional[List[Dict[str, int]]], bool, bool]:
    """(regions, one below the low limit, one at or above it)."""
    regions = facts["reservation"].get("regions")
    limit = facts["memory"].get("low_limit_bytes")
    if not regions or limit is None:
        return regions, False, False
    return regions, any(r["start"] < limit for r in regions), any(r["end"] > limit for r in regions)


def _high_low_by_release(release: str) -> str:
    """Why the engine's model of this arm64 release knows ,high/,low ('' when it does not or is unknown)."""
    try:
        model = kernel_model("aarch64", release) if release else None
    except CrashkernelError:
        return ""
    if model is None or model["name"] == MODEL_ARM64_LEGACY:
        return ""
    if model["rhel"] is not None and model["version"] < (5, 19, 0):
        return "RHEL 9.1+ kernels (5.14.0-%d and later) carry the arm64 ,high/,low backport" % RHEL9_HIGH_LOW_BUILD
    return "arm64 supports ,high/,low since Linux 5.19 (running %s)" % release


def _high_ignored(predict: Predictor) -> bool:
    """The command line's crashkernel=,high would reserve memory on a kernel that knows it, and this one
    (arm64 before 5.19) reads nothing usable from it."""
    without = predict(low_ram=None, model=MODEL_ARM64_LEGACY)
    knowing = predict(low_ram=None, model=MODEL_ARM64_519)
    return without is not None and knowing is not None and without["cause"] == "no-crashkernel" \
        and knowing["region"] != "none"


def _high_low_reservation(facts: Dict[str, Any]) -> Dict[str, Any]:
    """Whether this kernel reserves crashkernel=X,high with a low region: evidence first, then the release."""
    arch, version = facts["platform"].get("arch"), facts["kernel"].get("version")
    release = facts["kernel"].get("release") or ""
    regions, _has_low, has_high = _regions_split(facts)
    arm64 = _is_arm64(facts)
    if arch == "x86_64":
        high_low = _supported(True, "x86_64 has had crashkernel=X,high and ,low since Linux 3.9")
    elif not arm64:
        high_low = _supported(None, "not checked for %s" % (arch or "an unknown architecture"))
    elif has_high:
        high_low = _supported(True, "a Crash kernel region lies above the low limit in /proc/iomem")
    elif _high_low_by_release(release):
        high_low = _supported(True, _high_low_by_release(release))
    elif "ampere" in release.lower():
        high_low = _supported(True, "Ampere LTS kernels carry the arm64 ,high/,low backport")
    elif version is None:
        high_low = _supported(None, "kernel release unknown")
    elif regions == [] and _high_ignored(Predictor(facts)):
        high_low = _supported(False, "the kernel ignored crashkernel=,high: nothing is reserved")
    else:
        high_low = _supported(False, "arm64 %s predates 5.19 and /proc/iomem shows no region above the low limit "
                                     "(a backport would prove itself with one)" % release)
    return high_low


def _kexec_multiple_regions(facts: Dict[str, Any]) -> Dict[str, Any]:
    """Whether kexec-tools loads an arm64 capture kernel across the high and the low region."""
    software, arch = facts["software"], facts["platform"].get("arch")
    _regions, has_low, has_high = _regions_split(facts)
    arm64 = _is_arm64(facts)
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
    return multi


def _kexec_file_crash(facts: Dict[str, Any]) -> Dict[str, Any]:
    """Whether kexec_file_load (kexec -s) can load a capture kernel here."""
    kernel = facts["kernel"]
    version, release = kernel.get("version"), kernel.get("release") or ""
    arm64 = _is_arm64(facts)
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
    return file_crash


def capabilities(facts: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """high_low_reservation, kexec_multiple_regions, kexec_file_crash: {supported, why}."""
    return {"high_low_reservation": _high_low_reservation(facts), "kexec_multiple_regions": _kexec_multiple_regions(facts),
            "kexec_file_crash": _kexec_file_crash(facts), "makedumpfile_reads_kernel": makedumpfile_reads_kernel(facts)}


def makedumpfile_reads_kernel(facts: Dict[str, Any]) -> Dict[str, Any]:
    """Whether the host's makedumpfile (or, before it is installed, any released one) can filter this kernel's
    dumps. Known gap: arm64 with 4K pages and VA_BITS=52 ("PAGE SIZE 0x1000 and VA Bits 52 not supported")."""
    if not _is_arm64(facts):
        return _supported(True, "no known makedumpfile gap on %s" % (facts["platform"].get("arch") or "this arch"))
    config = facts["kernel"].get("config")
    if config is None:
        return _supported(None, "kernel config unknown")
    va_bits = config.get("CONFIG_ARM64_VA_BITS")
    page_shift = config.get("CONFIG_PAGE_SHIFT") or config.get("CONFIG_ARM64_PAGE_SHIFT")  # 6.10+ / older
    if page_shift is None and config_enabled(config, "CONFIG_ARM64_4K_PAGES"):
        page_shift = "12"
    if va_bits is None or page_shift is None:
        return _supported(None, "the kernel config names no CONFIG_ARM64_VA_BITS or page size")
    shift = decimal(page_shift, 2)
    layout = "%s-bit VA with %d KiB pages" % (va_bits, (1 << shift) // 1024) if shift is not None and shift < 40 \
        else "VA_BITS=%s" % va_bits
    if not (va_bits == "52" and page_shift == "12"):
        return _supported(True, "arm64 %s is a layout makedumpfile reads" % layout)
    version = facts["software"].get("makedumpfile_version")
    parsed = version_tuple(version)
    if version and parsed is None:
        return _supported(None, "makedumpfile version %r does not parse, so whether it reads arm64 %s is "
                                "unknown" % (version, layout))
    if parsed is not None and parsed > MAKEDUMPFILE_ARM64_LPA2_BROKEN_UP_TO:
        return _supported(True, "makedumpfile %s is newer than 1.7.9 (upstream issue 18 fixed)" % version)
    which = ("makedumpfile %s reads" % version) if version else "released makedumpfile (up to 1.7.9) read"
    return _supported(False, "%s no arm64 dump of a kernel built with %s (upstream issue 18: "
                             "\"PAGE SIZE 0x1000 and VA Bits 52 not supported\")" % (which, layout))


def _fmt(size: Optional[int]) -> str:
    return "unknown" if size is None else format_size(size)


class _Findings:
    def __init__(self) -> None:
        self.items: List[Dict[str, str]] = []

    def add(self, ident: str, severity: str, message: str, fix: str) -> None:
        self.items.append({"id": ident, "severity": severity, "message": message, "fix": fix})

    def sorted(self) -> List[Dict[str, str]]:
        return sorted(self.items, key=lambda item: SEVERITY_ORDER[item["severity"]])


def _reserved(facts: Dict[str, Any]) -> Optional[bool]:
    reservation = facts["reservation"]
    if reservation.get("regions"):
        return True
    size = reservation.get("kexec_crash_size")
    if size:
        return True
    if reservation.get("regions") == [] or size == 0:
        return False
    return None


def _reservation_findings(facts: Dict[str, Any], predict: Predictor, out: _Findings) -> None:
    kernel, memory, reservation = facts["kernel"], facts["memory"], facts["reservation"]
    tokens = kernel.get("crashkernel") or []
    reserved = _reserved(facts)
    if memory.get("iomem_zeroed"):
        out.add("iomem-unreadable", "info",
                "/proc/iomem shows only zero addresses (read without root): RAM and Crash kernel regions are unknown.",
                "Gather facts with become: true.")
    if reserved is False and tokens:
        expected = predict(low_ram=memory.get("low_bytes"))
        why = ""
        if expected is not None and expected["region"] == "none":
            why = " The crashkernel engine agrees: %s" % expected["reason"]
        out.add("crashkernel-reservation-failed", "error",
                "The command line asks for %s but the kernel reserved nothing.%s" % (" ".join(tokens), why),
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


def _last_plain(tokens: List[str]) -> str:
    """The crashkernel= the kernel reads as the plain one: the last without a ,high/,low/,cma suffix."""
    plain = [token for token in tokens if not token.endswith(tuple(SUFFIX_OF_KIND.values()))]
    return plain[-1] if plain else "crashkernel="


def _plain_low_only_findings(kernel: Dict[str, Any], tokens: List[str], reserved: Optional[bool],
                             low_bytes: Optional[int], predict: Predictor, out: _Findings) -> None:
    # upstream arm64 5.19-6.1 places a plain crashkernel=X low or not at all. RHEL 9 and vendor backports,
    # which the engine plans like 5.19 to stay safe, may fall back like 6.2+, so they are not accused here.
    # With no low RAM at all the engine says low-memory-short exactly when a plain value is what counts.
    upstream = predict.upstream_model()
    if upstream is not None and upstream["name"] == MODEL_ARM64_519 and upstream["rhel"] is None:
        low_only = predict(low_ram=0, low_margin=0, model=MODEL_ARM64_519)
        size = predict.asked(MODEL_ARM64_519)
        if low_only is not None and low_only["cause"] == "low-memory-short" and size:
            token = _last_plain(tokens)
            if reserved is False:
                out.add("plain-crashkernel-low-only", "error",
                        "%s is a plain reservation: arm64 %s searches only below the low limit and does not fall "
                        "back above it, and nothing got reserved." % (token, kernel.get("release")),
                        "Use crashkernel=%s,high crashkernel=16M,low (or kdump_crashkernel: auto), then reboot."
                        % _fmt(size))
            elif reserved is None and low_bytes is not None and size > low_bytes // 4:
                out.add("plain-crashkernel-low-only", "warning",
                        "%s must fit below the low limit on arm64 %s (no fallback above it), where only %s of RAM "
                        "lies." % (token, kernel.get("release"), _fmt(low_bytes)),
                        "Use crashkernel=%s,high crashkernel=16M,low (or kdump_crashkernel: auto)." % _fmt(size))


def _arm64_findings(facts: Dict[str, Any],
                    caps: Dict[str, Dict[str, Any]],
                    predict: Predictor,
                    out: _Findings) -> None:
    kernel, memory, software = facts["kernel"], facts["memory"], facts["software"]
    version = kernel.get("version")
    tokens = kernel.get("crashkernel") or []
    _regions, has_low, has_high = _regions_split(facts)
    reserved = _reserved(facts)
    low_bytes = memory.get("low_bytes")
    high_low = caps["high_low_reservation"]

    # two regions: present in /proc/iomem, or what this kernel makes of the command line (with RAM unknown,
    # read as on a host with plenty of RAM above the low limit, where every ,high request is honoured)
    if predict.ram is None:
        expected = predict(low_ram=None, ram=FORM_RAM)
    else:
        expected = predict(low_ram=low_bytes)
    two_expected = expected is not None and expected["region"] == "high" and expected["low_size"] > 0
    kexec_version = version_tuple(software.get("kexec_tools_version"))
    if (has_low and has_high or two_expected) and kexec_version is not None \
            and kexec_version < KEXEC_TOOLS_MULTI_REGION and not facts["reservation"].get("kexec_crash_loaded"):
        out.add("kexec-tools-too-old-for-high-low", "error",
                "kexec-tools %s cannot load an arm64 capture kernel into a high + low reservation (needs >= 2.0.24)."
                % software["kexec_tools_version"],
                "Upgrade kexec-tools to 2.0.24 or later, or reserve one low region only.")

    # the size the command line asks for in any form (read as a kernel that knows ,high would), else the
    # seed table's for this RAM; a kernel without ,high support has to find all of it below the low limit
    if high_low["supported"] is not True and low_bytes is not None:
        need = predict.asked(MODEL_ARM64_519) or predict.asked(MODEL_ARM64_519, CRASHKERNEL + SEED_TABLE)
        if need and need > low_bytes // 4:
            out.add("high-low-unsupported-low-ram-short", "warning" if high_low["supported"] is False else "info",
                    "This arm64 kernel cannot reserve crashkernel above the low limit (%s), and %s of RAM lies below "
                    "it for a %s reservation." % (high_low["why"], _fmt(low_bytes), _fmt(need)),
                    "Boot a kernel with arm64 ,high/,low support (upstream 5.19+, RHEL 9, Ampere LTS) or keep the "
                    "reservation small enough for low RAM.")

    _plain_low_only_findings(kernel, tokens, reserved, low_bytes, predict, out)

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


def _kexec_text_findings(facts: Dict[str, Any], caps: Dict[str, Dict[str, Any]], out: _Findings) -> None:
    """arm64 without kexec_file_load: kexec-tools (kexec_load) takes PAGE_OFFSET and the kernel's physical
    start from _text in /proc/kallsyms to write the capture kernel's ELF core header; kernels built without
    CONFIG_KALLSYMS_ALL (Debian 12's 6.1) do not list _text, the header is wrong and every dump is empty."""
    file_crash = caps["kexec_file_crash"]
    if file_crash["supported"] is True or facts["kernel"].get("kallsyms_text") is not False:
        return
    out.add("kexec-no-text-symbol", "error",
            "This arm64 kernel has no kexec_file_load for crash kernels (%s) and its /proc/kallsyms lists no _text "
            "symbol (CONFIG_KALLSYMS_ALL unset), so kexec-tools writes a wrong ELF core header for the capture "
            "kernel and dumps come out empty." % file_crash["why"],
            "The fleetops.kdump.kdump role works around it (kdump_kallsyms_text_fix: true, the default, on "
            "systemd hosts); otherwise boot a kernel with CONFIG_KEXEC_FILE=y or CONFIG_KALLSYMS_ALL=y.")


# what saves the dump in the capture kernel, by the kdump package the facts name
DUMP_SAVERS = {"kdump-tools": "kdump-tools", "kexec-tools": "kdumpctl", "kdump-utils": "kdumpctl",
               "kdump": "the kdump save script"}


def _makedumpfile_findings(facts: Dict[str, Any], caps: Dict[str, Dict[str, Any]], out: _Findings) -> None:
    reads = caps["makedumpfile_reads_kernel"]
    if reads["supported"] is None and "does not parse" in reads["why"]:
        out.add("makedumpfile-version-unknown", "warning", reads["why"][0].upper() + reads["why"][1:] + ".",
                "Check the package database; makedumpfile up to 1.7.9 writes empty dumps of such kernels, so "
                "crash-test this host (crash_test role) before relying on it.")
    if reads["supported"] is not False:
        return
    saver = DUMP_SAVERS.get(str(facts["software"].get("kdump_package")), "the capture kernel's dump script")
    out.add("makedumpfile-cannot-read-kernel", "error",
            "%s%s: %s would save an empty dump and call it saved (it checks only its compressor's exit status)."
            % (reads["why"][0].upper(), reads["why"][1:], saver),
            "The fleetops.kdump.kdump role makes kdump-tools copy /proc/vmcore unfiltered instead "
            "(kdump_vmcore_copy_fallback: true, the default; the dump directory needs room for all RAM); "
            "otherwise install a makedumpfile newer than 1.7.9 or boot a kernel with 48-bit VA or 64K pages.")
    storage = facts.get("storage") or {}
    ram = facts["memory"].get("total_bytes")
    free = storage.get("free_bytes")
    if ram and free is not None and free < ram:
        out.add("dump-space-short-for-full-copy", "error",
                "An unfiltered dump of this host is up to %s (all RAM) but %s has %s free."
                % (_fmt(ram), storage.get("path"), _fmt(free)),
                "Free space on %s (or set kdump_path to a filesystem with room for all RAM), "
                "or install a makedumpfile that reads this kernel." % storage.get("path"))


# What kdump needs the kernel to be built with: (any of these symbols, finding id, severity, what is missing, fix).
KERNEL_CONFIG_NEEDS = (
    (("CONFIG_KEXEC", "CONFIG_KEXEC_FILE"), "kernel-config-no-kexec", "error",
     "is built without CONFIG_KEXEC and CONFIG_KEXEC_FILE: no capture kernel can be loaded.",
     "Boot a distribution kernel built with kexec support."),
    (("CONFIG_CRASH_DUMP",), "kernel-config-no-crash-dump", "error", "is built without CONFIG_CRASH_DUMP.",
     "Boot a kernel built with CONFIG_CRASH_DUMP=y (every major distribution kernel is)."),
    (("CONFIG_PROC_VMCORE",), "kernel-config-no-proc-vmcore", "error",
     "is built without CONFIG_PROC_VMCORE: the capture kernel cannot expose /proc/vmcore.",
     "Boot a kernel built with CONFIG_PROC_VMCORE=y."),
    (("CONFIG_MAGIC_SYSRQ",), "kernel-config-no-magic-sysrq", "warning",
     "is built without CONFIG_MAGIC_SYSRQ: the crash test cannot use sysrq-c.",
     "Boot a kernel with CONFIG_MAGIC_SYSRQ=y to run the crash_test role."),
)


def _kernel_config_findings(facts: Dict[str, Any], out: _Findings) -> None:
    config = facts["kernel"].get("config")
    if config is None:
        return
    release = facts["kernel"].get("release") or "this kernel"
    for symbols, ident, severity, missing, fix in KERNEL_CONFIG_NEEDS:
        if not any(config_enabled(config, symbol) for symbol in symbols):
            out.add(ident, severity, "%s %s" % (release, missing), fix)


def _software_findings(facts: Dict[str, Any], out: _Findings) -> None:
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
                "/etc/default/kdump-tools does not set USE_KDUMP to a number other than 0: kdump-tools' init script "
                "exits without loading a capture kernel.",
                "Set USE_KDUMP=1 (the fleetops.kdump.kdump role does).")
    if software.get("kdump_package_installed") and software.get("config_file_present") is False:
        out.add("kdump-config-missing", "warning",
                "%s is installed but %s is missing or not a text file: its service loads no capture kernel "
                "without it."
                % (software["kdump_package"], software.get("config_file")),
                "Write %s (the fleetops.kdump.kdump role does)." % software.get("config_file"))


IMPLAUSIBLE_NULLS = {
    "proc/iomem": "RAM size and the Crash kernel regions are unknown (null)",
    "sys/kernel/kexec_crash_size": "kexec_crash_size is null",
    "sys/devices/system/cpu/online": "the CPU count comes from /proc/cpuinfo or is null",
    "sys/kernel/kexec_crash_loaded": "kexec_crash_loaded is null",
    "proc/sys/kernel/arch": "the architecture is null, so nothing is planned",
    "proc/config.gz": "the kernel config is null",
}
WARNING_PATHS = ("sys/devices/system/cpu/online", "var/log/dmesg", "sos_commands/kernel/dmesg")


def findings(facts: Dict[str, Any],
             caps: Dict[str, Dict[str, Any]],
             missing_inputs: List[str],
             live: bool = False,
             implausible: Optional[List[Tuple[str, str]]] = None) -> List[Dict[str, str]]:
    """Every finding for a host's facts, errors first. live: the facts come from the running system.
    implausible: (file, why) of inputs that were read but contradict themselves or another source."""
    out = _Findings()
    for path, why in implausible or []:
        severity = "warning" if path in WARNING_PATHS else "error"
        out.add("input-implausible", severity,
                "/%s cannot be believed: %s%s." % (path, why, "; " + IMPLAUSIBLE_NULLS[path] if path in IMPLAUSIBLE_NULLS
                                                   else ""),
                "Recapture the tree from the host (or gather on the live host, root: /); nothing is planned "
                "from contradictory data." if not live else
                "Check the host: the kernel's own files disagree; nothing is planned from contradictory data.")
    predict = Predictor(facts, caps["high_low_reservation"]["supported"])
    _reservation_findings(facts, predict, out)
    if _is_arm64(facts):
        _arm64_findings(facts, caps, predict, out)
        _kexec_text_findings(facts, caps, out)
        _makedumpfile_findings(facts, caps, out)
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
