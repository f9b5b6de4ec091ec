# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The crashkernel= engine: parse, format, predict what a kernel reserves, and plan the args for a host.

Everything here is a pure function of its arguments (text, numbers, the kdump facts dict); nothing reads
the host. The kernel behaviour modelled here was read from the kernel sources; docs/crashkernel.md lists
each rule with the file, function and version it comes from, and tests/unit/module_utils/
test_crashkernel_reserve.py checks every rule against a table that cites the same sources.

Two parsers live here on purpose:
- ``parse`` is strict: it accepts exactly what the kernel accepts and rejects text the kernel would reject
  or silently ignore, with a message that quotes the kernel's own complaint. It is for operator input.
- the ``_k_*`` functions repeat the kernel's parsing step by step (last token wins, left-to-right range
  scan, 64-bit wrap-around, trailing text ignored) and are what ``reserve`` uses on a real command line.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import bisect
import re

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import MAX_CMDLINE, MAX_RAM, kernel_words
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import brief as _brief
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import quoted, release_arch

MIB = 1 << 20
GIB = 1 << 30
U64_MASK = (1 << 64) - 1

CRASHKERNEL = "crashkernel="
KINDS = ("simple", "ranges", "high", "low", "cma")
SUFFIX_OF_KIND = {"high": ",high", "low": ",low", "cma": ",cma"}

# memparse() suffixes, largest first (lib/cmdline.c).
SIZE_SUFFIXES = (("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10))
_SHIFT_OF_CHAR = dict((letter.lower(), shift) for letter, shift in SIZE_SUFFIXES)
_SHIFT_OF_CHAR.update((letter, shift) for letter, shift in SIZE_SUFFIXES)

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

PRESETS = ("altra", "kdump-utils", "debian")
KEXEC_TOOLS_MULTI_REGION = (2, 0, 24)
COMMAND_LINE_SIZE = 2048  # x86_64 and arm64 (asm/setup.h): longer command lines are cut
PAGE_SIZES = (4096, 16384, 65536)
OVERLAPS_SHOWN = 5  # overlapping range pairs named in a warning; the rest are counted

# Sizing tables, (start, end or None, size) in bytes; sources in docs/crashkernel.md.
TABLE_ALTRA = [(512 * MIB, 12 * GIB, 128 * MIB), (12 * GIB, 64 * GIB, 256 * MIB),
               (64 * GIB, 128 * GIB, 512 * MIB), (128 * GIB, None, 768 * MIB)]
ALTRA_LOW = 16 * MIB
TABLE_KDUMP_UTILS = {
    "aarch64": [(2 * GIB, 4 * GIB, 256 * MIB), (4 * GIB, 64 * GIB, 320 * MIB), (64 * GIB, None, 576 * MIB)],
    "x86_64": [(2 * GIB, 64 * GIB, 256 * MIB), (64 * GIB, None, 512 * MIB)],
}
TABLE_DEBIAN: Dict[str, List[Tuple[int, Optional[int], int]]] = {
    "aarch64": [(2 * GIB, 4 * GIB, 320 * MIB), (4 * GIB, 32 * GIB, 512 * MIB), (32 * GIB, 64 * GIB, 1024 * MIB),
                (64 * GIB, 128 * GIB, 2048 * MIB), (128 * GIB, None, 4096 * MIB)],
    "x86_64": [(384 * MIB, None, 128 * MIB)],
}
# kdump-tools 1.10 (Debian 13) raised the amd64 default after OOMs in a 2 GiB guest; the arm64 table is unchanged.
TABLE_DEBIAN_13_X86: List[Tuple[int, Optional[int], int]] = [(512 * MIB, None, 192 * MIB)]


def debian_table(facts: Dict[str, Any], arch: str) -> List[Tuple[int, Optional[int], int]]:
    """The table kdump-tools' grub.d snippet writes on this host's Debian release (12's when unknown)."""
    software = _get(facts, "software") or {}
    major = str(software.get("version") or "").split(".", 1)[0]
    if arch == "x86_64" and software.get("distro") == "debian" and major.isdigit() and int(major) >= 13:
        return TABLE_DEBIAN_13_X86
    return TABLE_DEBIAN[arch]


WHITESPACE_RE = re.compile(r"[\t\n\r\v\f]")
ARCH_ALIASES = {"aarch64": "aarch64", "arm64": "aarch64", "x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64"}


class CrashkernelError(ValueError):
    """Bad crashkernel input. The message names what is wrong and how to fix it."""


# ---------------------------------------------------------------------------------------------------
# Sizes

def format_size(value: int) -> str:
    """Canonical memparse text for a byte count: the largest exact suffix, '0' for zero."""
    if value == 0:
        return "0"
    for letter, shift in SIZE_SUFFIXES:
        if value % (1 << shift) == 0:
            return "%d%s" % (value >> shift, letter)
    return str(value)


def human_size(value: Optional[int]) -> str:
    """Size for sentences: '256 MiB', '1.5 GiB', '4097 bytes'."""
    if value is None:
        return "unknown"
    units = (("TiB", 1 << 40), ("GiB", GIB), ("MiB", MIB))
    for unit, size in units:
        if value >= size and value % size == 0:
            return "%d %s" % (value // size, unit)
        if value >= size and (value * 10) % size == 0:
            return "%.1f %s" % (value / float(size), unit)
    for unit, size in units:
        if value >= size:
            return "%.2f %s" % (value / float(size), unit)
    return "%d bytes" % value


def _at(text: str, index: int) -> str:
    """The character at index, or NUL past the end (C string semantics)."""
    if 0 <= index < len(text):
        return text[index]
    return "\0"


def _digit_value(char: str) -> int:
    return "0123456789abcdef".find(char.lower()) if len(char) == 1 and char != "\0" else -1


def _scan_number(text: str, pos: int) -> Tuple[int, int]:
    """simple_strtoull(text+pos, &end, 0): base from the prefix (0x hex, 0 octal), exact value and end."""
    base = 10
    if _at(text, pos) == "0":
        if _at(text, pos + 1) in ("x", "X") and 0 <= _digit_value(_at(text, pos + 2)) < 16:
            base = 16
            pos += 2
        else:
            base = 8
    value = 0
    while True:
        digit = _digit_value(_at(text, pos))
        if digit < 0 or digit >= base:
            break
        value = value * base + digit
        pos += 1
    return value, pos


def _memparse(text: str, pos: int) -> Tuple[int, int]:
    """memparse(): a number then one optional K/M/G/T/P/E suffix (either case). Exact, not wrapped."""
    value, end = _scan_number(text, pos)
    shift = _SHIFT_OF_CHAR.get(_at(text, end))
    if shift is not None:
        value <<= shift
        end += 1
    return value, end


def parse_size(text: Any, what: str = "size") -> int:
    """A whole size: an int (bytes) or memparse text like '512M', '0x20000000', '16M'."""
    if isinstance(text, bool):
        raise CrashkernelError("%s: expected a size like '512M' or a number of bytes, got %r" % (what, text))
    if isinstance(text, int):
        if text < 0 or text > U64_MASK:
            raise CrashkernelError("%s: %d is outside 0 .. 2^64-1 bytes" % (what, text))
        return text
    if not isinstance(text, str):
        raise CrashkernelError("%s: expected a size like '512M' or a number of bytes, got %r" % (what, text))
    stripped = text.strip()
    value, end = _memparse(stripped, 0)
    if _scan_number(stripped, 0)[1] == 0 or end != len(stripped):
        raise CrashkernelError("%s: %r is not a size; write a number with an optional K, M, G, T, P or E "
                               "suffix, e.g. '512M'" % (what, text))
    if value > U64_MASK:
        raise CrashkernelError("%s: %r overflows 64 bits (the kernel would wrap it to %d)"
                               % (what, text, value & U64_MASK))
    return value


_NUMBER_IN_VALUE = re.compile(r"(?<![0-9A-Za-z])(0[xX][0-9a-fA-F]+|[0-9]+)([KMGTPEkmgtpe]?)")
MAX_RESERVATION = 1 << 40  # 1 TiB: far above any capture kernel's need, below "a unit slipped"
MIN_RAM = 16 * MIB  # no machine that boots Linux has less; a smaller "ram" is a unit mistake


LARGEST_HINTED_RAM = 64 << 40  # hints for RAM sizes stay below the largest machines sold (tens of TiB)


def ram_hint(number: int) -> str:
    """The RAM size a unit-less number most likely meant: number GiB, else number MiB, as memparse text."""
    for shift in (30, 20):
        if MIN_RAM <= number << shift <= LARGEST_HINTED_RAM:
            return format_size(number << shift)
    return "64G"


def _suggest(value: int, unit: str) -> str:
    if unit == "G":
        return ram_hint(value)
    return format_size(value) if value >= MIB and value % MIB == 0 else "%d%s" % (value, unit)


def _bare_number_error(what: str, value: int, unit: str, zero_means: Optional[str]) -> CrashkernelError:
    zero = " (0 %s)" % zero_means if zero_means else ""
    return CrashkernelError("%s: %r has no unit, so the kernel would read it as %d bytes; did you mean '%s'? "
                            "Write sizes with a K, M, G or T suffix%s" % (what, value, value, _suggest(value, unit), zero))


def _octal_numbers(text: str) -> List[Tuple[str, str]]:
    """(number, unit) written with a leading 0 ('016', '0256M'): the kernel reads them as octal."""
    return [(match.group(1), match.group(2)) for match in _NUMBER_IN_VALUE.finditer(text)
            if re.match(r"^0[0-9]", match.group(1))]


def _octal_error(what: str, text: str, numbers: List[Tuple[str, str]]) -> CrashkernelError:
    first, unit = numbers[0]
    octal = int(first, 8) if re.match(r"^[0-7]+$", first) else 0
    return CrashkernelError("%s: %r writes %s with a leading 0, which the kernel reads as octal (%s is %d); drop the "
                            "leading zeros, e.g. '%s'" % (what, text, first + unit, first, octal,
                                                          (first.lstrip("0") or "0") + (unit or "M")))


def _reservation_bounds(what: str, size: int, text: str) -> None:
    """A reservation (or low part) is 0 where allowed, else 1 MiB to 1 TiB: below, a unit slipped."""
    if 0 < size < MIB:
        written = re.search(r"0[xX][0-9a-fA-F]+|[0-9]+", text)
        number = int(written.group(0), 0) if written else size
        raise CrashkernelError("%s: %s is %d bytes; no capture kernel fits in less than 1 MiB; did you mean "
                               "'%dM'?" % (what, text, size, max(1, number)))
    if size > MAX_RESERVATION:
        raise CrashkernelError("%s: %s asks for %s; no capture kernel needs more than a few GiB and the running "
                               "system would lose it all; did you mean MiB (M)?" % (what, text, human_size(size)))


def operator_size(value: Any,
                  what: str,
                  unit: str = "M",
                  zero_means: Optional[str] = None,
                  reservation: bool = False) -> int:
    """A size an operator wrote: '16M', '2G', '0x1000000' (hex is bytes on purpose), or 0 when zero_means
    says what 0 does (0 passes; callers refuse it where it means nothing). A bare number such as 16 or '16'
    is refused: nobody means bytes; so is a leading 0 (octal to the kernel). reservation: also 1 MiB..1 TiB."""
    if isinstance(value, bool) or isinstance(value, float):
        raise CrashkernelError("%s: expected a size like '16M' or '2G', got %r" % (what, value))
    if isinstance(value, int):
        if value == 0:
            return 0
        if value < 0:
            raise CrashkernelError("%s: %d is negative; write a size like '%d%s'" % (what, value, -value, unit))
        raise _bare_number_error(what, value, unit, zero_means)
    size = parse_size(value, what)
    text = value.strip()
    octal = _octal_numbers(text)
    if octal:
        raise _octal_error(what, text, octal)
    if size and not text[-1:].isalpha() and not text.lower().startswith("0x"):
        raise _bare_number_error(what, size, unit, zero_means)
    if reservation:
        _reservation_bounds(what, size, repr(text))
    return size


def bare_numbers(value: str) -> List[str]:
    """Non-zero decimal numbers without a unit in one crashkernel= value ('1G-:256' -> ['256'])."""
    found = []
    for match in _NUMBER_IN_VALUE.finditer(value):
        number, suffix = match.group(1), match.group(2)
        if not suffix and not number.lower().startswith("0x") and int(number, 10) != 0:
            found.append(number)
    return found


def check_operator_value(value: str, what: str) -> Dict[str, Any]:
    """parse_value for a crashkernel= value an operator wrote: also refuses sizes without a unit, octal
    numbers, and reservations below 1 MiB or above 1 TiB."""
    try:
        token = parse_value(value)
    except CrashkernelError as error:
        raise CrashkernelError("%s: %s" % (what, error))
    octal = _octal_numbers(value)
    if octal:
        raise _octal_error(what, "crashkernel=" + value, octal)
    bare = bare_numbers(value)
    if bare:
        hint = value
        for number in bare:
            hint = re.sub(r"(?<![0-9A-Za-z])%s(?![0-9A-Za-z])" % number, number + "M", hint, count=1)
        raise CrashkernelError("%s: crashkernel=%s has %s without a unit, which the kernel reads as bytes; did "
                               "you mean crashkernel=%s?" % (what, _brief(value), " and ".join(repr(n) for n in bare[:5]),
                                                             _brief(hint)))
    if token["kind"] in ("simple", "high") and token["size"] == 0:
        raise CrashkernelError("%s: crashkernel=%s reserves nothing, so no capture kernel can load; give a size "
                               "such as 512M (to remove the reservation use state: absent)" % (what, _brief(value)))
    sizes = [token["size"]] if token["size"] is not None else [entry["size"] for entry in token["ranges"] or []]
    for size in sizes:
        if size:
            _reservation_bounds(what, size, "crashkernel=" + _brief(value))
    return token


def reservation_gap(tokens: Sequence[Dict[str, Any]]) -> Optional[str]:
    """Why parsed crashkernel= tokens (command line order) reserve nothing on any machine, or None. The kernel
    reads the last plain token first; only without one does it read ,high (and then ,low); ,cma is extra."""
    last = dict((_token_group(token), token) for token in tokens)
    plain, high = last.get("plain"), last.get("high")
    if plain is None and high is None:
        return ("%s alone reserves nothing: the kernel reads crashkernel=Y,low and crashkernel=Z,cma only next to "
                "the main reservation; add crashkernel=SIZE,high or crashkernel=SIZE, e.g. crashkernel=512M,high"
                % " and ".join("crashkernel=" + format_value(token) for token in tokens))
    if plain is not None and plain["kind"] == "ranges" and not any(entry["size"] for entry in plain["ranges"]):
        beside = " (and the kernel does not read ,high next to it)" if high else ""
        return ("crashkernel=%s reserves 0 in every range, so it reserves nothing on any machine%s; give the "
                "ranges a size such as 512M" % (_brief(format_value(plain)), beside))
    return None


def ignored_slots(tokens: Sequence[Dict[str, Any]]) -> List[str]:
    """Tokens the kernel never reads because a plain crashkernel= is there too (generic reservation code)."""
    if not any(_token_group(token) == "plain" for token in tokens):
        return []
    return ["crashkernel=%s: the kernel reads ,high only when no plain crashkernel= is given, so this one is "
            "ignored" % format_value(token) for token in tokens if token["kind"] == "high"]


# ---------------------------------------------------------------------------------------------------
# Strict parse and canonical format

def _token(kind: str,
           size: Optional[int] = None,
           ranges: Optional[List[Dict[str, Any]]] = None,
           offset: Optional[int] = None) -> Dict[str, Any]:
    return {"kind": kind, "size": size, "ranges": ranges, "offset": offset}


def _reject(value: str, pos: int, complaint: str, advice: str = "") -> None:
    message = "crashkernel=%s: the kernel rejects this with \"crashkernel: %s\" at character %d" % (
        _brief(value), complaint, pos + 1)
    raise CrashkernelError(message + ("; " + advice if advice else ""))


def _checked(value: str, text: str, number: int) -> int:
    if number > U64_MASK:
        raise CrashkernelError("crashkernel=%s: %r overflows 64 bits; the kernel would silently wrap it to %d"
                               % (_brief(value), text, number & U64_MASK))
    return number


def _strict_number(value: str, pos: int, complaint: str) -> Tuple[int, int]:
    number, end = _memparse(value, pos)
    if end == pos:
        _reject(value, pos, complaint)
    if _scan_number(value, pos)[1] == pos:
        raise CrashkernelError("crashkernel=%s: %r at character %d has no digits, so the kernel silently reads it "
                               "as 0; write a number such as 512M" % (_brief(value), value[pos:end], pos + 1))
    return _checked(value, value[pos:end], number), end


def parse_value(value: str) -> Dict[str, Any]:
    """One crashkernel= value (without the 'crashkernel=' prefix) in structured form."""
    if not isinstance(value, str):
        raise CrashkernelError("a crashkernel value must be text, got %r" % (value,))
    _check_length(value, "a crashkernel value")
    if value == "":
        _reject(value, 0, "memory value expected", "give a size such as 512M")
    for kind in ("high", "low", "cma"):
        suffix = SUFFIX_OF_KIND[kind]
        if value.endswith(suffix):
            body = value[:-len(suffix)]
            size, end = _strict_number(value, 0, "memory value expected")
            if end != len(body):
                _reject(value, end, "unrecognized char: %s" % _at(value, end),
                        "the %s form takes one plain size (no ranges, no @offset)" % suffix)
            return _token(kind, size=size)
    if ":" in value:
        return _parse_ranges_strict(value)
    size, end = _strict_number(value, 0, "memory value expected")
    offset = None
    if _at(value, end) == "@":
        offset, after = _memparse(value, end + 1)
        if after == end + 1:
            raise CrashkernelError("crashkernel=%s: nothing usable follows '@', so the kernel silently takes "
                                   "offset 0 (no fixed offset); give an offset or drop the '@'" % value)
        offset, end = _checked(value, value[end + 1:after], offset), after
        if end != len(value):
            raise CrashkernelError("crashkernel=%s: the kernel stops after the offset and silently ignores %r; "
                                   "remove it" % (_brief(value), value[end:]))
    if end != len(value):
        if _at(value, end) == ",":
            _reject(value, end, "unrecognized char: ,", "known suffixes are ,high ,low and ,cma")
        _reject(value, end, "unrecognized char: %s" % value[end])
    return _token("simple", size=size, offset=offset)


def _parse_ranges_strict(value: str) -> Dict[str, Any]:
    ranges: List[Dict[str, Any]] = []
    cur = 0
    while True:
        start, cur = _strict_number(value, cur, "Memory value expected")
        if _at(value, cur) != "-":
            _reject(value, cur, "'-' expected", "each range is START-[END]:SIZE")
        cur += 1
        end: Optional[int] = None
        if _at(value, cur) != ":":
            end, cur = _strict_number(value, cur, "Memory value expected")
            if end <= start:
                _reject(value, cur - 1, "end <= start", "a range's END must be above its START")
        if _at(value, cur) != ":":
            _reject(value, cur, "':' expected", "each range is START-[END]:SIZE")
        size, cur = _strict_number(value, cur + 1, "Memory value expected")
        ranges.append({"start": start, "end": end, "size": size})
        if _at(value, cur) != ",":
            break
        cur += 1
    offset = None
    if _at(value, cur) == "@":
        offset, cur = _strict_number(value, cur + 1, "Memory value expected after '@'")
    if cur != len(value):
        raise CrashkernelError(
            "crashkernel=%s: the kernel stops reading at character %d and silently ignores %r; remove it "
            "(ranges are START-[END]:SIZE separated by commas, then an optional @OFFSET)"
            % (_brief(value), cur + 1, value[cur:]))
    return _token("ranges", ranges=ranges, offset=offset)


def parse(text: Any) -> List[Dict[str, Any]]:
    """Structured form of every crashkernel= token of a command line, or of bare values ('512M')."""
    if not isinstance(text, str):
        raise CrashkernelError("crashkernel_parse expects text (a command line or a value such as '512M'), "
                               "got %r" % (text,))
    _check_length(text, "the text")
    words = kernel_words(text)
    tokens = [word[word.find(CRASHKERNEL):] for word in words if CRASHKERNEL in word]
    if tokens:
        return [parse_value(word[len(CRASHKERNEL):]) for word in tokens]
    if any("=" in word for word in words):
        return []
    values = []
    for index, word in enumerate(words):
        if word.lower().rstrip(":") in ("crashkernel", "crash_kernel", "crash-kernel"):
            raise CrashkernelError("%s is the key without a value: give crashkernel=512M, or the value alone (512M)"
                                   % quoted(word))
        try:
            values.append(parse_value(word))
        except CrashkernelError as exc:
            if len(words) == 1:
                raise
            raise CrashkernelError("%s splits at whitespace into %d values (a size holds no space: '512M'); value %d "
                                   "%s: %s" % (quoted(text), len(words), index + 1, quoted(word), exc))
    return values


def _check_length(text: str, what: str) -> None:
    if len(text) > MAX_CMDLINE:
        raise CrashkernelError("%s is %d characters long; no kernel command line holds more than %d KiB"
                               % (what, len(text), MAX_CMDLINE >> 10))


def _optional_int_field(where: str, name: str, value: Any) -> Optional[int]:
    return None if value is None else _int_field(where, name, value)


def _int_field(where: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CrashkernelError("%s: '%s' must be a whole number of bytes, got %r" % (where, name, value))
    if value < 0 or value > U64_MASK:
        raise CrashkernelError("%s: '%s' = %d is outside 0 .. 2^64-1" % (where, name, value))
    return value


def format_value(token: Any) -> str:
    """Canonical value text (without 'crashkernel=') of one structured token."""
    if not isinstance(token, dict):
        raise CrashkernelError("crashkernel_format: each token must be a dict like those crashkernel_parse "
                               "returns, got %r" % (token,))
    unknown = sorted(set(token) - {"kind", "size", "ranges", "offset"})
    if unknown:
        raise CrashkernelError("crashkernel_format: unknown key(s) %s; a token has kind, size, ranges, offset"
                               % ", ".join(unknown))
    kind = token.get("kind")
    if kind not in KINDS:
        raise CrashkernelError("crashkernel_format: kind must be one of %s, got %r" % (", ".join(KINDS), kind))
    where = "crashkernel_format (%s token)" % kind
    offset = _optional_int_field(where, "offset", token.get("offset"))
    if kind == "ranges":
        ranges = token.get("ranges")
        if not isinstance(ranges, list) or not ranges:
            raise CrashkernelError("%s: 'ranges' must be a non-empty list of {start, end, size}" % where)
        if token.get("size") is not None:
            raise CrashkernelError("%s: 'size' must be null; each range carries its own size" % where)
        parts = []
        for entry in ranges:
            if not isinstance(entry, dict) or set(entry) - {"start", "end", "size"}:
                raise CrashkernelError("%s: each range must be a dict with start, end, size; got %r" % (where, entry))
            start = _int_field(where, "start", entry.get("start"))
            end = _optional_int_field(where, "end", entry.get("end"))
            size = _int_field(where, "size", entry.get("size"))
            if end is not None and end <= start:
                raise CrashkernelError("%s: range end %d is not above start %d" % (where, end, start))
            parts.append("%s-%s:%s" % (format_size(start), "" if end is None else format_size(end),
                                       format_size(size)))
        text = ",".join(parts)
    else:
        if token.get("ranges") is not None:
            raise CrashkernelError("%s: 'ranges' must be null; only the ranges kind has ranges" % where)
        text = format_size(_int_field(where, "size", token.get("size")))
        if kind != "simple":
            if offset is not None:
                raise CrashkernelError("%s: the %s form takes no @offset" % (where, SUFFIX_OF_KIND[kind]))
            return text + SUFFIX_OF_KIND[kind]
    if offset is not None:
        text += "@" + format_size(offset)
    return text


def format_tokens(structure: Any) -> str:
    """'crashkernel=...' text for one token (dict) or a list of tokens, in canonical form."""
    if isinstance(structure, dict):
        structure = [structure]
    if not isinstance(structure, list):
        raise CrashkernelError("crashkernel_format expects a token dict or the list crashkernel_parse returns, "
                               "got %r" % (structure,))
    return " ".join(CRASHKERNEL + format_value(token) for token in structure)


def format_args(structure: List[Dict[str, Any]]) -> List[str]:
    return [CRASHKERNEL + format_value(token) for token in structure]


# ---------------------------------------------------------------------------------------------------
# Kernel releases and behaviour models

_RELEASE_RE = re.compile(r"^\s*([0-9]{1,2})\.([0-9]{1,3})(?:\.([0-9]{1,5}))?(?![0-9])")
_RHEL_RE = re.compile(r"\.el([0-9]{1,3})(?:_[0-9]{1,4})*(?=$|[.+~])")
_BUILD_RE = re.compile(r"^\s*[0-9]+\.[0-9]+(?:\.[0-9]+)?-([0-9]{1,7})(?![0-9])")


def parse_kernel_release(release: Any) -> Dict[str, Any]:
    """'6.1.0-27-arm64' -> version (6, 1, 0); '5.14.0-427.el9.aarch64' -> also rhel 9, build 427."""
    if not isinstance(release, str):
        raise CrashkernelError("kernel: expected a release string like '6.1.0-27-arm64', got %r" % (release,))
    match = _RELEASE_RE.match(release)
    if not match:
        raise CrashkernelError("kernel: %r is not a kernel release; expected something like '6.1.0-27-arm64' "
                               "or '5.14.0-427.el9.aarch64' (uname -r)" % release)
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    rhel = _RHEL_RE.search(release)
    build = _BUILD_RE.match(release)
    return {"release": release, "version": version, "rhel": int(rhel.group(1)) if rhel else None,
            "build": int(build.group(1)) if build else None}


def normalize_arch(arch: Any) -> str:
    name = ARCH_ALIASES.get(str(arch).strip().lower()) if arch is not None else None
    if name is None:
        raise CrashkernelError("arch: %r is not modelled; use aarch64 or x86_64" % (arch,))
    return name


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
        elif version < (5, 19, 0):
            name = MODEL_ARM64_LEGACY
        elif version < (6, 2, 0):
            name = MODEL_ARM64_519
        elif version < (6, 7, 0):
            name = MODEL_ARM64_62
        else:
            name = MODEL_GENERIC
        if high_low_supported is True and name == MODEL_ARM64_LEGACY:
            name = MODEL_ARM64_519
            notes.append("The facts report that this kernel reserves high+low regions (a backport), so it is "
                         "modelled like upstream 5.19-6.1.")
    else:
        if rhel in (8, 9):
            name = MODEL_X86_52
        elif version < (5, 2, 0):
            name = MODEL_X86_OLD
        elif version < (6, 7, 0):
            name = MODEL_X86_52
        else:
            name = MODEL_GENERIC
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


# ---------------------------------------------------------------------------------------------------
# The kernel's own parsing (kernel/crash_core.c until 6.8, kernel/crash_reserve.c from 6.9)

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
    for word in cmdline.split():
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


# ---------------------------------------------------------------------------------------------------
# What a kernel reserves

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


def _reserve(cmdline: str,
             ram: int,
             low_ram: Optional[int],
             margin: int,
             page_size: int,
             model: Dict[str, Any]) -> Dict[str, Any]:
    out = _Outcome(model)
    name, arch = model["name"], model["arch"]
    low_cap = min(ram, ASSUMED_LOW_LIMIT)
    if low_ram is None:
        low_free, high_free = low_cap, ram - low_cap
    else:
        low_free, high_free = max(0, min(low_ram, ram) - margin), max(0, ram - low_ram)
    plain_low_free = min(low_free, X86_OLD_LOW_LIMIT) if name == MODEL_X86_OLD else low_free
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
        size, base, high = hsize, 0, True
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


# ---------------------------------------------------------------------------------------------------
# Policies and the plan for one host

CAUSE_FIXES = {
    "no-crashkernel": "Set kdump_crashkernel to a preset (auto, altra, kdump-utils, debian) or a size such as '512M'.",
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


def _finding(fid: str, severity: str, message: str, fix: str = "") -> Dict[str, str]:
    return {"id": fid, "severity": severity, "message": message, "fix": fix}


def _get(mapping: Any, *path: str) -> Any:
    node = mapping
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


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
            raise CrashkernelError("kdump_crashkernel is empty; use auto, a preset (altra, kdump-utils, debian), a "
                                   "size such as '512M', or a table of ranges")
        try:
            tokens = parse(text)
        except CrashkernelError as exc:
            raise CrashkernelError("kdump_crashkernel: %r is neither a preset (auto, altra, kdump-utils, debian) "
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
    raise CrashkernelError("kdump_crashkernel: %s is not usable; use auto, a preset (altra, kdump-utils, debian), "
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


def _version_tuple(text: Any) -> Optional[Tuple[int, ...]]:
    match = re.match(r"^\s*([0-9]{1,9})\.([0-9]{1,9})(?:\.([0-9]{1,9}))?(?![0-9])", str(text)[:200]) \
        if text is not None else None  # bounded: a version of 5000 digits is unknown, never an int
    if not match:
        return None
    return tuple(int(part or 0) for part in match.groups())


def _implausible_sources(facts_findings: Any) -> str:
    """The messages of the facts' input-implausible errors, joined ('' when there are none); the warnings
    (a CPU list, a dmesg low limit) null a value that has a safe fallback."""
    if not isinstance(facts_findings, list):
        return ""
    return "; ".join(str(item.get("message") or "an input the facts do not believe") for item in facts_findings
                     if isinstance(item, dict) and item.get("id") == "input-implausible"
                     and item.get("severity") != "warning")


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

    implausible = _implausible_sources(facts.get("findings"))
    if implausible:
        return _refused(spec["name"], "facts-incomplete", "the facts hold input-implausible (%s), so nothing is planned "
                        "from them." % _brief(implausible), findings)
    arch_raw = _get(facts, "platform", "arch")
    try:
        arch = normalize_arch(arch_raw)
    except CrashkernelError:
        return _refused(spec["name"], "arch-unsupported", "platform.arch is %r; the crashkernel rules are modelled "
                                                          "for aarch64 and x86_64 only." % (arch_raw,), findings)
    release = _get(facts, "kernel", "release")
    named = release_arch(release if isinstance(release, str) else "")
    if named is not None and named != arch:
        return _refused(spec["name"], "facts-incomplete", "platform.arch is %s but kernel.release %s names %s: the "
                        "facts contradict each other." % (arch, quoted(release), named), findings)
    ram = _get(facts, "memory", "total_bytes")
    low_ram = _get(facts, "memory", "low_bytes")
    if isinstance(ram, bool) or not isinstance(ram, int) or ram < MIN_RAM or ram > MAX_RAM:
        return _refused(spec["name"], "facts-incomplete", "memory.total_bytes is %r, so no size can be planned "
                        "(RAM between 16 MiB and 4 PiB is expected)." % (ram,), findings)
    if low_ram is not None and (isinstance(low_ram, bool) or not isinstance(low_ram, int) or not 0 <= low_ram <= ram):
        return _refused(spec["name"], "facts-incomplete", "memory.low_bytes is %r; the RAM below the low limit is "
                        "between 0 and memory.total_bytes (%d), or null when unknown." % (low_ram, ram), findings)
    page_size = _get(facts, "platform", "page_size")
    if page_size is None:
        page_size = 4096
    elif isinstance(page_size, bool) or not isinstance(page_size, int) or page_size not in PAGE_SIZES:
        return _refused(spec["name"], "facts-incomplete", "platform.page_size is %r; a kernel page is 4096, 16384 "
                        "or 65536 bytes (null when unknown)." % (page_size,), findings)
    for name in ("arm_smmu", "mlx5", "is_altra"):
        if not isinstance(_get(facts, "platform", name), (bool, type(None))):
            return _refused(spec["name"], "facts-incomplete", "platform.%s is %r; true, false or null (unknown) is "
                            "expected." % (name, _get(facts, "platform", name)), findings)
    if arch == "aarch64" and spec["name"] == "auto" and _get(facts, "platform", "is_altra") is None:
        return _refused(spec["name"], "facts-incomplete", "platform.is_altra is unknown (see input-implausible), so "
                        "auto cannot choose between the altra and kdump-utils policies.", findings)
    try:
        model = kernel_model(arch, release if isinstance(release, str) and release else "invalid",
                             _get(facts, "capabilities", "high_low_reservation", "supported"))
    except CrashkernelError:
        return _refused(spec["name"], "kernel-unknown", "kernel.release is %r, so the kernel's crashkernel rules are "
                                                        "unknown." % (release,), findings)
    cmdline = _get(facts, "kernel", "cmdline")
    words = kernel_words(cmdline if isinstance(cmdline, str) else "")
    base_cmdline = " ".join(word for word in words if not word.startswith(CRASHKERNEL))

    def predict(args: List[str]) -> Dict[str, Any]:
        return _reserve(" ".join([base_cmdline] + args).strip(), ram, low_ram, LOW_MARGIN, page_size, model)

    policy_name = spec["name"]
    if spec["kind"] == "preset" and policy_name == "auto":
        policy_name = "altra" if arch == "aarch64" and _get(facts, "platform", "is_altra") is True else "kdump-utils"
        findings.append(_finding("crashkernel-policy-auto", "info", "kdump_crashkernel is auto: %s picked %s." % (
            "an Ampere Altra/Altra Max host" if policy_name == "altra" else "this %s host" % arch, policy_name)))

    if spec["kind"] == "explicit":
        tokens = list(spec["tokens"])
        if low_override is not None:
            tokens = [token for token in tokens if token["kind"] != "low"] + [_token("low", size=low_override)]
        findings.extend(_explicit_findings(tokens, model))
        args = format_args(_last_of_each_kind(tokens))
    else:
        args = _table_args(spec, policy_name, facts, arch, ram, low_ram, low_override, model, predict, findings)

    expected = predict(args)
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
    findings.extend(_check_expected(expected, args, arch, ram, low_ram, model, facts))
    planned_cmdline = " ".join([base_cmdline] + args).strip()
    if len(planned_cmdline) >= COMMAND_LINE_SIZE:
        findings.append(_finding("crashkernel-cmdline-too-long", "error",
                                 "With %s the kernel command line would be %d bytes; the kernel keeps the first "
                                 "%d and cuts the rest, so it would not read the crashkernel= value as written."
                                 % (_brief(" ".join(args)), len(planned_cmdline), COMMAND_LINE_SIZE - 1),
                                 "Use a shorter crashkernel= value (fewer ranges) or drop unused arguments."))
    return {"args": args, "expected": expected, "policy": policy_name, "findings": findings}


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


def _token_group(token: Dict[str, Any]) -> str:
    return "plain" if token["kind"] in ("simple", "ranges") else token["kind"]


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
    if arch == "aarch64" and expected["region"] == "high" and expected["low_size"] > 0:
        kexec = _version_tuple(_get(facts, "software", "kexec_tools_version"))
        # a capture kernel loaded into two regions now proves this kexec-tools can (a vendor backport)
        loaded_in_two = _get(facts, "reservation", "kexec_crash_loaded") is True and \
            len(_get(facts, "reservation", "regions") or []) >= 2
        if kexec is not None and kexec < KEXEC_TOOLS_MULTI_REGION and not loaded_in_two:
            findings.append(_finding("kexec-tools-too-old-for-high-low", "error",
                                     "The plan reserves two regions (high + low) but kexec-tools %s loads arm64 "
                                     "capture kernels into one region only (2.0.24 added more)." % ".".join(
                                         str(part) for part in kexec),
                                     "Upgrade kexec-tools to 2.0.24 or later, or reserve one low region only."))
    if _get(facts, "platform", "is_altra") is True and expected["region"] == "low" and expected["size"] > 256 * MIB:
        findings.append(_finding("crashkernel-altra-low-risk", "warning",
                                 "This Altra host would reserve %s below 4 GiB; Altra has little RAM there and low "
                                 "reservations above about 256 MiB often fail." % human_size(expected["size"]),
                                 "Prefer the altra policy on a kernel with crashkernel=X,high support, and check "
                                 "the reservation after the reboot."))
    version = model["version"]
    if arch == "aarch64" and model["rhel"] is None and version < (6, 4, 0):
        findings.append(_finding("arm64-linear-map-cost", "info",
                                 "arm64 kernels before 6.4 map all memory with pages instead of blocks once a "
                                 "crashkernel region is reserved, which costs some performance.",
                                 "Accept it, or move to a 6.4+ kernel where the reservation no longer forces a "
                                 "page-granular map."))
    return findings
