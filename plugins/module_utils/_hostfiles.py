# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read files of a host tree: the live system ("/") or a captured copy (sosreport, image, fixture).

Paths are relative to the tree's root. In a captured tree, symlinks are resolved inside the tree
(an absolute link target is taken relative to the tree's root), so reading a copy never touches
the controller's own files. Missing or unreadable files give None and are remembered, so callers
can report them instead of failing.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import gzip
import io
import os
import stat
import zlib

from typing import Any, List, Optional, Tuple

MAX_LINK_HOPS = 40
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class NotRegularFile(OSError):
    """A FIFO, socket, device or directory where a file is expected: never opened for reading."""


def open_regular(path: str) -> Any:
    """A binary reader for a regular file; FIFOs, sockets and devices are refused without blocking."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", path)
        return os.fdopen(fd, "rb")
    except Exception:
        os.close(fd)
        raise


class HostTree:
    """A root directory whose files are read as if it were '/'."""

    def __init__(self, root: str = "/") -> None:
        self.root = os.path.abspath(root or "/")
        self.live = self.root == "/"  # the running system: commands may be run for it
        self.missing: List[str] = []
        self.unreadable: List[str] = []
        self.implausible: List[Tuple[str, str]] = []  # (path, why) of files read but not believed

    def path(self, rel: str) -> Optional[str]:
        """Absolute path of rel inside the tree, symlinks resolved within the tree; None on a link loop."""
        rel = rel.lstrip("/")
        if self.root == "/":
            return os.path.join("/", rel)
        pending = [part for part in rel.split("/") if part not in ("", ".")]
        resolved: List[str] = []
        hops = 0
        while pending:
            part = pending.pop(0)
            if part == "..":
                if resolved:
                    resolved.pop()
                continue
            candidate = os.path.join(self.root, *(resolved + [part]))
            if os.path.islink(candidate):
                hops += 1
                if hops > MAX_LINK_HOPS:
                    return None
                target = os.readlink(candidate)
                if target.startswith("/"):
                    resolved = []
                pending = [p for p in target.split("/") if p not in ("", ".")] + pending
                continue
            resolved.append(part)
        return os.path.join(self.root, *resolved)

    def _note(self, rel: str, record: bool, error: Exception) -> None:
        if not record:
            return
        if isinstance(error, (FileNotFoundError, NotADirectoryError)):
            self.missing.append(rel)
        else:
            self.unreadable.append(rel)

    def read_bytes(self, rel: str, record: bool = False, max_bytes: int = DEFAULT_MAX_BYTES) -> Optional[bytes]:
        """File content as bytes, None when absent or unreadable (remembered when record is true)."""
        path = self.path(rel)
        if path is None:
            self._note(rel, record, OSError("symlink loop"))
            return None
        try:
            with open_regular(path) as handle:
                return handle.read(max_bytes)
        except (OSError, IOError) as error:
            self._note(rel, record, error)
            return None

    def read_text(self, rel: str, record: bool = False, max_bytes: int = DEFAULT_MAX_BYTES) -> Optional[str]:
        """File content decoded as UTF-8 (bad bytes replaced); gzip files (*.gz) are unpacked."""
        data = self.read_bytes(rel, record=record, max_bytes=max_bytes)
        if data is None:
            return None
        if rel.endswith(".gz"):
            try:
                with gzip.GzipFile(fileobj=io.BytesIO(data)) as unpacked:
                    data = unpacked.read(max_bytes + 1)
            except (OSError, IOError, EOFError, ValueError, zlib.error) as error:
                self._note(rel, record, error)
                return None
            if len(data) > max_bytes:  # a gzip bomb, or not a file a kernel writes
                self._note(rel, record, OSError(errno.EFBIG, "unpacks to more than %d bytes" % max_bytes))
                return None
        return data.decode("utf-8", "replace")

    def read_line(self, rel: str, record: bool = False) -> Optional[str]:
        """First line of a small file (sysfs attributes), stripped; None when absent or empty."""
        text = self.read_text(rel, record=record, max_bytes=65536)
        if text is None:
            return None
        text = text.replace("\x00", "").strip()
        return text.splitlines()[0].strip() if text else None

    def read_value(self, rel: str) -> Optional[str]:
        """The one value of a sysfs attribute, stripped; None when absent (recorded as missing) or when the
        file does not hold exactly one line (recorded as implausible: the kernel writes one)."""
        text = self.read_text(rel, record=True, max_bytes=65536)
        if text is None:
            return None
        lines = [line.strip() for line in text.replace("\x00", "").splitlines() if line.strip()]
        if len(lines) != 1:
            self.implausible.append((rel, "it holds %s, not the one value the kernel writes"
                                     % ("nothing" if not lines else "%d lines" % len(lines))))
            return None
        return lines[0]

    def size(self, rel: str) -> Optional[int]:
        """Size in bytes of a regular file, None when it is absent or not a regular file."""
        path = self.path(rel)
        try:
            info = os.stat(path) if path is not None else None
        except (OSError, IOError):
            return None
        return info.st_size if info is not None and stat.S_ISREG(info.st_mode) else None

    def exists(self, rel: str) -> bool:
        path = self.path(rel)
        return path is not None and os.path.exists(path)

    def lexists(self, rel: str) -> bool:
        """True for any directory entry, dangling symlinks included (systemd .wants links)."""
        rel = rel.rstrip("/")
        parent, _sep, name = rel.rpartition("/")
        base = self.path(parent) if parent else self.root
        return base is not None and os.path.lexists(os.path.join(base, name))

    def readlink(self, rel: str) -> Optional[str]:
        rel = rel.rstrip("/")
        parent, _sep, name = rel.rpartition("/")
        base = self.path(parent) if parent else self.root
        if base is None:
            return None
        try:
            return os.readlink(os.path.join(base, name))
        except (OSError, IOError):
            return None

    def is_dir(self, rel: str) -> bool:
        path = self.path(rel)
        return path is not None and os.path.isdir(path)

    def listdir(self, rel: str) -> List[str]:
        """Sorted entry names, [] when the directory is absent or unreadable."""
        path = self.path(rel)
        if path is None:
            return []
        try:
            return sorted(os.listdir(path))
        except (OSError, IOError):
            return []
