# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure boot-configuration text: the grub drop-in and defaults file, grub.cfg, grubby's output, Boot Loader
Spec entries and /etc/kernel/cmdline. Text in, text out; nothing is read or written here."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from collections import OrderedDict

from typing import Dict, List, Optional, Sequence, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import SHELL_ASSIGNMENT_RE, split_cmdline
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.common import (
    BootloaderError, DROPIN_MARKER, GRUB_DEFAULTS, GRUB_VARIABLES,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.tokens import (
    ArgSpec, arg_key, edit_tokens, join_cmdline, managed_tokens, normalize_key, shell_words,
)


# grub: drop-in, defaults file, evaluation, grub.cfg

def parse_dropin(text: Optional[str]) -> Optional[Tuple[List[str], List[str]]]:
    """(managed keys, tokens) recorded in a drop-in this module wrote; None when the file is not ours."""
    if text is None or DROPIN_MARKER not in text:
        return None
    keys: List[str] = []
    tokens: List[str] = []
    for line in text.splitlines():
        if line.startswith("# fleetops-kdump-keys:"):
            keys = line.split(":", 1)[1].split()
        elif line.startswith("# fleetops-kdump-args:"):
            tokens = line.split(":", 1)[1].split()
    return keys, tokens


def merge_dropin(previous: Optional[Tuple[List[str], List[str]]], spec: ArgSpec) -> Tuple[List[str], List[str]]:
    """Keys and tokens the drop-in must hold after this request (other keys it manages are kept)."""
    keys, tokens = previous if previous is not None else ([], [])
    merged_keys = list(keys) + [key for key in spec.keys if key not in keys]
    return merged_keys, edit_tokens(tokens, spec.keys, spec.tokens)


def _case_pattern(keys: Sequence[str]) -> str:
    return "|".join(normalize_key(key).replace("_", "[-_]") for key in keys)


def render_dropin(keys: Sequence[str], tokens: Sequence[str], variable: str = "GRUB_CMDLINE_LINUX_DEFAULT") -> str:
    """POSIX sh sourced by grub-mkconfig: strip every token of keys from both GRUB_CMDLINE_* variables,
    then append tokens to variable. Tokens are validated (no quotes, no $, no backslash)."""
    if variable not in GRUB_VARIABLES:
        raise BootloaderError("grub_cmdline_variable: %r is not one of %s" % (variable, ", ".join(GRUB_VARIABLES)))
    lines = [
        DROPIN_MARKER + " - edits are overwritten.",
        "# grub-mkconfig (update-grub) sources this file after /etc/default/grub and the grub.d/*.cfg",
        "# files sorting before it (kdump-tools.cfg among them). It removes every argument of the keys",
        "# below from GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT and appends the wanted ones",
        "# to %s. Delete this file and run update-grub to hand the keys back." % variable,
        "# fleetops-kdump-keys: %s" % " ".join(keys),
        "# fleetops-kdump-args: %s" % " ".join(tokens),
        "",
        "fleetops_kdump_strip() {",
        "    fleetops_kdump_out=''",
        "    case $- in *f*) fleetops_kdump_noglob=1 ;; *) fleetops_kdump_noglob='' ;; esac",
        "    set -f",
        "    for fleetops_kdump_arg in $1; do",
        "        case \"${fleetops_kdump_arg%%=*}\" in",
    ]
    if keys:
        lines.append("            %s) ;;" % _case_pattern(keys))
    lines += [
        "            *) fleetops_kdump_out=\"${fleetops_kdump_out}${fleetops_kdump_out:+ }${fleetops_kdump_arg}\" ;;",
        "        esac",
        "    done",
        "    [ -n \"$fleetops_kdump_noglob\" ] || set +f",
        "}",
    ]
    for name in GRUB_VARIABLES:
        lines.append("fleetops_kdump_strip \"$%s\"" % name)
        if name == variable and tokens:
            lines.append("%s=\"${fleetops_kdump_out}${fleetops_kdump_out:+ }%s\"" % (name, " ".join(tokens)))
        else:
            lines.append("%s=\"$fleetops_kdump_out\"" % name)
    lines += [
        "unset -f fleetops_kdump_strip",
        "unset fleetops_kdump_out fleetops_kdump_arg fleetops_kdump_noglob",
        "",
    ]
    return "\n".join(lines)


_ASSIGN_RE = re.compile(
    r"^(?P<lead>\s*(?:export\s+)?)(?P<name>GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=(?P<rest>.*)$")


_VAR_TOKEN_RE = re.compile(r"^\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})$")


def _assigned_name(line: str) -> Optional[str]:
    """The variable a shell assignment line sets, or None."""
    match = _ASSIGN_RE.match(line.rstrip("\r\n"))
    return match.group("name") if match else None


def _parse_assignment_value(rest: str) -> Optional[Tuple[str, str, str]]:
    """(quote, value, trailer) of a one-line shell assignment this module can rewrite, else None."""
    if rest.startswith('"'):
        end = rest.find('"', 1)
        if end < 0:
            return None
        value, trailer = rest[1:end], rest[end + 1:]
        if "\\" in value or "`" in value:
            return None
        if "$" in value and not all(_VAR_TOKEN_RE.match(tok) for tok in shell_words(value) if "$" in tok):
            return None
        quote = '"'
    elif rest.startswith("'"):
        end = rest.find("'", 1)
        if end < 0:
            return None
        value, trailer, quote = rest[1:end], rest[end + 1:], "'"
    else:
        match = re.match(r"^([^\s;&|<>()`$'\"\\#]*)(.*)$", rest)
        if match is None:
            return None
        value, trailer, quote = match.group(1), match.group(2), '"'
    if trailer.strip() and not trailer.strip().startswith("#"):
        return None
    if trailer and not trailer[0].isspace() and trailer.strip():
        return None
    return quote, value, trailer


def edit_grub_defaults(text: Optional[str], keys: Sequence[str], desired: Sequence[str], variable: str) -> str:
    """Edit the GRUB_CMDLINE_* assignments of /etc/default/grub: remove every token of keys from each,
    append desired to the last assignment of variable (a new line when there is none)."""
    text = text or ""
    lines = text.splitlines(True)
    targets = [index for index, line in enumerate(lines)
               if _assigned_name(line) == variable]
    last_target = targets[-1] if targets else None
    for index, line in enumerate(lines):
        body = line.rstrip("\r\n")
        match = _ASSIGN_RE.match(body)
        if not match:
            continue
        parsed = _parse_assignment_value(match.group("rest"))
        if parsed is None:
            raise BootloaderError(
                "%s line %d (%s) uses shell syntax this module does not rewrite (multi-line value, command "
                "substitution or escapes); write it as %s=\"...\" on one line"
                % (GRUB_DEFAULTS, index + 1, body.strip(), match.group("name")))
        quote, value, trailer = parsed
        new_tokens = edit_tokens(shell_words(value), keys, desired if index == last_target else [])
        if new_tokens == shell_words(value):
            continue  # untouched lines keep their exact spelling
        new_value = quote + " ".join(new_tokens) + quote
        lines[index] = match.group("lead") + match.group("name") + "=" + new_value + trailer + line[len(body):]
    if last_target is None and desired:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append("%s=\"$%s %s\"\n" % (variable, variable, " ".join(desired)))
    return "".join(lines)


_EXPANSION_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_DROPIN_TARGET_RE = re.compile(r'^(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)="\$\{fleetops_kdump_out\}', re.M)


def _needs_a_shell(path: str, number: int, line: str) -> BootloaderError:
    return BootloaderError(
        "%s line %d (%s) needs a shell to evaluate, and the grub defaults of another root are read, never run; "
        "run this module on that host (root: /) or write the line as a plain NAME=\"...\" assignment"
        % (path, number, line.strip()[:120]))


def _apply_own_dropin(values: Dict[str, Optional[str]], text: str, keys: Sequence[str], tokens: Sequence[str]) -> None:
    """What a drop-in written by render_dropin does when sourced: strip keys, append tokens."""
    found = _DROPIN_TARGET_RE.search(text)
    target = found.group(1) if found else "GRUB_CMDLINE_LINUX_DEFAULT"
    wanted = set(normalize_key(key) for key in keys)
    for name in GRUB_VARIABLES:
        kept = [token for token in split_cmdline(values.get(name) or "")
                if normalize_key(arg_key(token)) not in wanted]
        values[name] = " ".join(kept + (list(tokens) if name == target else []))


def read_grub_defaults(sources: Sequence[Tuple[str, str]]) -> Tuple[str, str]:
    """GRUB_CMDLINE_LINUX / _DEFAULT of defaults files read without a shell (for a root that is not the
    running system): plain assignments with $VAR expansion, and this module's own drop-in. Anything that
    needs a shell to decide those two values raises BootloaderError; nothing is executed."""
    values: Dict[str, Optional[str]] = {}
    for path, text in sources:
        own = parse_dropin(text)
        if own is not None:
            _apply_own_dropin(values, text, own[0], own[1])
            continue
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            match = SHELL_ASSIGNMENT_RE.match(line)
            if match is None:
                raise _needs_a_shell(path, number, line)
            name = match.group(1)
            parsed = _parse_assignment_value(match.group(2).rstrip())
            if parsed is None:
                if name in GRUB_VARIABLES or "GRUB_CMDLINE_LINUX" in line:
                    raise _needs_a_shell(path, number, line)
                values[name] = None  # e.g. GRUB_DISTRIBUTOR=`lsb_release ...`: unknown, harmless unless used
                continue
            quote, value, _trailer = parsed
            if quote == '"':
                for var in [m.group(1) or m.group(2) for m in _EXPANSION_RE.finditer(value)]:
                    if var in values and values[var] is None:
                        if name in GRUB_VARIABLES:
                            raise _needs_a_shell(path, number, line)
                        break
                else:
                    value = _EXPANSION_RE.sub(lambda m: values.get(m.group(1) or m.group(2)) or "", value)
                    values[name] = value
                    continue
                values[name] = None
                continue
            values[name] = value
    return (join_cmdline(split_cmdline(values.get("GRUB_CMDLINE_LINUX") or "")),
            join_cmdline(split_cmdline(values.get("GRUB_CMDLINE_LINUX_DEFAULT") or "")))


_EVAL_BEGIN = "@@fleetops-kdump-eval@@"


def grub_eval_script(sources: Sequence[Tuple[str, Optional[str]]]) -> Tuple[str, Dict[str, str]]:
    """sh script sourcing files in order like grub-mkconfig; a source with text is evaluated from
    an environment variable instead of its file (to predict a change without writing it)."""
    lines = []
    env: Dict[str, str] = {}
    for number, (path, text) in enumerate(sources):
        if text is None:
            lines.append(". '%s'" % path.replace("'", "'\\''"))
        else:
            name = "FLEETOPS_KDUMP_SOURCE_%d" % number
            env[name] = text
            lines.append("eval \"$%s\"" % name)
    lines.append("printf '\\n%s\\n%%s\\n%s\\n%%s\\n%s\\n' \"$GRUB_CMDLINE_LINUX\" \"$GRUB_CMDLINE_LINUX_DEFAULT\""
                 % (_EVAL_BEGIN, _EVAL_BEGIN, _EVAL_BEGIN))
    return "\n".join(lines) + "\n", env


def parse_grub_eval(stdout: str) -> Tuple[str, str]:
    parts = stdout.split("\n%s\n" % _EVAL_BEGIN)
    if len(parts) < 4:
        raise BootloaderError("could not read GRUB_CMDLINE_* from the evaluated grub defaults", stdout=stdout)
    linux, default = parts[-3], parts[-2]
    return join_cmdline(split_cmdline(linux)), join_cmdline(split_cmdline(default))


_MENU_RE = re.compile(r"^\s*(menuentry|submenu)\s+(?:'([^']*)'|\"([^\"]*)\"|(\S+))")
_LINUX_RE = re.compile(r"^\s*(?:linux|linuxefi|linux16)\s+(\S+)\s*(.*)$")


def parse_grub_cfg(text: str) -> List[Dict[str, object]]:
    """Linux menu entries of a generated grub.cfg in file order: title, kernel, args, depth."""
    entries: List[Dict[str, object]] = []
    stack: List[Optional[Dict[str, object]]] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        menu = _MENU_RE.match(line)
        if menu and stripped.endswith("{"):
            title = next(group for group in menu.groups()[1:] if group is not None)
            entry = None
            if menu.group(1) == "menuentry":
                entry = {"title": title, "kernel": None, "args": "", "depth": len(stack)}
            stack.append(entry)
            continue
        if stripped.endswith("{"):
            stack.append(None)  # function or other block
            continue
        if stripped == "}":
            if stack:
                entry = stack.pop()
                if entry is not None and entry["kernel"] is not None:
                    entries.append(entry)
            continue
        linux = _LINUX_RE.match(line)
        if linux and stack and stack[-1] is not None:
            stack[-1]["kernel"] = linux.group(1)
            stack[-1]["args"] = join_cmdline(split_cmdline(linux.group(2)))
    return entries


def grub_cfg_default_args(text: Optional[str]) -> Optional[str]:
    """Arguments of the first Linux entry (the default unless GRUB_DEFAULT says otherwise)."""
    if not text:
        return None
    entries = parse_grub_cfg(text)
    return str(entries[0]["args"]) if entries else None


# grubby

def parse_grubby_info(text: str) -> List[Dict[str, object]]:
    """Entries of `grubby --info=ALL` (BLS and legacy output): index, kernel, args, root, title, linux."""
    entries: List[Dict[str, object]] = []
    current: Optional[Dict[str, object]] = None
    for line in (text or "").splitlines():
        line = line.rstrip()
        if line.startswith("index="):
            try:
                index = int(line.split("=", 1)[1].strip().strip('"'))
            except ValueError:
                continue
            current = {"index": index, "kernel": None, "args": "", "root": None, "title": None, "linux": True}
            entries.append(current)
            continue
        if current is None:
            continue
        if line.strip() == "non linux entry":
            current["linux"] = False
            continue
        if "=" not in line:
            continue
        name, value = line.split("=", 1)
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = value[1:-1]
        if name in ("kernel", "args", "root", "title", "initrd", "id"):
            current[name] = join_cmdline(split_cmdline(value)) if name == "args" else value
    return [entry for entry in entries if entry["linux"] and entry["kernel"]]


def grubby_update_argv(entries: Sequence[Dict[str, object]], spec: ArgSpec) -> Optional[List[str]]:
    """grubby arguments for all kernels, None when every kernel is already right.
    Existing tokens are removed exactly (repeated as often as one kernel holds them, since grubby removes
    the first match per listed token); wanted tokens are added in order."""
    needed = False
    counts: Dict[str, int] = OrderedDict()
    for entry in entries:
        tokens = split_cmdline(str(entry["args"]))
        if managed_tokens(tokens, spec.keys) != spec.tokens:
            needed = True
        per_kernel: Dict[str, int] = OrderedDict()
        for token in managed_tokens(tokens, spec.keys):
            per_kernel[token] = per_kernel.get(token, 0) + 1
        for token, count in per_kernel.items():
            counts[token] = max(counts.get(token, 0), count)
    if not needed:
        return None
    argv = ["--update-kernel=ALL"]
    removals = [token for token, count in counts.items() for _unused in range(count)]
    if removals:
        argv.append("--remove-args=" + " ".join(removals))
    if spec.tokens:
        argv.append("--args=" + " ".join(spec.tokens))
    return argv


# kernel-install / Boot Loader Spec entries

# systemd-boot skips blanks before a key (line_get_key_value), so an indented `options` line counts too
_BLS_OPTIONS_RE = re.compile(r"^[ \t]*options(?=[ \t]|$)")


def _bls_options_args(line: str) -> Optional[str]:
    """The arguments of an `options` line of a BLS entry, or None for another line."""
    match = _BLS_OPTIONS_RE.match(line.rstrip("\r\n"))
    return line.rstrip("\r\n")[match.end():] if match else None


def edit_bls_options(text: str, keys: Sequence[str], desired: Sequence[str]) -> str:
    """Edit the `options` lines of a BLS type 1 entry (systemd-boot joins several such lines)."""
    lines = text.splitlines(True)
    option_lines = [index for index, line in enumerate(lines) if _bls_options_args(line) is not None]
    for position, index in enumerate(option_lines):
        line = lines[index]
        body = line.rstrip("\r\n")
        tokens = split_cmdline(_bls_options_args(line) or "")
        is_last = position == len(option_lines) - 1
        new_tokens = edit_tokens(tokens, keys, desired if is_last else [])
        if new_tokens != tokens:
            lines[index] = ("options " + join_cmdline(new_tokens)).rstrip() + line[len(body):]
    if not option_lines and desired:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append("options %s\n" % join_cmdline(desired))
    return "".join(lines)


def bls_options(text: str) -> str:
    tokens: List[str] = []
    for line in text.splitlines():
        args = _bls_options_args(line)
        if args is not None:
            tokens.extend(split_cmdline(args))
    return join_cmdline(tokens)


def kernel_cmdline_text(text: str) -> str:
    """The arguments in an /etc/kernel/cmdline file (comment lines skipped)."""
    return join_cmdline(split_cmdline(" ".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#"))))


def render_kernel_cmdline(previous: Optional[str], tokens: Sequence[str]) -> str:
    comments = [line for line in (previous or "").splitlines() if line.lstrip().startswith("#")]
    return "\n".join(comments + [join_cmdline(tokens)]) + "\n"
