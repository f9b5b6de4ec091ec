# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The crashkernel= engine: parse, format, predict what a kernel reserves, and plan the args for a host.

Everything here is a pure function of its arguments (text, numbers, the kdump facts dict); nothing reads
the host. One concern per file:
- common.py: units, the key and its kinds, CrashkernelError;
- sizes.py: memparse() and operator sizes (a unit is required);
- syntax.py: the strict parser for operator input and the canonical format (``parse``, ``format_value``);
- kernel.py: kernel behaviour models by release, and the kernel's own step-by-step parsing (``_k_*``);
- reserve.py: what a kernel reserves for a command line (``reserve``: resolve the request, then place it);
- tables.py: the sizing tables (Altra seed, kdump-utils, Debian);
- plan.py: policies and the plan for one host (``plan``).

Two parsers live here on purpose: ``parse`` is strict (operator input: it refuses what the kernel would refuse
or silently ignore); the ``_k_*`` functions repeat the kernel's parsing (last token wins, left-to-right range
scan, 64-bit wrap-around, trailing text ignored) and are what ``reserve`` uses on a real command line.
docs/crashkernel.md lists each kernel rule with its source. This package re-exports the names the filters and
tests use; module_utils files import from the submodules.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import GIB, MIB
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import (
    COMMAND_LINE_SIZE, CRASHKERNEL, CrashkernelError, KINDS, PAGE_SIZES, SUFFIX_OF_KIND, U64_MASK, WHITESPACE_RE,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.sizes import (  # noqa: F401
    LARGEST_HINTED_RAM, MAX_RESERVATION, MIN_RAM, SIZE_SUFFIXES, format_size, human_size, operator_size, parse_size,
    ram_hint, _memparse,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.syntax import (  # noqa: F401
    bare_numbers, check_operator_value, format_args, format_tokens, format_value, ignored_slots, parse, parse_value,
    reservation_gap,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.kernel import (  # noqa: F401
    ARM64_DEFAULT_LOW, ASSUMED_LOW_LIMIT, IO_TLB_SEGSIZE, IO_TLB_SHIFT, LOW_MARGIN, MODELS,
    MODEL_ARM64_519, MODEL_ARM64_62, MODEL_ARM64_LEGACY, MODEL_GENERIC, MODEL_X86_52, MODEL_X86_OLD, RAM_ROUND_STEP,
    RHEL9_HIGH_LOW_BUILD, X86_OLD_LOW_LIMIT, X86_SWIOTLB_DEFAULT, default_low_size, kernel_model, normalize_arch,
    parse_kernel_release, swiotlb_size, _k_parse,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.reserve import (  # noqa: F401
    LOW_LIMIT_FLOOR, check_regions, predicted_regions, reserve, select_range,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.tables import (  # noqa: F401
    ALTRA_LOW, TABLE_ALTRA, TABLE_DEBIAN, TABLE_DEBIAN_13_X86, TABLE_KDUMP_UTILS, debian_table,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.plan import (  # noqa: F401
    ARM64_LOW_FLOOR, CAPTURE_KERNEL_FLOOR, CAUSE_FIXES, KEXEC_TOOLS_MULTI_REGION, OVERLAPS_SHOWN,
    PLAN_EMPTY_FINDINGS, PRESETS, X86_LOW_FLOOR,
    overlap_warnings, overlapping_ranges, parse_low, parse_policy, parse_table, plan,
)

__all__ = [
    "ALTRA_LOW", "ARM64_DEFAULT_LOW", "ARM64_LOW_FLOOR", "ASSUMED_LOW_LIMIT", "CAPTURE_KERNEL_FLOOR",
    "CAUSE_FIXES", "COMMAND_LINE_SIZE", "CRASHKERNEL", "CrashkernelError", "GIB", "IO_TLB_SEGSIZE", "IO_TLB_SHIFT",
    "KEXEC_TOOLS_MULTI_REGION", "KINDS", "LARGEST_HINTED_RAM", "LOW_LIMIT_FLOOR", "LOW_MARGIN", "MAX_RESERVATION",
    "MIB", "MIN_RAM", "MODELS", "MODEL_ARM64_519", "MODEL_ARM64_62", "MODEL_ARM64_LEGACY", "MODEL_GENERIC",
    "MODEL_X86_52", "MODEL_X86_OLD", "OVERLAPS_SHOWN", "PAGE_SIZES", "PLAN_EMPTY_FINDINGS", "PRESETS",
    "RAM_ROUND_STEP", "RHEL9_HIGH_LOW_BUILD", "SIZE_SUFFIXES", "SUFFIX_OF_KIND", "TABLE_ALTRA", "TABLE_DEBIAN",
    "TABLE_DEBIAN_13_X86", "TABLE_KDUMP_UTILS", "U64_MASK", "WHITESPACE_RE", "X86_LOW_FLOOR", "X86_OLD_LOW_LIMIT",
    "X86_SWIOTLB_DEFAULT", "_k_parse", "_memparse", "bare_numbers", "check_operator_value", "check_regions",
    "debian_table", "default_low_size", "format_args", "format_size", "format_tokens", "format_value", "human_size",
    "ignored_slots", "kernel_model", "normalize_arch", "operator_size", "overlap_warnings", "overlapping_ranges",
    "parse", "parse_kernel_release", "parse_low", "parse_policy", "parse_size", "parse_table", "parse_value", "plan",
    "predicted_regions", "ram_hint", "reservation_gap", "reserve", "select_range", "swiotlb_size",
]
