# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sizing tables the policies use (the Ampere seed's Altra table, kdump-utils', Debian's kdump-tools')."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import GIB, MIB
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import _get

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
