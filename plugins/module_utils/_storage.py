# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Storage: the free space where dumps are written (the `storage` facts)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
from typing import Any, Callable, Dict, Optional


def existing_ancestor(path: str, exists: Callable[[str], bool] = os.path.isdir) -> Optional[str]:
    """The path itself or its nearest existing parent directory (the dump directory may not exist yet)."""
    current = os.path.normpath(path)
    while not exists(current):
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
    return current


def storage_facts(path: Optional[str],
                  statvfs: Callable[[str], Any] = os.statvfs,
                  exists: Callable[[str], bool] = os.path.isdir) -> Optional[Dict[str, Any]]:
    """{path, measured_at, free_bytes, size_bytes} of the filesystem that will hold path; None without a path."""
    if not path:
        return None
    where = existing_ancestor(path, exists)
    if where is None:
        return {"path": path, "measured_at": None, "free_bytes": None, "size_bytes": None}
    try:
        stat = statvfs(where)
    except OSError:
        return {"path": path, "measured_at": where, "free_bytes": None, "size_bytes": None}
    return {"path": path, "measured_at": where, "free_bytes": stat.f_bavail * stat.f_frsize,
            "size_bytes": stat.f_blocks * stat.f_frsize}
