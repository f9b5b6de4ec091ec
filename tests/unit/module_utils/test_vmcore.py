"""_vmcore: dump formats, completeness checks, dmesg, RHEL/Debian layouts, newer_than - on synthetic dumps."""
import gzip
import os
import shutil
import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import vmcore_builders  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.fleetops.kdump.plugins.module_utils import _vmcore as vmcore  # noqa: E402
from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore import crash_dir, kdump_compressed  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "vmcores")
build = vmcore_builders()

DEBIAN_STAMP = "202411251705"
RHEL_DIR = "127.0.0.1-2024-11-25-17:05:33"


def write(path, data, mtime=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def inspect(tmp_path, data, name="vmcore"):
    return vmcore.inspect_dump_file(write(str(tmp_path / name), data))


def debian_tree(root, dump=None, dmesg=build.DMESG_WITH_SYSRQ, stamp=DEBIAN_STAMP, mtime=None):
    crash = os.path.join(str(root), "var", "crash")
    write(os.path.join(crash, "kexec_cmd"), "/sbin/kexec -p --command-line=...\n")
    write(os.path.join(crash, "kdump_lock"), "")
    write(os.path.join(crash, "_usr_bin_python3.11.0.crash"), "ProblemType: Crash\n")
    path = write(os.path.join(crash, stamp, "dump." + stamp),
                 build.build_kdump_compressed() if dump is None else dump, mtime)
    if dmesg is not None:
        write(os.path.join(crash, stamp, "dmesg." + stamp), dmesg)
    return path


def rhel_tree(root, name="vmcore", dump=None, dmesg_name="vmcore-dmesg.txt", dmesg=build.DMESG_WITH_SYSRQ):
    crash = os.path.join(str(root), "var", "crash", RHEL_DIR)
    write(os.path.join(crash, "kexec-dmesg.log"), "kdump: saving vmcore\n")
    path = write(os.path.join(crash, name), build.build_kdump_compressed() if dump is None else dump)
    if dmesg_name:
        write(os.path.join(crash, dmesg_name), dmesg)
    return path


# --- kdump-compressed -------------------------------------------------------------------------------------


@pytest.mark.parametrize("order, word_size", [("<", 64), (">", 64), ("<", 32), (">", 32)])
def test_kdump_header_fields_decode_in_every_byte_order_and_word_size(order, word_size):
    image = build.build_kdump_compressed(byte_order=order, word_size=word_size, max_mapnr=100000,
                                         release="6.8.0-49-generic", machine="x86_64", nodename="db7")
    header = vmcore.parse_kdump_header(image[:vmcore.KDUMP_HEADER_READ])
    assert header["byte_order"] == ("little" if order == "<" else "big")
    assert header["word_size"] == word_size
    assert (header["release"], header["machine"], header["nodename"]) == ("6.8.0-49-generic", "x86_64", "db7")
    assert (header["block_size"], header["sub_hdr_size"], header["max_mapnr"]) == (4096, 1, 100000)
    assert header["bitmap_blocks"] == 2 * -(-100000 // (4096 * 8))
    assert header["compression"] == ["zlib"]
    assert header["timestamp"] == pytest.approx(1732554342.25)


def test_header_of_a_real_debian_12_dump():
    # first 464 bytes of a dump kdump-tools saved in the amd64 test VM (makedumpfile 1.7.2, reassembled with -R)
    with open(os.path.join(FIXTURES, "real-debian12-amd64-kdump-header.bin"), "rb") as handle:
        header = vmcore.parse_kdump_header(handle.read())
    assert (header["word_size"], header["byte_order"], header["header_version"]) == (64, "little", 6)
    assert (header["block_size"], header["sub_hdr_size"], header["bitmap_blocks"]) == (4096, 2, 32)
    assert (header["max_mapnr"], header["nr_cpus"], header["compression"]) == (524112, 2, ["zlib"])
    assert (header["release"], header["machine"], header["nodename"]) == ("6.1.0-56-amd64", "x86_64", "testvm-amd64")
    assert header["incomplete_flag"] is False and vmcore.kdump_header_problems(header) == []
    assert vmcore.kdump_data_offset(header) == 143360


@settings(max_examples=60, deadline=None)
@given(order=st.sampled_from("<>"), word_size=st.sampled_from([32, 64]),
       block_shift=st.integers(min_value=9, max_value=16), max_mapnr=st.integers(min_value=1, max_value=2 ** 32 - 1),
       version=st.integers(min_value=1, max_value=999), release=st.text("0123456789.-abcdefgh", max_size=64))
def test_kdump_header_roundtrip(order, word_size, block_shift, max_mapnr, version, release):
    block = 1 << block_shift
    image = build.build_kdump_compressed(byte_order=order, word_size=word_size, block_size=block, max_mapnr=1,
                                         dumpable=(0,), header_version=version, release=release,
                                         max_mapnr_header=max_mapnr, bitmap_blocks=2)
    header = vmcore.parse_kdump_header(image[:vmcore.KDUMP_HEADER_READ])
    assert (header["header_version"], header["block_size"], header["max_mapnr"]) == (version, block, max_mapnr)
    assert header["release"] == release and header["word_size"] == word_size


def test_complete_kdump_dump_passes_every_check(tmp_path):
    found = inspect(tmp_path, build.build_kdump_compressed(max_mapnr=70000, dumpable=range(0, 70000, 97)))
    assert found["format"] == "kdump_compressed"
    assert found["problems"] == []
    assert found["checked"] == ["signature", "header", "size", "page_descriptors", "page_data"]
    assert found["header"]["max_mapnr_64"] == 70000
    assert found["header"]["min_size"] == (1 + 1 + 2 * 3) * 4096


def test_kdump_shorter_than_header_and_bitmaps_is_truncated(tmp_path):
    image = build.build_kdump_compressed()
    header_and_bitmaps = (1 + 1 + 2) * 4096
    found = inspect(tmp_path, image[:header_and_bitmaps - 1])
    assert found["problems"] == ["file is %d bytes, smaller than its header + bitmaps (%d bytes): truncated"
                                 % (header_and_bitmaps - 1, header_and_bitmaps)]


def test_kdump_cut_inside_the_page_descriptor_table(tmp_path):
    image = build.build_kdump_compressed(dumpable=(0, 1, 2, 3))
    table, _data = build.kdump_layout(image)
    found = inspect(tmp_path, image[:table + 24 * 2])
    assert "inside the page descriptor table" in found["problems"][0]


def test_kdump_cut_inside_the_last_page_is_truncated(tmp_path):
    image = build.build_kdump_compressed()
    found = inspect(tmp_path, image[:-10])
    assert found["problems"] == ["the last page's data ends at byte %d but the file has %d bytes: truncated"
                                 % (len(image), len(image) - 10)]


def test_kdump_with_unwritten_tail_is_cut_off(tmp_path):
    # makedumpfile killed mid-write leaves zeroed (sparse) descriptors at the end of the table
    image = bytearray(build.build_kdump_compressed(dumpable=(0, 1, 2)))
    table, _data = build.kdump_layout(bytes(image))
    image[table + 48:table + 72] = b"\x00" * 24
    found = inspect(tmp_path, bytes(image))
    assert found["problems"] == ["the last page descriptor is empty: the dump was cut off before all pages were written"]


def test_kdump_with_no_dumpable_page(tmp_path):
    found = inspect(tmp_path, build.build_kdump_compressed(dumpable=()))
    assert found["problems"] == ["the 2nd bitmap selects no pages: the dump holds no memory"]


def test_kdump_status_incomplete_flag(tmp_path):
    found = inspect(tmp_path, build.build_kdump_compressed(status=build.STATUS_ZLIB | build.STATUS_INCOMPLETE))
    assert found["header"]["incomplete_flag"] is True
    assert any("marks the dump incomplete" in problem for problem in found["problems"])


def test_kdump_header_with_bitmaps_too_small_for_max_mapnr(tmp_path):
    image = build.build_kdump_compressed(max_mapnr=64, max_mapnr_header=10 ** 6, header_version=5)
    found = inspect(tmp_path, image)
    assert found["problems"] == ["bitmaps of 2 blocks cannot cover max_mapnr=1000000 pages"]


def test_kdump_header_with_nonsense_block_size(tmp_path):
    image = bytearray(build.build_kdump_compressed())
    struct.pack_into("<i", image, 428, 1000)
    struct.pack_into("<i", image, 416, 1000)  # where the 32-bit layout keeps block_size
    found = inspect(tmp_path, bytes(image))
    assert found["checked"] == ["signature"]
    assert found["problems"] == ["kdump-compressed header is not sane: block_size=1000 sub_hdr_size=1"]


def test_kdump_signature_with_short_header(tmp_path):
    found = inspect(tmp_path, build.KDUMP_SIGNATURE + b"\x06\x00\x00\x00" + b"Linux")
    assert found["format"] == "kdump_compressed"
    assert found["problems"] == ["kdump-compressed header is cut short (17 bytes)"]


def test_split_dump_checks_the_descriptors_of_its_pfn_range(tmp_path):
    image = build.build_kdump_compressed(split=True)
    found = inspect(tmp_path, image)
    assert found["header"]["split"] is True and found["header"]["split_end_pfn"] > 0
    assert found["checked"] == ["signature", "header", "size", "page_descriptors", "page_data"] and found["problems"] == []
    header = vmcore.parse_kdump_header(image[:vmcore.KDUMP_HEADER_READ])
    cut = inspect(tmp_path, image[:vmcore.kdump_data_offset(header)], "vmcore.cut")
    assert "file ends inside the page descriptor table" in cut["problems"][0]


def test_count_bits_counts_set_bits_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(kdump_compressed, "READ_CHUNK", 3)
    path = write(str(tmp_path / "bits"), b"\xff\x01\x80\x00\x0f\xf0\x55")
    with open(path, "rb") as handle:
        assert vmcore.count_bits(handle, 1, 5) == 1 + 1 + 0 + 4 + 4
        assert vmcore.count_bits(handle, 0, 100) == 8 + 1 + 1 + 4 + 4 + 4


# --- flattened, ELF, compressed, garbage ------------------------------------------------------------------


def test_flattened_dump_reads_the_inner_header(tmp_path):
    found = inspect(tmp_path, build.flatten(build.build_kdump_compressed(machine="x86_64", release="5.14.0")))
    assert found["format"] == "flattened" and found["problems"] == []
    assert found["header"]["inner_format"] == "kdump_compressed"
    assert (found["header"]["release"], found["header"]["machine"]) == ("5.14.0", "x86_64")
    assert found["checked"] == ["signature", "header", "end_marker", "segments", "size", "page_descriptors", "page_data"]


def test_flattened_dump_without_end_marker_was_cut_off(tmp_path):
    stream = build.flatten(build.build_kdump_compressed())
    found = inspect(tmp_path, stream[:-16])
    assert found["problems"] == ["no end marker: the flattened stream was cut off while being written"]


def test_flattened_header_with_wrong_type(tmp_path):
    stream = bytearray(build.flatten(build.build_kdump_compressed()))
    struct.pack_into(">q", stream, 16, 7)
    assert inspect(tmp_path, bytes(stream))["problems"] == ["flattened header is not sane (type 7)"]


@pytest.mark.skipif(shutil.which("makedumpfile") is None, reason="makedumpfile not installed")
def test_makedumpfile_reassembles_our_flattened_stream_into_our_kdump_image(tmp_path):
    image = build.build_kdump_compressed(max_mapnr=5000, dumpable=range(0, 5000, 7))
    with open(write(str(tmp_path / "flat"), build.flatten(image)), "rb") as stream:
        subprocess.run(["makedumpfile", "-R", str(tmp_path / "out")], stdin=stream, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(str(tmp_path / "out"), "rb") as handle:
        assert handle.read() == image


@pytest.mark.skipif(shutil.which("file") is None, reason="file(1) not installed")
def test_libmagic_recognises_our_kdump_header(tmp_path):
    path = write(str(tmp_path / "vmcore"), build.build_kdump_compressed(nodename="n1", release="6.1.0-27-arm64"))
    described = subprocess.run(["file", "-b", path], stdout=subprocess.PIPE, check=True).stdout.decode()
    assert described.startswith("Kdump compressed dump v6, system Linux, node n1, release 6.1.0-27-arm64")


def test_elf_core_is_complete_and_names_release_and_machine(tmp_path):
    found = inspect(tmp_path, build.build_elf_core(machine="x86_64", release="5.14.0-503.el9.x86_64"))
    assert found["format"] == "elf" and found["problems"] == []
    assert (found["header"]["machine"], found["header"]["release"]) == ("x86_64", "5.14.0-503.el9.x86_64")
    assert found["header"]["load_segments"] == 2


def test_elf_core_with_pn_xnum_reads_the_count_from_section_zero(tmp_path):
    found = inspect(tmp_path, build.build_elf_core(pn_xnum=True))
    assert found["problems"] == [] and found["header"]["phnum"] == 3


def test_truncated_elf_core(tmp_path):
    image = build.build_elf_core()
    found = inspect(tmp_path, image[:-4096])
    assert found["problems"] == ["segment data ends at byte %d but the file has %d bytes: truncated"
                                 % (len(image), len(image) - 4096)]


def test_elf_core_cut_inside_the_program_headers(tmp_path):
    found = inspect(tmp_path, build.build_elf_core()[:100])
    assert found["problems"] == ["file is 100 bytes but its program headers end at %d: truncated" % (64 + 3 * 56)]


def test_elf_that_is_not_a_core(tmp_path):
    found = inspect(tmp_path, build.build_elf_core(e_type=2))
    assert found["problems"] == ["ELF file is not a core dump (e_type=2, ET_CORE=4)"]


SYSRQ_LOG = ["Booting Linux on physical CPU 0x0000000000 [0x413fd0c1]", "sysrq: Trigger a crash",
             "Kernel panic - not syncing: sysrq triggered crash"]


@pytest.mark.parametrize("prb_in_image", [False, True], ids=["linear-map", "kimage_voffset"])
def test_elf_core_kernel_log_is_read_from_the_printk_ring(tmp_path, prb_in_image):
    found = inspect(tmp_path, build.build_elf_core(kernel_log=SYSRQ_LOG, prb_in_image=prb_in_image))
    assert found["problems"] == []
    assert found["header"]["kernel_log"] == {"found": True, "size": 2048, "problem": None}
    assert "sysrq: Trigger a crash" in found["kernel_log_text"]


def test_plain_copy_dump_without_dmesg_file_shows_the_crash_from_its_own_log(tmp_path):
    crash = tmp_path / "var" / "crash" / DEBIAN_STAMP
    # a record followed by stale bytes of an older one, as seen in a Debian 13 arm64 dump ("...a crashsh")
    log = SYSRQ_LOG[:1] + ["sysrq: Trigger a crashsh"]
    write(str(crash / ("vmcore." + DEBIAN_STAMP)), build.build_elf_core(kernel_log=log))
    (dump,) = vmcore.find_dumps(str(tmp_path), "/var/crash")
    assert (dump["complete"], dump["format"], dump["dmesg_path"]) == (True, "elf", None)
    assert (dump["dmesg_source"], dump["dmesg_has_sysrq"], dump["dmesg_crash_line"]) == (
        "dump", True, "sysrq: Trigger a crash")


def test_elf_core_log_without_the_crash_line_is_not_a_sysrq_crash(tmp_path):
    crash = tmp_path / "var" / "crash" / DEBIAN_STAMP
    write(str(crash / ("vmcore." + DEBIAN_STAMP)), build.build_elf_core(kernel_log=SYSRQ_LOG[:1]))
    (dump,) = vmcore.find_dumps(str(tmp_path), "/var/crash")
    assert (dump["dmesg_source"], dump["dmesg_has_sysrq"]) == ("dump", False)


def test_elf_core_without_printk_vmcoreinfo_says_what_is_missing(tmp_path):
    found = inspect(tmp_path, build.build_elf_core())
    assert found["header"]["kernel_log"]["found"] is False
    assert found["header"]["kernel_log"]["problem"].startswith("VMCOREINFO lacks SYMBOL(prb)")


def test_elf_core_whose_prb_points_outside_the_dump(tmp_path):
    image = bytearray(build.build_elf_core(kernel_log=SYSRQ_LOG))
    load_offset = len(image) - 5 * 4096
    struct.pack_into("<Q", image, load_offset + build.PRB_POINTER_AT, 0xFFFF0000DEAD0000)
    found = inspect(tmp_path, bytes(image))
    assert found["problems"] == []
    assert found["header"]["kernel_log"]["problem"] == "the printk text ring header is not in the dump"


def test_parse_vmcoreinfo_reads_hex_symbols_and_decimal_numbers():
    info = vmcore.parse_vmcoreinfo(b"OSRELEASE=6.12\nSYMBOL(prb)=ffff800082a1b2c0\nOFFSET(a.b)=72\n"
                                   b"NUMBER(kimage_voffset)=0xffff7fff7fe00000\nNUMBER(VA_BITS)=52\nBAD(x)=zz\n")
    assert info == {"SYMBOL(prb)": 0xFFFF800082A1B2C0, "OFFSET(a.b)": 72,
                    "NUMBER(kimage_voffset)": 0xFFFF7FFF7FE00000, "NUMBER(VA_BITS)": 52}


def test_big_endian_elf_core(tmp_path):
    found = inspect(tmp_path, build.build_elf_core(machine="s390x", release="5.14.0-503.el9.s390x", byte_order=">"))
    assert found["problems"] == [] and found["header"]["machine"] == "s390x"


def test_gzip_compressed_flattened_dump_is_looked_into(tmp_path):
    data = gzip.compress(build.flatten(build.build_kdump_compressed(release="6.1.0-27-arm64")))
    found = inspect(tmp_path, data, name="dump.202411251705.gz")
    assert (found["compression"], found["format"]) == ("gzip", "flattened")
    assert found["header"]["release"] == "6.1.0-27-arm64"
    assert [problem.split(": ", 1)[1] for problem in found["problems"]] == [
        "the segments cannot be rebuilt through a compressed stream, so the dump they rebuild was not checked; "
        "rebuild it with makedumpfile -R and check the result"]


def test_corrupt_gzip_dump(tmp_path):
    found = inspect(tmp_path, b"\x1f\x8b\x08\x00" + b"\x99" * 200)
    assert found["compression"] == "gzip"
    assert found["problems"][0].startswith("gzip data is corrupt")


def test_garbage_and_empty_files(tmp_path):
    garbage = inspect(tmp_path, b"#!/bin/sh\necho not a dump\n")
    assert garbage["format"] == "unknown"
    assert garbage["problems"] == ["unknown format: starts with 23212f62696e2f73, not a kdump-compressed, "
                                   "flattened or ELF signature"]
    empty = inspect(tmp_path, b"", name="empty")
    assert empty["problems"] == ["file is empty"] and empty["size"] == 0


@pytest.mark.parametrize("name", sorted(build.SAMPLES))
def test_committed_samples_are_what_the_builder_makes(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        assert handle.read() == build.SAMPLES[name](), "regenerate with tests/fixtures/vmcores/make_vmcores.py"


@pytest.mark.parametrize("name", [n for n in sorted(build.SAMPLES) if n.endswith(".dump")])
def test_committed_dump_samples_are_complete(name):
    found = vmcore.inspect_dump_file(os.path.join(FIXTURES, name))
    assert found["problems"] == [] and found["format"] != "unknown"


# --- dmesg ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, line", [
    (build.DMESG_WITH_SYSRQ, "[  232.910145] sysrq: Trigger a crash"),
    (build.DMESG_OLD_SYSRQ, "[  101.000001] SysRq : Trigger a crash"),
    ("[ 9.0] Kernel panic - not syncing: sysrq triggered crash", "[ 9.0] Kernel panic - not syncing: sysrq triggered crash"),
    (build.DMESG_WITHOUT_SYSRQ, None),
    ("", None),
])
def test_dmesg_crash_line(tmp_path, text, line):
    assert vmcore.dmesg_crash_line(write(str(tmp_path / "dmesg"), text)) == line


def test_dmesg_is_read_from_its_tail(tmp_path, monkeypatch):
    monkeypatch.setattr(crash_dir, "DMESG_READ_LIMIT", 64)
    text = "[ 1.0] sysrq: Trigger a crash\n" + "x" * 200 + "\n[ 2.0] end\n"
    assert vmcore.dmesg_crash_line(write(str(tmp_path / "dmesg"), text)) is None


# --- directory layouts ------------------------------------------------------------------------------------


def test_debian_layout(tmp_path):
    debian_tree(tmp_path)
    report = vmcore.vmcore_report(root=str(tmp_path), path="/var/crash")
    assert report["path_exists"] is True
    [dump] = report["dumps"]
    assert dump["path"] == "/var/crash/%s/dump.%s" % (DEBIAN_STAMP, DEBIAN_STAMP)
    assert dump["dir"] == "/var/crash/" + DEBIAN_STAMP
    assert dump["dmesg_path"] == "/var/crash/%s/dmesg.%s" % (DEBIAN_STAMP, DEBIAN_STAMP)
    assert dump["dmesg_has_sysrq"] is True and dump["complete"] is True
    assert (dump["release"], dump["machine"]) == ("6.1.0-27-arm64", "aarch64")
    assert report["latest"] == dump


def test_a_dump_server_is_read_one_host_at_a_time(tmp_path):
    # kdump-tools with SSH and HOSTTAG=hostname: <hostname>-<stamp> directories of several hosts side by side
    for stamp in ("fleet-1-202612041400", "fleet-10-202612041401", "fleet-2-202612041402"):
        debian_tree(tmp_path, stamp=stamp)
    mine = vmcore.vmcore_report(root=str(tmp_path), dir_prefix="fleet-1-")["dumps"]
    assert [dump["dir"] for dump in mine] == ["/var/crash/fleet-1-202612041400"]
    assert len(vmcore.vmcore_report(root=str(tmp_path))["dumps"]) == 3
    for bad in ("", "a/b", "x\x00"):
        with pytest.raises(vmcore.VmcoreError, match="dir_prefix"):
            vmcore.vmcore_report(root=str(tmp_path), dir_prefix=bad)


def test_debian_fallback_copy_of_proc_vmcore(tmp_path):
    crash = tmp_path / "var" / "crash" / DEBIAN_STAMP
    write(str(crash / ("vmcore." + DEBIAN_STAMP)), build.build_elf_core())
    write(str(crash / ("dmesg." + DEBIAN_STAMP)), build.DMESG_WITH_SYSRQ)
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["format"] == "elf" and dump["complete"] and dump["dmesg_has_sysrq"]


def test_debian_dump_still_being_written(tmp_path):
    crash = tmp_path / "var" / "crash" / DEBIAN_STAMP
    write(str(crash / "dump-incomplete"), build.build_kdump_compressed()[:9000])
    write(str(crash / ("dmesg." + DEBIAN_STAMP)), build.DMESG_WITH_SYSRQ)
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["complete"] is False
    assert dump["problems"][0] == "the name says the dump was never finished (tools rename it when done)"
    assert "truncated" in dump["problems"][1]
    assert dump["dmesg_has_sysrq"] is True  # found through the only dmesg.* in the crash directory


def test_rhel_layout(tmp_path):
    rhel_tree(tmp_path)
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["path"] == "/var/crash/%s/vmcore" % RHEL_DIR
    assert dump["dmesg_path"] == "/var/crash/%s/vmcore-dmesg.txt" % RHEL_DIR
    assert dump["complete"] and dump["dmesg_has_sysrq"]


def test_rhel_incomplete_dump_and_dmesg(tmp_path):
    rhel_tree(tmp_path, name="vmcore-incomplete", dmesg_name="vmcore-dmesg-incomplete.txt",
              dmesg=build.DMESG_WITHOUT_SYSRQ)
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["complete"] is False and dump["name"] == "vmcore-incomplete"
    assert dump["dmesg_path"].endswith("vmcore-dmesg-incomplete.txt") and dump["dmesg_has_sysrq"] is False


def test_rhel_ssh_target_flattened(tmp_path):
    rhel_tree(tmp_path, name="vmcore.flat", dump=build.flatten(build.build_kdump_compressed()))
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["format"] == "flattened" and dump["complete"]


def test_incomplete_marker_file_next_to_a_dump(tmp_path):
    path = rhel_tree(tmp_path)
    write(path + ".incomplete", "")
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["complete"] is False
    assert dump["problems"] == ["incomplete marker next to the dump: vmcore.incomplete"]


def test_any_incomplete_marker_in_a_crash_directory_marks_its_dumps(tmp_path):
    path = debian_tree(tmp_path)
    write(os.path.join(os.path.dirname(path), "saving.incomplete"), "")
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["problems"] == ["incomplete marker next to the dump: saving.incomplete"]


def test_unrelated_marker_in_the_top_directory_marks_nothing(tmp_path):
    crash = tmp_path / "var" / "crash"
    write(str(crash / "vmcore"), build.build_kdump_compressed())
    write(str(crash / "other.incomplete"), "")
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["complete"] is True


def test_dump_without_dmesg(tmp_path):
    debian_tree(tmp_path, dmesg=None)
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["dmesg_path"] is None and dump["dmesg_has_sysrq"] is False and dump["complete"] is True


def test_dumps_directly_in_the_crash_directory_only_use_their_own_dmesg(tmp_path):
    crash = tmp_path / "var" / "crash"
    write(str(crash / "vmcore"), build.build_kdump_compressed())
    write(str(crash / "dmesg.old"), build.DMESG_WITH_SYSRQ)
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["dir"] == "/var/crash" and dump["dmesg_path"] is None


def test_empty_and_missing_directories(tmp_path):
    os.makedirs(str(tmp_path / "var" / "crash"))
    empty = vmcore.vmcore_report(root=str(tmp_path))
    assert (empty["path_exists"], empty["dumps"], empty["latest"]) == (True, [], None)
    missing = vmcore.vmcore_report(root=str(tmp_path), path="/srv/crash")
    assert (missing["path_exists"], missing["dumps"], missing["latest"]) == (False, [], None)


def test_path_that_is_a_file(tmp_path):
    write(str(tmp_path / "var" / "crash"), "oops")
    with pytest.raises(vmcore.VmcoreError, match="path: /var/crash is not a directory"):
        vmcore.vmcore_report(root=str(tmp_path))


def test_relative_path_is_refused(tmp_path):
    with pytest.raises(vmcore.VmcoreError, match="must be an absolute path"):
        vmcore.vmcore_report(root=str(tmp_path), path="var/crash")


def test_absolute_symlink_in_a_captured_tree_stays_inside_the_tree(tmp_path):
    os.makedirs(str(tmp_path / "data" / "kdump"))
    os.makedirs(str(tmp_path / "var"))
    os.symlink("/data/kdump", str(tmp_path / "var" / "crash"))
    write(str(tmp_path / "data" / "kdump" / "1" / "vmcore"), build.build_kdump_compressed())
    [dump] = vmcore.vmcore_report(root=str(tmp_path))["dumps"]
    assert dump["path"] == "/data/kdump/1/vmcore"


@pytest.mark.parametrize("name, is_dump", [
    ("vmcore", True), ("vmcore.flat", True), ("vmcore-incomplete", True), ("dump.202411251705", True),
    ("dump-incomplete", True), ("dump.202411251705.xz", True), ("vmcore.202411251705", True), ("vmcore1", True),
    ("vmcore-dmesg.txt", False), ("vmcore-dmesg-incomplete.txt", False), ("dmesg.202411251705", False),
    ("kexec-dmesg.log", False), ("kexec_cmd", False), ("kdump_lock", False), ("vmcoreinfo", False),
    ("dumpe2fs.out", False), ("_usr_bin_python3.11.0.crash", False),
])
def test_dump_names(name, is_dump):
    assert vmcore.is_dump_name(name, {name}) is is_dump


# --- newer_than and ordering --------------------------------------------------------------------------------


def test_newer_than_filters_by_mtime_and_latest_is_newest(tmp_path):
    crash = tmp_path / "var" / "crash"
    write(str(crash / "202401010000" / "dump.202401010000"), build.build_kdump_compressed(), mtime=1000)
    write(str(crash / "202411251705" / "dump.202411251705"), build.build_kdump_compressed(), mtime=3000)
    write(str(crash / "202406010000" / "dump.202406010000"), build.build_kdump_compressed(), mtime=2000)
    every = vmcore.vmcore_report(root=str(tmp_path))
    assert [d["mtime"] for d in every["dumps"]] == [1000, 2000, 3000]
    assert every["latest"]["name"] == "dump.202411251705"
    assert [d["mtime"] for d in vmcore.vmcore_report(root=str(tmp_path), newer_than=1500.5)["dumps"]] == [2000, 3000]
    assert vmcore.vmcore_report(root=str(tmp_path), newer_than="3000")["dumps"] == []
    write(str(tmp_path / "var" / "tmp" / "marker"), "", mtime=2500)
    marked = vmcore.vmcore_report(root=str(tmp_path), newer_than="/var/tmp/marker")
    assert marked["newer_than"] == 2500 and [d["mtime"] for d in marked["dumps"]] == [3000]


@pytest.mark.parametrize("value, message", [
    ("/var/tmp/no-such-marker", "newer_than: marker file /var/tmp/no-such-marker does not exist"),
    ("yesterday", "newer_than: 'yesterday' is neither epoch seconds nor an absolute marker file path"),
    (True, "newer_than: True is neither epoch seconds nor a marker file path"),
])
def test_bad_newer_than(tmp_path, value, message):
    with pytest.raises(vmcore.VmcoreError) as error:
        vmcore.resolve_newer_than(value, str(tmp_path))
    assert str(error.value).startswith(message)


@pytest.mark.parametrize("value, expected", [(None, None), (12, 12.0), (" 1732554300.5 ", 1732554300.5)])
def test_newer_than_numbers(value, expected):
    assert vmcore.resolve_newer_than(value) == expected


# --- Python 3.6 on the host ---------------------------------------------------------------------------------


PY36 = "/root/.pyenv/versions/3.6.15/bin/python"


@pytest.mark.skipif(not os.path.exists(PY36), reason="no Python 3.6 interpreter")
def test_module_utils_run_on_python_3_6(tmp_path):
    debian_tree(tmp_path)
    rhel_tree(tmp_path, name="vmcore.flat", dump=build.flatten(build.build_kdump_compressed()))
    script = ("import json, sys; from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore import "
              "vmcore_report; r = vmcore_report(root=sys.argv[1]); "
              "print(json.dumps([(d['format'], d['complete'], d['dmesg_has_sysrq']) for d in r['dumps']]))")
    collections = [p for p in sys.path if p.endswith(os.path.join("build", "collections"))][0]
    out = subprocess.run([PY36, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, check=True,
                         env={"PYTHONPATH": collections, "PATH": os.environ.get("PATH", "")}).stdout
    assert sorted(tuple(x) for x in __import__("json").loads(out.decode())) == [
        ("flattened", True, True), ("kdump_compressed", True, True)]
