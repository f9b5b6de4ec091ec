#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: vmcore_info
short_description: Find kdump vmcores and check that each one is complete
version_added: 0.1.0
description:
  - Lists the kernel crash dumps under O(path) (default C(/var/crash)) and its direct subdirectories, the way
    kdump tools store them one directory per crash.
  - Knows the names kdump tools use, for example RHEL/Fedora C(<ip>-<date>/vmcore) with C(vmcore-dmesg.txt),
    Debian/Ubuntu C(<stamp>/dump.<stamp>) with C(dmesg.<stamp>), SUSE C(vmcore) with C(dmesg.txt), ssh targets
    C(vmcore.flat), and the C(vmcore-incomplete) / C(dump-incomplete) names used while a dump is being written.
  - Checks each dump's format signature (makedumpfile kdump-compressed C(KDUMP   ), the flattened format
    starting with C(makedumpfile), or an ELF core) and that it is complete. For kdump-compressed dumps it reads
    the disk_dump_header (block_size, sub_hdr_size, bitmap_blocks, max_mapnr, status flags), checks that the
    file holds at least the header and both bitmaps and that the last page descriptor and its data lie inside
    the file. Flattened dumps must end with the end marker; ELF cores must hold every segment's data.
  - "Finds the dmesg saved next to each dump and whether it shows the sysrq crash
    (C(sysrq: Trigger a crash), older kernels C(SysRq : Trigger a crash))."
  - Only reads; never changes the host.
author:
  - fleetops.kdump developers (@fleetops)
options:
  path:
    description:
      - Directory kdump writes dumps to (kdump.conf C(path), kdump-tools C(KDUMP_COREDIR)).
      - A missing directory is not an error; the result then has RV(path_exists=false) and no dumps.
    type: path
    default: /var/crash
  newer_than:
    description:
      - Only report dumps whose modification time is later than this.
      - Either epoch seconds (a number or a numeric string) or the absolute path of a marker file (a regular
        file) on the host, whose modification time is used.
      - Omit to report every dump; an empty string is refused, so a variable that came out empty never lets old
        dumps pass as new.
    type: raw
  dir_prefix:
    description:
      - Only look in the crash directories under O(path) whose name starts with this, and not at dumps directly
        in O(path). A dump server keeps every host's dumps side by side, as kdump-tools names them with
        C(HOSTTAG=hostname) (C(<hostname>-<stamp>)); give C(<hostname>-) to see one host's.
    type: str
    version_added: 0.3.0
  root:
    description:
      - Directory to treat as the host's C(/), for reading a captured tree (tests, sosreports).
      - O(path) and a marker path in O(newer_than) are read below it; returned paths are as the host sees them.
    type: path
    default: /
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode, when enabled).
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Runs on the managed host with the Python standard library only.
  - Dumps compressed as a whole file (kdump-tools C(KDUMP_COMPRESSION)) are checked by their header and, up to
    2 GiB, by decompressing them to the end of the stream; lz4 and zstd files cannot be looked into.
seealso:
  - name: makedumpfile
    description: The tool that writes kdump-compressed and flattened dumps.
    link: https://github.com/makedumpfile/makedumpfile
"""

EXAMPLES = r"""
- name: List every dump on the host
  fleetops.kdump.vmcore_info:
  register: dumps

- name: Show the newest dump
  ansible.builtin.debug:
    msg: "{{ dumps.latest.path }} ({{ dumps.latest.format }}, complete={{ dumps.latest.complete }})"
  when: dumps.latest is not none

- name: Dumps written after a marker file was touched (crash test)
  fleetops.kdump.vmcore_info:
    path: /var/crash
    newer_than: /var/tmp/fleetops-crash-test.marker
  register: new_dumps

- name: Dumps written in the last hour
  fleetops.kdump.vmcore_info:
    newer_than: "{{ now().timestamp() - 3600 }}"

- name: Read dumps from a captured tree
  fleetops.kdump.vmcore_info:
    root: /srv/sosreports/host1
"""

RETURN = r"""
path:
  description: The directory that was searched, as the host sees it.
  returned: always
  type: str
  sample: /var/crash
path_exists:
  description: Whether O(path) exists.
  returned: always
  type: bool
  sample: true
newer_than:
  description: The time filter used, in epoch seconds (a marker file's modification time when a path was given).
  returned: always
  type: float
  sample: 1732554300.25
dumps:
  description: Dumps found, oldest first (by modification time).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path of the dump file.
      type: str
      sample: /var/crash/202411251705/dump.202411251705
    dir:
      description: Directory holding the dump (one per crash).
      type: str
      sample: /var/crash/202411251705
    name:
      description: File name of the dump.
      type: str
      sample: dump.202411251705
    format:
      description:
        - V(kdump_compressed), V(flattened), V(elf) or V(unknown) (no dump signature).
        - For a whole-file compressed dump, the format of the data inside.
      type: str
      sample: kdump_compressed
    compression:
      description: Whole-file compression (V(gzip), V(bzip2), V(xz), V(lz4), V(zstd)), null when none.
      type: str
      sample: null
    complete:
      description: True when the dump passed every check (the list in RV(dumps[].checked)) and is not named or marked incomplete.
      type: bool
      sample: true
    problems:
      description: Why the dump is not complete or not readable, one sentence each; empty when complete.
      type: list
      elements: str
      sample: ["file is 8192 bytes, smaller than its header + bitmaps (16384 bytes): truncated"]
    checked:
      description:
        - Checks that were made, in order
          (V(compression), V(signature), V(header), V(end_marker), V(segments), V(stream_end), V(size),
          V(page_descriptors) or V(first_page_descriptor), V(page_data) or V(page_data_sample)).
        - Checks are skipped when an earlier one fails, for split dumps, and for bitmaps over 128 MiB.
      type: list
      elements: str
      sample: [signature, header, size, page_descriptors, page_data]
    size:
      description: Size of the dump file in bytes.
      type: int
      sample: 41943040
    mtime:
      description: Modification time of the dump file (epoch seconds, host clock).
      type: float
      sample: 1732554342.5
    release:
      description: Kernel release of the crashed kernel (dump header utsname, or VMCOREINFO OSRELEASE of an ELF core).
      type: str
      sample: 6.1.0-27-arm64
    machine:
      description: Machine of the crashed kernel (utsname machine, or the ELF e_machine).
      type: str
      sample: aarch64
    header:
      description:
        - Decoded dump header; null when the file has none.
        - kdump-compressed (also inside flattened) keys include C(header_version), C(byte_order), C(word_size),
          C(sysname), C(nodename), C(release), C(version), C(machine), C(domainname), C(timestamp), C(status),
          C(block_size), C(sub_hdr_size), C(bitmap_blocks), C(max_mapnr), C(nr_cpus), C(compression),
          C(incomplete_flag), and on 64-bit hosts C(dump_level), C(split), C(max_mapnr_64), plus C(min_size).
        - Flattened adds C(flat_version) and C(inner_format).
        - ELF keys include C(class), C(byte_order), C(e_type), C(e_machine), C(machine), C(phnum),
          C(load_segments), C(release) and C(kernel_log) (C({found, size, problem}), the printk ring buffer located
          through VMCOREINFO in the dump's own memory, for 64-bit cores).
      type: dict
      sample: {"header_version": 6, "block_size": 4096, "sub_hdr_size": 1, "bitmap_blocks": 32,
               "max_mapnr": 524288, "release": "6.1.0-27-arm64", "machine": "aarch64"}
    dmesg_path:
      description: The dmesg file saved with the dump (Debian C(dmesg.<stamp>), RHEL C(vmcore-dmesg.txt)), null when none.
      type: str
      sample: /var/crash/202411251705/dmesg.202411251705
    dmesg_source:
      description:
        - Where the kernel log that was checked came from - C(file) (the dmesg saved with the dump), C(dump) (read
          from an ELF dump's own printk ring buffer, for example a plain copy of /proc/vmcore that kdump-tools
          saves without dmesg when makedumpfile cannot read the kernel) or null (no log found).
      type: str
      sample: file
    dmesg_has_sysrq:
      description: "Whether that kernel log shows the sysrq crash (C(sysrq: Trigger a crash) or C(SysRq : Trigger a crash))."
      type: bool
      sample: true
    dmesg_crash_line:
      description: The dmesg line showing the sysrq crash, null when none.
      type: str
      sample: "[  232.910145] sysrq: Trigger a crash"
latest:
  description: The newest entry of RV(dumps) (same keys), null when there is none.
  returned: always
  type: dict
  sample: {"path": "/var/crash/202411251705/dump.202411251705", "format": "kdump_compressed", "complete": true}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.common import VmcoreError
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.crash_dir import vmcore_report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/var/crash"),
            newer_than=dict(type="raw"),
            root=dict(type="path", default="/"),
            dir_prefix=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    try:
        report = vmcore_report(root=module.params["root"], path=module.params["path"],
                               newer_than=module.params["newer_than"], dir_prefix=module.params["dir_prefix"])
    except VmcoreError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
