# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dumps in a crash directory: names, incomplete markers, saved kernel logs, the vmcore_info report."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import math
import os
import re
import stat
import struct
from typing import Any, Dict, List, Optional

from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree, open_regular
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.common import (
    detect_format, detect_outer_compression, VmcoreError,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.compressed_file import inspect_outer_compressed
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.elf import inspect_elf
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.flattened import inspect_flattened
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.kdump_compressed import inspect_kdump_compressed
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.views import DECODE_ERRORS
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import brief, quoted

DUMP_NAME_RE = re.compile(r"^(?:vmcore|dump)\d*(?:$|[.-])")
DEBIAN_STAMP_RE = re.compile(r"^(?:dump|vmcore)\.(\d[\w-]*?)(?:\.(?:gz|bz2|xz|lz4|zst))?$")
INCOMPLETE_SUFFIX = ".incomplete"
SYSRQ_CRASH_RE = re.compile(
    r"sysrq\s*:\s*trigger a crash|kernel panic - not syncing: sysrq triggered crash", re.IGNORECASE)
# What may stand before the crash words on a kernel log line: a level <6>, a dmesg -x "kern  :info  :", a
# timestamp ([ 232.9], ISO or syslog), a caller id [T42], or a syslog/journal "host kernel:" prefix.
KERNEL_LINE_PREFIX_RE = re.compile(
    r"^[ \t]*(?:<\d{1,3}>)?[ \t]*(?:[a-z]+ *: *[a-z]+ *: *)?"
    r"(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d [^ :]+ kernel: *|[^ ]* ?[^ :]+ kernel: *"
    r"|\d{4}-\d\d-\d\d[T ][\d:.,+-]+ *)?(?:\[ *\d+\.\d+\] *)?(?:\[ *[TC]\d+\] *)?$")
DMESG_READ_LIMIT = 32 * 1024 * 1024
NON_TEXT_RE = re.compile(r"[^\x20-\x7e\t]+")  # ring buffer records are separated by binary block ids


def inspect_dump_file(real_path: str) -> Dict[str, Any]:
    """Format, header and completeness of one dump file (path as seen by this process)."""
    stat = os.stat(real_path)
    size = stat.st_size
    result: Dict[str, Any] = {"format": "unknown", "compression": None, "size": size, "mtime": stat.st_mtime,
                              "header": None, "problems": [], "checked": []}
    if size == 0:
        result["problems"].append("file is empty")
        return result
    with open_regular(real_path) as handle:
        head = handle.read(16)
        compression = detect_outer_compression(head)
        if compression:
            result["compression"] = compression
            found = inspect_outer_compressed(handle, compression, size)
            result["format"] = found.pop("format")
        else:
            result["format"] = detect_format(head)
            inspectors = {"kdump_compressed": inspect_kdump_compressed, "flattened": inspect_flattened,
                          "elf": inspect_elf}
            if result["format"] in inspectors:
                found = inspectors[result["format"]](handle, size)
            else:
                found = {"header": None, "checked": ["signature"], "problems": [
                    "unknown format: starts with %s, not a kdump-compressed, flattened or ELF signature"
                    % (head[:8].hex() or "nothing")]}
    result.update(found)
    return result


def is_dump_name(name: str, siblings: Any) -> bool:
    """True for names kdump tools give dumps: vmcore, vmcore.flat, vmcore-incomplete, dump.<stamp>, ..."""
    if name.endswith((".txt", ".log")) or name.startswith("vmcore-dmesg") or name.startswith("vmcoreinfo"):
        return False
    if name.endswith(INCOMPLETE_SUFFIX) and name[:-len(INCOMPLETE_SUFFIX)] in siblings:
        return False  # a marker for its sibling, not a dump
    return bool(DUMP_NAME_RE.match(name))


class Listing:
    """The names in one directory, with the incomplete markers and dmesg files picked out once, so judging
    each dump does not rescan the directory (thousands of files stay linear)."""

    def __init__(self, names: Any) -> None:
        self.names = set(names)
        self.markers = sorted(name for name in self.names if name.endswith(INCOMPLETE_SUFFIX))
        self.dmesgs = sorted(name for name in self.names if name.startswith("dmesg"))

    def __contains__(self, name: object) -> bool:
        return name in self.names


MARKERS_SHOWN = 5  # incomplete markers named in a problem; the rest are counted


def incomplete_reasons(name: str, listing: Listing, per_crash_dir: bool) -> List[str]:
    """A dump named *-incomplete, or with a *.incomplete marker beside it, is not finished."""
    reasons = []
    if "-incomplete" in name or name.endswith(INCOMPLETE_SUFFIX):
        reasons.append("the name says the dump was never finished (tools rename it when done)")
    if per_crash_dir:
        markers = [marker for marker in listing.markers[:MARKERS_SHOWN + 1] if marker != name]
        more = len(listing.markers) - (name in listing.markers) - len(markers[:MARKERS_SHOWN])
    else:
        markers = [name + INCOMPLETE_SUFFIX] if name + INCOMPLETE_SUFFIX in listing else []
        more = 0
    if markers:
        shown = ", ".join(markers[:MARKERS_SHOWN]) + (" and %d more" % more if more > 0 else "")
        reasons.append("incomplete marker next to the dump: %s" % shown)
    return reasons


def find_dmesg(real_dir: str, name: str, listing: Listing, per_crash_dir: bool) -> Optional[str]:
    """Name of the dmesg file saved with a dump (RHEL, Debian, SUSE layouts), or None."""
    candidates = ["vmcore-dmesg.txt"]
    stamp = DEBIAN_STAMP_RE.match(name)
    if stamp:
        candidates.append("dmesg." + stamp.group(1))
    if per_crash_dir:
        candidates.append("dmesg.txt")
        candidates.append("vmcore-dmesg-incomplete.txt")
        candidates.extend(listing.dmesgs)
    for candidate in candidates:
        path = os.path.join(real_dir, candidate)
        if candidate in listing and not os.path.islink(path) and os.path.isfile(path):
            return candidate  # a link could point out of the tree: kdump tools write plain files
    return None


def dmesg_crash_line(real_path: str) -> Optional[str]:
    """The line of a saved dmesg that shows the sysrq crash, or None (reads the last 32 MiB at most)."""
    with open_regular(real_path) as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - DMESG_READ_LIMIT))
        text = handle.read().decode("utf-8", "replace")
    return crash_line_in(text.replace("\x00", "\n"))  # NULs (a preallocated or padded file) end a line


def crash_line_in(text: str, record: bool = False) -> Optional[str]:
    """The line of a kernel log text that shows the sysrq crash, or None. record: the text is a printk ring,
    whose records may be followed by stale bytes of older ones, so only the matched words are returned."""
    for match in SYSRQ_CRASH_RE.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        prefix = text[start:match.start()]
        if len(prefix) > 160 or not KERNEL_LINE_PREFIX_RE.match(prefix):
            continue  # "echo 'sysrq: Trigger a crash'", "myapp[12]: sysrq: ...": not the kernel's own line
        if record:
            return match.group(0)
        end = text.find("\n", match.end())
        return text[start:end if end >= 0 else len(text)].strip()
    return None


def host_path(root: str, real_path: str) -> str:
    """The path a host sees for a file under root."""
    if root in ("", "/"):
        return real_path
    relative = os.path.relpath(real_path, os.path.abspath(root))
    return "/" if relative == "." else "/" + relative


def under_root(root: str, path: str) -> str:
    """Path as seen from this process for a host path inside root (symlinks resolved inside root)."""
    resolved = HostTree(root).path(path)
    if resolved is None:
        raise VmcoreError("%s: symlink loop below %s" % (path, root))
    return resolved


def _list_dir(real_dir: str) -> List[str]:
    try:
        return sorted(os.listdir(real_dir))
    except OSError as exc:
        raise VmcoreError("cannot read %s: %s" % (real_dir, exc.strerror or exc))


# What a damaged file can make the readers raise; each becomes that file's problem, never the listing's.
DAMAGE_ERRORS = (VmcoreError, IndexError, KeyError, OverflowError, struct.error, MemoryError) + DECODE_ERRORS


def _inspected(real_path: str) -> Dict[str, Any]:
    try:
        return inspect_dump_file(real_path)
    except DAMAGE_ERRORS as exc:
        try:
            info = os.stat(real_path)
            size: Optional[int] = info.st_size
            mtime: Optional[float] = info.st_mtime
        except OSError:
            size, mtime = None, None
        return {"format": "unknown", "compression": None, "size": size, "mtime": mtime, "header": None,
                "checked": [], "problems": ["cannot be read as a dump (%s: %s)" % (type(exc).__name__, exc)]}


def describe_dump(root: str, real_dir: str, name: str, siblings: Listing, per_crash_dir: bool) -> Dict[str, Any]:
    """One entry of the dumps list."""
    real_path = os.path.join(real_dir, name)
    found = _inspected(real_path)
    problems = incomplete_reasons(name, siblings, per_crash_dir) + found["problems"]
    header = found["header"] or {}
    dmesg = find_dmesg(real_dir, name, siblings, per_crash_dir)
    crash_line = None
    if dmesg:
        try:
            crash_line = dmesg_crash_line(os.path.join(real_dir, dmesg))
        except (OSError, IOError) as exc:
            problems.append("cannot read the saved kernel log %s: %s" % (dmesg, exc.strerror or exc))
    dmesg_source = "file" if dmesg else None
    in_dump = found.get("kernel_log_text")
    if crash_line is None and in_dump:
        crash_line = crash_line_in(NON_TEXT_RE.sub("\n", in_dump), record=True)
        dmesg_source = "dump"
    return {
        "path": host_path(root, real_path),
        "dir": host_path(root, real_dir),
        "name": name,
        "format": found["format"],
        "compression": found["compression"],
        "complete": not problems,
        "problems": problems,
        "checked": found["checked"],
        "size": found["size"],
        "mtime": found["mtime"],
        "release": header.get("release"),
        "machine": header.get("machine"),
        "header": found["header"],
        "dmesg_path": host_path(root, os.path.join(real_dir, dmesg)) if dmesg else None,
        "dmesg_source": dmesg_source,
        "dmesg_has_sysrq": crash_line is not None,
        "dmesg_crash_line": crash_line,
    }


def _not_a_file(root: str, real_dir: str, name: str) -> Dict[str, Any]:
    """The entry of something named like a dump that is a link, FIFO, socket or device: never opened
    (size 0: nothing was read)."""
    full = os.path.join(real_dir, name)
    what = "a symbolic link" if os.path.islink(full) else "not a regular file"
    try:
        mtime: Optional[float] = os.lstat(full).st_mtime
    except OSError:
        mtime = None
    return {
        "path": host_path(root, full), "dir": host_path(root, real_dir), "name": name, "format": "unknown",
        "compression": None, "complete": False, "checked": [], "size": 0, "mtime": mtime, "release": None,
        "machine": None, "header": None, "dmesg_path": None, "dmesg_source": None, "dmesg_has_sysrq": False,
        "dmesg_crash_line": None,
        "problems": ["%s is %s, which kdump tools never write; it was not read" % (name, what)],
    }


def find_dumps(root: str, crash_dir: str, dir_prefix: Optional[str] = None) -> List[Dict[str, Any]]:
    """Every dump in crash_dir and its direct subdirectories (one per crash), oldest first; with dir_prefix,
    only those in subdirectories whose name starts with it (a dump server's <host>-<stamp> directories)."""
    real_top = under_root(root, crash_dir)
    dumps = []
    places = [] if dir_prefix else [(real_top, False)]
    for entry in _list_dir(real_top):
        full = os.path.join(real_top, entry)
        if os.path.isdir(full) and not os.path.islink(full) and entry.startswith(dir_prefix or ""):
            places.append((full, True))
    for real_dir, per_crash_dir in places:
        siblings = Listing(_list_dir(real_dir))
        for name in sorted(siblings.names):
            full = os.path.join(real_dir, name)
            if not is_dump_name(name, siblings) or os.path.isdir(full) and not os.path.islink(full):
                continue
            if os.path.islink(full) or not os.path.isfile(full):
                dumps.append(_not_a_file(root, real_dir, name))
                continue
            try:
                dumps.append(describe_dump(root, real_dir, name, siblings, per_crash_dir))
            except (IOError, OSError) as exc:
                raise VmcoreError("cannot read %s: %s" % (host_path(root, full), exc.strerror or exc))
    dumps.sort(key=lambda dump: (dump["mtime"] or 0.0, dump["path"]))
    return dumps


def _finite_epoch(number: float, given: Any) -> float:
    if math.isnan(number) or math.isinf(number) or number < 0 or number > LATEST_EPOCH:
        raise VmcoreError("newer_than: %s is not a time; give epoch seconds (0 or more, e.g. the output of "
                          "date +%%s) or an absolute marker file path" % quoted(given))
    return number


LATEST_EPOCH = 1e11  # year 5138: a larger "epoch" is milliseconds or a typo


def resolve_newer_than(value: Any, root: str = "/") -> Optional[float]:
    """Epoch seconds from a number, a numeric string or the mtime of a marker file under root."""
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        raise VmcoreError("newer_than: %s is empty, which would let every old dump count as new; omit newer_than "
                          "to list every dump, or give epoch seconds or a marker file" % quoted(value))
    if isinstance(value, bool):
        raise VmcoreError("newer_than: %s is neither epoch seconds nor a marker file path" % quoted(value))
    if isinstance(value, (int, float)):
        try:
            return _finite_epoch(float(value), value)
        except OverflowError:
            return _finite_epoch(float("inf"), value)
    text = str(value).strip()
    try:
        number = float(text) if re.match(r"^[-+]?[0-9.eE+-]+$|^[-+]?(nan|inf|infinity)$", text, re.I) else None
    except (ValueError, OverflowError):
        number = None
    if number is not None:
        return _finite_epoch(number, value)
    if not text.startswith("/") or "\x00" in text:
        raise VmcoreError("newer_than: %s is neither epoch seconds nor an absolute marker file path" % quoted(text))
    real = under_root(root, text)
    try:
        info = os.stat(real)
    except OSError:
        raise VmcoreError("newer_than: marker file %s does not exist; give epoch seconds or an existing file"
                          % brief(text))
    if not stat.S_ISREG(info.st_mode):
        raise VmcoreError("newer_than: %s is not a regular file (a directory's time changes whenever a file in it "
                          "does); give the marker file itself or epoch seconds" % brief(text))
    return info.st_mtime


def vmcore_report(root: str = "/", path: str = "/var/crash", newer_than: Any = None,
                  dir_prefix: Optional[str] = None) -> Dict[str, Any]:
    """The vmcore_info result: dumps newer than newer_than (all when None), oldest first, and the latest."""
    if not path.startswith("/") or "\x00" in path:
        raise VmcoreError("path: %r must be an absolute path such as /var/crash" % path)
    if dir_prefix is not None and (not dir_prefix or "/" in dir_prefix or "\x00" in dir_prefix):
        raise VmcoreError("dir_prefix: %s must be the start of a directory name, such as web-1- (no '/')"
                          % quoted(dir_prefix))
    if not os.path.isdir(root):
        raise VmcoreError("root: %s is not a directory" % root)
    threshold = resolve_newer_than(newer_than, root)
    real_top = under_root(root, path)
    exists = os.path.exists(real_top)
    if exists and not os.path.isdir(real_top):
        raise VmcoreError("path: %s is not a directory; point it at the kdump dump directory" % path)
    dumps = find_dumps(root, path, dir_prefix) if exists else []
    if threshold is not None:
        dumps = [dump for dump in dumps if (dump["mtime"] or 0.0) > threshold]
    return {
        "path": path,
        "path_exists": exists,
        "newer_than": threshold,
        "dumps": dumps,
        "latest": dumps[-1] if dumps else None,
    }
