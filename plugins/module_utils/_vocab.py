# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared vocabulary of host input, one owner each: how a number the kernel writes looks, arch names, kernel
release and package version numbers, command-line words, how a value is quoted in a message."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict, List, Optional, Tuple

# Units, and sizes as the kernel's memparse() suffixes (lib/cmdline.c) write them, largest first.
MIB = 1 << 20
GIB = 1 << 30
SIZE_SUFFIXES = (("E", 60), ("P", 50), ("T", 40), ("G", 30), ("M", 20), ("K", 10))

# Bounds every module shares: what a machine and a kernel can have.
MAX_RAM = 1 << 52  # 4 PiB: what 52-bit physical addresses (arm64 LPA, x86-64 5-level paging) can reach
MAX_CMDLINE = 64 * 1024  # COMMAND_LINE_SIZE is 2-4 KiB on x86 and arm64; 64 KiB leaves room for any build

_DECIMAL = re.compile(r"^[0-9]{1,%d}$")


def decimal(text: Optional[str], max_digits: int = 20) -> Optional[int]:
    """A non-negative decimal as the kernel prints one (ASCII digits only, no sign, no '_'), else None.
    Python's int() also takes '+5', '5_000' and other scripts' digits, and fails on '²'."""
    if text is None:
        return None
    stripped = text.strip()
    if not re.match(_DECIMAL.pattern % max_digits, stripped):
        return None
    return int(stripped)


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


# Command-line words. The kernel splits its command line two ways, so there are two splitters:
# - parse_args()/next_arg() (lib/cmdline.c), for every parameter: ASCII whitespace separates and double
#   quotes group ("a b" is one word); split_cmdline keeps the quotes, as the boot loader files write them.
# - parse_crashkernel() (kernel/crash_reserve.c) finds "crashkernel=" by substring search in the whole line
#   and ends its value at a space only: a tab or newline stays inside the value; kernel_words splits so.
ASCII_SPACE = " \t\n\r\v\f"


def split_cmdline(text: Optional[str]) -> List[str]:
    """Split a kernel command line like next_arg() does: ASCII whitespace separates (not Python's Unicode
    whitespace: a no-break space stays inside its word), double quotes group."""
    tokens: List[str] = []
    current: List[str] = []
    in_quote = False
    for char in text or "":
        if char == '"':
            in_quote = not in_quote
        if char in ASCII_SPACE and not in_quote:
            if current:
                tokens.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def kernel_words(text: str) -> List[str]:
    """Words of a command line as the kernel's crashkernel parser sees them: a value ends at a space only,
    so a tab, newline or Unicode space stays inside its word (and the kernel reads or refuses it there)."""
    return [word for word in text.strip(" \n").split(" ") if word]


# A NAME=value line of a sourced shell file (/etc/default/grub, /etc/default/kdump-tools), read without a shell.
# What follows '=' is read by the file's own reader: the grub one refuses what it could not rewrite, the
# kdump-tools one keeps what sh would assign without expansion.
SHELL_ASSIGNMENT_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def shell_assignments(text: Optional[str]) -> Dict[str, str]:
    """NAME=value lines of a sourced shell defaults file (/etc/default/kdump-tools) as sh reads them without
    expansion: a quoted value up to its closing quote, a bare one up to a space or ';' (a comment starts after a space)."""
    values: Dict[str, str] = {}
    for line in (text or "").splitlines():
        match = SHELL_ASSIGNMENT_RE.match(line)
        if match is None:
            continue
        rest = match.group(2)
        if rest[:1] in ("'", '"'):
            end = rest.find(rest[0], 1)
            values[match.group(1)] = rest[1:end] if end > 0 else rest[1:]
        else:
            values[match.group(1)] = re.split(r"[\s;]", rest, 1)[0]
    return values


def brief(text: str, limit: int = 120) -> str:
    """Text for a message: a long value is cut, with its length said."""
    if len(text) <= limit:
        return text
    return "%s... (%d characters)" % (text[:limit], len(text))


def quoted(value: Any, limit: int = 120) -> str:
    """repr(value) for a message, cut when long; an int too large for repr is named by its size."""
    try:
        return brief(repr(value), limit)
    except ValueError:  # Python 3.11+ refuses to print ints of more than 4300 digits
        return "an integer of %d bits" % value.bit_length() if isinstance(value, int) else "an unprintable value"


RELEASE_ARCH_SUFFIXES = ((".aarch64", "aarch64"), ("-arm64", "aarch64"), ("+arm64", "aarch64"),
                         (".x86_64", "x86_64"), ("-amd64", "x86_64"))


def release_arch(release: Optional[str]) -> Optional[str]:
    """The architecture a kernel release names by its suffix (5.14.0-427.el9.aarch64, 6.1.0-27-amd64)."""
    lowered = (release or "").lower()
    for suffix, arch in RELEASE_ARCH_SUFFIXES:
        if lowered.endswith(suffix) or (suffix + "+") in lowered:
            return arch
    return None


# Architecture names as unames, Debian and RPM spell them -> the kernel's name.
ARCH_ALIASES = {"aarch64": "aarch64", "arm64": "aarch64", "x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64"}


def canonical_arch(arch: Any) -> Optional[str]:
    """aarch64 or x86_64 for any spelling of them, else None."""
    return ARCH_ALIASES.get(str(arch).strip().lower()) if arch is not None else None


def is_arm64(arch: Any) -> bool:
    return canonical_arch(arch) == "aarch64"


_RELEASE_VERSION = re.compile(r"^\s*([0-9]{1,2})\.([0-9]{1,3})(?:\.([0-9]{1,5}))?(?![0-9])")


def release_version(release: Any) -> Optional[Tuple[int, int, int]]:
    """(major, minor, patch) of a kernel release such as 6.1.0-27-arm64 or 5.14.0-427.el9.aarch64, else None."""
    match = _RELEASE_VERSION.match(release) if isinstance(release, str) else None
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)


_PACKAGE_VERSION = re.compile(r"^(?:[0-9]{1,4}:)?([0-9]{1,9}(?:\.[0-9]{1,9})+)")


def version_tuple(version: Any) -> Optional[Tuple[int, ...]]:
    """Numeric tuple of the leading dotted numbers of an upstream version ("2.0.25" -> (2, 0, 25), an epoch "1:"
    skipped); None unless it starts with at least major.minor: "2", "x1.2" or "" are unknown, never older."""
    match = _PACKAGE_VERSION.match(version.strip()) if isinstance(version, str) else None
    if not match:
        return None
    return tuple(int(part) for part in match.group(1).split("."))
