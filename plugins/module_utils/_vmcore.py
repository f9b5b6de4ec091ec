# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find kdump dumps under a crash directory and check that each one is a complete, readable dump.

Formats (layouts as written by makedumpfile and the kernel):
- kdump-compressed: 8-byte signature ``KDUMP   ``, a disk_dump_header in block 0, a sub header of
  ``sub_hdr_size`` blocks, two bitmaps of ``bitmap_blocks`` blocks together, then one 24-byte page
  descriptor per page set in the 2nd bitmap, then the page data. All fields in the dumped host's byte order.
- flattened (``makedumpfile -F``, ssh targets): a 4096-byte header starting ``makedumpfile``, then
  (offset, size) big-endian segment headers each followed by data, ending with a (-1, -1) segment header.
- ELF core (``cp /proc/vmcore`` or ``makedumpfile -E``): ``\\x7fELF`` with e_type ET_CORE.

Everything here takes a root path (``/`` on a host, a fixture tree in tests) and never reads ``/`` itself.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import math
import os
import zlib
import re
import stat
import struct
from array import array

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._dumpviews import (
    DECODE_ERRORS, FlatView, Inflater, StreamView, decoder_for,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree, open_regular
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import MAX_RAM, brief, quoted, release_arch


FORMATS = ("kdump_compressed", "flattened", "elf", "unknown")

KDUMP_SIGNATURE = b"KDUMP   "
FLAT_SIGNATURE = b"makedumpfile"
FLAT_HEADER_SIZE = 4096
FLAT_END_MARKER = b"\xff" * 16
FLAT_SEGMENT_LIMIT = 1 << 22  # segments read at most (a few seconds); makedumpfile writes one per buffer flush
FLAT_VIEW_LIMIT = 1 << 20  # streams of up to this many segments have the dump inside checked (8 MiB per array)
FLAT_OVERLAP_LIMIT = 4096  # segments rewriting bytes of earlier ones (makedumpfile rewrites a few headers)
ELF_MAGIC = b"\x7fELF"
ET_CORE = 4
PT_LOAD = 1
PT_NOTE = 4
PN_XNUM = 0xFFFF

# disk_dump_header: signature[8], int header_version, 6 x char[65] utsname, struct timeval, then ten 32-bit fields.
UTSNAME_OFFSET = 12
UTSNAME_FIELDS = ("sysname", "nodename", "release", "version", "machine", "domainname")
UTSNAME_LEN = 65
# (word size, timeval offset, timeval format, offset of the 32-bit fields after it)
HEADER_LAYOUTS = ((64, 408, "qq", 424), (32, 404, "ii", 412))
HEADER_TAIL_FORMAT = "IiiIIIIIIi"
HEADER_TAIL_FIELDS = ("status", "block_size", "sub_hdr_size", "bitmap_blocks", "max_mapnr",
                      "total_ram_blocks", "device_blocks", "written_blocks", "current_cpu", "nr_cpus")
KDUMP_HEADER_READ = 464
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
READ_CHUNK = 1024 * 1024
DESCRIPTOR_SCAN_LIMIT = 1 << 23  # page descriptors all read (a few seconds); past it, only the first and last
PAGE_DATA_CHECK_LIMIT = 1 << 16  # pages whose data is read (about a second); past it, as many spread evenly
PAGE_FLAG_NAMES = dict(STATUS_COMPRESSION)

ELF_MACHINES = {3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 62: "x86_64",
                183: "aarch64", 243: "riscv64", 258: "loongarch64"}
NOTE_READ_LIMIT = 4 * 1024 * 1024
ELF_OSABI_ACCEPTED = (0, 3)  # ELFOSABI_NONE (what the kernel and kexec-tools write) and ELFOSABI_LINUX
KDUMP_HEADER_VERSION_LIMIT = 16  # makedumpfile writes 6; room for versions to come
DUMP_LEVEL_MAX = 31  # makedumpfile -d: a mask of five page kinds
PHDR_LIMIT = 1 << 22

# (magic, name) of whole-file compressors (kdump-tools KDUMP_COMPRESSION)
OUTER_COMPRESSION = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
                     (b"\x04\x22\x4d\x18", "lz4"), (b"\x28\xb5\x2f\xfd", "zstd"))
OUTER_PEEK_INPUT = 2 * 1024 * 1024
OUTER_RATIO_LIMIT = 200  # bzip2/xz: decompressed bytes per compressed byte (plus the floor) read to the stream end
OUTER_BOMB_FLOOR = 256 * 1024 * 1024  # gzip needs no limit: deflate expands at most 1032:1
OUTER_CHECK_LIMIT = 2 * 1024 * 1024 * 1024  # whole-file compressed dumps up to this size are read to their end

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


class VmcoreError(Exception):
    """Bad input (missing marker, unreadable directory): the message says what to fix."""


def _cstring(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", "replace")


def _is_power_of_two(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def _read_at(handle: Any, offset: int, length: int) -> bytes:
    handle.seek(offset)
    return handle.read(length)


def detect_format(head: bytes) -> str:
    """Name the dump format from the first bytes of a file."""
    if head.startswith(KDUMP_SIGNATURE):
        return "kdump_compressed"
    if head.startswith(FLAT_SIGNATURE):
        return "flattened"
    if head.startswith(ELF_MAGIC):
        return "elf"
    return "unknown"


def detect_outer_compression(head: bytes) -> Optional[str]:
    for magic, name in OUTER_COMPRESSION:
        if head.startswith(magic):
            return name
    return None


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


def machine_problems(machine: Optional[str], release: Optional[str], where: str) -> List[str]:
    """A dump names one machine: the arch its header names is the arch its kernel release was built for."""
    named = release_arch(release)
    if machine and named and machine != named:
        return ["%s names machine %s but kernel release %s, an %s kernel: corrupt, or parts of two dumps"
                % (where, quoted(machine), quoted(release), named)]
    return []


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


def _elf_layout(head: bytes) -> Tuple[str, bool]:
    if len(head) < 64 or head[4:5] not in (b"\x01", b"\x02") or head[5:6] not in (b"\x01", b"\x02"):
        raise VmcoreError("ELF identification is invalid or cut short")
    return ("<" if head[5:6] == b"\x01" else ">"), head[4:5] == b"\x02"


def parse_elf_header(head: bytes) -> Dict[str, Any]:
    """The fields of an ELF header a core file check needs."""
    order, is64 = _elf_layout(head)
    e_type, e_machine, e_version = struct.unpack_from(order + "HHI", head, 16)
    if is64:
        phoff, shoff = struct.unpack_from(order + "QQ", head, 32)
        phentsize, phnum, shentsize = struct.unpack_from(order + "HHH", head, 54)
    else:
        phoff, shoff = struct.unpack_from(order + "II", head, 28)
        phentsize, phnum, shentsize = struct.unpack_from(order + "HHH", head, 42)
    return {"class": 64 if is64 else 32, "byte_order": "little" if order == "<" else "big", "e_type": e_type,
            "e_machine": e_machine, "machine": ELF_MACHINES.get(e_machine), "phoff": phoff, "phnum": phnum,
            "phentsize": phentsize, "shoff": shoff, "shentsize": shentsize, "e_version": e_version,
            "ident_version": head[6], "osabi": head[7]}


def _vmcoreinfo_release(notes: bytes) -> Optional[str]:
    match = re.search(rb"OSRELEASE=([^\n\x00]+)", notes)
    return match.group(1).decode("utf-8", "replace") if match else None


def inspect_elf(handle: Any, size: int, read_memory: bool = True) -> Dict[str, Any]:
    """ET_CORE type, program header table inside the file, every segment's data inside the file; with
    read_memory, the kernel log found through the segments."""
    result: Dict[str, Any] = {"header": None, "problems": [], "checked": ["signature"]}
    try:
        header = parse_elf_header(_read_at(handle, 0, 64))
    except VmcoreError as exc:
        result["problems"].append(str(exc))
        return result
    result["header"] = header
    result["checked"].append("header")
    if header["e_type"] != ET_CORE:
        result["problems"].append("ELF file is not a core dump (e_type=%d, ET_CORE=4)" % header["e_type"])
        return result
    if header["e_version"] != 1 or header["ident_version"] != 1 or header["osabi"] not in ELF_OSABI_ACCEPTED:
        result["problems"].append("ELF header version %d (identification %d, OS ABI %d) is not a Linux core's "
                                  "(1, 1, 0): corrupt" % (header["e_version"], header["ident_version"],
                                                          header["osabi"]))
        return result
    order = "<" if header["byte_order"] == "little" else ">"
    is64 = header["class"] == 64
    phnum = header["phnum"]
    if phnum == PN_XNUM and header["shoff"] and size >= header["shoff"] + header["shentsize"]:
        # the real count lives in section header 0's sh_info
        section = _read_at(handle, header["shoff"], header["shentsize"])
        phnum = struct.unpack_from(order + "I", section, 44 if is64 else 28)[0]
    header["phnum"] = phnum
    entry_size = 56 if is64 else 32
    if phnum == 0 or header["phentsize"] != entry_size:
        result["problems"].append("ELF core has no usable program headers (phnum=%d, phentsize=%d)"
                                  % (phnum, header["phentsize"]))
        return result
    if phnum > PHDR_LIMIT:
        result["problems"].append("ELF core claims %d program headers, more than %d: corrupt" % (phnum, PHDR_LIMIT))
        return result
    table_end = header["phoff"] + phnum * entry_size
    result["checked"].append("size")
    if table_end > size:
        result["problems"].append("file is %d bytes but its program headers end at %d: truncated" % (size, table_end))
        return result
    loads = 0
    data_end = 0
    notes: List[Tuple[int, int]] = []
    segments: List[Tuple[int, int, int, int]] = []
    handle.seek(header["phoff"])
    for _index in range(phnum):
        raw = handle.read(entry_size)
        if len(raw) < entry_size:
            result["problems"].append("program header table is cut short: truncated")
            return result
        if is64:
            p_type, _flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz = struct.unpack_from(order + "IIQQQQQ", raw)
        else:
            p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz = struct.unpack_from(order + "IIIIII", raw)
        if p_type == PT_LOAD and p_filesz > p_memsz:
            result["problems"].append("program header %d is a PT_LOAD with more file bytes (%d) than memory (%d): "
                                      "corrupt" % (_index, p_filesz, p_memsz))
            return result
        if p_type == PT_LOAD and p_memsz > MAX_RAM:
            result["problems"].append("program header %d is a PT_LOAD of %d bytes of memory, more than any machine "
                                      "can address (4 PiB): corrupt" % (_index, p_memsz))
            return result
        loads += p_type == PT_LOAD
        if p_type == PT_LOAD:
            segments.append((p_offset, p_vaddr, p_paddr, p_filesz))
        if p_type == PT_NOTE:
            notes.append((p_offset, p_filesz))
        data_end = max(data_end, p_offset + p_filesz)
    header["load_segments"] = loads
    if loads == 0:
        result["problems"].append("ELF core has no PT_LOAD segment: it holds no memory")
    elif not any(length for _offset, _vaddr, _paddr, length in segments):
        result["problems"].append("the %d PT_LOAD segments of the ELF core hold no file bytes: it holds no memory"
                                  % loads)
    if not notes:
        result["problems"].append("ELF core has no PT_NOTE segment: the CPU registers and VMCOREINFO are missing")
    if data_end > size:
        result["problems"].append("segment data ends at byte %d but the file has %d bytes: truncated"
                                  % (data_end, size))
        return result
    loaded = [(offset, length) for offset, _vaddr, _paddr, length in segments]
    overlap = _file_range_overlap([(0, table_end)] + list(notes) + loaded)
    if overlap:
        result["problems"].append(overlap)
        return result
    chunks = []  # joined once: appending to one bytes object is quadratic in the number of notes
    kept = 0
    for offset, length in notes:
        if kept >= NOTE_READ_LIMIT:
            break
        chunk = _read_at(handle, offset, min(length, NOTE_READ_LIMIT - kept))
        chunks.append(chunk)
        kept += len(chunk)
    note_bytes = b"".join(chunks)
    header["release"] = _vmcoreinfo_release(note_bytes)
    mismatch = machine_problems(header["machine"], header["release"], "the ELF header")
    if mismatch:
        result["problems"].extend(mismatch)
        return result
    names: List[bytes] = []
    for chunk, (_offset, length) in zip(chunks, notes):
        fault = _note_walk(chunk, order, names) if len(chunk) == length else None  # a cut read is no cut note
        if fault:
            result["problems"].append(fault)
            return result
    if notes and kept < NOTE_READ_LIMIT and b"VMCOREINFO" not in names:
        result["problems"].append("the ELF notes hold no VMCOREINFO note: the kernel's layout is missing")
    if loads and is64 and read_memory:
        memory = ElfMemory(handle, segments, parse_vmcoreinfo(note_bytes), order)
        header["kernel_log"] = memory.kernel_log_status()
        result["kernel_log_text"] = memory.kernel_log_text
    return result


def _file_range_overlap(ranges: List[Tuple[int, int]]) -> Optional[str]:
    """A problem when two (offset, size) file ranges of an ELF core share bytes (the headers are range 0)."""
    end = 0
    for offset, length in sorted(item for item in ranges if item[1] > 0):
        if offset < end:
            return "segment data at bytes %d-%d overlaps other headers or segments (up to byte %d): corrupt" % (
                offset, offset + length, end)
        end = max(end, offset + length)
    return None


def _note_walk(chunk: bytes, order: str, names: List[bytes]) -> Optional[str]:
    """Appends the names of the ELF notes in one PT_NOTE segment's bytes; a problem when a note runs past it."""
    position = 0
    while position + 12 <= len(chunk):
        namesz, descsz, _note_type = struct.unpack_from(order + "III", chunk, position)
        if namesz == 0:
            return None  # zero padding after the last note (the kernel stops there too)
        end = position + 12 + -(-namesz // 4) * 4 + -(-descsz // 4) * 4
        if end > len(chunk):
            return "an ELF note at byte %d of its PT_NOTE segment runs past the segment's %d bytes: corrupt" % (
                position, len(chunk))
        names.append(chunk[position + 12:position + 12 + namesz].rstrip(b"\x00"))
        position = end
    if chunk[position:].strip(b"\x00"):
        return "the last ELF note of a PT_NOTE segment is cut after %d bytes: corrupt" % position
    return None


VMCOREINFO_VALUE_RE = re.compile(rb"^([A-Z_]+(?:\([^)\n]*\))?)=([^\n\x00]*)$", re.M)
KERNEL_LOG_LIMIT = 64 * 1024 * 1024
X86_START_KERNEL_MAP = 0xFFFFFFFF80000000
U64 = (1 << 64) - 1


def parse_vmcoreinfo(notes: bytes) -> Dict[str, int]:
    """The numeric entries of a VMCOREINFO note: SYMBOL(x) (hex), OFFSET/SIZE/LENGTH/NUMBER (decimal or 0x)."""
    values: Dict[str, int] = {}
    for key, raw in VMCOREINFO_VALUE_RE.findall(notes):
        name, text = key.decode("ascii", "replace"), raw.decode("ascii", "replace").strip()
        base = 16 if name.startswith("SYMBOL(") or text.lower().startswith("0x") else 10
        try:
            values[name] = int(text, base) & U64 if base == 16 else int(text)
        except ValueError:
            continue
    return values


class ElfMemory:
    """Reads the crashed kernel's memory through an ELF vmcore's PT_LOAD segments, to find its kernel log.

    The printk ring buffer (Linux 5.10+) is located from VMCOREINFO alone: SYMBOL(prb) points to the
    printk_ringbuffer, whose text_data_ring holds every record's text; no vmlinux or makedumpfile is needed.
    Kernel image addresses missing from the segments are translated with kimage_voffset (arm64) or
    phys_base (x86_64).
    """

    def __init__(self,
                 handle: Any,
                 segments: List[Tuple[int, int, int, int]],
                 info: Dict[str, int],
                 order: str) -> None:
        self.handle, self.segments, self.info, self.order = handle, segments, info, order
        self.kernel_log_text: Optional[str] = None
        self.problem: Optional[str] = None

    def _offset(self, address: int, length: int, physical: bool) -> Optional[int]:
        for p_offset, vaddr, paddr, filesz in self.segments:
            start = paddr if physical else vaddr
            if start <= address and address + length <= start + filesz:
                return p_offset + address - start
        return None

    def read_virtual(self, address: int, length: int) -> Optional[bytes]:
        offset = self._offset(address, length, physical=False)
        if offset is None and "NUMBER(kimage_voffset)" in self.info:
            offset = self._offset((address - self.info["NUMBER(kimage_voffset)"]) & U64, length, physical=True)
        if offset is None and "NUMBER(phys_base)" in self.info and address >= X86_START_KERNEL_MAP:
            offset = self._offset(address - X86_START_KERNEL_MAP + self.info["NUMBER(phys_base)"], length,
                                  physical=True)
        if offset is None:
            return None
        data = _read_at(self.handle, offset, length)
        return data if len(data) == length else None

    def _pointer(self, address: int) -> Optional[int]:
        raw = self.read_virtual(address, 8)
        return struct.unpack(self.order + "Q", raw)[0] if raw is not None else None

    def kernel_log_status(self) -> Dict[str, Any]:
        """{found, size, problem}: reads the log's text ring into kernel_log_text."""
        wanted = ("SYMBOL(prb)", "OFFSET(printk_ringbuffer.text_data_ring)", "OFFSET(prb_data_ring.size_bits)",
                  "OFFSET(prb_data_ring.data)")
        missing = [name for name in wanted if name not in self.info]
        if missing:
            return {"found": False, "size": None, "problem": "VMCOREINFO lacks %s" % ", ".join(missing)}
        ring = self._pointer(self.info["SYMBOL(prb)"])
        if ring is None:
            return {"found": False, "size": None, "problem": "the printk ring buffer pointer (prb) is not in the dump"}
        text_ring = ring + self.info["OFFSET(printk_ringbuffer.text_data_ring)"]
        raw_bits = self.read_virtual(text_ring + self.info["OFFSET(prb_data_ring.size_bits)"], 4)
        data = self._pointer(text_ring + self.info["OFFSET(prb_data_ring.data)"])
        if raw_bits is None or data is None:
            return {"found": False, "size": None, "problem": "the printk text ring header is not in the dump"}
        bits = struct.unpack(self.order + "I", raw_bits)[0]
        if not 8 <= bits <= 26 or (1 << bits) > KERNEL_LOG_LIMIT:
            return {"found": False, "size": None, "problem": "implausible printk text ring size 2^%d" % bits}
        text = self.read_virtual(data, 1 << bits)
        if text is None:
            return {"found": False, "size": 1 << bits, "problem": "the printk text ring is not in the dump"}
        self.kernel_log_text = text.decode("utf-8", "replace")
        return {"found": True, "size": 1 << bits, "problem": None}


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
    seg_offset, seg_size = struct.unpack(">qq", _read_at(handle, FLAT_HEADER_SIZE, 16))
    if seg_offset == 0 and seg_size > 0:
        first = _read_at(handle, FLAT_HEADER_SIZE + 16, min(seg_size, KDUMP_HEADER_READ))
        header["inner_format"] = detect_format(first)
        try:
            if header["inner_format"] == "kdump_compressed":
                inner = parse_kdump_header(first)
                header.update(inner)
                if inner["incomplete_flag"]:
                    result["problems"].append("the dump header's status marks the dump incomplete")
            elif header["inner_format"] == "elf":
                inner = parse_elf_header(first)
                header.update(inner)
                if inner["e_type"] != ET_CORE:
                    result["problems"].append("ELF data is not a core dump (e_type=%d)" % inner["e_type"])
        except VmcoreError as exc:
            result["problems"].append(str(exc))
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
    _inner_checks(result, inner, "in the dump the segments rebuild (%d bytes)" % view.size)
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


def _inner_checks(result: Dict[str, Any], inner: Dict[str, Any], where: str) -> None:
    """Adds what the dump inside a container showed to the container's result."""
    if inner["header"] is not None:
        result["header"] = dict(result["header"] or {}, **inner["header"])
    result["checked"].extend(name for name in inner["checked"] if name not in result["checked"])
    result["problems"].extend("%s: %s" % (where, problem) for problem in inner["problems"])


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
            _inner_checks(result, inside, "inside the %s data (%d bytes)" % (compression, produced))
    return result


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


def find_dumps(root: str, crash_dir: str) -> List[Dict[str, Any]]:
    """Every dump in crash_dir and its direct subdirectories (one per crash), oldest first."""
    real_top = under_root(root, crash_dir)
    dumps = []
    places = [(real_top, False)]
    for entry in _list_dir(real_top):
        full = os.path.join(real_top, entry)
        if os.path.isdir(full) and not os.path.islink(full):
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


def vmcore_report(root: str = "/", path: str = "/var/crash", newer_than: Any = None) -> Dict[str, Any]:
    """The vmcore_info result: dumps newer than newer_than (all when None), oldest first, and the latest."""
    if not path.startswith("/") or "\x00" in path:
        raise VmcoreError("path: %r must be an absolute path such as /var/crash" % path)
    if not os.path.isdir(root):
        raise VmcoreError("root: %s is not a directory" % root)
    threshold = resolve_newer_than(newer_than, root)
    real_top = under_root(root, path)
    exists = os.path.exists(real_top)
    if exists and not os.path.isdir(real_top):
        raise VmcoreError("path: %s is not a directory; point it at the kdump dump directory" % path)
    dumps = find_dumps(root, path) if exists else []
    if threshold is not None:
        dumps = [dump for dump in dumps if (dump["mtime"] or 0.0) > threshold]
    return {
        "path": path,
        "path_exists": exists,
        "newer_than": threshold,
        "dumps": dumps,
        "latest": dumps[-1] if dumps else None,
    }
