# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Dumps compressed as a whole file (kdump-tools KDUMP_COMPRESSION): the dump inside, the stream end."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.common import (
    detect_format, ET_CORE, FLAT_HEADER_SIZE, KDUMP_HEADER_READ, merge_inner_result, READ_CHUNK, VmcoreError,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.elf import inspect_elf, parse_elf_header
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.flattened import inspect_flattened
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.kdump_compressed import (
    inspect_kdump_compressed, kdump_header_problems, parse_kdump_header,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.views import (
    DECODE_ERRORS, decoder_for, Inflater, StreamView,
)

OUTER_PEEK_INPUT = 2 * 1024 * 1024
OUTER_RATIO_LIMIT = 200  # bzip2/xz: decompressed bytes per compressed byte (plus the floor) read to the stream end
OUTER_BOMB_FLOOR = 256 * 1024 * 1024  # gzip needs no limit: deflate expands at most 1032:1
OUTER_CHECK_LIMIT = 2 * 1024 * 1024 * 1024  # whole-file compressed dumps up to this size are read to their end


def _decompress_head(handle: Any, compression: str, wanted: int) -> Optional[bytes]:
    """The first decompressed bytes of a gzip/bzip2/xz file, or None when Python cannot read it."""
    if decoder_for(compression) is None:
        return None
    inflater = Inflater(handle, compression)
    pieces, have = [], 0
    try:
        while have < wanted and inflater.consumed < OUTER_PEEK_INPUT:
            piece = inflater.pull(wanted - have)
            if not piece:
                break
            pieces.append(piece)
            have += len(piece)
    except DECODE_ERRORS as exc:
        raise VmcoreError("%s data is corrupt: %s" % (compression, exc))
    if have < wanted and not inflater.ended:
        raise VmcoreError("the %s stream stops after %d bytes of data, before its end: the file is truncated"
                          % (compression, have))
    return b"".join(pieces)


def _stream_end_problems(handle: Any, compression: str, size: int) -> Tuple[Optional[List[str]], int]:
    """Decompress the whole file, keeping nothing, to see the stream reach its end: (problems, decompressed
    size); problems is None when this Python cannot decompress the data. Files larger than OUTER_CHECK_LIMIT,
    and bzip2 and xz data that expands like a bomb, are not read to their end, and say so."""
    if decoder_for(compression) is None:
        return None, 0
    if size > OUTER_CHECK_LIMIT:
        return ["the file is over %d GiB, so its %s stream was not read to its end and the dump inside cannot be "
                "called complete; decompress the file to have it checked" % (OUTER_CHECK_LIMIT >> 30, compression)], 0
    inflater = Inflater(handle, compression)
    produced = 0
    limit = None if compression == "gzip" else OUTER_RATIO_LIMIT * size + OUTER_BOMB_FLOOR
    try:
        while True:
            piece = inflater.pull(READ_CHUNK)
            if not piece:
                break
            produced += len(piece)
            if limit is not None and produced > limit:
                return ["the %s data expands to more than %d bytes (%d times the file), so its end was not read "
                        "and the dump inside cannot be called complete; decompress the file to have it checked"
                        % (compression, limit, limit // size)], produced
    except DECODE_ERRORS as exc:
        return ["%s data is corrupt after the dump header: %s" % (compression, exc)], produced
    if not inflater.ended:
        return ["the %s stream stops after %d bytes of data, before its end: the file is truncated"
                % (compression, produced)], produced
    trailing = size - inflater.consumed + len(inflater.decoder.unused_data)
    if trailing:
        return ["%d bytes follow the end of the %s stream (junk, or a second stream %s -d would join on): the dump "
                "inside is not the file as written" % (trailing, compression, compression)], produced
    return [], produced


def inspect_outer_compressed(handle: Any, compression: str, size: Optional[int] = None) -> Dict[str, Any]:
    """A dump compressed as a whole file: the dump header inside, then (up to OUTER_CHECK_LIMIT) that the
    compressed stream reaches its end."""
    result: Dict[str, Any] = {"header": None, "problems": [], "checked": ["compression"], "format": "unknown"}
    try:
        head = _decompress_head(handle, compression, FLAT_HEADER_SIZE + 16 + KDUMP_HEADER_READ)
    except VmcoreError as exc:
        result["problems"].append(str(exc))
        return result
    if head is None:
        result["problems"].append("cannot look inside %s-compressed data with the Python standard library"
                                  % compression)
        return result
    result["format"] = detect_format(head)
    result["checked"].append("signature")
    try:
        if result["format"] == "kdump_compressed":
            result["header"] = parse_kdump_header(head)
            result["problems"].extend(kdump_header_problems(result["header"]))
        elif result["format"] == "flattened" and len(head) >= FLAT_HEADER_SIZE + 16 + KDUMP_HEADER_READ:
            inner = head[FLAT_HEADER_SIZE + 16:]
            result["header"] = {"inner_format": detect_format(inner)}
            if result["header"]["inner_format"] == "kdump_compressed":
                result["header"].update(parse_kdump_header(inner))
        elif result["format"] == "flattened":
            result["problems"].append("the decompressed data ends after %d bytes, inside the flattened header: "
                                      "truncated" % len(head))
        elif result["format"] == "elf":
            result["header"] = parse_elf_header(head)
            if result["header"]["e_type"] != ET_CORE:
                result["problems"].append("ELF data is not a core dump (e_type=%d)" % result["header"]["e_type"])
    except VmcoreError as exc:
        result["problems"].append(str(exc))
    if result["header"] is not None:
        result["checked"].append("header")
    if result["format"] == "unknown":
        result["problems"].append("the decompressed data has no dump signature")
    if not result["problems"] and size is not None:
        ends, produced = _stream_end_problems(handle, compression, size)
        if ends is not None:
            result["checked"].extend(["stream_end"] if size <= OUTER_CHECK_LIMIT else [])
            result["problems"].extend(ends)
        if ends == [] and result["format"] in ("kdump_compressed", "elf", "flattened"):
            view = StreamView(handle, compression)
            if result["format"] == "kdump_compressed":
                inside = inspect_kdump_compressed(view, produced)
            elif result["format"] == "elf":
                inside = inspect_elf(view, produced, read_memory=False)
            else:
                inside = inspect_flattened(view, produced, rebuild=False)
            merge_inner_result(result, inside, "inside the %s data (%d bytes)" % (compression, produced))
    return result
