# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Find kdump dumps under a crash directory and check that each one is a complete, readable dump.

Formats (layouts as written by makedumpfile and the kernel), one file each:
- kdump_compressed.py: 8-byte signature ``KDUMP   ``, a disk_dump_header in block 0, a sub header of
  ``sub_hdr_size`` blocks, two bitmaps of ``bitmap_blocks`` blocks together, then one 24-byte page
  descriptor per page set in the 2nd bitmap, then the page data. All fields in the dumped host's byte order.
- flattened.py (``makedumpfile -F``, ssh targets): a 4096-byte header starting ``makedumpfile``, then
  (offset, size) big-endian segment headers each followed by data, ending with a (-1, -1) segment header.
- elf.py (``cp /proc/vmcore`` or ``makedumpfile -E``): ``\\x7fELF`` with e_type ET_CORE; the kernel log is
  read out of the dump through VMCOREINFO.
- compressed_file.py: any of those compressed as a whole file (gzip, bzip2, xz), read through views.py.
Around them: common.py (signatures, the error, shared checks), views.py (a container's dump read like a
file) and crash_dir.py (names, markers, saved kernel logs, the vmcore_info report).

Everything here takes a root path (``/`` on a host, a fixture tree in tests) and never reads ``/`` itself.
This package re-exports the names the module and tests use; module_utils files import from the submodules.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.common import (  # noqa: F401
    FORMATS, KDUMP_HEADER_READ, VmcoreError, detect_format, detect_outer_compression,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.kdump_compressed import (  # noqa: F401
    count_bits, inspect_kdump_compressed, kdump_data_offset, kdump_header_problems, parse_kdump_header,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.elf import (  # noqa: F401
    ElfMemory, inspect_elf, parse_elf_header, parse_vmcoreinfo,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.flattened import inspect_flattened  # noqa: F401
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.compressed_file import (  # noqa: F401
    inspect_outer_compressed,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.crash_dir import (  # noqa: F401
    crash_line_in, dmesg_crash_line, find_dumps, inspect_dump_file, is_dump_name, resolve_newer_than, vmcore_report,
)

__all__ = [
    "ElfMemory", "FORMATS", "KDUMP_HEADER_READ", "VmcoreError", "count_bits", "crash_line_in", "detect_format",
    "detect_outer_compression", "dmesg_crash_line", "find_dumps", "inspect_dump_file", "inspect_elf",
    "inspect_flattened", "inspect_kdump_compressed", "inspect_outer_compressed", "is_dump_name",
    "kdump_data_offset", "kdump_header_problems", "parse_elf_header", "parse_kdump_header", "parse_vmcoreinfo",
    "resolve_newer_than", "vmcore_report",
]
