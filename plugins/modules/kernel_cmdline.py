#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
---
module: kernel_cmdline
short_description: Ensure kernel arguments are present or absent in the boot loader configuration
version_added: 0.1.0
description:
  - Manages kernel arguments by key. With O(state=present) every existing argument of each given key is
    removed and the given arguments are appended in the given order, so no stale or conflicting copy is
    left (C(crashkernel=512M), C(crashkernel=768M,high) and C(crashkernel=16M,low) all share the key
    C(crashkernel)). With O(state=absent) every argument of each key is removed.
  - "Backends: C(grub) writes a drop-in under C(/etc/default/grub.d/) (Debian, Ubuntu; it wins over
    kdump-tools' C(kdump-tools.cfg)) or, where grub-mkconfig does not read that directory, edits the
    C(GRUB_CMDLINE_*) lines of C(/etc/default/grub); then regenerates C(grub.cfg) with update-grub or
    grub-mkconfig. C(grubby) (RHEL family) updates every installed kernel with
    C(grubby --update-kernel=ALL) and keeps C(GRUB_CMDLINE_LINUX) in C(/etc/default/grub) and
    C(/etc/kernel/cmdline) in line so kernels installed later inherit the arguments. C(kernel_install)
    rewrites C(/etc/kernel/cmdline) and the C(options) lines of existing Boot Loader Spec entries."
  - Bad input fails before anything on the host is read or changed. Files are replaced atomically and
    keep their mode, owner and SELinux label. If regenerating the boot configuration fails, the previous
    files are restored and the module fails with the command's output.
  - The next-boot command line is computed the way the boot tooling computes it (for grub by sourcing the
    defaults files in a shell like grub-mkconfig does), so check mode predicts the change exactly.
author:
  - fleetops.kdump developers (@fleetops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the next-boot command line(s) before and after.
  platform:
    platforms: posix
options:
  args:
    description:
      - Kernel arguments, a list of C(key=value) or bare C(key) strings, for example
        V(crashkernel=768M,high) and V(crashkernel=16M,low). A plain string is refused because its commas
        would be taken as list separators.
      - Several arguments with the same key are allowed only for C(crashkernel) with different suffixes
        (plain, C(,high), C(,low), C(,cma)) and for keys in O(repeatable_keys). The same argument twice
        is kept once.
      - Quotes, whitespace and shell or grub special characters are refused.
      - With O(state=absent) only the keys matter; every argument of each key is removed.
    type: raw
    default: []
  state:
    description: Whether the arguments must be on the command line or every argument of their keys removed.
    type: str
    choices: [present, absent]
    default: present
  remove_args:
    description:
      - A list of keys (without values, each a string) whose every argument is removed, together with O(args)
        in one change. A string is refused, not split.
      - A key cannot be both in O(args) and in O(remove_args).
    type: raw
    default: []
  repeatable_keys:
    description:
      - Keys the kernel or the initrd reads more than once, in addition to the built-in ones
        (C(console), C(hugepagesz), C(hugepages), C(memmap), C(ip), C(rd.lvm.lv), C(rd.luks.uuid),
        C(acpi_osi)). O(args) may list such keys several times with different values.
      - A list of strings; anything else is refused.
    type: raw
    default: []
  backend:
    description:
      - How the arguments reach the boot loader. V(auto) picks V(grubby) when grubby is installed, else
        V(grub) when C(/etc/default/grub) or grub-mkconfig exists, else V(kernel_install) when
        C(/etc/kernel/cmdline) or kernel-install exists.
    type: str
    choices: [auto, grub, grubby, kernel_install]
    default: auto
  root:
    description:
      - Root of the system to manage; every path is taken relative to it. Meant for tests on temporary
        trees. With a root other than C(/) no command is guessed, so O(grub_mkconfig_command) or
        O(grubby_command) must be given when the backend needs it.
    type: path
    default: /
  grub_dropin:
    description:
      - The drop-in file the V(grub) backend writes, a C(.cfg) file directly in C(/etc/default/grub.d/).
      - grub-mkconfig sources those files in byte order after C(/etc/default/grub); the default name
        sorts after C(kdump-tools.cfg) (a C(99-) name would not, digits sort before letters).
      - The file records the keys it manages; a later run for other keys keeps them.
    type: str
    default: /etc/default/grub.d/zz-fleetops-kdump.cfg
  grub_cmdline_variable:
    description:
      - The variable the V(grub) backend appends the arguments to. Every argument of the managed keys is
        removed from both variables. C(GRUB_CMDLINE_LINUX_DEFAULT) keeps them out of the recovery entries,
        C(GRUB_CMDLINE_LINUX) puts them in every entry.
    type: str
    choices: [GRUB_CMDLINE_LINUX_DEFAULT, GRUB_CMDLINE_LINUX]
    default: GRUB_CMDLINE_LINUX_DEFAULT
  grub_config:
    description:
      - The generated grub configuration (relative to O(root)) that is checked after regeneration.
        Default C(/boot/grub/grub.cfg), or C(/boot/grub2/grub.cfg) where only grub2-mkconfig exists.
    type: str
  grub_mkconfig_command:
    description:
      - Command (argument list) that regenerates the grub configuration.
        Default C(update-grub) when it exists, else C(grub-mkconfig -o <grub_config>) or
        C(grub2-mkconfig -o <grub_config>).
      - A list of non-empty strings; a string is refused, not split (no shell runs the command).
    type: raw
  grubby_command:
    description:
      - Command (argument list) to run grubby. Default C(grubby) from C(/usr/sbin) or C(/sbin).
      - A list of non-empty strings; a string is refused, not split.
    type: raw
notes:
  - The grub drop-in changes only what grub-mkconfig generates; it does not touch C(/etc/default/grub),
    which stays the operator's file. Delete the drop-in and run update-grub to hand the keys back.
  - The kernel treats C(-) and C(_) in parameter names alike; so does this module when matching keys.
  - Arguments after C(--) belong to init and are left alone; new arguments go before C(--).
seealso:
  - name: Kernel command line parameters
    description: The kernel's documentation of boot parameters.
    link: https://docs.kernel.org/admin-guide/kernel-parameters.html
"""

EXAMPLES = r"""
- name: Reserve crash kernel memory (high + small low region) on every boot entry
  fleetops.kdump.kernel_cmdline:
    args:
      - crashkernel=768M,high
      - crashkernel=16M,low
  register: kdump_cmdline

- name: Apply the arguments planned by the crashkernel_plan filter
  fleetops.kdump.kernel_cmdline:
    args: "{{ (ansible_facts.kdump | fleetops.kdump.crashkernel_plan).args }}"

- name: Remove every crashkernel argument
  fleetops.kdump.kernel_cmdline:
    args: [crashkernel]
    state: absent

- name: Set one argument and drop another in a single change
  fleetops.kdump.kernel_cmdline:
    args: [crashkernel=512M]
    remove_args: [nokaslr]

- name: Reboot only when the running kernel does not have the arguments yet
  ansible.builtin.reboot:
  when: kdump_cmdline.reboot_required and kdump_reboot_ok | bool
"""

RETURN = r"""
changed:
  description: Whether a file was (or, in check mode, would be) changed or a command run.
  returned: always
  type: bool
  sample: true
backend:
  description: The backend used (detected when O(backend=auto)).
  returned: always
  type: str
  sample: grub
reboot_required:
  description:
    - True when the running kernel's arguments for the managed keys (from C(/proc/cmdline) under O(root))
      differ from what the next boot gets. Only the managed keys' arguments are compared, in order.
    - When C(/proc/cmdline) cannot be read, this is the value of RV(changed).
  returned: always
  type: bool
  sample: true
cmdline_before:
  description:
    - The kernel arguments the next boot got before this task. V(grub) backend, the values of
      C(GRUB_CMDLINE_LINUX) and C(GRUB_CMDLINE_LINUX_DEFAULT) after sourcing the defaults files
      (grub-mkconfig adds C(BOOT_IMAGE=), C(root=) and C(ro) in front); V(grubby), the default kernel's
      arguments; V(kernel_install), the arguments of C(/etc/kernel/cmdline).
  returned: always
  type: str
  sample: quiet crashkernel=384M-:128M
cmdline_after:
  description: The kernel arguments the next boot gets after this task (predicted in check mode), same form as RV(cmdline_before).
  returned: always
  type: str
  sample: quiet crashkernel=768M,high crashkernel=16M,low
running_cmdline:
  description: The running kernel's command line (C(/proc/cmdline) under O(root)); null when it cannot be read.
  returned: always
  type: str
  sample: BOOT_IMAGE=/boot/vmlinuz-6.1.0-27-arm64 root=UUID=0b5e2c1a ro quiet crashkernel=384M-:128M
managed_keys:
  description: The keys this task managed (C(-) written as C(_)).
  returned: always
  type: list
  elements: str
  sample: [crashkernel]
files_changed:
  description: Files written (in check mode, that would be written).
  returned: always
  type: list
  elements: str
  sample: [/etc/default/grub.d/zz-fleetops-kdump.cfg]
commands:
  description: Commands run (in check mode, that would run) to apply the change, each an argument list.
  returned: always
  type: list
  elements: list
  sample: [[/usr/sbin/update-grub]]
cmd:
  description: The command that failed.
  returned: when a command failed
  type: list
  elements: str
  sample: [/usr/sbin/update-grub]
rc:
  description: Exit status of the command that failed.
  returned: when a command failed
  type: int
  sample: 1
stdout:
  description: Standard output of the command that failed.
  returned: when a command failed
  type: str
  sample: Generating grub configuration file ...
stderr:
  description: Standard error of the command that failed.
  returned: when a command failed
  type: str
  sample: "/usr/sbin/grub-mkconfig: 1: syntax error"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.common import (
    DEFAULT_GRUB_DROPIN,
    GRUB_VARIABLES,
    BootloaderError,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.backends import run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            args=dict(type="raw", default=[]),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            remove_args=dict(type="raw", default=[]),
            repeatable_keys=dict(type="raw", default=[], no_log=False),
            backend=dict(type="str", choices=["auto", "grub", "grubby", "kernel_install"], default="auto"),
            root=dict(type="path", default="/"),
            grub_dropin=dict(type="str", default=DEFAULT_GRUB_DROPIN),
            grub_cmdline_variable=dict(type="str", choices=list(reversed(GRUB_VARIABLES)),
                                       default="GRUB_CMDLINE_LINUX_DEFAULT"),
            grub_config=dict(type="str"),
            grub_mkconfig_command=dict(type="raw"),
            grubby_command=dict(type="raw"),
        ),
        supports_check_mode=True,
    )

    def runner(argv, env=None):
        # handle_exceptions=False: a command that cannot start must raise, so the files are restored
        return module.run_command(argv, environ_update=env or {}, check_rc=False, handle_exceptions=False)

    try:
        result = run(module.params, runner, check_mode=module.check_mode)
    except BootloaderError as error:
        module.fail_json(msg=error.msg, **error.details())

    for warning in result.pop("warnings"):
        module.warn(warning)
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
