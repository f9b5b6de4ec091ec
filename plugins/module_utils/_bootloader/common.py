# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Paths, key rules and the types every part of kernel_cmdline's boot loader code shares."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from collections import OrderedDict

from typing import Callable, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import SUFFIX_OF_KIND


BACKENDS = ("grub", "grubby", "kernel_install")
GRUB_DEFAULTS = "/etc/default/grub"
GRUB_DROPIN_DIR = "/etc/default/grub.d"


# grub-mkconfig sources grub.d/*.cfg in byte order (dash globbing): the name must sort after
# kdump-tools.cfg, which appends its own crashkernel=, so "99-..." would lose; "zz-" wins.
DEFAULT_GRUB_DROPIN = GRUB_DROPIN_DIR + "/zz-fleetops-kdump.cfg"
GRUB_VARIABLES = ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT")
KERNEL_CMDLINE = "/etc/kernel/cmdline"
PROC_CMDLINE = "/proc/cmdline"
BLS_ENTRY_DIRS = ("/boot/loader/entries", "/efi/loader/entries", "/boot/efi/loader/entries")
LOADER_CONFS = ("/boot/loader/loader.conf", "/efi/loader/loader.conf", "/boot/efi/loader/loader.conf")
SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")
DROPIN_MARKER = "# Managed by fleetops.kdump.kernel_cmdline"


# Keys the kernel (or the initrd) reads more than once, so different values are not a conflict.
REPEATABLE_KEYS = frozenset(["console", "hugepagesz", "hugepages", "memmap", "ip", "rd.lvm.lv",
                             "rd.luks.uuid", "acpi_osi"])


# Set by the boot loader itself; grubby reports root= apart from the arguments.
RESERVED_KEYS = frozenset(["BOOT_IMAGE", "initrd", "root"])
CRASHKERNEL_SLOTS = tuple(SUFFIX_OF_KIND.values())  # ,high ,low ,cma: each a reservation of its own
_KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


# Characters that a shell, grub's script parser or grubby's sed would interpret.
_UNSAFE_CHARS = set("'\"\\`$;&|<>(){}*?[]#")
Runner = Callable[[List[str], Optional[Dict[str, str]]], Tuple[int, str, str]]


class BootloaderError(Exception):
    """A failure with a message for the operator and, for failed commands, their output."""

    def __init__(self,
                 msg: str,
                 cmd: Optional[List[str]] = None,
                 rc: Optional[int] = None,
                 stdout: Optional[str] = None,
                 stderr: Optional[str] = None) -> None:
        super(BootloaderError, self).__init__(msg)
        self.msg = msg
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr

    def details(self) -> Dict[str, object]:
        out: Dict[str, object] = OrderedDict()
        for name in ("cmd", "rc", "stdout", "stderr"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


class Plan:
    """What a backend will change: views of the command line, files, commands."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.next_before = ""
        self.next_after = ""
        self.views_before: List[str] = []
        self.views_after: List[str] = []
        self.writes: Dict[str, str] = OrderedDict()
        self.commands: List[List[str]] = []
        self.warnings: List[str] = []
        self.check_keys: List[str] = []
        self.expected: List[str] = []
        self.grub_config = ""
        self.default_index = 0
        self.header = "next boot"

    @property
    def changed(self) -> bool:
        return bool(self.writes or self.commands)
