# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Command-line tokens: splitting, keys, editing, and validating the arguments an operator asks for."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from collections import OrderedDict

from typing import Dict, List, Optional, Sequence, Set, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import CrashkernelError
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.plan import overlap_warnings
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.syntax import (
    check_operator_value, ignored_slots, parse_value, reservation_gap,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import brief, kernel_words
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.common import (
    BootloaderError, CRASHKERNEL_SLOTS, Plan, REPEATABLE_KEYS, RESERVED_KEYS, _KEY_RE, _UNSAFE_CHARS,
)


# tokens

def shell_words(value: str) -> List[str]:
    """Words of an unquoted shell value as sh splits it (space, tab, newline; not Unicode spaces)."""
    return [word for word in re.split(r"[ \t\n]+", value) if word]


def join_cmdline(tokens: Sequence[str]) -> str:
    return " ".join(tokens)


def arg_key(token: str) -> str:
    return token.split("=", 1)[0]


def normalize_key(key: str) -> str:
    """The kernel treats '-' and '_' in parameter names as the same character."""
    return key.replace("-", "_")


def _kernel_part(tokens: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Tokens before '--' go to the kernel, the rest to init."""
    tokens = list(tokens)
    if "--" in tokens:
        cut = tokens.index("--")
        return tokens[:cut], tokens[cut:]
    return tokens, []


def managed_tokens(tokens: Sequence[str], keys: Sequence[str]) -> List[str]:
    """The kernel's tokens whose key is one of keys, in command line order."""
    wanted = set(normalize_key(key) for key in keys)
    kernel, _init = _kernel_part(tokens)
    return [token for token in kernel if normalize_key(arg_key(token)) in wanted]


def edit_tokens(tokens: Sequence[str], keys: Sequence[str], desired: Sequence[str]) -> List[str]:
    """Remove every token of keys, append desired (before any '--' that starts init's arguments)."""
    wanted = set(normalize_key(key) for key in keys)
    kernel, init = _kernel_part(tokens)
    kept = [token for token in kernel if normalize_key(arg_key(token)) not in wanted]
    return kept + list(desired) + init


def crashkernel_slot(token: str) -> str:
    """'plain', 'high', 'low' or 'cma': crashkernel= tokens in different slots do not conflict."""
    value = token.split("=", 1)[1] if "=" in token else ""
    for suffix in CRASHKERNEL_SLOTS:
        if value.endswith(suffix):
            return suffix[1:]
    return "plain"


# validation

class ArgSpec:
    """Validated request: the keys to manage and the tokens they must end up with (in order)."""

    def __init__(self, keys: List[str], tokens: List[str], state: str) -> None:
        self.keys = keys
        self.tokens = tokens
        self.state = state


def _check_token(option: str, index: int, item: object) -> str:
    if not isinstance(item, str):
        raise BootloaderError(
            "%s: item %d (%r) is not a string; give each kernel argument as a plain string such as "
            "'crashkernel=512M' or 'quiet'" % (option, index + 1, item))
    token = str(item)
    where = "%s: item %d (%r)" % (option, index + 1, token)
    if token == "":
        raise BootloaderError("%s is empty; remove it or write key=value / key" % where)
    if any(char.isspace() for char in token):
        raise BootloaderError(
            "%s contains whitespace; give each kernel argument as its own list item, without spaces" % where)
    bad = sorted(set(char for char in token if char in _UNSAFE_CHARS or ord(char) < 32 or ord(char) > 126))
    if bad:
        raise BootloaderError(
            "%s contains %s; quotes and shell/grub special characters are not supported in kernel "
            "arguments managed by this module, write the argument without them"
            % (where, " ".join(repr(char) for char in bad)))
    key = arg_key(token)
    if key == "":
        raise BootloaderError("%s has an empty key; write key=value (for example crashkernel=512M)" % where)
    split_hint = ("; it looks like part of a crashkernel= value cut at a comma (a YAML flow list [a,b] or a "
                  "comma-separated string does that): quote each item, e.g. - 'crashkernel=768M,high'")
    if not _KEY_RE.match(key):
        raise BootloaderError(
            "%s has the key %r; a kernel parameter name uses letters, digits, '_', '-' and '.' only%s"
            % (where, key, split_hint if ":" in key else ""))
    if token in [suffix[1:] for suffix in CRASHKERNEL_SLOTS]:
        raise BootloaderError("%s is not a kernel parameter%s" % (where, split_hint))
    if key in RESERVED_KEYS:
        raise BootloaderError(
            "%s: %s= is set by the boot loader tooling itself and cannot be managed here; remove it"
            % (where, key))
    return token


def _check_crashkernel(index: int, token: str) -> Optional[Dict[str, object]]:
    """A crashkernel= argument to set must be one the kernel reads as the operator meant: its parsed value,
    None for another key."""
    where = "args: item %d (%r)" % (index + 1, token)
    if normalize_key(arg_key(token)) != "crashkernel":
        if "crashkernel=" in token:
            raise BootloaderError("%s contains 'crashkernel=', which the kernel reads as a crashkernel= argument "
                                  "wherever it appears in the command line; set crashkernel=SIZE itself" % where)
        return None
    if "=" not in token:
        raise BootloaderError("%s has no value; write crashkernel=SIZE, e.g. crashkernel=512M (to remove the "
                              "reservation use state: absent)" % where)
    try:
        return check_operator_value(token.split("=", 1)[1], where)
    except CrashkernelError as error:
        raise BootloaderError(str(error))


def crashkernel_warnings(tokens: Sequence[str]) -> List[str]:
    """What the kernel will read differently than it looks: overlapping ranges of a crashkernel= table."""
    warnings = []
    parsed = []
    for token in tokens:
        key = arg_key(token)
        if key != "crashkernel" and re.sub(r"[-_.]", "", key.lower()) == "crashkernel":
            warnings.append("%s: the kernel reads only crashkernel= (lower case, no separator), so this argument "
                            "reserves nothing" % token)
        if normalize_key(key) == "crashkernel" and "=" in token:
            parsed.append(parse_value(token.split("=", 1)[1]))
            warnings.extend("%s: %s" % (token, sentence) for sentence in overlap_warnings(parsed[-1]))
    warnings.extend(ignored_slots(parsed))
    return warnings


def _view_value(view: str) -> str:
    """The command-line part of a diff view line: VAR="value" (grub defaults) or 'where: tokens'."""
    match = re.match(r'^[A-Z_]+="(.*)"$', view)
    if match:
        return match.group(1)
    return view.split(": ", 1)[1] if ": " in view else view


def _stray_after(plan: "Plan") -> List[str]:
    """crashkernel= the next boot would still hold outside the managed arguments, in every view of the plan:
    inside another word, or among init's words after '--' (never edited here). Words are split at spaces
    only, as the kernel's crashkernel parser does: '\xa0crashkernel=' is inside a word for it."""
    found: Dict[str, None] = OrderedDict()
    for view in [plan.next_after] + [_view_value(view) for view in plan.views_after]:
        words = kernel_words(view)
        _kernel, init = _kernel_part(words)
        found.update((word, None) for word in stray_crashkernel(words))
        found.update((word, None) for word in init[1:] if word.startswith("crashkernel="))
    return list(found)


def stray_crashkernel(tokens: Sequence[str]) -> List[str]:
    """Words that are not crashkernel= arguments but hold 'crashkernel=', which the kernel finds anywhere in
    the command line (strstr) and reads as one: foo.crashkernel=2G, xcrashkernel=1G."""
    return [token for token in tokens if "crashkernel=" in token and normalize_key(arg_key(token)) != "crashkernel"]


def _checked_lists(args: object, remove_args: Optional[object],
                   repeatable_keys: Optional[Sequence[str]]) -> Tuple[Sequence[object], Sequence[object], Set[str]]:
    """args and remove_args as lists, and the normalized keys that may repeat; raise BootloaderError."""
    if args is None:
        args = []
    if not isinstance(args, (list, tuple)):
        raise BootloaderError(
            "args: must be a list such as ['crashkernel=768M,high', 'crashkernel=16M,low'], got %s %r; "
            "a single string is not split (commas belong to crashkernel values)" % (type(args).__name__, args))
    if remove_args is None:
        remove_args = []
    if not isinstance(remove_args, (list, tuple)):
        raise BootloaderError("remove_args: must be a list of keys such as ['nokaslr'], got %s %s; a single string "
                              "is not split" % (type(remove_args).__name__, brief(repr(remove_args))))
    repeatable = set(normalize_key(key) for key in REPEATABLE_KEYS)
    if not isinstance(repeatable_keys or [], (list, tuple)) or \
            not all(isinstance(key, str) and key for key in repeatable_keys or []):
        raise BootloaderError("repeatable_keys: must be a list of kernel parameter names such as ['console'], got %r"
                              % (repeatable_keys,))
    repeatable.update(normalize_key(key) for key in (repeatable_keys or []))
    return args, remove_args, repeatable


def _desired_tokens(tokens: List[str], repeatable: Set[str]) -> Tuple[List[str], Dict[str, List[str]]]:
    """The tokens to set, in order and once each, grouped by key; a key set twice is refused unless it repeats."""
    desired: List[str] = []
    by_key: Dict[str, List[str]] = OrderedDict()
    for token in tokens:
        if token in desired:
            continue  # the same token twice is harmless: keep the first
        norm = normalize_key(arg_key(token))
        for other in by_key.get(norm, []):
            if norm == "crashkernel":
                if crashkernel_slot(other) == crashkernel_slot(token):
                    raise BootloaderError(
                        "args: %r and %r both set the %s crashkernel reservation; the kernel uses only "
                        "one of them, keep one" % (other, token, crashkernel_slot(token)))
            elif norm not in repeatable:
                raise BootloaderError(
                    "args: %r and %r set the key %r twice with different values; keep one, or add %r to "
                    "repeatable_keys if the kernel reads every copy"
                    % (other, token, arg_key(token), arg_key(token)))
        by_key.setdefault(norm, []).append(token)
        desired.append(token)
    return desired, by_key


def validate_args(args: object,
                  state: str = "present",
                  remove_args: Optional[object] = None,
                  repeatable_keys: Optional[Sequence[str]] = None) -> ArgSpec:
    """Check the request before anything on the host is read or changed; raise BootloaderError."""
    if state not in ("present", "absent"):
        raise BootloaderError("state: %r is not valid; use present or absent" % (state,))
    args, remove_args, repeatable = _checked_lists(args, remove_args, repeatable_keys)
    tokens = [_check_token("args", index, item) for index, item in enumerate(args)]
    removals = [_check_token("remove_args", index, item) for index, item in enumerate(remove_args)]
    for token in removals:
        if "=" in token:
            raise BootloaderError(
                "remove_args: %r has a value; list keys only (every token of a key is removed), e.g. %r"
                % (token, arg_key(token)))
    if not tokens and not removals:
        raise BootloaderError(
            "args: no kernel argument given; list at least one, e.g. args: ['crashkernel=512M']")

    keys: List[str] = []
    seen: set = set()

    def add_key(key: str) -> None:
        if normalize_key(key) not in seen:
            seen.add(normalize_key(key))
            keys.append(normalize_key(key))

    desired: List[str] = []
    if state == "present":
        parsed = dict((token, _check_crashkernel(index, token)) for index, token in enumerate(tokens))
        desired, by_key = _desired_tokens(tokens, repeatable)
        for token in desired:
            add_key(arg_key(token))
        crash = [parsed[token] or {} for token in by_key.get("crashkernel", [])]
        gap = reservation_gap(crash) if crash else None
        if gap:
            raise BootloaderError("args: %s; nothing was changed" % gap)
        for token in removals:
            if normalize_key(token) in by_key:
                raise BootloaderError(
                    "args and remove_args both name %r: a key is either set (args) or removed (remove_args); "
                    "drop it from one of them" % token)
            add_key(token)
    else:
        for token in tokens + removals:
            add_key(arg_key(token))
    return ArgSpec(keys, desired, state)
