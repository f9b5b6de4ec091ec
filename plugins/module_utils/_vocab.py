# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared vocabulary of host input: how a number the kernel writes looks, how a value is quoted in a message."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, List, Optional

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


def kernel_words(text: str) -> List[str]:
    """Words of a command line as the kernel's crashkernel parser sees them: a value ends at a space only,
    so a tab, newline or Unicode space stays inside its word (and the kernel reads or refuses it there)."""
    return [word for word in text.strip(" \n").split(" ") if word]


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
