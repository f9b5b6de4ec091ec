# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump-compressed dumps (makedumpfile's default): header, bitmaps, page descriptors, page data."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import struct
import zlib
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.common import (
    _cstring, _is_power_of_two, KDUMP_HEADER_READ, KDUMP_SIGNATURE, machine_problems, _read_at, READ_CHUNK, VmcoreError,
)

# disk_dump_header: signature[8], int header_version, 6 x char[65] utsname, struct timeval, then ten 32-bit fields.
UTSNAME_OFFSET = 12
UTSNAME_FIELDS = ("sysname", "nodename", "release", "version", "machine", "domainname")
UTSNAME_LEN = 65
# (word size, timeval offset, timeval format, offset of the 32-bit fields after it)
HEADER_LAYOUTS = ((64, 408, "qq", 424), (32, 404, "ii", 412))
HEADER_TAIL_FORMAT = "IiiIIIIIIi"
HEADER_TAIL_FIELDS = ("status", "block_size", "sub_hdr_size", "bitmap_blocks", "max_mapnr",
                      "total_ram_blocks", "device_blocks", "written_blocks", "current_cpu", "nr_cpus")
STATUS_INCOMPLETE = 0x8
STATUS_COMPRESSION = ((0x1, "zlib"), (0x2, "lzo"), (0x4, "snappy"), (0x20, "zstd"))
# kdump_sub_header on 64-bit hosts: offsets of dump_level, split, max_mapnr_64 (header_version >= 6).
SUB_HEADER_64_SIZE = 104
PAGE_DESC_SIZE = 24
# Count 2nd-bitmap bits up to this size (1 GiB covers 32 TiB of physical address space with 4 KiB pages; under
# a second on Python 3.10+, whose int.bit_count is fast; up to ~40 s before that for a dense bitmap); past it only
# the first page descriptor is checked.
BITMAP_CHECK_LIMIT = 1024 * 1024 * 1024
BITMAP_SUBSET_LIMIT = 64 * 1024 * 1024  # bitmaps up to this size (2 TiB of 4 KiB pages) are compared with each other
DESCRIPTOR_SCAN_LIMIT = 1 << 23  # page descriptors all read (a few seconds); past it, only the first and last
PAGE_DATA_CHECK_LIMIT = 1 << 16  # pages whose data is read (about a second); past it, as many spread evenly
PAGE_FLAG_NAMES = dict(STATUS_COMPRESSION)
KDUMP_HEADER_VERSION_LIMIT = 16  # makedumpfile writes 6; room for versions to come
DUMP_LEVEL_MAX = 31  # makedumpfile -d: a mask of five page kinds


def parse_kdump_header(data: bytes) -> Dict[str, Any]:
    """Decode a disk_dump_header; raise VmcoreError when it is not a sane kdump-compressed header.

    Byte order comes from header_version (small positive number); word size from which layout gives a
    power-of-two block_size and a sub header of at least one block.
    """
    if not data.startswith(KDUMP_SIGNATURE):
        raise VmcoreError("no kdump-compressed signature")
    if len(data) < KDUMP_HEADER_READ - 12:
        raise VmcoreError("kdump-compressed header is cut short (%d bytes)" % len(data))
    order = None
    version = 0
    for candidate in ("<", ">"):
        version = struct.unpack_from(candidate + "i", data, 8)[0]
        if 0 < version < 1000:
            order = candidate
            break
    if order is None:
        raise VmcoreError("kdump-compressed header_version %d is not plausible" % version)

    header: Dict[str, Any] = {"header_version": version, "byte_order": "little" if order == "<" else "big"}
    for index, field in enumerate(UTSNAME_FIELDS):
        start = UTSNAME_OFFSET + index * UTSNAME_LEN
        header[field] = _cstring(data[start:start + UTSNAME_LEN])

    first_tail = None
    for word_size, time_offset, time_format, tail_offset in HEADER_LAYOUTS:
        if len(data) < tail_offset + struct.calcsize(HEADER_TAIL_FORMAT):
            continue
        tail = dict(zip(HEADER_TAIL_FIELDS, struct.unpack_from(order + HEADER_TAIL_FORMAT, data, tail_offset)))
        if first_tail is None:
            first_tail = tail
        if _is_power_of_two(tail["block_size"]) and 512 <= tail["block_size"] <= (1 << 20) \
                and 1 <= tail["sub_hdr_size"] <= (1 << 20):
            seconds, micro = struct.unpack_from(order + time_format, data, time_offset)
            header.update(tail)
            header["word_size"] = word_size
            header["timestamp"] = seconds + micro / 1e6
            header["compression"] = [name for flag, name in STATUS_COMPRESSION if tail["status"] & flag]
            header["incomplete_flag"] = bool(tail["status"] & STATUS_INCOMPLETE)
            return header
    if first_tail is None:
        raise VmcoreError("kdump-compressed header is cut short (%d bytes)" % len(data))
    raise VmcoreError("kdump-compressed header is not sane: block_size=%d sub_hdr_size=%d"
                      % (first_tail["block_size"], first_tail["sub_hdr_size"]))


def kdump_header_problems(header: Dict[str, Any]) -> List[str]:
    """What is wrong with a decoded header on its own (without looking at the file size)."""
    problems = []
    if header["incomplete_flag"]:
        problems.append("the header's status marks the dump incomplete (makedumpfile ran out of space)")
    blocks = header["bitmap_blocks"]
    mapnr = header.get("max_mapnr_64") or header["max_mapnr"]
    if blocks <= 0 or blocks % 2:
        problems.append("bitmap_blocks=%d is not a positive even number (two bitmaps)" % blocks)
    elif mapnr <= 0:
        problems.append("max_mapnr is 0: the header describes no memory")
    elif blocks // 2 * header["block_size"] * 8 < mapnr:
        problems.append("bitmaps of %d blocks cannot cover max_mapnr=%d pages" % (blocks, mapnr))
    if header["header_version"] > KDUMP_HEADER_VERSION_LIMIT:
        problems.append("header_version=%d is not one makedumpfile writes (1 to 6 today): corrupt"
                        % header["header_version"])
    if not 0 <= header.get("dump_level", 0) <= DUMP_LEVEL_MAX:
        problems.append("dump_level=%d is outside makedumpfile's 0 to %d: corrupt"
                        % (header["dump_level"], DUMP_LEVEL_MAX))
    problems.extend(machine_problems(header.get("machine"), header.get("release"), "the header's utsname"))
    if header.get("max_mapnr_64") and header["max_mapnr"] != min(header["max_mapnr_64"], 0xFFFFFFFF):
        problems.append("the header's max_mapnr (%d) and the sub header's max_mapnr_64 (%d) disagree: corrupt"
                        % (header["max_mapnr"], header["max_mapnr_64"]))
    return problems


def kdump_data_offset(header: Dict[str, Any]) -> int:
    """Offset of the page descriptor table = size of header + sub header + both bitmaps."""
    return (1 + header["sub_hdr_size"] + header["bitmap_blocks"]) * header["block_size"]


def _read_sub_header(handle: Any, header: Dict[str, Any], size: int) -> None:
    if header["word_size"] != 64 or size < header["block_size"] + SUB_HEADER_64_SIZE:
        return
    order = "<" if header["byte_order"] == "little" else ">"
    raw = _read_at(handle, header["block_size"], SUB_HEADER_64_SIZE)
    if len(raw) < SUB_HEADER_64_SIZE:
        return
    header["dump_level"] = struct.unpack_from(order + "i", raw, 8)[0]
    header["split"] = bool(header["header_version"] >= 2 and struct.unpack_from(order + "i", raw, 12)[0])
    if header["split"]:
        pfns = (80, 88) if header["header_version"] >= 6 else (16, 24)
        header["split_start_pfn"], header["split_end_pfn"] = (struct.unpack_from(order + "Q", raw, offset)[0]
                                                              for offset in pfns)
    if header["header_version"] >= 6:
        header["max_mapnr_64"] = struct.unpack_from(order + "Q", raw, 96)[0]


def _popcount(chunk: bytes) -> int:
    if chunk.count(0) == len(chunk):
        return 0  # sparse bitmaps are mostly zeros (or ones): no big-integer work for those spans
    if chunk.count(255) == len(chunk):
        return 8 * len(chunk)
    number = int.from_bytes(chunk, "little")
    return number.bit_count() if hasattr(number, "bit_count") else bin(number).count("1")


def count_bits(handle: Any, offset: int, length: int, first_bit: int = 0, end_bit: Optional[int] = None) -> int:
    """Number of set bits of the bitmap of length bytes at offset, bits first_bit..end_bit-1 only (bit n is
    bit n % 8 of byte n // 8, as makedumpfile writes them); stops early at the end of the file."""
    end_bit = length * 8 if end_bit is None else min(end_bit, length * 8)
    if end_bit <= first_bit:
        return 0
    start_byte, end_byte = first_bit // 8, -(-end_bit // 8)
    handle.seek(offset + start_byte)
    total = 0
    position = start_byte
    while position < end_byte:
        chunk = handle.read(min(READ_CHUNK, end_byte - position))
        if not chunk:
            break
        if position == start_byte and first_bit % 8:
            chunk = bytes([chunk[0] & (0xFF << (first_bit % 8)) & 0xFF]) + chunk[1:]
        position += len(chunk)
        if position == end_byte and end_bit % 8:
            chunk = chunk[:-1] + bytes([chunk[-1] & ((1 << (end_bit % 8)) - 1)])
        total += _popcount(chunk)
    return total


def _descriptor_problems(handle: Any, header: Dict[str, Any], size: int, pages: Optional[int]) -> List[str]:
    """The first and the last page descriptor (only the first when the page count is unknown) must be
    written and point at page data inside the file, after the table."""
    table = kdump_data_offset(header)
    table_end = table + (pages or 1) * PAGE_DESC_SIZE
    if size < table_end:
        if pages is None:
            return ["file ends where the page descriptor table starts (%d bytes): no page was written" % size]
        return ["file ends inside the page descriptor table (%d bytes, table for %d pages ends at %d): truncated"
                % (size, pages, table_end)]
    problem = _descriptor_problem(handle, header, size, table, table_end, "first")
    if problem is None and pages and 2 < pages <= DESCRIPTOR_SCAN_LIMIT:  # read forward: a StreamView is fast so
        problems = _middle_descriptor_problems(handle, header, size, table, pages, table_end)
        if problems:
            return problems
    if problem is None and pages and pages > 1:
        problem = _descriptor_problem(handle, header, size, table_end - PAGE_DESC_SIZE, table_end, "last")
    return [problem] if problem else []


def _sampled_descriptors(handle: Any, order: str, table: int, pages: int) -> List[Tuple[int, int, int, int]]:
    """(index, data offset, data size, flags) of every page descriptor, or of PAGE_DATA_CHECK_LIMIT of them spread
    evenly (the first and the last always), in table order."""
    if pages <= PAGE_DATA_CHECK_LIMIT:
        raw = _read_at(handle, table, pages * PAGE_DESC_SIZE)
        return [(index, offset, length, flags) for index, (offset, length, flags, _page_flags)
                in enumerate(struct.iter_unpack(order + "qIIQ", raw))]
    stride = -(-pages // PAGE_DATA_CHECK_LIMIT)
    found = []
    for index in list(range(0, pages - 1, stride)) + [pages - 1]:
        offset, length, flags, _page_flags = struct.unpack(order + "qIIQ", _read_at(
            handle, table + index * PAGE_DESC_SIZE, PAGE_DESC_SIZE))
        found.append((index, offset, length, flags))
    return found


def _page_flag_problem(flags: int, length: int, header: Dict[str, Any]) -> Optional[str]:
    """What is wrong with a page descriptor's compression flags and size, as crash reads them."""
    names = [name for flag, name in STATUS_COMPRESSION if flags & flag]
    if flags & ~sum(PAGE_FLAG_NAMES) or len(names) > 1:
        return "has compression flags 0x%x, which name no single method makedumpfile writes" % flags
    if names and names[0] not in header["compression"]:
        named = " and ".join(header["compression"]) or "no compression"
        return "is %s-compressed but the header names %s" % (names[0], named)
    if not names and length != header["block_size"]:
        return "is stored uncompressed in %d bytes, not one page (%d)" % (length, header["block_size"])
    return None


def _page_data_problems(handle: Any, header: Dict[str, Any], size: int, pages: int) -> Tuple[List[str], bool]:
    """The pages' data as crash would read it: flags naming the header's compression, uncompressed pages one
    block long, no two pages sharing bytes (pages with equal offsets share them: makedumpfile stores the zero
    page once), zlib data giving one block. (problems, every page's data was read)."""
    order = "<" if header["byte_order"] == "little" else ">"
    block, table = header["block_size"], kdump_data_offset(header)
    stored: Dict[int, Tuple[int, int, int]] = {}
    for index, offset, length, flags in _sampled_descriptors(handle, order, table, pages):
        fault = _descriptor_fault(offset, length, block, table + pages * PAGE_DESC_SIZE, size)
        if fault:  # past DESCRIPTOR_SCAN_LIMIT the sampled descriptors were not read before
            return ["page descriptor %d of %d is %s (offset %d, size %d)" % (index + 1, pages, fault, offset, length)
                    ], False
        problem = _page_flag_problem(flags, length, header)
        if problem is None and stored.get(offset, (index, length, flags))[1:] != (length, flags):
            problem = "shares its data offset with page %d but not its size and flags" % (stored[offset][0] + 1)
        if problem:
            return ["page %d of %d %s: corrupt" % (index + 1, pages, problem)], False
        stored.setdefault(offset, (index, length, flags))
    end, previous = 0, 0
    for offset in sorted(stored):  # ascending: a StreamView reads forward
        index, length, flags = stored[offset]
        if offset < end:
            return ["the data of page %d of %d (bytes %d-%d) overlaps that of page %d: corrupt"
                    % (index + 1, pages, offset, offset + length, previous + 1)], False
        end, previous = offset + length, index
        data = _read_at(handle, offset, length)
        if flags & 0x1:
            try:
                decoder = zlib.decompressobj()
                page = decoder.decompress(data, block + 1)
                fault = None if decoder.eof and len(page) == block else "gives %d bytes, not one page (%d)" % (
                    len(page), block) if decoder.eof else "is cut before its end"
            except zlib.error as exc:
                fault = "does not decompress (%s)" % exc
            if fault:
                return ["the zlib data of page %d of %d %s: corrupt" % (index + 1, pages, fault)], False
    return [], pages <= PAGE_DATA_CHECK_LIMIT


def _descriptor_fault(data_offset: int, data_size: int, block: int, table_end: int, size: int) -> Optional[str]:
    """'empty', 'corrupt' or 'truncated' for a page descriptor that is not a written one pointing at page data
    after the table and inside the file, else None."""
    if data_offset == 0 and data_size == 0:
        return "empty"
    if not 0 < data_size <= block or data_offset < table_end:
        return "corrupt"
    if data_offset + data_size > size:
        return "truncated"
    return None


def _middle_descriptor_problems(handle: Any,
                                header: Dict[str, Any],
                                size: int,
                                table: int,
                                pages: int,
                                table_end: int) -> List[str]:
    """Every page descriptor between the first and the last (those two are checked on their own)."""
    order = "<" if header["byte_order"] == "little" else ">"
    handle.seek(table + PAGE_DESC_SIZE)
    index = 1
    per_chunk = READ_CHUNK // PAGE_DESC_SIZE
    while index < pages - 1:
        raw = handle.read(min(per_chunk, pages - 1 - index) * PAGE_DESC_SIZE)
        for data_offset, data_size, _flags, _page_flags in struct.iter_unpack(order + "qIIQ", raw):
            fault = _descriptor_fault(data_offset, data_size, header["block_size"], table_end, size)
            if fault == "empty":
                return ["page descriptor %d of %d is empty: the dump was cut off before all pages were written"
                        % (index + 1, pages)]
            if fault == "corrupt":
                return ["page descriptor %d of %d is corrupt (offset %d, size %d)"
                        % (index + 1, pages, data_offset, data_size)]
            if fault:
                return ["page %d of %d has its data at bytes %d-%d but the dump has %d bytes: truncated"
                        % (index + 1, pages, data_offset, data_offset + data_size, size)]
            index += 1
    return []


def _descriptor_problem(handle: Any,
                        header: Dict[str, Any],
                        size: int,
                        offset: int,
                        table_end: int,
                        which: str) -> Optional[str]:
    order = "<" if header["byte_order"] == "little" else ">"
    data_offset, data_size, _flags, _page_flags = struct.unpack(order + "qIIQ", _read_at(handle, offset,
                                                                                         PAGE_DESC_SIZE))
    fault = _descriptor_fault(data_offset, data_size, header["block_size"], table_end, size)
    if fault == "empty":
        return "the %s page descriptor is empty: the dump was cut off before all pages were written" % which
    if fault == "corrupt":
        return "the %s page descriptor is corrupt (offset %d, size %d)" % (which, data_offset, data_size)
    if fault == "truncated":
        return "the %s page's data ends at byte %d but the file has %d bytes: truncated" % (
            which, data_offset + data_size, size)
    return None


def _dumped_pages(handle: Any, header: Dict[str, Any]) -> Tuple[Optional[int], List[str]]:
    """Pages the 2nd bitmap selects (for one part of a split dump: those of its pfn range); None when the
    bitmap is too large to count here."""
    block = header["block_size"]
    half = header["bitmap_blocks"] // 2 * block
    if half > BITMAP_CHECK_LIMIT:
        return None, []
    first_bit, end_bit = 0, half * 8
    if header.get("split"):
        first_bit, end_bit = header["split_start_pfn"], header["split_end_pfn"]
        if not first_bit < end_bit <= half * 8:
            return None, ["this part of a split dump claims pfns %d-%d, outside its bitmap of %d pages"
                          % (first_bit, end_bit, half * 8)]
        mapnr = header.get("max_mapnr_64") or header["max_mapnr"]
        if first_bit > 0 or end_bit < mapnr:
            return None, ["one part of a split dump (makedumpfile --split): it holds pfns %d-%d of %d; crash needs "
                          "every part, which this file alone is not" % (first_bit, end_bit, mapnr)]
    first_map = (1 + header["sub_hdr_size"]) * block
    mapnr = header.get("max_mapnr_64") or header["max_mapnr"]
    problem = _bitmap_problem(handle, first_map, half, mapnr) if not header.get("split") else None
    if problem:
        return None, [problem]
    pages = count_bits(handle, first_map + half, half, first_bit, end_bit)
    if pages == 0:
        return 0, ["the 2nd bitmap selects no pages: the dump holds no memory"]
    return pages, []


def _bitmap_problem(handle: Any, first_map: int, half: int, mapnr: int) -> Optional[str]:
    """The 2nd bitmap (pages dumped) selects only pages below max_mapnr that the 1st (pages that exist) has.
    Bitmaps above BITMAP_SUBSET_LIMIT are checked against max_mapnr only."""
    past_end = count_bits(handle, first_map + half, half, mapnr) if mapnr < half * 8 else 0
    if past_end:
        return "the 2nd bitmap selects %d pages at or past max_mapnr=%d: corrupt" % (past_end, mapnr)
    if half > BITMAP_SUBSET_LIMIT:
        return None
    existing = _read_at(handle, first_map, half)  # then the 2nd bitmap, which follows it: forward reads only
    handle.seek(first_map + half)
    missing, position = 0, 0
    while position < len(existing):
        chunk = handle.read(min(READ_CHUNK, len(existing) - position))
        if not chunk:
            break
        dumped = int.from_bytes(chunk, "little")
        if dumped:
            orphans = dumped & ~int.from_bytes(existing[position:position + len(chunk)], "little")
            missing += bin(orphans).count("1") if orphans else 0
        position += len(chunk)
    if missing:
        return "the 2nd bitmap selects %d pages that the 1st (the pages that exist) does not have: corrupt" % missing
    return None


def inspect_kdump_compressed(handle: Any, size: int) -> Dict[str, Any]:
    """Header, size and page descriptor checks of a kdump-compressed file."""
    result: Dict[str, Any] = {"header": None, "problems": [], "checked": ["signature"]}
    try:
        header = parse_kdump_header(_read_at(handle, 0, KDUMP_HEADER_READ))
    except VmcoreError as exc:
        result["problems"].append(str(exc))
        return result
    _read_sub_header(handle, header, size)
    result["header"] = header
    result["checked"].append("header")
    problems = kdump_header_problems(header)
    if problems:
        result["problems"].extend(problems)
        return result
    header["min_size"] = kdump_data_offset(header)
    result["checked"].append("size")
    if size < header["min_size"]:
        result["problems"].append(
            "file is %d bytes, smaller than its header + bitmaps (%d bytes): truncated" % (size, header["min_size"]))
        return result
    pages, problems = _dumped_pages(handle, header)
    if problems:
        result["problems"].extend(problems)
        return result
    result["checked"].append("page_descriptors" if pages is not None else "first_page_descriptor")
    result["problems"].extend(_descriptor_problems(handle, header, size, pages))
    if pages and not result["problems"]:
        problems, every_page = _page_data_problems(handle, header, size, pages)
        result["checked"].append("page_data" if every_page else "page_data_sample")
        result["problems"].extend(problems)
    return result
