# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sizes as the kernel's memparse() reads them, and sizes as operators write them (units required)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import (  # noqa: F401  (format_size, human_size)
    MIB, SIZE_SUFFIXES, format_size, human_size,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import CrashkernelError, U64_MASK

_SHIFT_OF_CHAR = dict((letter.lower(), shift) for letter, shift in SIZE_SUFFIXES)
_SHIFT_OF_CHAR.update((letter, shift) for letter, shift in SIZE_SUFFIXES)


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
