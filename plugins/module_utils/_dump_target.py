# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the kdump service sends dumps, read from its own configuration text (never from the role's inputs).

- kdump-tools (/etc/default/kdump-tools): KDUMP_COREDIR (default /var/crash); SSH=user@host sends the dump to
  that directory on the host; NFS=server:/export is mounted on KDUMP_COREDIR while the dump is saved.
- kdumpctl (/etc/kdump.conf): ``path`` (default /var/crash) on the root file system, or on the target that an
  ``ssh``, ``nfs``, ``raw`` or file system line (``xfs UUID=...``) names.
- SUSE kdump (/etc/sysconfig/kdump): KDUMP_SAVEDIR, a path or a URL (file://, ssh://, sftp://, nfs://, ftp://,
  cifs://); the first of several.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import posixpath

from typing import Dict, Optional

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import shell_assignments

DEFAULT_DUMP_DIR = "/var/crash"
KDUMPCTL_FS_TARGETS = ("ext2", "ext3", "ext4", "xfs", "btrfs", "minix", "virtiofs")
URL_KINDS = {"file": "local", "ssh": "ssh", "sftp": "ssh", "nfs": "nfs", "ftp": "other", "cifs": "other",
             "smb": "other"}


def _target(kind: Optional[str], path: Optional[str], location: Optional[str] = None) -> Dict[str, Optional[str]]:
    if path is not None:
        path = posixpath.normpath(path) if path.startswith("/") else None
    return {"type": kind, "path": path, "location": location}


def kdump_tools_target(text: str) -> Dict[str, Optional[str]]:
    values = shell_assignments(text)
    path = values.get("KDUMP_COREDIR") or DEFAULT_DUMP_DIR
    if values.get("SSH"):
        return _target("ssh", path, values["SSH"])
    if values.get("NFS"):
        return _target("nfs", path, values["NFS"])
    return _target("local", path)


def kdump_conf_target(text: str) -> Dict[str, Optional[str]]:
    directives: Dict[str, str] = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(None, 1)
        if len(words) == 2:
            directives[words[0]] = words[1].strip()  # kdumpctl refuses a repeated directive; the last is kept
    path = directives.get("path", DEFAULT_DUMP_DIR)
    for kind in ("ssh", "nfs", "raw"):
        if kind in directives:
            return _target(kind, path, directives[kind])
    for fs_type in KDUMPCTL_FS_TARGETS:
        if fs_type in directives:
            return _target("device", path, directives[fs_type])  # path is inside that file system
    return _target("local", path)


def suse_target(text: str) -> Dict[str, Optional[str]]:
    words = (shell_assignments(text).get("KDUMP_SAVEDIR") or DEFAULT_DUMP_DIR).split()
    first = words[0] if words else DEFAULT_DUMP_DIR
    scheme, sep, rest = first.partition("://")
    if not sep:
        return _target("local", first)
    kind = URL_KINDS.get(scheme.lower(), "other")
    if kind == "local":
        return _target("local", rest if rest.startswith("/") else "/" + rest)
    host, slash, path = rest.partition("/")
    return _target(kind, "/" + path if slash else None, host or None)


READERS = {"debian": kdump_tools_target, "redhat": kdump_conf_target, "suse": suse_target}


def dump_target(family: str, config: Optional[str]) -> Dict[str, Optional[str]]:
    """{type, path, location} of the service's dump target. type: local, ssh, nfs, raw, device (another local
    file system), other, or None when the family or its configuration is unknown; path: the absolute
    directory on that target (None when the configuration gives none usable); location: user@host, the
    export or the device."""
    reader = READERS.get(family)
    if reader is None or config is None:
        return _target(None, None)
    return reader(config)
