# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every dump reader shares: format signatures, the error type, reading at an offset, the machine check."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from typing import Any, Dict, List, Optional

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import quoted, release_arch

FORMATS = ("kdump_compressed", "flattened", "elf", "unknown")
KDUMP_SIGNATURE = b"KDUMP   "
FLAT_SIGNATURE = b"makedumpfile"
FLAT_HEADER_SIZE = 4096
ELF_MAGIC = b"\x7fELF"
ET_CORE = 4
KDUMP_HEADER_READ = 464
READ_CHUNK = 1024 * 1024
# (magic, name) of whole-file compressors (kdump-tools KDUMP_COMPRESSION)
OUTER_COMPRESSION = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
                     (b"\x04\x22\x4d\x18", "lz4"), (b"\x28\xb5\x2f\xfd", "zstd"))


class VmcoreError(Exception):
    """Bad input (missing marker, unreadable directory): the message says what to fix."""


def _cstring(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", "replace")


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def _read_at(handle: Any, offset: int, length: int) -> bytes:
    handle.seek(offset)
    return handle.read(length)


def detect_format(head: bytes) -> str:
    """Name the dump format from the first bytes of a file."""
    if head.startswith(KDUMP_SIGNATURE):
        return "kdump_compressed"
    if head.startswith(FLAT_SIGNATURE):
        return "flattened"
    if head.startswith(ELF_MAGIC):
        return "elf"
    return "unknown"


def detect_outer_compression(head: bytes) -> Optional[str]:
    for magic, name in OUTER_COMPRESSION:
        if head.startswith(magic):
            return name
    return None


def machine_problems(machine: Optional[str], release: Optional[str], where: str) -> List[str]:
    """A dump names one machine: the arch its header names is the arch its kernel release was built for."""
    named = release_arch(release)
    if machine and named and machine != named:
        return ["%s names machine %s but kernel release %s, an %s kernel: corrupt, or parts of two dumps"
                % (where, quoted(machine), quoted(release), named)]
    return []


def merge_inner_result(result: Dict[str, Any], inner: Dict[str, Any], where: str) -> None:
    """Adds what the dump inside a container showed to the container's result."""
    if inner["header"] is not None:
        result["header"] = dict(result["header"] or {}, **inner["header"])
    result["checked"].extend(name for name in inner["checked"] if name not in result["checked"])
    result["problems"].extend("%s: %s" % (where, problem) for problem in inner["problems"])
