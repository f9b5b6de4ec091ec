# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Policies and the plan for one host: the crashkernel= args, the reservation they give, and findings."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import bisect

from typing import Any, Dict, List, Optional, Tuple, Union

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import (
    MAX_RAM, brief as _brief, kernel_words, quoted, release_arch, version_tuple,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import MIB
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import (
    COMMAND_LINE_SIZE, CRASHKERNEL, CrashkernelError, PAGE_SIZES, U64_MASK, _finding, _get,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.sizes import (
    MIN_RAM, format_size, human_size, operator_size,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.syntax import (
    _token, _token_group, check_operator_value, format_args, format_value, parse,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.kernel import (
    ARM64_DEFAULT_LOW, LOW_MARGIN, MODEL_ARM64_519, MODEL_ARM64_LEGACY, MODEL_X86_52, MODEL_X86_OLD, kernel_model,
    normalize_arch,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.reserve import _reserve, select_range
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.estimate import (
    below_estimate, estimate, estimate_args, total_bytes,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.tables import (
    ALTRA_LOW, TABLE_ALTRA, TABLE_KDUMP_UTILS, debian_table,
)


PRESETS = ("altra", "kdump-utils", "debian", "estimate")
KEXEC_TOOLS_MULTI_REGION = (2, 0, 24)
OVERLAPS_SHOWN = 5  # overlapping range pairs named in a warning; the rest are counted


CAUSE_FIXES = {
    "no-crashkernel": "Set kdump_crashkernel to a preset (auto, altra, kdump-utils, debian, estimate) or a size such as '512M'.",
    "invalid": "Correct the crashkernel= value; the reason quotes the kernel's complaint.",
    "no-range-match": "Add a range that covers this host's RAM, or set an explicit size such as "
                      "kdump_crashkernel: '256M'.",
    "zero-size": "Give a size above zero.",
    "size-exceeds-ram": "Use a size well below the host's RAM.",
    "low-memory-short": "Use the high+low form (kdump_crashkernel: '<size>,high' plus kdump_crashkernel_low: "
                        "'128M') on a kernel that supports it (arm64 5.19+, RHEL 9.1+), or a smaller size.",
    "does-not-fit": "Use a smaller size.",
    "low-region-does-not-fit": "Set a smaller kdump_crashkernel_low such as '16M', or '0' when no 32-bit DMA "
                               "device needs bounce buffers in the capture kernel.",
    "misaligned-base": "Drop the @offset or align it (2 MiB on arm64, 1 MiB or 16 MiB on x86_64).",
    "facts-incomplete": "Gather the facts with fleetops.kdump.kdump_facts before planning.",
    "arch-unsupported": "Set kdump_crashkernel by hand on this architecture; only aarch64 and x86_64 are modelled.",
    "kernel-unknown": "Gather the facts with fleetops.kdump.kdump_facts; kernel.release must be the uname -r text.",
}


def parse_low(low: Any) -> Optional[int]:
    """kdump_crashkernel_low: None (policy default) or a size ('16M', '0' = no low region, bytes)."""
    if low is None or isinstance(low, str) and low.strip().lower() in ("", "auto", "default"):
        return None
    try:
        return operator_size(low, "kdump_crashkernel_low", zero_means="means no low region", reservation=True)
    except CrashkernelError as exc:
        raise CrashkernelError("%s. Fix: set kdump_crashkernel_low to a size such as '16M', to '0' for no low "
                               "region, or leave it unset for the policy default." % exc)


def parse_table(table: Any) -> List[Tuple[int, Optional[int], int]]:
    """A kdump_crashkernel table: a list of {min, max, size} (max left out = no upper bound)."""
    example = "[{min: 2G, max: 64G, size: 256M}, {min: 64G, size: 512M}]"
    if isinstance(table, dict):
        raise CrashkernelError("kdump_crashkernel: a table is a list of {min, max, size} entries, not a mapping; "
                               "write it as %s" % example)
    if not isinstance(table, list) or not table:
        raise CrashkernelError("kdump_crashkernel: a table must be a non-empty list like %s" % example)
    rows: List[Tuple[int, Optional[int], int]] = []
    for index, entry in enumerate(table, 1):
        where = "kdump_crashkernel entry %d" % index
        if not isinstance(entry, dict):
            raise CrashkernelError("%s: expected a mapping {min, max, size}, got %r; e.g. %s" % (where, entry, example))
        unknown = sorted(str(key) for key in set(entry) - {"min", "max", "size"})
        if unknown:
            raise CrashkernelError("%s: unknown key(s) %s; an entry has min, max (optional) and size"
                                   % (where, ", ".join(unknown)))
        if "min" not in entry or "size" not in entry:
            raise CrashkernelError("%s: needs 'min' and 'size' ('max' is optional: leave it out for no upper "
                                   "bound); e.g. %s" % (where, example))
        start = operator_size(entry["min"], where + " min", "G", zero_means="is the bottom of the table")
        end = None if entry.get("max") in (None, "") else operator_size(entry["max"], where + " max", "G")
        size = operator_size(entry["size"], where + " size", reservation=True)  # 0 passes, refused below
        if end is not None and end <= start:
            raise CrashkernelError("%s: max %s is not above min %s" % (where, format_size(end), format_size(start)))
        if size == 0:
            raise CrashkernelError("%s: size 0 reserves nothing; leave the range out instead" % where)
        rows.append((start, end, size))
    ordered = sorted(rows, key=lambda row: row[0])
    for first, second in zip(ordered, ordered[1:]):
        if first[1] is None or first[1] > second[0]:
            raise CrashkernelError("kdump_crashkernel: the ranges starting at %s and %s overlap; the kernel would "
                                   "silently use whichever comes first, so make them disjoint"
                                   % (format_size(first[0]), format_size(second[0])))
    return rows


def parse_policy(policy: Any) -> Dict[str, Any]:
    """Validate kdump_crashkernel: {kind: preset|explicit|table, name, tokens, table}. Raises on bad input."""
    if policy is None:
        policy = "auto"
    if isinstance(policy, str):
        text = policy.strip()
        if text.lower() in ("auto",) + PRESETS:
            return {"kind": "preset", "name": text.lower(), "tokens": None, "table": None}
        if text == "":
            raise CrashkernelError("kdump_crashkernel is empty; use auto, a preset (altra, kdump-utils, debian, estimate), a "
                                   "size such as '512M', or a table of ranges")
        try:
            tokens = parse(text)
        except CrashkernelError as exc:
            raise CrashkernelError("kdump_crashkernel: %r is neither a preset (auto, altra, kdump-utils, debian, estimate) "
                                   "nor a valid crashkernel value: %s" % (_brief(policy), exc))
        if not tokens:
            raise CrashkernelError("kdump_crashkernel: %r holds no crashkernel value; write e.g. '512M', "
                                   "'1G-:256M' or '768M,high 16M,low'" % _brief(policy))
        words = text.split()
        prefixed = [word for word in words if word.startswith(CRASHKERNEL)]
        stray = [word for word in words if not word.startswith(CRASHKERNEL)] if prefixed else []
        if stray:
            raise CrashkernelError("kdump_crashkernel: %r mixes crashkernel= values with %s, which would be dropped; "
                                   "give only crashkernel values (e.g. '768M,high 16M,low' or "
                                   "'crashkernel=768M,high crashkernel=16M,low')"
                                   % (_brief(policy), _brief(" and ".join(repr(word) for word in stray))))
        for value in [word[len(CRASHKERNEL):] for word in prefixed] or words:
            check_operator_value(value, "kdump_crashkernel")
        return {"kind": "explicit", "name": "explicit", "tokens": tokens, "table": None}
    if isinstance(policy, (list, dict)):
        return {"kind": "table", "name": "table", "tokens": None, "table": parse_table(policy)}
    if isinstance(policy, int) and not isinstance(policy, bool) and 0 < policy < 1 << 20:
        raise CrashkernelError("kdump_crashkernel: %d is a bare number, which the kernel would read as bytes; did "
                               "you mean '%dM'? (YAML reads an unquoted 512 as a number: write '512M')"
                               % (policy, policy))
    raise CrashkernelError("kdump_crashkernel: %s is not usable; use auto, a preset (altra, kdump-utils, debian, estimate), "
                           "a size string such as '512M' (not a bare number), or a list of {min, max, size}"
                           % (quoted(policy),))


def _kdump_utils_delta(facts: Dict[str, Any], arch: str, findings: List[Dict[str, str]]) -> int:
    """kdump-utils kdump_get_arch_recommend_crashkernel(): aarch64 additions for 64K pages, SMMU, mlx5."""
    if arch != "aarch64":
        return 0
    page_size = _get(facts, "platform", "page_size")
    smmu = _get(facts, "platform", "arm_smmu")
    mlx5 = _get(facts, "platform", "mlx5")
    delta = 0
    parts = []
    if page_size == 65536:
        delta += 100 * MIB
        parts.append("100 MiB for 64K pages")
        if smmu:
            delta += 384 * MIB
            parts.append("384 MiB for the arm-smmu queues")
        if mlx5:
            delta += 200 * MIB
            parts.append("200 MiB for mlx5")
    elif mlx5:
        delta += 150 * MIB
        parts.append("150 MiB for mlx5")
    unknown = [name for name, value in (("platform.arm_smmu", smmu), ("platform.mlx5", mlx5)) if value is None]
    if page_size == 65536 and unknown:
        findings.append(_finding(
            "crashkernel-sizing-facts-missing", "info",
            "The kdump-utils table adds memory on 64K-page kernels for an arm-smmu (384 MiB) and mlx5 NICs "
            "(200 MiB), but %s %s not in the facts, so those additions are left out." % (
                " and ".join(unknown), "is" if len(unknown) == 1 else "are"),
            "Gather the facts with a kdump_facts that reports them, or set kdump_crashkernel to a larger size."))
    if parts:
        findings.append(_finding("crashkernel-sizing-additions", "info",
                                 "kdump-utils sizing adds %s to every range." % ", ".join(parts)))
    return delta


def _table_arg(table: List[Tuple[int, Optional[int], int]]) -> str:
    ranges = [{"start": start, "end": end, "size": size} for start, end, size in table]
    return CRASHKERNEL + format_value(_token("ranges", ranges=ranges))


def _none_expected(cause: str, reason: str) -> Dict[str, Any]:
    return {"region": "none", "size": 0, "low_size": 0, "base": None, "cma_size": 0, "reason": reason,
            "cause": cause, "model": None}


# The plan's refusals: an empty plan, which kdump_accept_findings must not wave through.
PLAN_EMPTY_FINDINGS = ("crashkernel-facts-incomplete", "crashkernel-arch-unsupported", "crashkernel-kernel-unknown")


def _refused(policy_name: str, cause: str, message: str, findings: List[Dict[str, str]]) -> Dict[str, Any]:
    findings.append(_finding("crashkernel-" + cause, "error", message, CAUSE_FIXES[cause]))
    return {"args": [], "expected": _none_expected(cause, message), "policy": policy_name, "findings": findings}


def _implausible_sources(facts_findings: Any) -> str:
    """The messages of the facts' input-implausible errors, joined ('' when there are none); the warnings
    (a CPU list, a dmesg low limit) null a value that has a safe fallback."""
    if not isinstance(facts_findings, list):
        return ""
    return "; ".join(str(item.get("message") or "an input the facts do not believe") for item in facts_findings
                     if isinstance(item, dict) and item.get("id") == "input-implausible"
                     and item.get("severity") != "warning")


def _command_line_findings(words: List[str], base_cmdline: str, args: List[str],
                           expected: Dict[str, Any]) -> List[Dict[str, str]]:
    """Errors of the command line the plan leads to: a stray crashkernel= the kernel would also read, a line
    longer than the kernel keeps."""
    findings: List[Dict[str, str]] = []
    init_words = words[words.index("--") + 1:] if "--" in words else []
    stray = [word for word in words if CRASHKERNEL in word and not word.startswith(CRASHKERNEL)] + \
        [word for word in init_words if word.startswith(CRASHKERNEL)]
    if stray:
        findings.append(_finding("crashkernel-stray-argument", "error",
                                 "The command line holds %s; the kernel finds 'crashkernel=' inside any word and "
                                 "reads it as a crashkernel= argument, so the reservation would not be the planned "
                                 "one; with it the kernel reads: %s" % (_brief(", ".join(stray)), expected["reason"]),
                                 "Remove %s from the boot loader's command line (kernel_cmdline remove_args)."
                                 % ("it" if len(stray) == 1 else "them")))
    planned_cmdline = " ".join([base_cmdline] + args).strip()
    if len(planned_cmdline) >= COMMAND_LINE_SIZE:
        findings.append(_finding("crashkernel-cmdline-too-long", "error",
                                 "With %s the kernel command line would be %d bytes; the kernel keeps the first "
                                 "%d and cuts the rest, so it would not read the crashkernel= value as written."
                                 % (_brief(" ".join(args)), len(planned_cmdline), COMMAND_LINE_SIZE - 1),
                                 "Use a shorter crashkernel= value (fewer ranges) or drop unused arguments."))
    return findings


def _host(facts: Dict[str, Any], policy_name: str) -> Union[Tuple[str, str], Dict[str, Any]]:
    """What the plan needs from the facts, checked: {arch, release, ram, low_ram, page_size, model}, or the
    (cause, message) of a refusal when the facts cannot be planned from."""
    implausible = _implausible_sources(facts.get("findings"))
    if implausible:
        return ("facts-incomplete", "the facts hold input-implausible (%s), so nothing is planned "
                "from them." % _brief(implausible))
    arch_raw = _get(facts, "platform", "arch")
    try:
        arch = normalize_arch(arch_raw)
    except CrashkernelError:
        return ("arch-unsupported", "platform.arch is %r; the crashkernel rules are modelled "
                "for aarch64 and x86_64 only." % (arch_raw,))
    release = _get(facts, "kernel", "release")
    named = release_arch(release if isinstance(release, str) else "")
    if named is not None and named != arch:
        return ("facts-incomplete", "platform.arch is %s but kernel.release %s names %s: the "
                "facts contradict each other." % (arch, quoted(release), named))
    ram = _get(facts, "memory", "total_bytes")
    low_ram = _get(facts, "memory", "low_bytes")
    if isinstance(ram, bool) or not isinstance(ram, int) or ram < MIN_RAM or ram > MAX_RAM:
        return ("facts-incomplete", "memory.total_bytes is %r, so no size can be planned "
                "(RAM between 16 MiB and 4 PiB is expected)." % (ram,))
    if low_ram is not None and (isinstance(low_ram, bool) or not isinstance(low_ram, int) or not 0 <= low_ram <= ram):
        return ("facts-incomplete", "memory.low_bytes is %r; the RAM below the low limit is "
                "between 0 and memory.total_bytes (%d), or null when unknown." % (low_ram, ram))
    page_size = _get(facts, "platform", "page_size")
    if page_size is None:
        page_size = 4096
    elif isinstance(page_size, bool) or not isinstance(page_size, int) or page_size not in PAGE_SIZES:
        return ("facts-incomplete", "platform.page_size is %r; a kernel page is 4096, 16384 "
                "or 65536 bytes (null when unknown)." % (page_size,))
    for name in ("arm_smmu", "mlx5", "is_altra"):
        if not isinstance(_get(facts, "platform", name), (bool, type(None))):
            return ("facts-incomplete", "platform.%s is %r; true, false or null (unknown) is "
                    "expected." % (name, _get(facts, "platform", name)))
    if arch == "aarch64" and policy_name in ("auto", "estimate") and _get(facts, "platform", "is_altra") is None:
        return ("facts-incomplete", "platform.is_altra is unknown (see input-implausible), so "
                "auto cannot choose between the altra and kdump-utils policies.")
    try:
        model = kernel_model(arch, release if isinstance(release, str) and release else "invalid",
                             _get(facts, "capabilities", "high_low_reservation", "supported"))
    except CrashkernelError:
        return ("kernel-unknown", "kernel.release is %r, so the kernel's crashkernel rules are "
                "unknown." % (release,))
    return {"arch": arch, "release": release, "ram": ram, "low_ram": low_ram, "page_size": page_size, "model": model}


def plan(facts: Any, policy: Any = "auto", low: Any = None) -> Dict[str, Any]:
    """The crashkernel= args for one host, what its kernel will reserve with them, and findings.

    facts: ansible_facts.kdump (docs/interfaces.md). policy: kdump_crashkernel. low: kdump_crashkernel_low.
    Returns {args, expected, policy, findings}; a plan with an error finding must not be applied.
    """
    if isinstance(facts, dict) and "platform" not in facts and isinstance(facts.get("kdump"), dict):
        facts = facts["kdump"]
    if not isinstance(facts, dict):
        raise CrashkernelError("crashkernel_plan expects ansible_facts.kdump (the dict that "
                               "fleetops.kdump.kdump_facts returns), got %r" % (facts,))
    spec = parse_policy(policy)
    low_override = parse_low(low)
    findings: List[Dict[str, str]] = []

    host = _host(facts, spec["name"])
    if isinstance(host, tuple):
        return _refused(spec["name"], host[0], host[1], findings)
    arch, ram, low_ram, page_size, model = host["arch"], host["ram"], host["low_ram"], host["page_size"], host["model"]
    cmdline = _get(facts, "kernel", "cmdline")
    words = kernel_words(cmdline if isinstance(cmdline, str) else "")
    base_cmdline = " ".join(word for word in words if not word.startswith(CRASHKERNEL))

    def predict(args: List[str]) -> Dict[str, Any]:
        return _reserve(" ".join([base_cmdline] + args).strip(), ram, low_ram, LOW_MARGIN, page_size, model)

    policy_name = spec["name"]
    auto_name = "altra" if arch == "aarch64" and _get(facts, "platform", "is_altra") is True else "kdump-utils"
    if spec["kind"] == "preset" and policy_name in ("auto", "estimate"):
        findings.append(_finding("crashkernel-policy-auto", "info", "kdump_crashkernel is %s: %s picked %s." % (
            policy_name, "an Ampere Altra/Altra Max host" if auto_name == "altra" else "this %s host" % arch,
            auto_name)))
        policy_name = auto_name

    if spec["kind"] == "explicit":
        tokens = list(spec["tokens"])
        if low_override is not None:
            tokens = [token for token in tokens if token["kind"] != "low"] + [_token("low", size=low_override)]
        findings.extend(_explicit_findings(tokens, model))
        args = format_args(_last_of_each_kind(tokens))
    else:
        args = _table_args(spec, policy_name, facts, arch, ram, low_ram, low_override, model, predict, findings)
    expected = predict(args)
    table_expected = expected if spec["kind"] != "explicit" else predict(_table_args(
        {"kind": "preset"}, auto_name, facts, arch, ram, low_ram, low_override, model, predict, []))
    estimated = estimate(facts)
    if spec["name"] == "estimate":
        planned = estimate_args(args, table_expected, estimated, findings)
        if planned != args:
            args, expected = planned, predict(planned)
        policy_name = "estimate"

    findings.extend(_command_line_findings(words, base_cmdline, args, expected))
    findings.extend(_check_expected(expected, args, arch, ram, low_ram, model, facts))
    findings.extend(below_estimate(estimated, expected, _get(facts, "reservation", "total_bytes")))
    return {"args": args, "expected": expected, "policy": policy_name, "findings": findings,
            "table_bytes": total_bytes(table_expected), "estimate": estimated}


def _policy_table(spec: Dict[str, Any], policy_name: str, facts: Dict[str, Any], arch: str,
                  findings: List[Dict[str, str]]) -> Tuple[List[Tuple[int, Optional[int], int]], bool, Optional[int]]:
    """(table, prefer high+low, the policy's low size) for a table policy or a preset."""
    prefer_high_low = False
    policy_low: Optional[int] = None
    if spec["kind"] == "table":
        table = spec["table"]
    elif policy_name == "altra":
        table, prefer_high_low, policy_low = TABLE_ALTRA, True, ALTRA_LOW
        if arch != "aarch64" or _get(facts, "platform", "is_altra") is not True:
            findings.append(_finding(
                "crashkernel-policy-mismatch", "error" if arch != "aarch64" else "warning",
                "The altra policy sizes for Ampere Altra/Altra Max (arm64, little RAM below 4 GiB, a %s low region), "
                "but this host is %s." % (human_size(ALTRA_LOW), "x86_64" if arch != "aarch64" else "an arm64 host "
                                          "that the facts do not identify as an Altra (platform.is_altra is %s)"
                                          % _get(facts, "platform", "is_altra")),
                "Use kdump_crashkernel: auto (it picks altra on Altra hosts only) or kdump-utils."))
    elif policy_name == "kdump-utils":
        delta = _kdump_utils_delta(facts, arch, findings)
        table = [(start, end, size + delta) for start, end, size in TABLE_KDUMP_UTILS[arch]]
    else:
        table = debian_table(facts, arch)
    return table, prefer_high_low, policy_low


def _table_args(spec: Dict[str, Any],
                policy_name: str,
                facts: Dict[str, Any],
                arch: str,
                ram: int,
                low_ram: Optional[int],
                low_override: Optional[int],
                model: Dict[str, Any],
                predict: Any,
                findings: List[Dict[str, str]]) -> List[str]:
    """Args for a sizing table: the plain table when the kernel honours it, else the high+low form."""
    table, prefer_high_low, policy_low = _policy_table(spec, policy_name, facts, arch, findings)
    plain = [_table_arg(table)]
    size, _why = select_range(table, ram, model["roundup"])
    wants_high_low = prefer_high_low or low_override is not None
    knows_high_low = model["name"] != MODEL_ARM64_LEGACY
    if size is None:
        return plain
    low_size = low_override if low_override is not None else policy_low
    if wants_high_low and knows_high_low:
        args = [CRASHKERNEL + format_size(size) + ",high", CRASHKERNEL + format_size(low_size or 0) + ",low"]
        if prefer_high_low:
            why = ("Altra has little RAM below 4 GiB, so the %s table's %s is reserved above 4 GiB with a %s low "
                   "region; current kernels ignore crashkernel=Y,low next to a plain crashkernel=, so the "
                   "high+low form is written instead of the seed's ranges + ,low."
                   % (policy_name, human_size(size), human_size(low_size or 0)))
        else:
            why = ("kdump_crashkernel_low is set, and only the high+low form honours it on every kernel, so the "
                   "table's %s for this host is written as %s,high with a %s low region."
                   % (human_size(size), format_size(size), human_size(low_size or 0)))
        findings.append(_finding("crashkernel-high-low-form", "info", why))
        return args
    if wants_high_low:
        findings.append(_finding(
            "crashkernel-high-low-unsupported", "warning",
            "This kernel (%s, arm64 before 5.19 without the backport) cannot reserve above the DMA limit, so the "
            "%s plan falls back to the plain table%s." % (
                model["release"], policy_name, "" if low_override is None else
                " and kdump_crashkernel_low cannot be honoured"),
            "Boot a kernel with crashkernel=X,high support (upstream 5.19+, RHEL 9.1+, Ampere LTS backports)."))
    if model["name"] == MODEL_ARM64_519:
        trial = predict(plain)
        if trial["cause"] == "low-memory-short":
            args = [CRASHKERNEL + format_size(size) + ",high", CRASHKERNEL + format_size(ARM64_DEFAULT_LOW) + ",low"]
            findings.append(_finding(
                "crashkernel-high-low-form", "info",
                "The %s table gives %s for this host, which does not fit below the DMA limit, and arm64 5.19-6.1 "
                "kernels do not fall back above it; planned %s,high with a %s low region (what 6.2+ kernels do "
                "on their own)." % (policy_name, human_size(size), format_size(size), human_size(ARM64_DEFAULT_LOW))))
            return args
        if low_ram is None:
            findings.append(_finding(
                "crashkernel-low-memory-unknown", "warning",
                "memory.low_bytes is unknown; on this kernel a plain crashkernel= that does not fit below the DMA "
                "limit is not moved above it, so the reservation may fail.",
                "Gather the facts with kdump_facts (it reports memory.low_bytes), or use the high+low form."))
    return plain


def _last_of_each_kind(tokens: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Only the token of each kind the kernel reads (the last), in command line order."""
    last = dict((_token_group(token), index) for index, token in enumerate(tokens))
    return [token for index, token in enumerate(tokens) if last[_token_group(token)] == index]


def _range_text(entry: Dict[str, Any]) -> str:
    return format_value(_token("ranges", ranges=[entry]))


def overlapping_ranges(token: Dict[str, Any],
                       shown: int = OVERLAPS_SHOWN) -> Tuple[List[Tuple[Dict[str, Any], Dict[str, Any]]], int]:
    """Up to `shown` pairs of overlapping ranges of a ranges token (each pair in written order: the first
    wins) and how many pairs overlap in all; O(n log n), so a value of thousands of ranges stays fast."""
    ranges = token.get("ranges") or []
    ends = [U64_MASK + 1 if entry["end"] is None else entry["end"] for entry in ranges]
    by_start = sorted(range(len(ranges)), key=lambda index: ranges[index]["start"])
    sorted_ends = sorted(ends)
    disjoint = sum(bisect.bisect_right(sorted_ends, entry["start"]) for entry in ranges)
    total = len(ranges) * (len(ranges) - 1) // 2 - disjoint
    pairs: List[Tuple[int, int]] = []
    active: List[int] = []
    for index in by_start:
        if len(pairs) >= shown:
            break
        active = [other for other in active if ends[other] > ranges[index]["start"]]
        pairs.extend((min(other, index), max(other, index)) for other in active)
        active.append(index)
    return [(ranges[first], ranges[second]) for first, second in sorted(pairs)[:shown]], total


def overlap_warnings(token: Dict[str, Any]) -> List[str]:
    """One sentence per overlapping pair of ranges (the first few): which one the kernel takes where they
    overlap."""
    pairs, total = overlapping_ranges(token)
    sentences = ["ranges %s and %s overlap; the kernel takes the first range that matches the RAM size, so %s "
                 "wins where they overlap" % (_range_text(first), _range_text(second), _range_text(first))
                 for first, second in pairs]
    if total > len(pairs):
        sentences.append("%d more pairs of ranges overlap" % (total - len(pairs)))
    return sentences


def _explicit_findings(tokens: List[Dict[str, Any]], model: Dict[str, Any]) -> List[Dict[str, str]]:
    findings = []
    counts: Dict[str, int] = {}
    for token in tokens:
        group = _token_group(token)
        counts[group] = counts.get(group, 0) + 1
    repeated = sorted(group for group, count in counts.items() if count > 1)
    if repeated:
        findings.append(_finding("crashkernel-duplicate-token", "warning",
                                 "kdump_crashkernel has more than one %s token; the kernel reads only the last one "
                                 "of each kind, so only that one is planned." % " / ".join(repeated),
                                 "Keep one token of each kind."))
    for token in tokens:
        sentences = overlap_warnings(token)
        if sentences:
            findings.append(_finding("crashkernel-ranges-overlap", "warning",
                                     "kdump_crashkernel's " + "; ".join(sentences) + ".",
                                     "Make the ranges disjoint: each END is the next START."))
    legacy_x86 = model["name"] in (MODEL_X86_OLD, MODEL_X86_52)
    if counts.get("plain") and counts.get("low") and not legacy_x86:
        findings.append(_finding("crashkernel-low-ignored", "warning",
                                 "crashkernel=Y,low next to a plain crashkernel= is ignored by this kernel (%s); "
                                 "a plain value that falls back above the low limit gets the default low region."
                                 % model["name"],
                                 "To choose the low size, write the high+low form: '<size>,high <low>,low'."))
    if counts.get("high") and model["name"] == MODEL_ARM64_LEGACY:
        findings.append(_finding("crashkernel-high-ignored", "warning",
                                 "This kernel (arm64 before 5.19) ignores crashkernel=X,high and ,low.",
                                 "Use a plain size, or boot a kernel with ,high support (5.19+, RHEL 9.1+)."))
    return findings


CAPTURE_KERNEL_FLOOR = 64 * MIB  # below every table (128 MiB at least): only a mistake reserves less
X86_LOW_FLOOR = 72 * MIB  # the capture kernel's 64 MiB swiotlb + 8 MiB, what x86 reserves low at the least
ARM64_LOW_FLOOR = ALTRA_LOW  # the smallest low region known to work


def _arm64_expected_findings(expected: Dict[str, Any], model: Dict[str, Any],
                             facts: Dict[str, Any]) -> List[Dict[str, str]]:
    """What the planned reservation costs or needs on arm64: kexec-tools for two regions, the linear map."""
    findings = []
    if expected["region"] == "high" and expected["low_size"] > 0:
        kexec = version_tuple(_get(facts, "software", "kexec_tools_version"))
        # a capture kernel loaded into two regions now proves this kexec-tools can (a vendor backport)
        loaded_in_two = _get(facts, "reservation", "kexec_crash_loaded") is True and \
            len(_get(facts, "reservation", "regions") or []) >= 2
        if kexec is not None and kexec < KEXEC_TOOLS_MULTI_REGION and not loaded_in_two:
            findings.append(_finding("kexec-tools-too-old-for-high-low", "error",
                                     "The plan reserves two regions (high + low) but kexec-tools %s loads arm64 "
                                     "capture kernels into one region only (2.0.24 added more)." % ".".join(
                                         str(part) for part in kexec),
                                     "Upgrade kexec-tools to 2.0.24 or later, or reserve one low region only."))
    version = model["version"]
    if model["rhel"] is None and version < (6, 4, 0):
        findings.append(_finding("arm64-linear-map-cost", "info",
                                 "arm64 kernels before 6.4 map all memory with pages instead of blocks once a "
                                 "crashkernel region is reserved, which costs some performance.",
                                 "Accept it, or move to a 6.4+ kernel where the reservation no longer forces a "
                                 "page-granular map."))
    return findings


def _check_expected(expected: Dict[str, Any],
                    args: List[str],
                    arch: str,
                    ram: int,
                    low_ram: Optional[int],
                    model: Dict[str, Any],
                    facts: Dict[str, Any]) -> List[Dict[str, str]]:
    findings = []
    if expected["region"] == "none":
        written = " ".join(args) or "no args"
        findings.append(_finding("crashkernel-" + expected["cause"], "error",
                                 "With %s this kernel would reserve nothing: %s" % (written, expected["reason"]),
                                 CAUSE_FIXES.get(expected["cause"], "")))
        return findings
    if expected["size"] < CAPTURE_KERNEL_FLOOR:
        findings.append(_finding("crashkernel-too-small", "error",
                                 "With %s this kernel would reserve %s; no capture kernel and initrd boot in less than "
                                 "%s (the smallest table here gives 128 MiB), so the crash would leave no dump."
                                 % (" ".join(args), human_size(expected["size"]), human_size(CAPTURE_KERNEL_FLOOR)),
                                 "Use kdump_crashkernel: auto, or an explicit size of at least 128M."))
    low_floor = X86_LOW_FLOOR if arch == "x86_64" else ARM64_LOW_FLOOR
    if expected["region"] == "high" and 0 < expected["low_size"] < low_floor:
        findings.append(_finding("crashkernel-low-too-small", "warning",
                                 "The low region is %s; %s" % (human_size(expected["low_size"]), (
                                     "an x86_64 capture kernel's swiotlb takes 64 MiB of it and the kernel's own "
                                     "default is max(swiotlb + 8 MiB, 256 MiB)." if arch == "x86_64" else
                                     "arm64 capture kernels need at least 16 MiB of DMA-able memory there (the altra "
                                     "policy's size) and the kernel's own default is 128 MiB.")),
                                 "Leave kdump_crashkernel_low unset (the kernel picks it) or give at least %s."
                                 % format_size(low_floor)))
    total = expected["size"] + expected["low_size"]
    if total * 2 > ram:
        findings.append(_finding("crashkernel-large-share", "warning",
                                 "The reservation (%s) is more than half of the %s of RAM." % (
                                     human_size(total), human_size(ram)),
                                 "Check the size; the running system loses this memory."))
    if low_ram is None and expected["region"] in ("low", "high"):
        findings.append(_finding("crashkernel-low-ram-assumed", "info",
                                 "memory.low_bytes is unknown, so the prediction assumes the low placement fits."))
    if _get(facts, "platform", "is_altra") is True and expected["region"] == "low" and expected["size"] > 256 * MIB:
        findings.append(_finding("crashkernel-altra-low-risk", "warning",
                                 "This Altra host would reserve %s below 4 GiB; Altra has little RAM there and low "
                                 "reservations above about 256 MiB often fail." % human_size(expected["size"]),
                                 "Prefer the altra policy on a kernel with crashkernel=X,high support, and check "
                                 "the reservation after the reboot."))
    if arch == "aarch64":
        findings.extend(_arm64_expected_findings(expected, model, facts))
    return findings
