# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The three backends (grub, grubby, kernel_install) and run(), which plans, checks and applies a change."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import fnmatch
import os
import re

from collections import OrderedDict

from typing import Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import COMMAND_LINE_SIZE
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import brief, quoted, split_cmdline
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.common import (
    BACKENDS, BLS_ENTRY_DIRS, BootloaderError, DEFAULT_GRUB_DROPIN, GRUB_DEFAULTS, GRUB_DROPIN_DIR, GRUB_VARIABLES,
    KERNEL_CMDLINE, LOADER_CONFS, PROC_CMDLINE, Plan, Runner, _UNSAFE_CHARS,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.tokens import (
    ArgSpec, _stray_after, _view_value, arg_key, crashkernel_warnings, edit_tokens, join_cmdline, managed_tokens,
    validate_args,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.files import (
    Files, _encode, _find_program, _run, read_running_cmdline,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.text import (
    bls_options, edit_bls_options, edit_grub_defaults, grub_cfg_default_args, grub_eval_script, grubby_update_argv,
    kernel_cmdline_text, merge_dropin, parse_dropin, parse_grub_eval, parse_grubby_info, read_grub_defaults,
    render_dropin, render_kernel_cmdline,
)


# backends

def check_grub_dropin(value: object) -> str:
    rel = str(value or DEFAULT_GRUB_DROPIN)
    directory, name = os.path.split(rel)
    if directory.rstrip("/") != GRUB_DROPIN_DIR or not name.endswith(".cfg") or name.startswith(".") or \
            any(char in _UNSAFE_CHARS or char.isspace() for char in name):
        raise BootloaderError(
            "grub_dropin: %r is not sourced by grub-mkconfig; use a name like %s (a .cfg file directly in "
            "%s that sorts after the other files there)" % (rel, DEFAULT_GRUB_DROPIN, GRUB_DROPIN_DIR))
    return rel


class Backend:
    name = ""

    def __init__(self, files: Files, runner: Runner, options: Dict[str, object]) -> None:
        self.files = files
        self.runner = runner
        self.options = options

    def plan(self, spec: ArgSpec) -> Plan:
        raise NotImplementedError

    def apply(self, plan: Plan) -> None:
        raise NotImplementedError

    def _command(self, option: str, default: Optional[List[str]]) -> List[str]:
        given = self.options.get(option)
        if given is not None:
            if not isinstance(given, (list, tuple)) or not given or not str(given[0]):
                raise BootloaderError("%s: give the command as a non-empty list, e.g. [/usr/sbin/update-grub]"
                                      % option)
            return [str(part) for part in given]
        if default is None or not self.files.tree.live:
            raise BootloaderError(
                "%s: no command found%s; set %s to the command to run"
                % (option, "" if self.files.tree.live else " (root is %s: commands for another root are never "
                   "guessed)" % self.files.root, option))
        return default

    def _write_all(self, plan: Plan) -> None:
        for rel, text in plan.writes.items():
            self.files.write(rel, text)

    def _restored(self, error: BootloaderError) -> BootloaderError:
        """Put the previous files back and return error with a note saying so (for `raise`)."""
        problems = self.files.restore()
        if problems:
            error.msg += "; restoring the previous files FAILED for: " + "; ".join(problems)
        else:
            error.msg += "; the previous files were restored"
        error.args = (error.msg,)
        return error


GRUB_CFG_PATHS = ("/boot/grub/grub.cfg", "/boot/grub2/grub.cfg")


class GrubBackend(Backend):
    name = "grub"

    def _dropin_rel(self) -> str:
        return check_grub_dropin(self.options.get("grub_dropin"))

    def method(self) -> str:
        """'dropin' where grub-mkconfig sources /etc/default/grub.d/*.cfg (Debian, Ubuntu), else 'defaults'."""
        found = _find_program(self.files, ("grub-mkconfig", "grub2-mkconfig"))
        if found is not None:
            script = self.files.read(found[1]) or ""
            return "dropin" if "default/grub.d" in script else "defaults"
        return "dropin" if self.files.exists("/etc/debian_version") else "defaults"

    def grub_config(self) -> str:
        given = self.options.get("grub_config")
        if given:
            if not str(given).startswith("/") or re.search(r"(^|/)\.\.?(/|$)|[\x00-\x20\x7f]", str(given)):
                raise BootloaderError("grub_config: %s is not an absolute plain path (relative to root, no spaces or "
                                      "line breaks), such as /boot/grub/grub.cfg; nothing was changed" % quoted(given))
            return str(given)
        if _find_program(self.files, ("update-grub", "grub-mkconfig")) is None and \
                _find_program(self.files, ("grub2-mkconfig",)) is not None:
            return "/boot/grub2/grub.cfg"
        if not self.files.exists("/boot/grub/grub.cfg") and self.files.exists("/boot/grub2/grub.cfg"):
            return "/boot/grub2/grub.cfg"
        return "/boot/grub/grub.cfg"

    def mkconfig_command(self, grub_config: str) -> List[str]:
        default = None
        if grub_config == "/boot/grub/grub.cfg":
            found = _find_program(self.files, ("update-grub",))
            if found is not None:
                default = [found[1]]
        if default is None:
            found = _find_program(self.files, ("grub-mkconfig", "grub2-mkconfig"))
            if found is not None:
                default = [found[1], "-o", grub_config]
        return self._command("grub_mkconfig_command", default)

    def evaluate(self, overrides: Dict[str, Optional[str]]) -> Tuple[str, str]:
        """GRUB_CMDLINE_LINUX / _DEFAULT after sourcing the defaults like grub-mkconfig does;
        overrides maps a relative path to the text it would have."""
        sources: List[Tuple[str, Optional[str]]] = []
        if GRUB_DEFAULTS in overrides:
            sources.append((self.files.path(GRUB_DEFAULTS), overrides[GRUB_DEFAULTS]))
        elif self.files.exists(GRUB_DEFAULTS):
            sources.append((self.files.path(GRUB_DEFAULTS), None))
        dropins = set(self.files.glob(GRUB_DROPIN_DIR + "/*.cfg"))
        dropins.update(rel for rel in overrides if rel.startswith(GRUB_DROPIN_DIR + "/"))
        for rel in sorted(dropins, key=_encode):
            if rel in overrides:
                sources.append((self.files.path(rel), overrides[rel]))
            elif self.files.exists(rel):
                sources.append((self.files.path(rel), None))
        if not self.files.tree.live:
            texts = [(path, text if text is not None else self._read_abs(path)) for path, text in sources]
            return read_grub_defaults(texts)
        script, env = grub_eval_script(sources)
        out = _run(self.runner, ["/bin/sh", "-c", script, "fleetops-kdump-eval"], env,
                   what="evaluating the grub defaults (%s and %s/*.cfg)" % (GRUB_DEFAULTS, GRUB_DROPIN_DIR))
        return parse_grub_eval(out)

    def _read_abs(self, path: str) -> str:
        text = self.files.read("/" + os.path.relpath(path, self.files.root))
        return text or ""

    def _grub_config_problem(self, grub_config: str) -> Optional[str]:
        """Why the regenerated grub configuration must not be written where it is, or None: a command writing
        there would follow a link out of the root, or create the file a dangling link names."""
        where = os.path.join(self.files.root, grub_config.lstrip("/"))
        real = os.path.realpath(where)
        top = os.path.realpath(self.files.root)
        if not self.files.tree.live and os.path.commonpath([real, top]) != top:
            return "%s leads to %s, outside root %s, where regenerating it would write; give the grub.cfg inside " \
                   "the root" % (where, real, self.files.root)
        if not os.path.exists(self.files.path(grub_config)):
            dangling = self.files.link_problem(grub_config)
            if dangling:
                return dangling
            parent = os.path.dirname(where)
            if not os.path.isdir(parent):
                return "its directory %s does not exist, so regenerating it would fail; give the grub.cfg the boot " \
                       "loader reads, such as /boot/grub/grub.cfg" % parent
        return None

    def _plan_dropin(self, spec: ArgSpec, plan: Plan, before: Tuple[str, str], variable: str,
                     overrides: Dict[str, Optional[str]]) -> None:
        """The drop-in's new text in overrides (none when the defaults already give the request)."""
        rel = self._dropin_rel()
        folder = os.path.join(self.files.root, os.path.dirname(rel).lstrip("/"))
        if os.path.lexists(folder) and not os.path.isdir(folder):
            raise BootloaderError("grub_dropin: %s is not a directory, so no drop-in can be written there; "
                                  "remove that file, or set grub_dropin to a file in a directory grub-mkconfig "
                                  "sources" % folder)
        current = self.files.read(rel)
        previous = parse_dropin(current)
        if current is not None and previous is None:
            raise BootloaderError(
                "grub_dropin: %s exists and was not written by this module; choose another grub_dropin "
                "or remove that file" % self.files.path(rel))
        before_tokens = split_cmdline(before[0] + " " + before[1])
        if previous is None and managed_tokens(before_tokens, spec.keys) == spec.tokens:
            # already right without a drop-in: create none (no change, no regeneration)
            plan.check_keys, plan.expected = spec.keys, spec.tokens
        else:
            keys, tokens = merge_dropin(previous, spec)
            new_text = render_dropin(keys, tokens, variable)
            if new_text != current:
                overrides[rel] = new_text
            plan.check_keys, plan.expected = keys, tokens

    def plan(self, spec: ArgSpec) -> Plan:
        plan = Plan(self.name)
        variable = str(self.options.get("grub_cmdline_variable") or "GRUB_CMDLINE_LINUX_DEFAULT")
        method = self.method()
        before = self.evaluate({})
        overrides: Dict[str, Optional[str]] = OrderedDict()
        if method == "dropin":
            self._plan_dropin(spec, plan, before, variable, overrides)
        else:
            current = self.files.read(GRUB_DEFAULTS)
            new_text = edit_grub_defaults(current, spec.keys, spec.tokens, variable)
            if new_text != (current or ""):
                overrides[GRUB_DEFAULTS] = new_text
            plan.check_keys, plan.expected = spec.keys, spec.tokens
        after = self.evaluate(overrides) if overrides else before
        after_tokens = split_cmdline(after[0] + " " + after[1])
        got = managed_tokens(after_tokens, plan.check_keys)
        if got != plan.expected:
            later: List[str] = []
            if method == "dropin":
                later = [rel for rel in self.files.glob(GRUB_DROPIN_DIR + "/*.cfg")
                         if _encode(rel) > _encode(self._dropin_rel())]
            raise BootloaderError(
                "after this change the grub defaults would still give %s instead of %s for %s: another setting "
                "sourced later overrides it%s; move that setting, or set grub_dropin to a name sorting after it"
                % (join_cmdline(got) or "nothing", join_cmdline(plan.expected) or "nothing",
                   ", ".join(plan.check_keys), " (files after the drop-in: %s)" % ", ".join(later) if later else ""))
        plan.writes.update((rel, str(text)) for rel, text in overrides.items())
        plan.header = "next boot: GRUB_CMDLINE_* after sourcing %s and %s/*.cfg" % (GRUB_DEFAULTS, GRUB_DROPIN_DIR)
        plan.views_before = ["%s=\"%s\"" % (GRUB_VARIABLES[0], before[0]), "%s=\"%s\"" % (GRUB_VARIABLES[1], before[1])]
        plan.views_after = ["%s=\"%s\"" % (GRUB_VARIABLES[0], after[0]), "%s=\"%s\"" % (GRUB_VARIABLES[1], after[1])]
        plan.next_before = join_cmdline(split_cmdline(before[0] + " " + before[1]))
        plan.next_after = join_cmdline(after_tokens)
        grub_config = self.grub_config()
        generated = grub_cfg_default_args(self.files.read(grub_config))
        stale = generated is not None and \
            managed_tokens(split_cmdline(generated), plan.check_keys) != plan.expected
        if plan.writes or stale:
            problem = self._grub_config_problem(grub_config)
            if problem:
                raise BootloaderError("grub_config: %s; nothing was changed" % problem)
            plan.commands.append(self.mkconfig_command(grub_config))
            if stale and not plan.writes:
                plan.warnings.append("%s does not match the grub defaults for %s: regenerating it"
                                     % (grub_config, ", ".join(plan.check_keys)))
        plan.grub_config = grub_config
        return plan

    def apply(self, plan: Plan) -> None:
        try:
            for rel in (plan.grub_config,) + GRUB_CFG_PATHS:  # what the command may rewrite, restored if it fails
                self.files.snapshot(rel)
            self._write_all(plan)
        except (OSError, IOError) as error:
            raise self._restored(BootloaderError("writing the grub defaults failed: %s" % error))
        for argv in plan.commands:
            try:
                _run(self.runner, argv, what="regenerating the grub configuration (%s)" % " ".join(argv))
            except BootloaderError as error:
                raise self._restored(error)
        if plan.commands:
            generated = grub_cfg_default_args(self.files.read(plan.grub_config))
            if generated is None:
                raise self._restored(BootloaderError(
                    "after regenerating it, %s has no Linux entry (or does not exist), so the next boot's command "
                    "line cannot be verified; if the command writes another file, set grub_config to it"
                    % self.files.path(plan.grub_config)))
            if managed_tokens(split_cmdline(generated), plan.check_keys) != plan.expected:
                raise self._restored(BootloaderError(
                    "the regenerated %s boots with %s instead of %s" % (
                        plan.grub_config,
                        join_cmdline(managed_tokens(split_cmdline(generated), plan.check_keys)) or "nothing",
                        join_cmdline(plan.expected) or "nothing")))


class GrubbyBackend(Backend):
    name = "grubby"
    # files grubby may rewrite (BLS entries, grubenv, legacy grub.cfg), restored if it fails
    SNAPSHOT_GLOBS = ("/boot/loader/entries/*.conf", "/boot/grub2/grubenv", "/boot/grub2/grub.cfg",
                      "/boot/grub/grub.cfg", "/boot/efi/EFI/*/grub.cfg", "/boot/efi/EFI/*/grubenv",
                      "/etc/zipl.conf")

    def command(self) -> List[str]:
        found = _find_program(self.files, ("grubby",))
        return self._command("grubby_command", [found[1]] if found else None)

    def info(self) -> Tuple[List[Dict[str, object]], int]:
        grubby = self.command()
        entries = parse_grubby_info(_run(self.runner, grubby + ["--info=ALL"], what="grubby --info=ALL"))
        if not entries:
            raise BootloaderError("grubby --info=ALL listed no Linux kernels", cmd=grubby + ["--info=ALL"])
        default = entries[0]["index"]
        try:
            default = int(_run(self.runner, grubby + ["--default-index"], what="grubby --default-index").strip())
        except (BootloaderError, ValueError):
            pass
        return entries, int(default)  # type: ignore

    @staticmethod
    def _default_entry(entries: List[Dict[str, object]], index: int) -> Dict[str, object]:
        for entry in entries:
            if entry["index"] == index:
                return entry
        return entries[0]

    def plan(self, spec: ArgSpec) -> Plan:
        plan = Plan(self.name)
        plan.header = "next boot: arguments of every kernel grubby lists"
        entries, default_index = self.info()
        argv = grubby_update_argv(entries, spec)
        if argv is not None:
            plan.commands.append(self.command() + argv)
        for entry in entries:
            old = split_cmdline(str(entry["args"]))
            new = edit_tokens(old, spec.keys, spec.tokens)
            mark = " (default)" if entry["index"] == default_index else ""
            plan.views_before.append("%s%s: %s" % (entry["kernel"], mark, join_cmdline(old)))
            plan.views_after.append("%s%s: %s" % (entry["kernel"], mark, join_cmdline(new)))
        default = self._default_entry(entries, default_index)
        plan.next_before = str(default["args"])
        plan.next_after = join_cmdline(edit_tokens(split_cmdline(plan.next_before), spec.keys, spec.tokens))
        plan.check_keys, plan.expected = spec.keys, spec.tokens
        self._plan_inherited_files(plan, spec)
        plan.default_index = default_index
        return plan

    def _plan_inherited_files(self, plan: Plan, spec: ArgSpec) -> None:
        """Kernels installed later take their arguments from these files: keep them in line."""
        defaults = self.files.read(GRUB_DEFAULTS)
        if defaults is not None:
            try:
                new = edit_grub_defaults(defaults, spec.keys, spec.tokens, "GRUB_CMDLINE_LINUX")
            except BootloaderError as error:
                plan.warnings.append("%s left unchanged: %s" % (GRUB_DEFAULTS, error.msg))
            else:
                if new != defaults:
                    plan.writes[GRUB_DEFAULTS] = new
        current = self.files.read(KERNEL_CMDLINE)
        if current is not None:
            new = render_kernel_cmdline(current, edit_tokens(
                split_cmdline(kernel_cmdline_text(current)), spec.keys, spec.tokens))
            if kernel_cmdline_text(new) != kernel_cmdline_text(current):
                plan.writes[KERNEL_CMDLINE] = new

    def apply(self, plan: Plan) -> None:
        try:
            for pattern in self.SNAPSHOT_GLOBS:
                for rel in self.files.glob(pattern) if "*" in pattern else [pattern]:
                    self.files.snapshot(rel)
            for rel in plan.writes:
                self.files.snapshot(rel)
        except BootloaderError as error:
            raise BootloaderError(error.msg + "; nothing was changed")
        for argv in plan.commands:
            try:
                _run(self.runner, argv, what="grubby")
            except BootloaderError as error:
                raise self._restored(error)
        if plan.commands:
            try:
                entries, _default = self.info()
            except BootloaderError as error:
                raise self._restored(error)
            wrong = [(entry["kernel"], managed_tokens(split_cmdline(str(entry["args"])), plan.check_keys))
                     for entry in entries
                     if managed_tokens(split_cmdline(str(entry["args"])), plan.check_keys) != plan.expected]
            if wrong:
                raise self._restored(BootloaderError(
                    "grubby left %s instead of %s (an old grubby may merge arguments sharing a key)" % (
                        "; ".join("%s: %s" % (kernel, join_cmdline(tokens) or "nothing") for kernel, tokens in wrong),
                        join_cmdline(plan.expected) or "nothing")))
            default = self._default_entry(entries, plan.default_index)
            plan.next_after = str(default["args"])
        try:
            self._write_all(plan)
        except (OSError, IOError) as error:
            raise self._restored(BootloaderError("writing %s failed: %s" % (", ".join(plan.writes), error)))


class KernelInstallBackend(Backend):
    name = "kernel_install"

    def entries(self) -> List[str]:
        """Boot Loader Spec entries, the one systemd-boot boots by default first: the loader.conf
        `default` pattern if one matches, else the newest (entry names sorted in reverse)."""
        seen = set()
        found = []
        for directory in BLS_ENTRY_DIRS:
            for rel in self.files.glob(directory + "/*.conf"):
                real = os.path.realpath(self.files.path(rel))
                if real not in seen:
                    seen.add(real)
                    found.append(rel)
        found.sort(key=lambda rel: _encode(os.path.basename(rel)), reverse=True)
        pattern = None
        for rel in LOADER_CONFS:
            for line in (self.files.read(rel) or "").splitlines():
                words = line.split(None, 1)
                if len(words) == 2 and words[0] == "default":
                    pattern = words[1].strip()
        if pattern:
            matching = [rel for rel in found if fnmatch.fnmatchcase(os.path.basename(rel), pattern) or
                        fnmatch.fnmatchcase(os.path.basename(rel), pattern + ".conf")]
            found = matching[:1] + [rel for rel in found if rel not in matching[:1]]
        return found

    def base_cmdline(self) -> Tuple[Optional[str], List[str]]:
        """Current text of /etc/kernel/cmdline and its arguments; when it does not exist, the arguments
        kernel-install would use (/usr/lib/kernel/cmdline, else /proc/cmdline without loader tokens)."""
        current = self.files.read(KERNEL_CMDLINE)
        if current is not None:
            return current, split_cmdline(kernel_cmdline_text(current))
        shipped = self.files.read("/usr/lib/kernel/cmdline")
        if shipped is not None:
            return None, split_cmdline(kernel_cmdline_text(shipped))
        running = read_running_cmdline(self.files)
        if running is None:
            raise BootloaderError(
                "%s, /usr/lib/kernel/cmdline and %s are all missing under %s: cannot tell the base command "
                "line; create %s first" % (KERNEL_CMDLINE, PROC_CMDLINE, self.files.root, KERNEL_CMDLINE))
        return None, [token for token in split_cmdline(running)
                      if arg_key(token) not in ("BOOT_IMAGE", "initrd")]

    def plan(self, spec: ArgSpec) -> Plan:
        plan = Plan(self.name)
        plan.header = "next boot: %s and the boot loader entries" % KERNEL_CMDLINE
        current, tokens = self.base_cmdline()
        new_tokens = edit_tokens(tokens, spec.keys, spec.tokens)
        if new_tokens != tokens:
            plan.writes[KERNEL_CMDLINE] = render_kernel_cmdline(current, new_tokens)
        plan.views_before.append("%s: %s" % (KERNEL_CMDLINE, join_cmdline(tokens) if current is not None
                                             else "(missing)"))
        plan.views_after.append("%s: %s" % (KERNEL_CMDLINE, join_cmdline(new_tokens)))
        plan.next_before = join_cmdline(tokens)
        plan.next_after = join_cmdline(new_tokens)
        entries = self.entries()
        for number, rel in enumerate(entries):
            text = self.files.read(rel) or ""
            new = edit_bls_options(text, spec.keys, spec.tokens)
            if new != text:
                plan.writes[rel] = new
            mark = " (default)" if number == 0 else ""
            plan.views_before.append("%s%s: %s" % (rel, mark, bls_options(text)))
            plan.views_after.append("%s%s: %s" % (rel, mark, bls_options(new)))
            if number == 0:
                plan.next_before, plan.next_after = bls_options(text), bls_options(new)
        if not entries:
            plan.warnings.append("no boot loader entries found in %s: the arguments apply to kernels installed "
                                 "from now on" % ", ".join(BLS_ENTRY_DIRS))
        plan.check_keys, plan.expected = spec.keys, spec.tokens
        return plan

    def apply(self, plan: Plan) -> None:
        try:
            self._write_all(plan)
        except (OSError, IOError) as error:
            raise self._restored(BootloaderError("writing %s failed: %s" % (", ".join(plan.writes), error)))


BACKEND_CLASSES = {"grub": GrubBackend, "grubby": GrubbyBackend, "kernel_install": KernelInstallBackend}


def detect_backend(files: Files) -> str:
    """grubby (RHEL family) > grub (/etc/default/grub or grub-mkconfig) > kernel_install."""
    if _find_program(files, ("grubby",)) is not None:
        return "grubby"
    if files.exists(GRUB_DEFAULTS) or _find_program(files, ("update-grub", "grub-mkconfig", "grub2-mkconfig")):
        return "grub"
    if files.exists(KERNEL_CMDLINE) or files.exists("/usr/lib/kernel/cmdline") or \
            _find_program(files, ("kernel-install",)):
        return "kernel_install"
    raise BootloaderError(
        "backend: no boot loader tooling found under %s (no grubby, /etc/default/grub, grub-mkconfig or "
        "/etc/kernel/cmdline); set backend to grub, grubby or kernel_install" % files.root)


def check_command_option(option: str, given: object) -> None:
    """A command option is unset or an argument list of non-empty strings (nothing runs it through a shell)."""
    if given is not None and (not isinstance(given, (list, tuple)) or not given or
                              not all(isinstance(part, str) and part for part in given)):
        raise BootloaderError("%s: give the command as a list of non-empty strings, e.g. [/usr/sbin/update-grub]; "
                              "got %s (a string is not split: no shell runs it)" % (option, brief(repr(given))))


def _refuse_or_warn(plan: Plan, spec: ArgSpec, files: Files) -> None:
    """Refuse a plan whose next boot would not read the request as asked (a stray crashkernel=, a write through a
    link, a command line the kernel cuts); add the warnings of one that is safe."""
    stray = _stray_after(plan) if "crashkernel" in spec.keys else []
    if stray:
        raise BootloaderError(
            "the next boot's command line would still hold %s: the kernel finds 'crashkernel=' inside any word "
            "and reads it as a crashkernel= argument, so the reservation would not be the one asked for; nothing "
            "was changed. Fix: remove %s (remove_args: %s)"
            % (", ".join(repr(token) for token in stray), "it" if len(stray) == 1 else "them",
               sorted(set(arg_key(token) for token in stray))))
    links = [problem for problem in (files.link_problem(rel) for rel in plan.writes) if problem]
    if links:
        raise BootloaderError("; ".join(links) + "; nothing was changed")
    plan.warnings.extend(crashkernel_warnings(spec.tokens))
    longest = max([len(plan.next_after)] + [len(_view_value(view)) for view in plan.views_after])
    if longest >= COMMAND_LINE_SIZE:  # also /etc/kernel/cmdline, which the next kernel-install copies
        cut = "the next boot's command line would be %d bytes; the kernel keeps the first %d and cuts the rest" \
            % (longest, COMMAND_LINE_SIZE - 1)
        if plan.changed:
            raise BootloaderError("%s, so arguments at its end would be lost; nothing was changed. Fix: remove "
                                  "arguments the host does not need (remove_args)" % cut)
        plan.warnings.append(cut)


def run(params: Dict[str, object], runner: Runner, check_mode: bool = False) -> Dict[str, object]:
    """Validate, plan, and (unless check_mode) apply. Returns the module result; raises BootloaderError."""
    spec = validate_args(params.get("args"), str(params.get("state") or "present"),
                         params.get("remove_args"), params.get("repeatable_keys"))  # type: ignore
    for option in ("grub_mkconfig_command", "grubby_command"):
        check_command_option(option, params.get(option))
    check_grub_dropin(params.get("grub_dropin"))
    files = Files(str(params.get("root") or "/"))
    if not os.path.isdir(files.root):
        raise BootloaderError("root: %s is not a directory" % files.root)
    name = str(params.get("backend") or "auto")
    if name == "auto":
        name = detect_backend(files)
    if name not in BACKEND_CLASSES:
        raise BootloaderError("backend: %r is not one of auto, %s" % (name, ", ".join(BACKENDS)))
    backend = BACKEND_CLASSES[name](files, runner, params)
    plan = backend.plan(spec)
    _refuse_or_warn(plan, spec, files)
    if plan.changed and not check_mode:
        backend.apply(plan)
    running = read_running_cmdline(files)
    next_managed = managed_tokens(split_cmdline(plan.next_after), spec.keys)
    if running is None:
        reboot_required = plan.changed
    else:
        reboot_required = managed_tokens(split_cmdline(running), spec.keys) != next_managed
    return {
        "changed": plan.changed,
        "backend": name,
        "reboot_required": reboot_required,
        "cmdline_before": plan.next_before,
        "cmdline_after": plan.next_after,
        "running_cmdline": running,
        "managed_keys": list(spec.keys),
        "files_changed": [files.path(rel) for rel in plan.writes],
        "commands": plan.commands,
        "warnings": plan.warnings,
        "diff": {
            "before": "\n".join(plan.views_before) + "\n",
            "after": "\n".join(plan.views_after) + "\n",
            "before_header": plan.header,
            "after_header": plan.header,
        },
    }
