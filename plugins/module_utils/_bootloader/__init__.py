# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read and write kernel arguments through the boot loader tooling (module kernel_cmdline).

Three backends, all fed by a root path (a temp tree in tests) and a runner callable
``runner(argv, env_update) -> (rc, stdout, stderr)`` for the few commands they need:
- ``grub``: Debian/Ubuntu style drop-in under /etc/default/grub.d (or, where grub-mkconfig does not source
  that directory, the GRUB_CMDLINE_* lines of /etc/default/grub), then grub-mkconfig / update-grub.
- ``grubby``: RHEL family; ``grubby --update-kernel=ALL``; /etc/default/grub and /etc/kernel/cmdline
  are kept in line so kernels installed later inherit the arguments.
- ``kernel_install``: /etc/kernel/cmdline plus the ``options`` lines of existing Boot Loader Spec entries.

"Managing a key" means: every token of that key is removed, then the wanted tokens are appended in the
given order (``crashkernel=768M,high`` and ``crashkernel=16M,low`` share the key ``crashkernel``).

One concern per file: common.py (paths, key rules, BootloaderError, Plan), tokens.py (command-line tokens and
the validation of requested arguments), files.py (file transactions and commands), text.py (pure
grub/grubby/BLS text), backends.py (the backends and run()). This package re-exports the names the module
and the tests use.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import ASCII_SPACE, split_cmdline  # noqa: F401
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.common import (  # noqa: F401
    BACKENDS, BLS_ENTRY_DIRS, BootloaderError, CRASHKERNEL_SLOTS, DEFAULT_GRUB_DROPIN, DROPIN_MARKER, GRUB_DEFAULTS,
    GRUB_DROPIN_DIR, GRUB_VARIABLES, KERNEL_CMDLINE, LOADER_CONFS, PROC_CMDLINE, Plan, REPEATABLE_KEYS, RESERVED_KEYS,
    Runner, SBIN_DIRS,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.tokens import (  # noqa: F401
    ArgSpec, arg_key, crashkernel_slot, crashkernel_warnings, edit_tokens, join_cmdline, managed_tokens,
    normalize_key, shell_words, stray_crashkernel, validate_args,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.files import (  # noqa: F401
    Files, read_running_cmdline,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.text import (  # noqa: F401
    bls_options, edit_bls_options, edit_grub_defaults, grub_cfg_default_args, grub_eval_script, grubby_update_argv,
    kernel_cmdline_text, merge_dropin, parse_dropin, parse_grub_cfg, parse_grub_eval, parse_grubby_info,
    read_grub_defaults, render_dropin, render_kernel_cmdline,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.backends import (  # noqa: F401
    BACKEND_CLASSES, Backend, GRUB_CFG_PATHS, GrubBackend, GrubbyBackend, KernelInstallBackend, check_command_option,
    check_grub_dropin, detect_backend, run,
)

__all__ = [
    "ASCII_SPACE", "ArgSpec", "BACKENDS", "BACKEND_CLASSES", "BLS_ENTRY_DIRS", "Backend", "BootloaderError",
    "CRASHKERNEL_SLOTS", "DEFAULT_GRUB_DROPIN", "DROPIN_MARKER", "Files", "GRUB_CFG_PATHS", "GRUB_DEFAULTS",
    "GRUB_DROPIN_DIR", "GRUB_VARIABLES", "GrubBackend", "GrubbyBackend", "KERNEL_CMDLINE", "KernelInstallBackend",
    "LOADER_CONFS", "PROC_CMDLINE", "Plan", "REPEATABLE_KEYS", "RESERVED_KEYS", "Runner", "SBIN_DIRS", "arg_key",
    "bls_options", "check_command_option", "check_grub_dropin", "crashkernel_slot", "crashkernel_warnings",
    "detect_backend", "edit_bls_options", "edit_grub_defaults", "edit_tokens", "grub_cfg_default_args",
    "grub_eval_script", "grubby_update_argv", "join_cmdline", "kernel_cmdline_text", "managed_tokens", "merge_dropin",
    "normalize_key", "parse_dropin", "parse_grub_cfg", "parse_grub_eval", "parse_grubby_info", "read_grub_defaults",
    "read_running_cmdline", "render_dropin", "render_kernel_cmdline", "run", "shell_words", "split_cmdline",
    "stray_crashkernel", "validate_args",
]
