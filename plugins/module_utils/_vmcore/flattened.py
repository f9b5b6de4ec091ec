# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Flattened dumps (``makedumpfile -F``, ssh targets): the segment stream and the dump it rebuilds."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import struct
from array import array
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.common import (
    detect_format, ET_CORE, FLAT_HEADER_SIZE, FLAT_SIGNATURE, KDUMP_HEADER_READ, merge_inner_result, _read_at, VmcoreError,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.elf import inspect_elf, parse_elf_header
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.kdump_compressed import (
    inspect_kdump_compressed, kdump_data_offset, parse_kdump_header,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.views import FlatView

FLAT_END_MARKER = b"\xff" * 16
FLAT_SEGMENT_LIMIT = 1 << 22  # segments read at most (a few seconds); makedumpfile writes one per buffer flush
FLAT_VIEW_LIMIT = 1 << 20  # streams of up to this many segments have the dump inside checked (8 MiB per array)
FLAT_OVERLAP_LIMIT = 4096  # segments rewriting bytes of earlier ones (makedumpfile rewrites a few headers)


def _first_segment_problems(handle: Any, header: Dict[str, Any]) -> List[str]:
    """Reads the dump header the first segment carries into header; what it says is wrong."""
    seg_offset, seg_size = struct.unpack(">qq", _read_at(handle, FLAT_HEADER_SIZE, 16))
    if seg_offset != 0 or seg_size <= 0:
        return []
    first = _read_at(handle, FLAT_HEADER_SIZE + 16, min(seg_size, KDUMP_HEADER_READ))
    header["inner_format"] = detect_format(first)
    try:
        if header["inner_format"] == "kdump_compressed":
            inner = parse_kdump_header(first)
            header.update(inner)
            if inner["incomplete_flag"]:
                return ["the dump header's status marks the dump incomplete"]
        elif header["inner_format"] == "elf":
            inner = parse_elf_header(first)
            header.update(inner)
            if inner["e_type"] != ET_CORE:
                return ["ELF data is not a core dump (e_type=%d)" % inner["e_type"]]
    except VmcoreError as exc:
        return [str(exc)]
    return []


def inspect_flattened(handle: Any, size: int, rebuild: bool = True) -> Dict[str, Any]:
    """Flattened header type, the dump header carried by the first segment, the end marker, the segments, and
    (rebuild) the dump they rebuild, read in place: not through a compressed stream, which reads forward only."""
    result: Dict[str, Any] = {"header": None, "problems": [], "checked": ["signature"]}
    head = _read_at(handle, 0, 32)
    if size < FLAT_HEADER_SIZE + len(FLAT_END_MARKER) or len(head) < 32:
        result["problems"].append("file is %d bytes, shorter than a flattened header: truncated" % size)
        return result
    flat_type, flat_version = struct.unpack_from(">qq", head, 16)
    if head[len(FLAT_SIGNATURE):16].strip(b"\x00") or flat_type != 1:
        result["problems"].append("flattened header is not sane (type %d)" % flat_type)
        return result
    header: Dict[str, Any] = {"flat_version": flat_version, "inner_format": "unknown"}
    result["header"] = header
    result["checked"].append("header")
    result["problems"].extend(_first_segment_problems(handle, header))
    if header["inner_format"] == "unknown":
        result["problems"].append("the first flattened segment does not start with a dump header")
    result["checked"].append("end_marker")
    if _read_at(handle, size - len(FLAT_END_MARKER), len(FLAT_END_MARKER)) != FLAT_END_MARKER:
        result["problems"].append("no end marker: the flattened stream was cut off while being written")
        return result
    if result["problems"]:
        return result
    result["checked"].append("segments")
    problems, segments = _segment_problems(handle, size, header)
    result["problems"].extend(problems)
    if problems:
        return result
    unchecked = "so the dump they rebuild was not checked; rebuild it with makedumpfile -R and check the result"
    if not rebuild:
        result["problems"].append("the segments cannot be rebuilt through a compressed stream, %s" % unchecked)
        return result
    if segments is None:
        result["problems"].append("the stream has more than %d segments, too many to rebuild here, %s"
                                  % (FLAT_VIEW_LIMIT, unchecked))
        return result
    view = FlatView(handle, *segments)
    if view.overlaps > FLAT_OVERLAP_LIMIT:
        result["problems"].append("%d segments rewrite bytes of earlier ones (makedumpfile rewrites a few headers, "
                                  "not more than %d), %s" % (view.overlaps, FLAT_OVERLAP_LIMIT, unchecked))
        return result
    inner = inspect_kdump_compressed(view, view.size) if header["inner_format"] == "kdump_compressed" \
        else inspect_elf(view, view.size)
    result["kernel_log_text"] = inner.pop("kernel_log_text", None)
    merge_inner_result(result, inner, "in the dump the segments rebuild (%d bytes)" % view.size)
    return result


def _segment_problems(handle: Any,
                      size: int,
                      header: Dict[str, Any]) -> Tuple[List[str], Optional[Tuple[array, array, array]]]:
    """Every segment of a flattened stream lies inside the file and the last one is followed by the end
    marker; the dump they rebuild is at least as large as its kdump header requires. Also returns the
    segments (offsets, sizes, data positions), None past FLAT_VIEW_LIMIT."""
    handle.seek(FLAT_HEADER_SIZE)
    position, rebuilt, count = FLAT_HEADER_SIZE, 0, 0
    end = size - len(FLAT_END_MARKER)
    starts, sizes, positions = array("q"), array("q"), array("q")
    while position < end:
        raw = handle.read(16)
        if len(raw) < 16:
            break
        seg_offset, seg_size = struct.unpack(">qq", raw)
        count += 1
        if seg_offset < 0 or seg_size < 0 or position + 16 + seg_size > end:
            return ["segment %d at byte %d (offset %d, %d bytes) runs past the end of the %d-byte file: the stream "
                    "is cut or corrupt" % (count, position, seg_offset, seg_size, size)], None
        rebuilt = max(rebuilt, seg_offset + seg_size)
        if count <= FLAT_VIEW_LIMIT:
            starts.append(seg_offset)
            sizes.append(seg_size)
            positions.append(position + 16)
        position += 16 + seg_size
        handle.seek(position)
        if count >= FLAT_SEGMENT_LIMIT:
            return [], None  # a stream this long was written to its end (the marker is there); stop reading
    if position != end:
        return ["the segments end at byte %d, not at the end marker (byte %d): the stream is corrupt"
                % (position, end)], None
    if header.get("inner_format") == "kdump_compressed" and "bitmap_blocks" in header:
        needed = kdump_data_offset(header)
        if rebuilt < needed:
            return ["the segments rebuild %d bytes, less than the kdump header and bitmaps need (%d): truncated"
                    % (rebuilt, needed)], None
        pages = header.get("max_mapnr_64") or header.get("max_mapnr") or 0
        largest = needed + pages * (24 + header["block_size"])  # every page stored whole, plus its descriptor
        if rebuilt > largest:
            return ["the segments rebuild %d bytes, more than a dump of %d pages can hold (%d): a segment offset "
                    "is corrupt" % (rebuilt, pages, largest)], None
    return [], (starts, sizes, positions) if count <= FLAT_VIEW_LIMIT else None
