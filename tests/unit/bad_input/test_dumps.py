"""vmcore_info on damaged dumps, table-driven. Each case writes one damaged dump (generated here from the
builders in tests/fixtures/vmcores/make_vmcores.py, never committed) into a crash directory next to a good
one, and names the problem words that damaged file must get; the good dump must still be listed and
complete. Then the newer_than values that are not times."""
import bz2
import gzip
import json
import lzma
import os
import struct
import sys
import tracemalloc

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import vmcore_builders  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.fleetops.kdump.plugins.module_utils import _vmcore as vmcore
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore import (
    compressed_file, crash_dir, flattened, kdump_compressed,
)
from ansible_collections.fleetops.kdump.plugins.modules import vmcore_info

build = vmcore_builders()

GOOD_STAMP = "202411251705"
# struct disk_dump_header (64-bit): signature[8], header_version, utsname (6 x 65), timeval at 408, status, block_size
KDUMP_BLOCK_SIZE_AT = 428
BAD_STAMP = "202411251810"


def kdump():
    return bytearray(build.build_kdump_compressed())


def split_kdump():
    return bytearray(build.build_kdump_compressed(split=True))


def kdump_table_offset(image):
    return vmcore.kdump_data_offset(vmcore.parse_kdump_header(bytes(image[:vmcore.KDUMP_HEADER_READ])))


def elf(**kwargs):
    return bytearray(build.build_elf_core(**kwargs))


def poke(data, offset, fmt, value):
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


def elf_phoff():
    return struct.unpack_from("<Q", bytes(elf()), 0x20)[0]


def empty_descriptor(image, index):
    """The image with page descriptor index (0-based) never written."""
    table = kdump_table_offset(image)
    return bytes(image[:table + 24 * index]) + bytes(24) + bytes(image[table + 24 * (index + 1):])


def descriptor(image, index):
    """(offset, size, flags) of page descriptor index (0-based) of a little-endian image."""
    return struct.unpack_from("<qII", bytes(image), kdump_table_offset(image) + 24 * index)


def set_descriptor(image, index, offset=None, size=None, flags=None):
    """The image with fields of page descriptor index replaced."""
    image = bytearray(image)
    old = descriptor(image, index)
    struct.pack_into("<qII", image, kdump_table_offset(image) + 24 * index, *(
        old[at] if new is None else new for at, new in enumerate((offset, size, flags))))
    return bytes(image)


def flip_page_byte(image, index, at=6):
    """The image with one byte of page index's stored data changed (deflate data past its 2-byte zlib header)."""
    image = bytearray(image)
    image[descriptor(image, index)[0] + at] ^= 0xFF
    return bytes(image)


def elf_phdr(index):
    return elf_phoff() + 56 * index


def elf_segment_offset(index):
    """p_offset of program header index (0 is the PT_NOTE) of the builder's ELF core."""
    return struct.unpack_from("<Q", bytes(elf()), elf_phdr(index) + 8)[0]


def rewrite_segment(stream, offset, data):
    """A flattened stream with one more segment, before the end marker, writing data at offset."""
    return stream[:-16] + struct.pack(">qq", offset, len(data)) + data + stream[-16:]


DAMAGED = [
    ("empty", b"", ["file is empty"]),
    ("random-bytes", os.urandom(5000), ["unknown format"]),
    ("one-byte", b"K", ["unknown format"]),
    ("kdump-signature-only", b"KDUMP   ", ["header is cut short"]),
    ("kdump-cut-in-header", bytes(kdump()[:300]), ["header is cut short"]),
    ("kdump-cut-in-bitmaps", bytes(kdump()[:5000]), ["truncated"]),
    ("kdump-block-size-zero", poke(kdump(), KDUMP_BLOCK_SIZE_AT, "<i", 0), ["block_size"]),
    ("kdump-block-size-negative", poke(kdump(), KDUMP_BLOCK_SIZE_AT, "<i", -4096), ["block_size"]),
    ("kdump-half", bytes(kdump()[:len(kdump()) // 2]), ["truncated"]),
    ("flattened-cut-in-header", bytes(build.flatten(bytes(kdump()))[:3000]), ["truncated"]),
    ("flattened-cut", bytes(build.flatten(bytes(kdump()))[:9000]), ["end marker"]),
    ("flattened-wrong-type", poke(bytearray(build.flatten(bytes(kdump()))), 16, ">q", 7), ["type"]),
    # an end marker alone proves nothing: every segment must lie in the file and rebuild a whole dump
    ("flattened-header-segment-only", build.flatten(bytes(kdump()[:464])), ["rebuild 464 bytes", "truncated"]),
    ("flattened-segment-claims-2-62-bytes", poke(bytearray(build.flatten(bytes(kdump()))), 4096 + 16 + 464 + 8, ">q",
                                                 1 << 62), ["segment 2", "runs past the end"]),
    ("flattened-segment-at-offset-2-62", poke(bytearray(build.flatten(bytes(kdump()))), 4096 + 16 + 464, ">q", 1 << 62),
     ["more than a dump of", "segment offset is corrupt"]),
    ("flattened-negative-offset", poke(bytearray(build.flatten(bytes(kdump()))), 4096 + 16 + 464, ">q", -5),
     ["segment 2", "offset -5"]),
    # one part of a split dump: its pfn range's descriptors are checked like a whole dump's
    ("kdump-split-cut-after-bitmaps", bytes(split_kdump()[:kdump_table_offset(split_kdump())]),
     ["ends inside the page descriptor table"]),
    ("kdump-first-descriptor-points-past-the-file", poke(kdump(), kdump_table_offset(kdump()), "<q", 1 << 62),
     ["first page's data ends at byte 4611686018427387", "truncated"]),
    ("kdump-first-descriptor-size-huge", poke(kdump(), kdump_table_offset(kdump()) + 8, "<I", 1 << 31),
     ["first page descriptor is corrupt"]),
    ("kdump-middle-descriptor-points-past-the-file", poke(kdump(), kdump_table_offset(kdump()) + 48, "<q", 10 ** 12),
     ["page 3 of 6 has its data at bytes 1000000000000-", "truncated"]),
    ("kdump-middle-descriptor-never-written", bytes(kdump()[:kdump_table_offset(kdump()) + 48]) + bytes(24)
     + bytes(kdump()[kdump_table_offset(kdump()) + 72:]), ["page descriptor 3 of 6 is empty"]),
    ("kdump-split-part-holding-half-the-pfns", poke(split_kdump(), 4096 + 88, "<Q", 32), ["one part of a split dump",
                                                                                          "pfns 0-32 of 64"]),
    ("kdump-split-range-outside-its-bitmap", poke(split_kdump(), 4096 + 88, "<Q", 1 << 40), ["split dump claims pfns"]),
    # page data is read as crash reads it: flags naming the header's compression, zlib data giving one page
    ("kdump-page-with-an-unknown-flag", set_descriptor(kdump(), 2, flags=0x41),
     ["page 3 of 6 has compression flags 0x41", "corrupt"]),
    ("kdump-page-with-two-methods", set_descriptor(kdump(), 1, flags=0x3), ["page 2 of 6 has compression flags 0x3"]),
    ("kdump-lzo-page-in-a-zlib-dump", set_descriptor(kdump(), 4, flags=0x2),
     ["page 5 of 6 is lzo-compressed but the header names zlib"]),
    ("kdump-zlib-pages-under-a-header-naming-none", poke(kdump(), 424, "<I", 0),
     ["page 1 of 6 is zlib-compressed but the header names no compression"]),
    ("kdump-compressed-page-marked-uncompressed", set_descriptor(kdump(), 3, flags=0),
     ["page 4 of 6 is stored uncompressed in", "not one page (4096)"]),
    ("kdump-zlib-page-with-a-flipped-byte", flip_page_byte(kdump(), 2),
     ["the zlib data of page 3 of 6 does not decompress", "corrupt"]),
    ("kdump-zlib-page-cut-short", set_descriptor(kdump(), 5, size=descriptor(kdump(), 5)[1] - 9),
     ["the zlib data of page 6 of 6 is cut before its end"]),
    ("kdump-first-page-one-byte-late", set_descriptor(kdump(), 0, offset=descriptor(kdump(), 0)[0] + 1),
     ["the zlib data of page 1 of 6 does not decompress"]),
    ("kdump-pages-sharing-bytes", set_descriptor(kdump(), 3, offset=descriptor(kdump(), 2)[0] + 8),
     ["the data of page 4 of 6 (bytes", "overlaps that of page 3", "corrupt"]),
    ("kdump-pages-sharing-an-offset-not-a-size",
     set_descriptor(kdump(), 4, offset=descriptor(kdump(), 1)[0], size=descriptor(kdump(), 1)[1] + 3),
     ["page 5 of 6 shares its data offset with page 2 but not its size"]),
    ("gzip-of-a-kdump-with-a-corrupt-page", gzip.compress(flip_page_byte(kdump(), 4)),
     ["inside the gzip data", "zlib data of page 5 of 6 does not decompress"]),
    ("flattened-kdump-with-a-corrupt-page", build.flatten(flip_page_byte(kdump(), 1)),
     ["in the dump the segments rebuild", "zlib data of page 2 of 6 does not decompress"]),
    # the bitmaps agree with max_mapnr and with each other (pages dumped are pages that exist)
    ("kdump-dumping-pages-past-max-mapnr", bytes(build.build_kdump_compressed(max_mapnr=64, dumpable=(0, 1, 2, 100, 2000))),
     ["the 2nd bitmap selects 2 pages at or past max_mapnr=64", "corrupt"]),
    ("kdump-dumping-pages-that-do-not-exist", bytes(kdump()[:2 * 4096]) + bytes(4096) + bytes(kdump()[3 * 4096:]),
     ["the 2nd bitmap selects 6 pages that the 1st", "does not have"]),
    ("kdump-max-mapnr-fields-disagree", poke(kdump(), 440, "<I", 4096),
     ["max_mapnr (4096) and the sub header's max_mapnr_64 (64) disagree"]),
    # a rebuild that is not checked is no complete dump
    ("flattened-with-4097-rewritten-headers", bytes(build.flatten(bytes(kdump())))[:-16]
     + (struct.pack(">qq", 0, 464) + bytes(kdump()[:464])) * 4097 + b"\xff" * 16,
     ["4097 segments rewrite bytes of earlier ones", "not checked"]),
    # ELF cores: memory in the file, the notes whole and holding VMCOREINFO, no two segments sharing file bytes
    ("elf-loads-without-file-bytes", poke(bytearray(poke(elf(), elf_phdr(1) + 32, "<Q", 0)), elf_phdr(2) + 32, "<Q", 0),
     ["the 2 PT_LOAD segments of the ELF core hold no file bytes"]),
    ("elf-load-of-2-62-bytes-of-memory", poke(elf(), elf_phdr(1) + 40, "<Q", 1 << 62),
     ["PT_LOAD of 4611686018427387904 bytes of memory", "4 PiB"]),
    ("elf-note-header-turned-into-a-load", poke(elf(), elf_phdr(0), "<I", 5), ["no PT_NOTE segment"]),
    ("elf-note-name-size-huge", poke(elf(), elf_segment_offset(0), "<I", 1 << 20),
     ["ELF note at byte 0", "runs past the segment"]),
    ("elf-without-vmcoreinfo", bytes(elf()).replace(b"VMCOREINFO\x00", b"VMCOREINFX\x00"),
     ["hold no VMCOREINFO note"]),
    ("elf-loads-sharing-file-bytes", poke(elf(), elf_phdr(2) + 8, "<Q", elf_segment_offset(1) + 4096), ["overlaps other headers or segments", "corrupt"]),
    ("elf-load-over-its-program-headers", poke(elf(), elf_phdr(1) + 8, "<Q", 64),
     ["segment data at bytes 64-", "overlaps"]),
    # a header names one Linux core: ELF version 1, OS ABI none, the machine its kernel release was built for
    ("elf-version-zero", poke(elf(), 20, "<I", 0), ["ELF header version 0", "corrupt"]),
    ("elf-ident-version-two", poke(elf(), 6, "<B", 2), ["(identification 2", "corrupt"]),
    ("elf-osabi-freebsd", poke(elf(), 7, "<B", 9), ["OS ABI 9", "corrupt"]),
    ("elf-x86-machine-with-an-arm64-release", poke(elf(), 18, "<H", 62),
     ["names machine 'x86_64' but kernel release '6.1.0-27-arm64', an aarch64 kernel"]),
    ("kdump-header-version-200", poke(kdump(), 8, "<i", 200), ["header_version=200", "corrupt"]),
    ("kdump-dump-level-99", poke(kdump(), 4096 + 8, "<i", 99), ["dump_level=99 is outside", "corrupt"]),
    ("kdump-dump-level-negative", poke(kdump(), 4096 + 8, "<i", -1), ["dump_level=-1 is outside"]),
    ("kdump-utsname-machine-of-another-arch", bytes(kdump()).replace(b"aarch64\x00", b"x86_64\x00\x00", 1),
     ["the header's utsname names machine 'x86_64' but kernel release '6.1.0-27-arm64'"]),
    ("elf-header-only", bytes(elf()[:64]), ["truncated"]),
    ("elf-cut-in-phdrs", bytes(elf()[:elf_phoff() + 20]), ["truncated"]),
    ("elf-phnum-huge", poke(elf(), 0x38, "<H", 0xFFFF), ["program header"]),
    ("elf-phoff-beyond", poke(elf(), 0x20, "<Q", 1 << 62), ["program header"]),
    ("elf-phentsize-zero", poke(elf(), 0x36, "<H", 0), ["program header"]),
    ("elf-32-bit-class", poke(elf(), 4, "B", 1), ["ELF"]),
    ("elf-bad-byte-order", poke(elf(), 5, "B", 3), ["ELF"]),
    ("elf-not-core", poke(elf(), 0x10, "<H", 2), ["not a core dump"]),
    ("elf-note-size-huge", poke(elf(), elf_phoff() + 32, "<Q", 1 << 60), ["truncated"]),
    ("elf-load-filesz-above-memsz", poke(elf(), elf_phoff() + 56 + 40, "<Q", 1), ["more file bytes", "than memory (1)"]),
    ("elf-load-beyond-file", poke(elf(), elf_phoff() + 56 + 8, "<Q", 1 << 50), ["truncated"]),
    ("gzip-garbage", b"\x1f\x8b\x08\x00" + os.urandom(2000), ["gzip"]),
    ("gzip-of-random", gzip.compress(os.urandom(3000)), ["no dump signature"]),
    ("bzip2-of-a-cut-stream", bz2.compress(bytes(build.flatten(bytes(kdump())))[:200]), ["truncated"]),
    ("bzip2-cut", bz2.compress(bytes(build.flatten(bytes(kdump()))))[:100], ["bzip2"]),
    # a whole-file compressed dump is read to the end of its stream: a header alone is not a dump
    ("gzip-whole-dump-cut-near-the-end", gzip.compress(bytes(kdump()))[:-30], ["gzip stream stops", "truncated"]),
    ("xz-whole-dump-cut-near-the-end", lzma.compress(bytes(kdump()))[:-40], ["xz stream stops", "truncated"]),
    # a container that is whole around a dump that is not: the dump inside is checked like a file of its own
    ("gzip-of-a-kdump-cut-in-its-descriptors", gzip.compress(bytes(kdump()[:kdump_table_offset(kdump()) + 48])),
     ["inside the gzip data", "ends inside the page descriptor table", "truncated"]),
    ("xz-of-a-kdump-without-its-last-page", lzma.compress(bytes(kdump()[:-100])),
     ["inside the xz data (16699 bytes)", "has its data at bytes 16662-16707", "truncated"]),
    ("bzip2-of-a-kdump-with-an-unwritten-descriptor", bz2.compress(empty_descriptor(kdump(), 2)),
     ["inside the bzip2 data", "page descriptor 3 of 6 is empty"]),
    ("gzip-of-an-elf-core-cut-in-its-memory", gzip.compress(bytes(elf()[:-5000])),
     ["inside the gzip data", "segment data ends at byte", "truncated"]),
    # a flattened stream inside a whole-file compressed one: its end marker and segments are checked too
    ("gzip-of-a-flattened-stream-without-its-end-marker", gzip.compress(bytes(build.flatten(bytes(kdump())))[:-16]),
     ["inside the gzip data", "no end marker"]),
    ("xz-of-a-flattened-stream-cut-in-a-segment", lzma.compress(bytes(build.flatten(bytes(kdump())))[:9000]),
     ["inside the xz data (9000 bytes)", "no end marker"]),
    ("bzip2-of-a-flattened-stream-with-a-segment-past-its-end",
     bz2.compress(bytes(poke(bytearray(build.flatten(bytes(kdump()))), 4096 + 16 + 464 + 8, ">q", 1 << 40))),
     ["inside the bzip2 data", "runs past the end"]),
    ("gzip-of-a-flattened-stream-of-a-header-only", gzip.compress(bytes(build.flatten(bytes(kdump()[:464])))),
     ["inside the gzip data", "rebuild 464 bytes", "truncated"]),
    # bytes after the end of the compressed stream: junk, or a second stream that `xz -d` would append
    ("xz-with-trailing-garbage", lzma.compress(bytes(kdump())) + b"garbage", ["7 bytes follow the end of the xz stream"]),
    ("gzip-with-trailing-garbage", gzip.compress(bytes(kdump())) + b"\0" * 100, ["100 bytes follow the end of the gzip"]),
    ("bzip2-of-two-streams", bz2.compress(bytes(kdump())) + bz2.compress(b"more"), ["follow the end of the bzip2 stream"]),
    # deflate expands at most 1032:1, so a cut gzip of a dump of zeros is read to where it stops
    ("gzip-of-a-zero-heavy-kdump-cut-near-the-end", gzip.compress(bytes(kdump()) + bytes(16 << 20))[:-30],
     ["gzip stream stops", "truncated"]),
    ("flattened-kdump-cut-in-its-descriptors", build.flatten(bytes(kdump()[:kdump_table_offset(kdump()) + 48])),
     ["in the dump the segments rebuild", "ends inside the page descriptor table"]),
    ("flattened-kdump-without-its-last-page", build.flatten(bytes(kdump()[:-100])),
     ["in the dump the segments rebuild (16699 bytes)", "has its data at bytes 16662-16707", "truncated"]),
    ("flattened-kdump-with-an-unwritten-descriptor", build.flatten(empty_descriptor(kdump(), 2), chunk=24),
     ["in the dump the segments rebuild", "page descriptor 3 of 6 is empty"]),
    ("flattened-kdump-whose-later-segment-blanks-a-descriptor",
     rewrite_segment(build.flatten(bytes(kdump())), kdump_table_offset(kdump()) + 48, bytes(24)),
     ["page descriptor 3 of 6 is empty"]),
    ("flattened-elf-core-cut-in-its-memory", build.flatten(bytes(elf()[:-5000])),
     ["in the dump the segments rebuild", "segment data ends at byte", "truncated"]),
]


def test_past_the_counting_limit_the_first_descriptor_must_be_written(tmp_path, monkeypatch):
    monkeypatch.setattr(kdump_compressed, "BITMAP_CHECK_LIMIT", 1)
    image = bytes(kdump())
    whole = vmcore.inspect_dump_file(write_file(tmp_path / "whole", image))
    assert whole["checked"][-1] == "first_page_descriptor" and whole["problems"] == []
    cut = vmcore.inspect_dump_file(write_file(tmp_path / "cut", image[:kdump_table_offset(image)]))
    assert cut["problems"] == ["file ends where the page descriptor table starts (%d bytes): no page was written"
                               % kdump_table_offset(image)]


def test_a_flattened_stream_too_long_to_rebuild_is_not_called_complete(tmp_path, monkeypatch):
    monkeypatch.setattr(flattened, "FLAT_VIEW_LIMIT", 4)
    result = vmcore.inspect_dump_file(write_file(tmp_path / "vmcore.flat", build.flatten(bytes(kdump()))))
    assert result["problems"] == ["the stream has more than 4 segments, too many to rebuild here, so the dump they "
                                  "rebuild was not checked; rebuild it with makedumpfile -R and check the result"]


def test_a_compressed_file_too_large_to_read_to_its_end_is_not_called_complete(tmp_path, monkeypatch):
    monkeypatch.setattr(compressed_file, "OUTER_CHECK_LIMIT", 1 << 30)
    path = write_file(tmp_path / "dump.202411251810.gz", gzip.compress(bytes(kdump()))[:2000])
    os.truncate(path, (1 << 30) + 4096)  # sparse: a cut stream followed by holes
    result = vmcore.inspect_dump_file(path)
    assert result["problems"] == ["the file is over 1 GiB, so its gzip stream was not read to its end and the dump "
                                  "inside cannot be called complete; decompress the file to have it checked"]
    assert "stream_end" not in result["checked"]


@pytest.mark.parametrize("bad_page, found", [(3, True), (1, False)])
def test_past_the_page_data_limit_pages_spread_evenly_are_read(tmp_path, monkeypatch, bad_page, found):
    monkeypatch.setattr(kdump_compressed, "PAGE_DATA_CHECK_LIMIT", 2)  # 6 pages: pages 1, 4 and 6 (every 3rd and the last)
    result = vmcore.inspect_dump_file(write_file(tmp_path / "dump", flip_page_byte(kdump(), bad_page)))
    assert result["checked"][-1] == "page_data_sample"
    assert [problem.startswith("the zlib data of page 4 of 6 does not decompress") for problem in
            result["problems"]] == ([True] if found else [])


def write_file(path, data):
    with open(str(path), "wb") as handle:
        handle.write(data)
    return str(path)


def test_thousands_of_files_in_a_crash_directory_are_listed_in_linear_time(tmp_path):
    crash = tmp_path / "var" / "crash" / "one"
    crash.mkdir(parents=True)
    for index in range(3000):
        (crash / ("dump.%d" % index)).write_bytes(b"x")
        (crash / ("dump.%d.incomplete" % index)).write_bytes(b"")
    result = report(tmp_path)
    assert len(result["dumps"]) == 3000
    marker = [problem for problem in result["dumps"][0]["problems"] if "incomplete marker" in problem][0]
    assert marker.endswith("and 2995 more") and len(marker) < 200


def crash_tree(root, bad, bad_name=None):
    good_dir = os.path.join(root, "var", "crash", GOOD_STAMP)
    bad_dir = os.path.join(root, "var", "crash", BAD_STAMP)
    os.makedirs(good_dir)
    os.makedirs(bad_dir)
    with open(os.path.join(good_dir, "dump." + GOOD_STAMP), "wb") as handle:
        handle.write(build.build_kdump_compressed())
    with open(os.path.join(good_dir, "dmesg." + GOOD_STAMP), "w") as handle:
        handle.write(build.DMESG_WITH_SYSRQ)
    path = os.path.join(bad_dir, bad_name or "dump." + BAD_STAMP)
    if bad is not None:
        with open(path, "wb") as handle:
            handle.write(bad)
        os.utime(path, (3000.0, 3000.0))
    os.utime(os.path.join(good_dir, "dump." + GOOD_STAMP), (2000.0, 2000.0))
    return path


def report(root, **kwargs):
    result = vmcore.vmcore_report(str(root), "/var/crash", **kwargs)
    json.dumps(result)  # what the module returns must serialize
    return result


def assert_good_one_listed(result):
    good = [dump for dump in result["dumps"] if dump["name"] == "dump." + GOOD_STAMP]
    assert len(good) == 1 and good[0]["complete"] is True, result["dumps"]


@pytest.mark.parametrize("name, data, words", DAMAGED, ids=[case[0] for case in DAMAGED])
def test_damaged_dump_gets_its_own_problems(tmp_path, name, data, words):
    crash_tree(str(tmp_path), data)
    result = report(tmp_path)
    assert_good_one_listed(result)
    bad = [dump for dump in result["dumps"] if dump["name"] == "dump." + BAD_STAMP]
    assert len(bad) == 1 and bad[0]["complete"] is False
    text = " ".join(bad[0]["problems"])
    assert all(word in text for word in words), (name, bad[0]["problems"])
    assert result["latest"]["name"] == "dump." + BAD_STAMP  # the newest, even when damaged


@pytest.mark.parametrize("error", [struct.error("unpack requires a buffer"), IndexError("index out of range"),
                                   KeyError("x"), OverflowError("too big"), MemoryError(), OSError(5, "EIO")])
def test_a_reader_that_raises_damages_only_that_file(tmp_path, monkeypatch, error):
    crash_tree(str(tmp_path), build.build_elf_core())
    real = vmcore.inspect_elf

    def broken(*args, **kwargs):
        raise error
    monkeypatch.setattr(crash_dir, "inspect_elf", broken)
    result = report(tmp_path)
    monkeypatch.setattr(crash_dir, "inspect_elf", real)
    assert_good_one_listed(result)
    bad = [dump for dump in result["dumps"] if dump["name"] == "dump." + BAD_STAMP][0]
    assert bad["complete"] is False and "cannot be read as a dump (%s" % type(error).__name__ in bad["problems"][0]


@pytest.mark.parametrize("make, what", [
    (os.mkfifo, "not a regular file"),
    (lambda p: os.symlink("/dev/zero", p), "a symbolic link"),
    (lambda p: os.symlink("/etc/passwd", p), "a symbolic link"),
    (lambda p: os.symlink("../../../../../../etc/passwd", p), "a symbolic link"),
], ids=["fifo", "link-to-dev-zero", "link-out-of-tree", "relative-link-out-of-tree"])
def test_things_named_like_dumps_that_are_not_files_are_listed_unread(tmp_path, make, what):
    path = crash_tree(str(tmp_path), None, bad_name="vmcore")
    make(path)
    result = report(tmp_path)
    assert_good_one_listed(result)
    bad = [dump for dump in result["dumps"] if dump["name"] == "vmcore"]
    assert len(bad) == 1 and bad[0]["complete"] is False and bad[0]["size"] == 0
    assert bad[0]["problems"] == ["vmcore is %s, which kdump tools never write; it was not read" % what]


def test_a_directory_named_like_a_dump_is_a_crash_directory(tmp_path):
    os.makedirs(os.path.join(str(tmp_path), "var", "crash", "vmcore"))
    crash_tree(str(tmp_path), build.build_kdump_compressed())
    assert len(report(tmp_path)["dumps"]) == 2


@pytest.mark.parametrize("name", ["vmcore-dmesg.txt", "dmesg.txt"])
def test_a_saved_dmesg_that_links_out_of_the_tree_is_never_read(tmp_path, name):
    outside = tmp_path / "outside.txt"
    outside.write_text("[ 1.0] sysrq: Trigger a crash CONTROLLER-SECRET\n")
    crash = tmp_path / "tree" / "var" / "crash" / "127.0.0.1-2024"
    crash.mkdir(parents=True)
    (crash / "vmcore").write_bytes(build.build_kdump_compressed())
    os.symlink(str(outside), str(crash / name))
    dump = report(tmp_path / "tree")["dumps"][0]
    assert dump["dmesg_path"] is None and dump["dmesg_crash_line"] is None


def test_unreadable_saved_dmesg_is_a_problem_of_its_dump(tmp_path):
    crash_tree(str(tmp_path), build.build_kdump_compressed())
    dmesg = os.path.join(str(tmp_path), "var", "crash", BAD_STAMP, "dmesg." + BAD_STAMP)
    os.mkfifo(dmesg)
    result = report(tmp_path)
    assert_good_one_listed(result)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "nan", "inf", "-1", -1, "1e400",
                                   10 ** 400, -(10 ** 400), 10 ** 5000, "9" * 5000],
                         ids=lambda v: "int-of-%d-bits" % v.bit_length() if isinstance(v, int) else str(v)[:20])
def test_newer_than_that_is_not_a_time_is_refused(tmp_path, value):
    crash_tree(str(tmp_path), build.build_kdump_compressed())
    with pytest.raises(vmcore.VmcoreError, match="newer_than: .* is not a time") as refused:
        report(tmp_path, newer_than=value)
    assert len(str(refused.value)) < 300  # a value too long to print is cut or named by its size


@pytest.mark.parametrize("value", [1700000000000, "1700000000000", "1_000"])
def test_newer_than_in_milliseconds_or_with_underscores_is_refused(tmp_path, value):
    crash_tree(str(tmp_path), build.build_kdump_compressed())
    with pytest.raises(vmcore.VmcoreError, match="newer_than"):
        report(tmp_path, newer_than=value)


def test_a_compression_bomb_is_read_only_as_far_as_the_header(tmp_path):
    compressor = bz2.BZ2Compressor()
    bomb = b"".join(compressor.compress(b"\0" * (16 << 20)) for _chunk in range(16)) + compressor.flush()
    crash_tree(str(tmp_path), bomb)
    tracemalloc.start()
    result = report(tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 32 << 20, "reading a %d-byte bzip2 file took %d MiB" % (len(bomb), peak >> 20)
    assert_good_one_listed(result)


def test_nul_bytes_in_paths_are_refused(tmp_path):
    crash_tree(str(tmp_path), build.build_kdump_compressed())
    with pytest.raises(vmcore.VmcoreError, match="newer_than"):
        report(tmp_path, newer_than="/var/crash/vmcore\x00x")
    with pytest.raises(vmcore.VmcoreError, match="path"):
        vmcore.vmcore_report(str(tmp_path), "/var/crash\x00", None)


@pytest.mark.parametrize("value, words", [(True, "neither epoch seconds"), ("relative/marker", "absolute marker"),
                                          ("/nonexistent/marker", "does not exist"),
                                          ("", "is empty, which would let every old dump count as new"),
                                          ("  ", "omit newer_than to list every dump"),
                                          ("/var", "/var is not a regular file")])
def test_newer_than_that_is_no_marker_is_refused(tmp_path, value, words):
    crash_tree(str(tmp_path), build.build_kdump_compressed())
    with pytest.raises(vmcore.VmcoreError, match=words):
        report(tmp_path, newer_than=value)


def test_module_reports_every_dump_when_one_is_damaged(tmp_path, capsys):
    from ansible.module_utils.testing import patch_module_args
    crash_tree(str(tmp_path), os.urandom(4096))
    with patch_module_args({"root": str(tmp_path)}):
        with pytest.raises(SystemExit) as exited:
            vmcore_info.main()
    result = json.loads(capsys.readouterr().out)
    assert exited.value.code == 0 and len(result["dumps"]) == 2


def test_nul_padding_before_the_crash_line_of_a_saved_dmesg_ends_a_line(tmp_path):
    path = write_file(tmp_path / "dmesg.txt", b"\x00" * 100 + b"[   12.3] sysrq: Trigger a crash\n")
    assert vmcore.dmesg_crash_line(path) == "[   12.3] sysrq: Trigger a crash"


def test_a_saved_dmesg_that_only_quotes_the_crash_words_does_not_count(tmp_path):
    crash_tree(str(tmp_path), None)
    dmesg = tmp_path / "var" / "crash" / GOOD_STAMP / ("dmesg." + GOOD_STAMP)
    dmesg.write_text("[ 1.0] Linux version 6.12\necho 'sysrq: Trigger a crash' > /tmp/notes\n")
    good = [dump for dump in report(tmp_path)["dumps"] if dump["name"] == "dump." + GOOD_STAMP][0]
    assert good["dmesg_source"] == "file" and good["dmesg_has_sysrq"] is False


@pytest.mark.parametrize("line, counts", [
    ("myapp[12]: sysrq: Trigger a crash", False),
    ("[ 1.0] audit: sysrq: Trigger a crash", False),
    ("Dec  2 10:00:01 canary1 myapp: sysrq: Trigger a crash", False),
    ("x" * 100000 + " sysrq: Trigger a crash", False),  # a long prefix is refused before any pattern runs
    ("Dec  2 10:00:01 canary1 kernel: [  232.9] sysrq: Trigger a crash", True),
    ("2026-12-02T10:00:01.123+00:00 canary1 kernel: sysrq: Trigger a crash", True),
    ("kern  :info  : [  232.910145] sysrq: Trigger a crash", True),
    ("<6>[  232.9] [T1234] sysrq: Trigger a crash", True),
])
def test_only_the_kernels_own_line_counts_as_the_crash(line, counts):
    assert (vmcore.crash_line_in("[ 1.0] Linux version 6.12\n" + line + "\n") is not None) is counts


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress], ids=["gzip", "bzip2", "xz"])
def test_a_whole_file_compressed_dump_read_to_its_end_is_complete(tmp_path, compress):
    found = vmcore.inspect_dump_file(write_file(tmp_path / "dump.1", compress(bytes(kdump()))))
    assert found["problems"] == [] and {"stream_end", "page_descriptors"} <= set(found["checked"])


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress], ids=["gzip", "bzip2", "xz"])
def test_a_whole_file_compressed_flattened_stream_read_to_its_end_is_not_called_complete(tmp_path, compress):
    # its end marker and segments are checked, but the dump they rebuild cannot be read through the stream
    found = vmcore.inspect_dump_file(write_file(tmp_path / "vmcore.flat", compress(bytes(build.flatten(bytes(kdump()))))))
    assert {"stream_end", "end_marker", "segments"} <= set(found["checked"])
    assert len(found["problems"]) == 1 and "the dump they rebuild was not checked" in found["problems"][0]


def test_a_later_segment_that_writes_a_descriptor_again_wins(tmp_path):
    image = kdump()
    table = kdump_table_offset(image)
    stream = build.flatten(empty_descriptor(image, 2), chunk=24)  # the 3rd descriptor is a hole at first
    found = vmcore.inspect_dump_file(write_file(tmp_path / "vmcore.flat", rewrite_segment(
        stream, table + 48, bytes(image[table + 48:table + 72]))))
    assert found["problems"] == [] and "page_descriptors" in found["checked"]


def test_a_flattened_elf_core_gives_its_kernel_log(tmp_path):
    image = build.build_elf_core(kernel_log=["Linux version 6.12.48", "sysrq: Trigger a crash"])
    found = vmcore.inspect_dump_file(write_file(tmp_path / "vmcore.flat", build.flatten(image)))
    assert found["problems"] == [] and found["header"]["kernel_log"]["found"] is True
    assert "sysrq: Trigger a crash" in found["kernel_log_text"]


def test_a_small_file_that_expands_like_a_bomb_is_not_read_to_its_end_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(compressed_file, "OUTER_BOMB_FLOOR", 1 << 20)
    compressor = bz2.BZ2Compressor()
    data = compressor.compress(bytes(kdump())) + compressor.compress(bytes(64 << 20)) + compressor.flush()
    found = vmcore.inspect_dump_file(write_file(tmp_path / "vmcore.bz2", data))
    assert len(data) < 10000 and found["format"] == "kdump_compressed" and "stream_end" in found["checked"]
    assert len(found["problems"]) == 1 and "expands to more than" in found["problems"][0], found["problems"]


def test_a_compressed_dump_of_mostly_zeros_below_the_bomb_floor_is_read_to_its_end(tmp_path):
    found = vmcore.inspect_dump_file(write_file(tmp_path / "vmcore.xz", lzma.compress(bytes(kdump()) + bytes(8 << 20))))
    assert found["problems"] == [] and "stream_end" in found["checked"]
