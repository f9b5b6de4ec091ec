# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every part of the crashkernel engine shares: units, the key and its kinds, the error type."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict


U64_MASK = (1 << 64) - 1
CRASHKERNEL = "crashkernel="
KINDS = ("simple", "ranges", "high", "low", "cma")
SUFFIX_OF_KIND = {"high": ",high", "low": ",low", "cma": ",cma"}
COMMAND_LINE_SIZE = 2048  # x86_64 and arm64 (asm/setup.h): longer command lines are cut
PAGE_SIZES = (4096, 16384, 65536)
WHITESPACE_RE = re.compile(r"[\t\n\r\v\f]")


class CrashkernelError(ValueError):
    """Bad crashkernel input. The message names what is wrong and how to fix it."""


def _get(mapping: Any, *path: str) -> Any:
    node = mapping
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _finding(fid: str, severity: str, message: str, fix: str = "") -> Dict[str, str]:
    return {"id": fid, "severity": severity, "message": message, "fix": fix}
