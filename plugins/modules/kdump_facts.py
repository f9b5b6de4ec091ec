#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: kdump_facts
short_description: Gather everything kdump depends on, in one call
version_added: 0.1.0
description:
  - Detects the platform (architecture, CPU, SoC such as Ampere Altra / Altra Max / AmpereOne / AWS Graviton,
    SMBIOS processor, DMI, virtualization, ACPI AGDI, page size), memory (System RAM and RAM below the
    crashkernel low limit), the running kernel (release, command line, crashkernel arguments, kdump config
    symbols), the crashkernel reservation, the kdump software (distribution family, kexec-tools and
    makedumpfile versions, kdump package and service), what the kernel and tools can do, and findings for
    every broken or risky link of the kdump chain.
  - Returns them as C(ansible_facts.kdump). The keys are a contract, described in docs/interfaces.md and
    docs/facts.md of the collection.
  - With O(root) set to a directory, reads a captured tree (a sosreport, a disk image, a fixture) instead of
    the live system and runs no command at all.
author:
  - fleetops.kdump developers (@fleetops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
options:
  root:
    description:
      - Directory to read C(proc/), C(sys/), C(boot/), C(etc/) and the package database from, laid out as on
        the host.
      - C(/) (the default) is the live system; only then are commands (C(rpm -q), C(systemctl)) run.
      - A sosreport's C(installed-rpms), C(uname) and C(sos_commands/hardware/dmidecode) files are read when present.
    type: path
    default: /
  dump_path:
    description:
      - The local directory dumps are written to (the role passes C(kdump_path) for local targets).
      - On the live system its filesystem's free space becomes C(storage); unset, or with O(root) set to a
        captured tree, C(storage) is null.
      - An unfiltered dump (finding C(makedumpfile-cannot-read-kernel)) needs room for all RAM there
        (finding C(dump-space-short-for-full-copy)).
    type: path
attributes:
  check_mode:
    support: full
    details: Only reads; the same facts are returned in check mode.
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
notes:
  - Missing files give null values and an C(input-missing) finding, never a failure.
  - Run with C(become=true) on the live system; /proc/iomem shows zero addresses to other users.
"""

EXAMPLES = r"""
- name: Gather kdump facts
  fleetops.kdump.kdump_facts:
  become: true

- name: Audit a sosreport offline
  fleetops.kdump.kdump_facts:
    root: /srv/sosreports/sosreport-host01-2024-05-01
  delegate_to: localhost

- name: Stop on errors
  ansible.builtin.assert:
    that: ansible_facts.kdump.findings | selectattr('severity', 'equalto', 'error') | list | length == 0
    fail_msg: "{{ ansible_facts.kdump.findings | selectattr('severity', 'equalto', 'error') | map(attribute='message') | list }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    kdump:
      description: Everything kdump depends on. Unknown values are null, sizes are bytes.
      returned: always
      type: dict
      contains:
        root:
          description: The tree the facts were read from (C(/) for the live system).
          type: str
          sample: /
        platform:
          description:
            - Hardware and virtualization. C(arch) (uname -m style), C(cpu_implementer) and C(cpu_part) (MIDR hex
              strings, null on x86_64), C(cpu_count), C(vendor), C(soc) (null on x86_64, C(unknown) for an
              unidentified arm64 SoC), C(is_altra) (Altra and Altra Max only), C(soc_id) (SMCCC SOC_ID),
              C(soc_evidence) (what identified the SoC), C(smbios_processor) (manufacturer, version, part,
              core_count, sockets), C(dmi) (sys_vendor, product_name, product_family, board_name),
              C(virtualization), C(agdi) (ACPI AGDI table present), C(page_size).
          type: dict
          sample:
            arch: aarch64
            cpu_implementer: "0x41"
            cpu_part: "0xd0c"
            cpu_count: 80
            vendor: ampere
            soc: altra
            is_altra: true
            soc_id: "jep106:0a16:0001"
            virtualization: none
            agdi: true
            page_size: 4096
        memory:
          description:
            - C(total_bytes) (System RAM in /proc/iomem), C(low_limit_bytes) (where crashkernel low memory ends),
              C(low_limit_source) (dmesg, config, dram-above-4g or default), C(low_bytes) (System RAM below the limit),
              C(iomem_zeroed) (addresses hidden from a non-root reader), C(meminfo_total_bytes) (MemTotal),
              C(installed_bytes) (SMBIOS memory devices). The sizes are null when /proc/iomem is malformed or
              contradicted by MemTotal or SMBIOS (finding C(input-implausible)).
          type: dict
          sample: {total_bytes: 274877906944, low_limit_bytes: 4294967296, low_limit_source: default,
                   low_bytes: 1877999616, iomem_zeroed: false, meminfo_total_bytes: 270582939648,
                   installed_bytes: 274877906944}
        kernel:
          description:
            - C(release), C(version) ([major, minor, patch]), C(cmdline), C(crashkernel) (crashkernel= arguments of
              the running command line, in order), C(config) (kdump-relevant CONFIG_ symbols, "n" when not set,
              null when absent; the whole dict null when no config was found), C(config_source),
              C(sysrq) (kernel.sysrq), C(kallsyms_text) (arm64 only, whether /proc/kallsyms lists the C(_text)
              symbol kexec-tools needs; null elsewhere or when the file is absent).
          type: dict
          sample:
            release: 6.1.0-27-arm64
            version: [6, 1, 0]
            crashkernel: ["crashkernel=768M,high", "crashkernel=16M,low"]
        reservation:
          description:
            - C(regions) (each "Crash kernel" range of /proc/iomem as start, end exclusive, size), C(total_bytes),
              C(low_bytes) and C(high_bytes) (split at memory.low_limit_bytes), C(kexec_crash_size),
              C(kexec_crash_loaded) (a capture kernel is loaded).
          type: dict
          sample: {regions: [{start: 3154116608, end: 3170893824, size: 16777216}], total_bytes: 16777216,
                   low_bytes: 16777216, high_bytes: 0, kexec_crash_size: 805306368, kexec_crash_loaded: true}
        software:
          description:
            - C(family) (debian, redhat, suse, unknown), C(distro), C(version), C(package_source), C(kexec_tools_version),
              C(kexec_tools_installed), C(makedumpfile_version), C(makedumpfile_installed), C(kdump_package),
              C(kdump_package_installed), C(service), C(service_enabled), C(service_active) (null unless systemd
              could be asked), C(config_file), C(config_file_present), C(use_kdump) (Debian's USE_KDUMP).
            - C(systemd_running) (null for a captured tree), C(makedumpfile_compressions) (the optional compressions
              C(makedumpfile -v) reports enabled; null when unknown), C(kallsyms_copy_has_text) (the copy that
              the kdump role's C(kdump_kallsyms_text_fix) writes has a C(_text) line; null without the copy).
            - C(dump_target), where the service sends dumps, read from its configuration file - C(type) (local,
              ssh, nfs, raw, device, other; null when unknown), C(path) (the directory on that target; null when
              the configuration gives no absolute one) and C(location) (user@host, the export or the device).
              The crash_test role looks for dumps in C(path) when the target is local.
          type: dict
          sample: {family: debian, distro: debian, version: "12", kexec_tools_version: 2.0.25,
                   kdump_package: kdump-tools, service: kdump-tools, service_enabled: true,
                   dump_target: {type: local, path: /var/crash, location: null}}
        capabilities:
          description:
            - C(high_low_reservation), C(kexec_multiple_regions), C(kexec_file_crash),
              C(makedumpfile_reads_kernel), each C({supported, why}) with supported true, false or null (unknown).
          type: dict
          sample:
            high_low_reservation: {supported: true, why: arm64 supports ,high/,low since Linux 5.19}
        storage:
          description:
            - Free space for local dumps, measured only on the live system with O(dump_path) set, else null.
              C(path) (as given), C(measured_at) (the nearest existing directory), C(free_bytes) (available to
              root-less writers, as df), C(size_bytes).
          type: dict
          sample: {path: /var/crash, measured_at: /var/crash, free_bytes: 6442450944, size_bytes: 16106127360}
        capture:
          description:
            - What the capture kernel must fit into its reservation, the inputs of a size estimate.
              C(kernel_image) and C(kernel_image_bytes) (the memory the kernel takes once loaded, from the image
              header, x86 C(init_size) or arm64 C(image_size), also through a gzip or EFI zboot wrapper; null when
              the header does not say), C(kdump_initrd) and C(kdump_initrd_bytes) (kdump-tools', kdumpctl's or
              SUSE's kdump initrd for the running release; null until it is built), C(loaded_modules_bytes) (the
              static size of the loaded modules, /proc/modules), C(luks2_devices) (open LUKS2 device-mapper
              names), C(luks2_argon_bytes) (the largest Argon2 memory of their key slots, from
              C(cryptsetup luksDump) on live hosts, which the capture kernel needs to unlock them) and
              C(tool_suggested_bytes) (kdump-tools' "crashkernel suggested size" from C(kdump-config show), live
              Debian-family hosts only, else null).
          type: dict
          version_added: 0.3.0
          sample: {kernel_image: /boot/vmlinuz-6.12.117+deb13-amd64, kernel_image_bytes: 58650624,
                   kdump_initrd: /var/lib/kdump/initrd.img-6.12.117+deb13-amd64, kdump_initrd_bytes: 35651584,
                   loaded_modules_bytes: 8810496, luks2_devices: [], luks2_argon_bytes: null,
                   tool_suggested_bytes: null}
        findings:
          description: Broken or risky links of the kdump chain, errors first. Ids are listed in docs/facts.md.
          type: list
          elements: dict
          sample:
            - id: crash-kernel-not-loaded
              severity: error
              message: Crash kernel memory is reserved but no capture kernel is loaded (kexec_crash_loaded=0).
              fix: Start the kdump service (kdump-tools) and read its log.
"""

import os
import platform as _platform_module
import zlib

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree
from ansible_collections.fleetops.kdump.plugins.module_utils._memory import (
    iomem_problems, meminfo_total, memory_facts, parse_iomem, reservation_facts,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._platform import platform_facts
from ansible_collections.fleetops.kdump.plugins.module_utils._smbios import installed_memory
from ansible_collections.fleetops.kdump.plugins.module_utils._readiness import capabilities, findings
from ansible_collections.fleetops.kdump.plugins.module_utils._kernel import kallsyms_text, kernel_facts
from ansible_collections.fleetops.kdump.plugins.module_utils._capture_size import capture_facts, luks2_backing_devices
from ansible_collections.fleetops.kdump.plugins.module_utils._software import software_facts
from ansible_collections.fleetops.kdump.plugins.module_utils._storage import storage_facts

DMESG_FILES = ("var/log/dmesg", "sos_commands/kernel/dmesg")


def kdump_config_show(tree, runner):
    """kdump-tools' `kdump-config show` output on the live system (it prints a suggested crashkernel size)."""
    if runner is None or not tree.exists("usr/sbin/kdump-config"):
        return None
    rc, out, _err = runner(["kdump-config", "show"])
    return out if rc == 0 else None


def luks_dumps(tree, runner):
    """`cryptsetup luksDump` of each device behind an open LUKS2 device, on the live system."""
    if runner is None:
        return []
    outputs = []
    for device in luks2_backing_devices(tree):
        rc, out, _err = runner(["cryptsetup", "luksDump", device])
        if rc == 0:
            outputs.append(out)
    return outputs


def gather_facts(root="/", runner=None, dump_path=None):
    """All kdump facts of the tree at root. runner(argv) -> (rc, out, err) is used only for root "/";
    dump_path (the local dump directory) is measured only on the live system."""
    tree = HostTree(root)
    live = tree.live
    uname = os.uname() if live else None
    kernel = kernel_facts(tree, live_release=uname.release if uname else None)
    iomem_text = tree.read_text("proc/iomem", record=True)
    entries = parse_iomem(iomem_text)
    tree.implausible.extend(("proc/iomem", why) for why in iomem_problems(iomem_text, entries))
    platform = platform_facts(tree, kernel, live_arch=_platform_module.machine() if live else None,
                              live_page_size=os.sysconf("SC_PAGE_SIZE") if live else None,
                              resource_names=[entry[3] for entry in entries or []])
    kernel["kallsyms_text"] = kallsyms_text(tree, platform["arch"])
    dmesg = dmesg_path = None
    for dmesg_path in DMESG_FILES:
        dmesg = tree.read_text(dmesg_path)
        if dmesg:
            break
    memory = memory_facts(entries, platform["arch"], kernel["config"], dmesg, dmesg_path=dmesg_path,
                          version=kernel.get("version"),
                          mem_total=meminfo_total(tree.read_text("proc/meminfo"), tree.implausible),
                          installed=installed_memory(tree), problems=tree.implausible)
    reservation = reservation_facts(
        entries, memory["low_limit_bytes"],
        tree.read_value("sys/kernel/kexec_crash_size"),
        tree.read_value("sys/kernel/kexec_crash_loaded"), problems=tree.implausible)
    facts = {
        "root": tree.root,
        "platform": platform,
        "memory": memory,
        "kernel": kernel,
        "reservation": reservation,
        "software": software_facts(tree, runner if live else None, release=kernel.get("release")),
        "storage": storage_facts(dump_path) if live else None,
        "capture": capture_facts(tree, kernel.get("release"), kdump_config_show(tree, runner if live else None),
                                 luks_dumps(tree, runner if live else None)),
    }
    facts["capabilities"] = capabilities(facts)
    facts["findings"] = findings(facts, facts["capabilities"], tree.missing + tree.unreadable, live=live,
                                 implausible=tree.implausible)
    return facts


def main():
    module = AnsibleModule(
        argument_spec=dict(root=dict(type="path", default="/"), dump_path=dict(type="path")),
        supports_check_mode=True,
    )
    root = module.params["root"] or "/"
    if not os.path.isdir(root):
        module.fail_json(msg="root=%r is not a directory: set root to / for the live system or to the top "
                             "directory of a captured tree (the one holding proc/ and etc/)." % root)

    def runner(argv):
        executable = module.get_bin_path(argv[0])
        if executable is None:
            return 127, "", "%s not found" % argv[0]
        return module.run_command([executable] + list(argv[1:]), check_rc=False)

    try:
        facts = gather_facts(root, runner, module.params["dump_path"])
    except (OSError, IOError) as error:
        module.fail_json(msg="Reading %s failed: %s. Check that the user running the module can read it." % (root, error))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, zlib.error) as error:
        # a parser met input it does not handle: say so instead of a traceback (and report it as a bug)
        module.fail_json(msg="A file under %s holds data kdump_facts cannot read (%s: %s). This is a bug in "
                             "fleetops.kdump: please report it with the file." % (root, type(error).__name__, error))
    module.exit_json(changed=False, ansible_facts={"kdump": facts})


if __name__ == "__main__":
    main()
