# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a kernel reserves for a command line on a host: resolving the request, then placing it."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict, List, Optional, Tuple, Union

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import MAX_CMDLINE, MAX_RAM, brief as _brief
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import GIB, MIB
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import (
    CrashkernelError, PAGE_SIZES, U64_MASK, WHITESPACE_RE,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.sizes import (
    MIN_RAM, format_size, human_size, operator_size, parse_size, ram_hint,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.kernel import (
    ASSUMED_LOW_LIMIT, LOW_MARGIN, MODEL_ARM64_519, MODEL_ARM64_62, MODEL_ARM64_LEGACY, MODEL_X86_52, MODEL_X86_OLD,
    RAM_ROUND_STEP, X86_OLD_LOW_LIMIT, _k_last_token, _k_parse, default_low_size, kernel_model,
)


class _Outcome:
    """Collects the sentences that explain a prediction and builds the result dict."""

    def __init__(self, model: Dict[str, Any]) -> None:
        self.model = model
        self.notes: List[str] = list(model["notes"])

    def say(self, sentence: str) -> None:
        self.notes.append(sentence)

    def result(self,
               region: str,
               size: int = 0,
               low_size: int = 0,
               base: Optional[int] = None,
               cause: Optional[str] = None,
               cma_size: int = 0) -> Dict[str, Any]:
        return {
            "region": region,
            "size": size if region != "none" else 0,
            "low_size": low_size if region != "none" else 0,
            "base": base if region != "none" else None,
            "cma_size": cma_size if region != "none" else 0,
            "reason": " ".join(self.notes),
            "cause": cause,
            "model": self.model["name"],
        }

    def none(self, cause: str, sentence: str) -> Dict[str, Any]:
        self.say(sentence)
        return self.result("none", cause=cause)


def _to_cmdline(cmdline: Any) -> str:
    if cmdline is None:
        return ""
    if isinstance(cmdline, (list, tuple)):
        if not all(isinstance(arg, str) for arg in cmdline):
            raise CrashkernelError("cmdline: a list must hold strings such as 'crashkernel=512M'")
        return " ".join(cmdline)
    if not isinstance(cmdline, str):
        raise CrashkernelError("cmdline: expected the kernel command line (text) or a list of args, got %r"
                               % (cmdline,))
    if re.search(r"[\x00-\x08\x0e-\x1f\x7f]", cmdline):
        raise CrashkernelError("cmdline: %s holds a control character; the kernel's command line is one C string "
                               "of text (a NUL ends it)" % _brief(repr(cmdline)))
    # /proc/cmdline ends with a newline the kernel's own command line does not have; a file read may hold
    # other line breaks or tabs. The kernel's parser sees only spaces between arguments.
    return WHITESPACE_RE.sub(" ", cmdline).strip(" ")


def _bytes_or_size(value: Any, what: str, unit: str, zero_means: Optional[str] = None) -> int:
    """Filter arguments: an int is bytes (as the facts give them); text must carry its unit."""
    if isinstance(value, int) and not isinstance(value, bool):
        return parse_size(value, what)
    return operator_size(value, what, unit, zero_means=zero_means)


def reserve(cmdline: Any, ram: Any, arch: Any = "aarch64", kernel: Optional[str] = None, low_ram: Any = None,
            low_margin: Any = None, page_size: Any = 4096, model: Optional[str] = None,
            high_low_supported: Optional[bool] = None) -> Dict[str, Any]:
    """Predict what a kernel reserves for this command line.

    ram: System RAM in bytes (what memblock_phys_mem_size() sees). low_ram: RAM below the low limit, or
    None to assume low attempts succeed (up to 4 GiB). Returns {region: low|high|fixed|none, size,
    low_size, base, cma_size, reason, cause, model}; sizes in bytes.
    """
    text = _to_cmdline(cmdline)
    if len(text) > MAX_CMDLINE:
        raise CrashkernelError("cmdline: %d characters is longer than any kernel command line (at most %d)"
                               % (len(text), MAX_CMDLINE))
    ram_bytes = _bytes_or_size(ram, "ram", "G")
    if ram_bytes > MAX_RAM:
        raise CrashkernelError("ram: %s is more than any machine can address (4 PiB)" % human_size(ram_bytes))
    if ram_bytes < MIN_RAM:
        written = re.search(r"[0-9]+", str(ram))
        raise CrashkernelError("ram: %d bytes is less than any machine that runs Linux has; give bytes of System "
                               "RAM (memory.total_bytes) or a size such as '%s'"
                               % (ram_bytes, ram_hint(int(written.group(0)[:20])) if written else "8G"))
    low_bytes = None if low_ram is None else _bytes_or_size(low_ram, "low_ram", "G", zero_means="is allowed")
    if low_bytes is not None and low_bytes > ram_bytes:
        raise CrashkernelError("low_ram: %s is more than ram (%s); low_ram is the part of System RAM below the "
                               "low limit (memory.low_bytes)" % (human_size(low_bytes), human_size(ram_bytes)))
    margin = LOW_MARGIN if low_margin is None else _bytes_or_size(low_margin, "low_margin", "M")
    if margin > ASSUMED_LOW_LIMIT:
        raise CrashkernelError("low_margin: %s is more than all low memory (4 GiB); the kernel keeps about 64M"
                               % human_size(margin))
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size not in PAGE_SIZES:
        raise CrashkernelError("page_size: expected 4096, 16384 or 65536, got %r" % (page_size,))
    if kernel is not None and (not isinstance(kernel, str) or not kernel.strip()):
        raise CrashkernelError("kernel: %r is not a kernel release; give the uname -r text (kernel.release of the "
                               "facts) or leave it out for the newest upstream behaviour" % (kernel,))
    kmodel = kernel_model(arch, kernel, high_low_supported, model)
    return _reserve(text, ram_bytes, low_bytes, margin, page_size, kmodel)


def predicted_regions(expected: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The "Crash kernel" regions a reserve() result stands for: [{placement: low|high|fixed, size, base}]."""
    region = expected.get("region")
    size, low_size = expected.get("size") or 0, expected.get("low_size") or 0
    if region in (None, "none") or size <= 0:
        return []
    out = [{"placement": region, "size": size, "base": expected.get("base") if region == "fixed" else None}]
    if low_size > 0:
        out.append({"placement": "low", "size": low_size, "base": None})
    return out


def _placement(region: Dict[str, int], low_limit: int) -> str:
    if region["end"] <= low_limit:
        return "low"
    return "high" if region["start"] >= low_limit else "across the low limit"


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= U64_MASK + 1


LOW_LIMIT_FLOOR = 16 * MIB  # the x86 ISA DMA zone: the lowest end of low memory any kernel uses


def _check_region_inputs(expected: Any, regions: Any, low_limit: Any) -> None:
    """check_regions' inputs have the shapes reserve() and the facts give, else CrashkernelError."""
    if not isinstance(expected, dict) or expected.get("region") not in ("low", "high", "fixed", "none") or \
            not all(_whole(expected.get(key)) for key in ("size", "low_size")) or \
            expected["region"] != "none" and expected["size"] == 0 or \
            expected["region"] == "none" and (expected["size"] or expected["low_size"]) or \
            expected.get("region") == "fixed" and not _whole(expected.get("base")):
        raise CrashkernelError("expected must be a crashkernel_reserve result: {region: low|high|fixed|none, size, "
                               "low_size, base} with sizes in bytes (size above 0 unless region is none, both 0 when "
                               "it is, base an address when region is fixed), got %s" % _brief(repr(expected)))
    if not isinstance(regions, list) or not all(
            isinstance(region, dict) and all(_whole(region.get(key)) for key in ("start", "end", "size"))
            and region["start"] < region["end"] and region["size"] == region["end"] - region["start"]
            for region in regions):
        raise CrashkernelError("regions must be a list of {start, end, size} in bytes with start < end and size = "
                               "end - start (the reservation.regions of the kdump facts), got %s"
                               % _brief(repr(regions)))
    if not _whole(low_limit) or low_limit < LOW_LIMIT_FLOOR:
        raise CrashkernelError("low_limit must be an address in bytes of at least %s (memory.low_limit_bytes; no "
                               "kernel's low memory ends lower), got %s"
                               % (human_size(LOW_LIMIT_FLOOR), _brief(repr(low_limit))))
    spans = sorted((region["start"], region["end"]) for region in regions)
    for (start, end), (next_start, next_end) in zip(spans, spans[1:]):
        if next_start < end:
            raise CrashkernelError("regions 0x%x-0x%x and 0x%x-0x%x %s; /proc/iomem never lists one reservation "
                                   "twice (kdump_facts reports such a file as input-implausible)" % (
                                       start, end - 1, next_start, next_end - 1,
                                       "repeat" if (start, end) == (next_start, next_end) else "overlap"))


def check_regions(expected: Dict[str, Any], regions: List[Dict[str, int]], low_limit: int) -> Dict[str, Any]:
    """Compare what reserve() predicted with the "Crash kernel" regions of /proc/iomem, region by region.

    regions: [{start, end (exclusive), size}]. A predicted region matches an actual one of the same size that
    lies wholly below low_limit (low), wholly above it (high) or starts at base (fixed). Returns {ok,
    predicted, actual (each with its placement), problems (sentences)}.
    """
    _check_region_inputs(expected, regions, low_limit)
    wanted = predicted_regions(expected)
    actual: List[Dict[str, Any]] = [dict(region, placement=_placement(region, low_limit)) for region in regions]
    unmatched = list(range(len(actual)))
    problems = []
    where = {"low": "below %s" % human_size(low_limit), "high": "at or above %s" % human_size(low_limit)}
    for region in wanted:
        for index in unmatched:
            have = actual[index]
            if have["size"] != region["size"]:
                continue
            if region["placement"] == "fixed" and have["start"] == region["base"] or \
                    region["placement"] == have["placement"]:
                unmatched.remove(index)
                break
        else:
            place = "at 0x%x" % region["base"] if region["placement"] == "fixed" else where[region["placement"]]
            problems.append("predicted a %s region %s, /proc/iomem has none" % (human_size(region["size"]), place))
    for index in unmatched:
        have = actual[index]
        problems.append("/proc/iomem has an unpredicted %s region at 0x%x-0x%x (%s)" % (
            human_size(have["size"]), have["start"], have["end"] - 1,
            where.get(have["placement"], have["placement"])))
    return {"ok": not problems, "predicted": wanted, "actual": actual, "problems": problems}


class _Request:
    """What the command line asks this kernel for, before it is placed: the main size, a fixed base (0 for
    none), whether it came from crashkernel=X,high, the low region and the CMA that go with it."""

    def __init__(self, size: int, base: int, high: bool, low_size: int, cma_size: int) -> None:
        self.size, self.base, self.high, self.low_size, self.cma_size = size, base, high, low_size, cma_size


def _reserve(cmdline: str,
             ram: int,
             low_ram: Optional[int],
             margin: int,
             page_size: int,
             model: Dict[str, Any]) -> Dict[str, Any]:
    out = _Outcome(model)
    request = _resolve(out, cmdline, ram, page_size, model)
    if isinstance(request, dict):
        return request
    return _place(out, request, cmdline, ram, low_ram, margin, model)


def _resolve(out: _Outcome, cmdline: str, ram: int, page_size: int,
             model: Dict[str, Any]) -> Union[_Request, Dict[str, Any]]:
    """The request the kernel reads from the command line (the last token of each kind), or a refusal."""
    name = model["name"]
    legacy_x86 = name in (MODEL_X86_OLD, MODEL_X86_52)
    status, size, base, message, token = _k_parse(cmdline, ram, None, model)
    high = False
    low_size = 0
    cma_size = 0
    if status == "ok":
        out.say("The last plain crashkernel= is '%s'." % token)
        if message == "zero-match":
            out.say("Its matching range asks for zero bytes.")
        elif ":" in token and size == 0:
            out.say("No range matches %s of System RAM%s." % (human_size(ram), _rounding_note(ram, model)))
        elif ":" in token:
            out.say("Its ranges select %s for %s of System RAM%s." % (
                human_size(size), human_size(ram), _rounding_note(ram, model)))
    elif status == "invalid":
        out.say("The last plain crashkernel= ('%s') is invalid: the kernel says \"crashkernel: %s\"."
                % (token, message))
    use_high = status == "absent" or (legacy_x86 and (status != "ok" or size == 0))
    if use_high:
        high_request = _resolve_high(out, cmdline, ram, model, status, message, token)
        if isinstance(high_request, dict):
            return high_request
        (size, low_size), base, high = high_request, 0, True
    elif status == "invalid":
        return out.none("invalid", "An invalid plain crashkernel= also hides any crashkernel=X,high, so nothing "
                                   "is reserved.")
    elif size == 0:
        return out.none("no-range-match" if ":" in token and message != "zero-match" else "zero-size",
                        "Nothing is reserved.")
    elif _k_last_token(cmdline, ",low", model["suffixes"]) is not None and not legacy_x86:
        out.say("crashkernel=Y,low is ignored next to a plain crashkernel= on this kernel.")

    if model["cma_reserve"]:
        cstatus, csize, _unused, _msg, ctoken = _k_parse(cmdline, ram, ",cma", model)
        if cstatus == "ok" and csize:
            cma_size = csize
            out.say("'%s' adds %s of CMA that the running system may still use." % (ctoken, human_size(csize)))
    elif ",cma" in model["suffixes"] and _k_last_token(cmdline, ",cma", model["suffixes"]) is not None:
        out.say("crashkernel=X,cma is recognised but not reserved by this arch/kernel.")

    if size >= ram:
        return out.none("size-exceeds-ram", "%s is not below the %s of System RAM, so the kernel cannot reserve "
                                            "it." % (human_size(size), human_size(ram)))
    if name in (MODEL_ARM64_LEGACY, MODEL_ARM64_519, MODEL_ARM64_62) and size % page_size:
        size = -(-size // page_size) * page_size
        out.say("The size is rounded up to the %d-byte page: %s." % (page_size, human_size(size)))
    if size >= ram:
        return out.none("size-exceeds-ram", "That is not below the System RAM, so nothing is reserved.")

    return _Request(size, base, high, low_size, cma_size)


def _resolve_high(out: _Outcome, cmdline: str, ram: int, model: Dict[str, Any], status: str, message: str,
                  token: str) -> Union[Tuple[int, int], Dict[str, Any]]:
    """(size, low size) of crashkernel=X,high (and ,low) when no usable plain value hides them, or a refusal."""
    name, arch = model["name"], model["arch"]
    legacy_x86 = name in (MODEL_X86_OLD, MODEL_X86_52)
    if status == "absent" and name == MODEL_ARM64_LEGACY:
        if _k_last_token(cmdline, ",high", model["suffixes"]) is not None:
            return out.none("no-crashkernel", "This kernel has no ,high/,low support (arm64 before 5.19), so "
                                              "crashkernel=X,high is ignored and nothing is reserved.")
        return out.none("no-crashkernel", "There is no crashkernel= on the command line.")
    if status == "absent" and _k_last_token(cmdline, ",high", model["suffixes"]) is None:
        return out.none("no-crashkernel", "There is no plain crashkernel= and no crashkernel=X,high.")
    hstatus, hsize, _unused, hmessage, htoken = _k_parse(cmdline, ram, ",high", model)
    if hstatus == "absent":
        if status == "invalid":
            cause = "invalid"
        elif status == "ok":
            cause = "no-range-match" if ":" in token and message != "zero-match" else "zero-size"
        else:
            cause = "no-crashkernel"
        return out.none(cause, "There is no crashkernel=X,high to use instead.")
    if hstatus == "invalid":
        return out.none("invalid", "'%s' is invalid: the kernel says \"crashkernel: %s\"." % (htoken, hmessage))
    if hsize == 0:
        return out.none("zero-size", "'%s' asks for zero bytes." % htoken)
    if status != "absent":
        out.say("This kernel then falls back to '%s'." % htoken)
    else:
        out.say("There is no plain crashkernel=, so '%s' is used." % htoken)
    low_size = 0
    if not legacy_x86:
        lstatus, lsize, _unused, lmessage, ltoken = _k_parse(cmdline, ram, ",low", model)
        if lstatus == "invalid":
            return out.none("invalid", "'%s' is invalid (the kernel says \"crashkernel: %s\"), and an "
                                       "invalid ,low cancels the whole reservation." % (ltoken, lmessage))
        if lstatus == "ok":
            low_size = lsize
            out.say("'%s' sets the low region to %s." % (ltoken, human_size(lsize)))
        elif name == MODEL_ARM64_519:
            out.say("Without crashkernel=Y,low this kernel (arm64 5.19-6.1) adds no low region.")
        else:
            low_size = default_low_size(arch, cmdline, model)
            out.say("Without crashkernel=Y,low the kernel adds its default low region of %s."
                    % human_size(low_size))
    return hsize, low_size


def _free_memory(ram: int, low_ram: Optional[int], margin: int) -> Tuple[int, int]:
    """RAM free for the reservation below and above the low limit (the low limit assumed when unknown)."""
    if low_ram is None:
        low_cap = min(ram, ASSUMED_LOW_LIMIT)
        return low_cap, ram - low_cap
    return max(0, min(low_ram, ram) - margin), max(0, ram - low_ram)


def _place(out: _Outcome, request: _Request, cmdline: str, ram: int, low_ram: Optional[int], margin: int,
           model: Dict[str, Any]) -> Dict[str, Any]:
    """Where the kernel puts the request: above or below the low limit, falling back as its version does."""
    name, arch = model["name"], model["arch"]
    legacy_x86 = name in (MODEL_X86_OLD, MODEL_X86_52)
    size, base, high, low_size, cma_size = request.size, request.base, request.high, request.low_size, request.cma_size
    low_free, high_free = _free_memory(ram, low_ram, margin)
    plain_low_free = min(low_free, X86_OLD_LOW_LIMIT) if name == MODEL_X86_OLD else low_free
    if base:
        return _reserve_fixed(out, legacy_x86, size, base, low_free, cmdline, ram, model, cma_size)

    def fits_low(amount: int) -> bool:
        return amount <= low_free

    def fits_high(amount: int) -> bool:
        return amount <= high_free

    low_text = _low_text(low_ram, low_free, margin)
    if high:
        if fits_high(size):
            out.say("%s is placed above the low limit." % human_size(size))
            region = "high"
        elif fits_low(size):
            out.say("%s does not fit above the low limit (%s there), so it is placed in low memory and no "
                    "low region is added." % (human_size(size), human_size(high_free)))
            return out.result("low", size, 0, None, None, cma_size)
        else:
            return out.none("does-not-fit", "%s fits neither above the low limit (%s) nor below it (%s)."
                            % (human_size(size), human_size(high_free), low_text))
    else:
        if size <= plain_low_free:
            out.say("%s is placed below the low limit (%s)." % (human_size(size), low_text))
            return out.result("low", size, 0, None, None, cma_size)
        if name == MODEL_X86_OLD:
            return out.none("low-memory-short", "%s does not fit below 896 MiB (%s), the only place this kernel "
                                                "(x86_64 before 5.2) searches for a plain crashkernel=."
                            % (human_size(size), low_text))
        if name in (MODEL_ARM64_LEGACY, MODEL_ARM64_519):
            return out.none("low-memory-short", "%s does not fit below the low limit (%s) and this kernel "
                                                "(%s) does not fall back above it." % (human_size(size), low_text, name))
        if not fits_high(size):
            return out.none("does-not-fit", "%s fits neither below the low limit (%s) nor above it (%s)."
                            % (human_size(size), low_text, human_size(high_free)))
        region = "high"
        if legacy_x86:
            out.say("%s does not fit below 4 GiB (%s), so it falls back above 4 GiB." % (human_size(size), low_text))
        else:
            low_size = default_low_size(arch, cmdline, model)
            out.say("%s does not fit below the low limit (%s), so it falls back above it and the kernel adds "
                    "its default low region of %s (any crashkernel=Y,low is ignored)."
                    % (human_size(size), low_text, human_size(low_size)))
    if legacy_x86:
        low_size = _x86_legacy_low(out, cmdline, ram, model)
    if low_size:
        if not fits_low(low_size):
            return out.none("low-region-does-not-fit", "The %s low region does not fit below the low limit (%s), "
                                                       "so the kernel frees the high region too and nothing is "
                                                       "reserved." % (human_size(low_size), low_text))
        out.say("The %s low region fits below the low limit." % human_size(low_size))
    return out.result(region, size, low_size, None, None, cma_size)


def _reserve_fixed(out: _Outcome,
                   legacy_x86: bool,
                   size: int,
                   base: int,
                   low_free: int,
                   cmdline: str,
                   ram: int,
                   model: Dict[str, Any],
                   cma_size: int) -> Dict[str, Any]:
    if legacy_x86:
        align = MIB
    elif model["arch"] == "x86_64":
        align = 16 * MIB
    else:
        align = 2 * MIB
    if base % align:
        return out.none("misaligned-base", "The offset %s is not %s-aligned, so the fixed reservation fails."
                        % (format_size(base), human_size(align)))
    out.say("%s is requested at the fixed offset %s; whether that range is free RAM is not known here."
            % (human_size(size), format_size(base)))
    low_size = 0
    if legacy_x86 and base >= 4 * GIB:
        low_size = _x86_legacy_low(out, cmdline, ram, model)
        if low_size and low_size > low_free:
            return out.none("low-region-does-not-fit", "Its %s low region does not fit below 4 GiB."
                            % human_size(low_size))
    return out.result("fixed", size, low_size, base, None, cma_size)


def _x86_legacy_low(out: _Outcome, cmdline: str, ram: int, model: Dict[str, Any]) -> int:
    """x86_64 before 6.7: reserve_crashkernel_low() whenever the main region is above 4 GiB."""
    status, size, _unused, message, token = _k_parse(cmdline, ram, ",low", model)
    if status == "ok":
        if size == 0:
            out.say("'%s' turns the low region off." % token)
        else:
            out.say("'%s' sets the low region to %s." % (token, human_size(size)))
        return size
    size = default_low_size("x86_64", cmdline, model)
    if status == "invalid":
        out.say("'%s' is invalid (\"crashkernel: %s\"), so this kernel uses its default low region of %s."
                % (token, message, human_size(size)))
    else:
        out.say("The kernel adds its default low region of %s." % human_size(size))
    return size


def _rounding_note(ram: int, model: Dict[str, Any]) -> str:
    if not model["roundup"]:
        return " (this kernel does not round RAM up)"
    rounded = -(-ram // RAM_ROUND_STEP) * RAM_ROUND_STEP
    if rounded == ram:
        return ""
    return " (rounded up to %s for matching)" % human_size(rounded)


def _low_text(low_ram: Optional[int], low_free: int, margin: int) -> str:
    if low_ram is None:
        return "low RAM unknown, assumed to fit up to %s" % human_size(low_free)
    return "%s usable = %s low RAM - %s margin" % (human_size(low_free), human_size(low_ram), human_size(margin))


def select_range(ranges: List[Tuple[int, Optional[int], int]],
                 ram: int,
                 roundup: bool = True) -> Tuple[Optional[int], str]:
    """The size a kernel picks from a range table for this RAM: (size or None, why not)."""
    total = -(-ram // RAM_ROUND_STEP) * RAM_ROUND_STEP if roundup else ram
    for start, end, size in ranges:
        if size >= total:
            return None, "the entry %s-%s:%s is not below the %s of RAM used for matching, which makes the " \
                         "whole argument invalid" % (format_size(start), "" if end is None else format_size(end),
                                                     format_size(size), human_size(total))
        if start <= total and (end is None or total < end):
            return size, ""
    return None, "no range covers %s of RAM" % human_size(total)
