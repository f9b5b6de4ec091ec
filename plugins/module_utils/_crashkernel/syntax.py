# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""crashkernel= text: the strict parser for operator input (accepts what the kernel accepts, refuses what it
would refuse or silently ignore) and the canonical format."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import (
    MAX_CMDLINE, brief as _brief, kernel_words, quoted,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import (
    CRASHKERNEL, CrashkernelError, KINDS, SUFFIX_OF_KIND, U64_MASK,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.sizes import (
    _NUMBER_IN_VALUE, _at, _memparse, _octal_error, _octal_numbers, _reservation_bounds, _scan_number, format_size,
)


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


def _token_group(token: Dict[str, Any]) -> str:
    return "plain" if token["kind"] in ("simple", "ranges") else token["kind"]
