# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read and write kernel arguments through the boot loader tooling.

Three backends, all fed by a root path (a temp tree in tests) and a runner callable
``runner(argv, env_update) -> (rc, stdout, stderr)`` for the few commands they need:

- ``grub``: Debian/Ubuntu style drop-in under /etc/default/grub.d (or, where grub-mkconfig does not source
  that directory, the GRUB_CMDLINE_* lines of /etc/default/grub), then grub-mkconfig / update-grub.
- ``grubby``: RHEL family; ``grubby --update-kernel=ALL``; /etc/default/grub and /etc/kernel/cmdline
  are kept in line so kernels installed later inherit the arguments.
- ``kernel_install``: /etc/kernel/cmdline plus the ``options`` lines of existing Boot Loader Spec entries.

"Managing a key" means: every token of that key is removed, then the wanted tokens are appended in the
given order (``crashkernel=768M,high`` and ``crashkernel=16M,low`` share the key ``crashkernel``).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import fnmatch
import glob
import os
import re
import stat
import tempfile

from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import MAX_CMDLINE, brief, kernel_words, quoted
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel import (
    COMMAND_LINE_SIZE, CrashkernelError, check_operator_value, ignored_slots, overlap_warnings, parse_value,
    reservation_gap,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree, open_regular

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
CRASHKERNEL_SLOTS = (",high", ",low", ",cma")

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


# ---------------------------------------------------------------------------------------------------------
# tokens

def split_cmdline(text: Optional[str]) -> List[str]:
    """Split a kernel command line like the kernel does: ASCII whitespace separates (not Python's Unicode
    whitespace: a no-break space stays inside its word), double quotes group."""
    tokens: List[str] = []
    current: List[str] = []
    in_quote = False
    for char in text or "":
        if char == '"':
            in_quote = not in_quote
        if char in ASCII_SPACE and not in_quote:
            if current:
                tokens.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


ASCII_SPACE = " \t\n\r\v\f"


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


# ---------------------------------------------------------------------------------------------------------
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


def validate_args(args: object,
                  state: str = "present",
                  remove_args: Optional[object] = None,
                  repeatable_keys: Optional[Sequence[str]] = None) -> ArgSpec:
    """Check the request before anything on the host is read or changed; raise BootloaderError."""
    if state not in ("present", "absent"):
        raise BootloaderError("state: %r is not valid; use present or absent" % (state,))
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


# ---------------------------------------------------------------------------------------------------------
# files

def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class Files:
    """Reads and atomic writes inside a root tree, with snapshots for restoring the previous state."""

    def __init__(self, root: str) -> None:
        self.tree = HostTree(root)
        self.root = self.tree.root
        self._saved: Dict[str, Tuple[Optional[bytes], Optional[os.stat_result]]] = OrderedDict()
        self._created_dirs: List[str] = []
        self.written: List[str] = []

    def path(self, rel: str) -> str:
        """Where rel lives; symlinks resolved (inside the tree for a captured root) so writes replace
        the link's target, not the link."""
        path = self.tree.path(rel)
        if path is None:
            raise BootloaderError("%s: symlink loop under root %s" % (rel, self.root))
        return os.path.realpath(path) if self.tree.live else path

    def exists(self, rel: str) -> bool:
        return os.path.exists(self.path(rel))

    def link_problem(self, rel: str) -> Optional[str]:
        """Why rel must not be written, or None: it is a symbolic link (to nothing: writing would create
        whatever file the link names; to a file: writing would rewrite that other file)."""
        link = os.path.join(self.root, rel.lstrip("/"))
        if not os.path.islink(link):
            return None
        if not os.path.exists(self.path(rel)):
            return "%s is a symbolic link to %r, which does not exist; writing it would create that file. Remove " \
                   "the link" % (link, os.readlink(link))
        return "%s is a symbolic link to %r; the module edits regular files only, so a link cannot make it " \
               "rewrite another file. Replace the link by the file it points to" % (link, os.readlink(link))

    def read(self, rel: str) -> Optional[str]:
        """Text of a file, None when it does not exist; unreadable files are an error."""
        path = self.path(rel)
        try:
            with open_regular(path) as handle:
                return _decode(handle.read())
        except (OSError, IOError) as error:
            if error.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise BootloaderError("cannot read %s: %s" % (path, error.strerror))

    def glob(self, rel_pattern: str) -> List[str]:
        """Relative paths matching a pattern, in byte order (like dash's globbing)."""
        directory, pattern = os.path.split(rel_pattern)
        if glob.has_magic(directory):
            top = self.root.rstrip("/")
            found = glob.glob(glob.escape(top) + "/" + rel_pattern.lstrip("/"))
            return sorted(("/" + os.path.relpath(path, self.root) for path in found), key=_encode)
        base = self.tree.path(directory)
        if base is None or not os.path.isdir(base):
            return []
        names = [os.path.basename(path) for path in glob.glob(os.path.join(glob.escape(base), pattern))]
        names.sort(key=_encode)
        return [directory.rstrip("/") + "/" + name for name in names]

    def snapshot(self, rel: str) -> None:
        path = self.path(rel)
        if path in self._saved:
            return
        try:
            with open_regular(path) as handle:
                self._saved[path] = (handle.read(), os.stat(path))
        except (OSError, IOError) as error:
            if error.errno not in (errno.ENOENT, errno.ENOTDIR):
                raise BootloaderError("cannot read %s: %s" % (path, error.strerror))
            self._saved[path] = (None, None)

    def write(self, rel: str, text: str, new_mode: int = 0o644) -> None:
        """Replace a file atomically (temp file + rename), keeping mode, owner and SELinux label."""
        self.snapshot(rel)
        path = self.path(rel)
        self._make_parent(os.path.dirname(path))
        _saved_data, saved_stat = self._saved[path]
        _atomic_write(path, _encode(text), saved_stat, new_mode)
        if rel not in self.written:
            self.written.append(rel)

    def _make_parent(self, directory: str) -> None:
        missing = []
        while directory and not os.path.isdir(directory):
            missing.append(directory)
            directory = os.path.dirname(directory)
        for path in reversed(missing):
            os.mkdir(path, 0o755)
            self._created_dirs.append(path)

    def restore(self) -> List[str]:
        """Put every snapshotted file back; returns the problems met (empty when all went back)."""
        problems = []
        for path, (data, saved_stat) in reversed(list(self._saved.items())):
            try:
                if data is None:
                    if os.path.lexists(path):
                        os.unlink(path)
                    continue
                try:
                    with open(path, "rb") as handle:
                        if handle.read() == data:
                            continue
                except (OSError, IOError):
                    pass
                _atomic_write(path, data, saved_stat, 0o644)
            except (OSError, IOError) as error:
                problems.append("%s: %s" % (path, error))
        for directory in reversed(self._created_dirs):
            try:
                os.rmdir(directory)
            except OSError as error:
                problems.append("%s: %s" % (directory, error))
        self._created_dirs = []
        return problems


def _atomic_write(path: str, data: bytes, template: Optional[os.stat_result], new_mode: int) -> None:
    directory, name = os.path.split(path)
    handle, tmp = tempfile.mkstemp(prefix="." + name + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if template is not None:
            os.chmod(tmp, stat.S_IMODE(template.st_mode))
            current = os.stat(tmp)
            if (current.st_uid, current.st_gid) != (template.st_uid, template.st_gid):
                os.chown(tmp, template.st_uid, template.st_gid)
            _copy_selinux_label(path, tmp)
        else:
            os.chmod(tmp, new_mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _copy_selinux_label(source: str, target: str) -> None:
    getxattr = getattr(os, "getxattr", None)
    setxattr = getattr(os, "setxattr", None)
    if getxattr is None or setxattr is None:
        return
    try:
        setxattr(target, "security.selinux", getxattr(source, "security.selinux"))
    except OSError:
        pass  # no SELinux, or the file system has no labels


def read_running_cmdline(files: Files) -> Optional[str]:
    """The running kernel's command line; None when it cannot be read as the kernel writes it (absent, not a
    regular file, binary): then reboot_required follows changed."""
    try:
        text = files.read(PROC_CMDLINE)
    except BootloaderError:
        return None
    if text is None or len(text) > MAX_CMDLINE or re.search(r"[\x01-\x08\x0b-\x1f\x7f\ufffd]", text):
        return None
    return join_cmdline(split_cmdline(text.replace("\x00", " ")))


def _run(runner: Runner, argv: List[str], env: Optional[Dict[str, str]] = None, what: str = "command") -> str:
    try:
        rc, out, err = runner(list(argv), env)
    except (OSError, IOError) as error:
        raise BootloaderError("%s could not be started: %s" % (what, error), cmd=list(argv))
    if rc != 0:
        raise BootloaderError("%s failed with rc=%s" % (what, rc), cmd=list(argv), rc=rc, stdout=out, stderr=err)
    return out


def _find_program(files: Files, names: Sequence[str]) -> Optional[Tuple[str, str]]:
    for name in names:
        for directory in SBIN_DIRS:
            rel = directory + "/" + name
            path = files.tree.path(rel)
            if path is not None and os.path.isfile(path):
                return name, rel
    return None


# ---------------------------------------------------------------------------------------------------------
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


_ANY_ASSIGN_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
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
            match = _ANY_ASSIGN_RE.match(line)
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


# ---------------------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------------------
# kernel-install / Boot Loader Spec entries

def edit_bls_options(text: str, keys: Sequence[str], desired: Sequence[str]) -> str:
    """Edit the `options` lines of a BLS type 1 entry (systemd-boot joins several such lines)."""
    lines = text.splitlines(True)
    option_lines = [index for index, line in enumerate(lines) if re.match(r"^options(\s|$)", line)]
    for position, index in enumerate(option_lines):
        line = lines[index]
        body = line.rstrip("\r\n")
        tokens = split_cmdline(body[len("options"):])
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
        if re.match(r"^options(\s|$)", line):
            tokens.extend(split_cmdline(line[len("options"):]))
    return join_cmdline(tokens)


def kernel_cmdline_text(text: str) -> str:
    """The arguments in an /etc/kernel/cmdline file (comment lines skipped)."""
    return join_cmdline(split_cmdline(" ".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#"))))


def render_kernel_cmdline(previous: Optional[str], tokens: Sequence[str]) -> str:
    comments = [line for line in (previous or "").splitlines() if line.lstrip().startswith("#")]
    return "\n".join(comments + [join_cmdline(tokens)]) + "\n"


# ---------------------------------------------------------------------------------------------------------
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

    def plan(self, spec: ArgSpec) -> Plan:
        plan = Plan(self.name)
        variable = str(self.options.get("grub_cmdline_variable") or "GRUB_CMDLINE_LINUX_DEFAULT")
        method = self.method()
        before = self.evaluate({})
        overrides: Dict[str, Optional[str]] = OrderedDict()
        if method == "dropin":
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
