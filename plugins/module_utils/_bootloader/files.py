# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File transactions under a root: regular files only, atomic writes, snapshots and byte-for-byte rollback,
and the few commands the backends run."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import glob
import os
import re
import stat
import tempfile

from collections import OrderedDict

from typing import Dict, List, Optional, Sequence, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree, open_regular
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import MAX_CMDLINE, split_cmdline
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.common import (
    BootloaderError, PROC_CMDLINE, Runner, SBIN_DIRS,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._bootloader.tokens import join_cmdline


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
