# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""/proc/iomem parsing: System RAM (top-level and nested), low RAM, Crash kernel regions."""

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.fleetops.kdump.plugins.module_utils import _memory as mem

GIB = 1 << 30
MIB = 1 << 20

# Low part of an Ampere Altra (ADLINK AVA) /proc/iomem, from the linux-pci report of 2025-10-22
# ("2499f53 (PCI: Rework optional resource handling) regression with AMDGPU on Arm AVA platform").
AVA_IOMEM = """\
  70000000-7fffffff : PCI Bus 0000:00
    70000000-701fffff : PCI Bus 0000:01
  88300000-883fffff : reserved
  90000000-91ffffff : System RAM
  92000000-927bffff : reserved
  927c0000-f896ffff : System RAM
    d54f0000-d6adffff : Kernel code
    d6ae0000-d6daffff : reserved
  f8970000-f898ffff : reserved
  f8990000-f899ffff : System RAM
  fffe0000-ffffffff : System RAM
    fffe0000-fffeffff : reserved
  80000000000-8007fffffff : System RAM
    800002bc000-800002bcfff : reserved
  80100000000-807ffffffff : System RAM
    807d8c10000-807fbffffff : reserved
"""

# x86_64 layout (this kind of machine): Crash kernel nested in System RAM
X86_IOMEM = """\
00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-bfffffff : System RAM
  01000000-022090c7 : Kernel code
  2b000000-4affffff : Crash kernel
c0001000-eebfffff : PCI Bus 0000:00
100000000-63fffffff : System RAM
"""


def ram_of(text):
    return sum(end - start for start, end in mem.system_ram(mem.parse_iomem(text)))


def test_altra_ava_total_and_low():
    entries = mem.parse_iomem(AVA_IOMEM.replace("\n  ", "\n").lstrip(" "))
    ram = mem.system_ram(entries)
    expected = (0x92000000 - 0x90000000) + (0xf8970000 - 0x927c0000) + 0x10000 + 0x20000 \
        + (0x80080000000 - 0x80000000000) + (0x80800000000 - 0x80100000000)
    assert sum(end - start for start, end in ram) == expected
    low = mem.bytes_below(ram, 4 * GIB)
    assert low == expected - (0x80080000000 - 0x80000000000) - (0x80800000000 - 0x80100000000)
    assert 1 * GIB < low < 2 * GIB  # Altra: little RAM below 4 GiB


def test_x86_nested_crash_kernel():
    entries = mem.parse_iomem(X86_IOMEM)
    assert mem.crash_regions(entries) == [{"start": 0x2b000000, "end": 0x4b000000, "size": 512 * MIB}]
    assert ram_of(X86_IOMEM) == (0x9fc00 - 0x1000) + (0xc0000000 - 0x100000) + (0x640000000 - 0x100000000)


def test_nested_system_ram_is_counted_once():
    text = ("100000000-1ffffffff : System RAM\n"
            "  100000000-13fffffff : System RAM\n"          # nested duplicate: not counted again
            "200000000-2ffffffff : Persistent Memory (legacy)\n"
            "  200000000-23fffffff : System RAM\n")         # nested under non-RAM: counted
    assert ram_of(text) == 4 * GIB + 1 * GIB


def test_system_ram_kmem_is_not_boot_ram():
    assert ram_of("100000000-1ffffffff : System RAM (kmem)\n") == 0


def test_crash_regions_sorted_at_any_depth():
    text = ("880000000-8bfffffff : System RAM\n"
            "  8b0000000-8bfffffff : Crash kernel\n"
            "bec00000-bfbfffff : Crash kernel\n")
    regions = mem.crash_regions(mem.parse_iomem(text))
    assert [r["start"] for r in regions] == [0xbec00000, 0x8b0000000]
    assert [r["size"] for r in regions] == [16 * MIB, 256 * MIB]


@pytest.mark.parametrize("text", [None, "", "garbage\n", "\x00\x01", "zzzz-yyyy : System RAM\n",
                                  "ffff-0000 : System RAM\n"])
def test_empty_or_garbage(text):
    assert mem.parse_iomem(text) is None
    facts = mem.memory_facts(mem.parse_iomem(text), "aarch64", None, None)
    assert facts["total_bytes"] is None and facts["low_bytes"] is None
    assert facts["low_limit_bytes"] == 4 * GIB


def test_garbage_lines_between_good_ones_are_skipped():
    text = "junk\n100000000-1ffffffff : System RAM\n\x00\x00\n  broken-line : x\n"
    assert ram_of(text) == 4 * GIB


def test_zeroed_iomem_for_non_root():
    zeroed = "00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n  00000000-00000000 : Crash kernel\n"
    entries = mem.parse_iomem(zeroed)
    assert mem.is_zeroed(entries)
    facts = mem.memory_facts(entries, "x86_64", None, None)
    assert facts["iomem_zeroed"] is True and facts["total_bytes"] is None and facts["low_bytes"] is None
    reservation = mem.reservation_facts(entries, 4 * GIB, "268435456\n", "1\n")
    assert reservation["regions"] is None and reservation["total_bytes"] is None
    assert reservation["kexec_crash_size"] == 256 * MIB and reservation["kexec_crash_loaded"] is True


def test_bytes_below_splits_a_straddling_range():
    assert mem.bytes_below([(3 * GIB, 5 * GIB)], 4 * GIB) == 1 * GIB
    assert mem.bytes_below([(5 * GIB, 6 * GIB)], 4 * GIB) == 0


def test_low_limit_sources():
    ram = [(0x40000000, 0x100000000), (0x100000000, 0x400000000)]
    dmesg = "[ 0.0] Reserving 16MB of low memory at 3052MB for crashkernel (low RAM limit: 4096MB)\n"
    assert mem.low_limit("aarch64", None, dmesg, ram) == (4 * GIB, "dmesg")
    rpi = "[ 0.0] Reserving 64MB of low memory at 900MB for crashkernel (low RAM limit: 1024MB)\n"
    rpi_ram = [(0, 0x3b400000), (0x40000000, 0x100000000)]  # a Raspberry Pi 4's RAM starts at 0
    assert mem.low_limit("aarch64", None, rpi, rpi_ram) == (1 * GIB, "dmesg")
    assert mem.low_limit("aarch64", None, rpi, ram)[1] == "default"  # a limit at or below all RAM is not believed
    no_zones = {"CONFIG_ZONE_DMA": "n", "CONFIG_ZONE_DMA32": None}
    assert mem.low_limit("aarch64", no_zones, None, ram) == (0x400000000, "config")
    assert mem.low_limit("x86_64", no_zones, None, ram) == (4 * GIB, "default")
    assert mem.low_limit("aarch64", {"CONFIG_ZONE_DMA": "y"}, "unrelated dmesg", ram) == (4 * GIB, "default")


def test_arm64_ram_above_4g_moves_the_low_limit():
    """arch/arm64/mm/init.c max_zone_phys(): DRAM starting above 4 GiB takes the DMA zone with it (all RAM from
    5.15, the 4 GiB window the RAM starts in before); x86_64 keeps 4 GiB."""
    ram = [(0x80000000000, 0x80200000000), (0x88000000000, 0x88400000000)]  # an AmpereOne-like layout at 8 TiB
    dma = {"CONFIG_ZONE_DMA": "y", "CONFIG_ZONE_DMA32": "y"}
    assert mem.low_limit("aarch64", dma, None, ram, version=[6, 12, 0]) == (0x88400000000, "dram-above-4g")
    assert mem.low_limit("aarch64", dma, None, ram, version=[5, 4, 0]) == (0x80100000000, "dram-above-4g")
    assert mem.low_limit("aarch64", dma, None, ram) == (0x80100000000, "dram-above-4g")  # unknown: the smaller
    assert mem.low_limit("x86_64", dma, None, ram, version=[6, 12, 0]) == (4 * GIB, "default")
    assert mem.low_limit("aarch64", dma, None, [(4 * GIB - 4096, 8 * GIB)], version=[6, 12, 0]) == (4 * GIB, "default")


def test_reservation_split_high_low():
    text = ("90000000-f896ffff : System RAM\n"
            "  bec00000-bfbfffff : Crash kernel\n"
            "80100000000-87fffffffff : System RAM\n"
            "  87fd0000000-87fffffffff : Crash kernel\n")
    facts = mem.reservation_facts(mem.parse_iomem(text), 4 * GIB, "805306368", "1")
    assert (facts["total_bytes"], facts["low_bytes"], facts["high_bytes"]) == (784 * MIB, 16 * MIB, 768 * MIB)
    assert facts["kexec_crash_loaded"] is True


@pytest.mark.parametrize("size,loaded,exp_size,exp_loaded", [
    ("0\n", "0\n", 0, False), (None, None, None, None), ("abc", "2", None, None), ("", "", None, None)])
def test_sysfs_values(size, loaded, exp_size, exp_loaded):
    facts = mem.reservation_facts(None, 4 * GIB, size, loaded)
    assert (facts["kexec_crash_size"], facts["kexec_crash_loaded"]) == (exp_size, exp_loaded)
    assert facts["regions"] is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 2 ** 48), st.integers(0, 2 ** 30),
                          st.sampled_from(["System RAM", "Crash kernel", "reserved", "PCI Bus"])), max_size=30))
def test_random_layouts_never_double_count(lines):
    text = "".join("%s%x-%x : %s\n" % ("  " * depth, start, start + size, name) for depth, start, size, name in lines)
    entries = mem.parse_iomem(text)
    if entries is None:
        return
    ram = mem.system_ram(entries)
    top_level = [(s, e) for d, s, e, n in entries if n == "System RAM" and d == 0]
    assert set(top_level) <= set(ram)
    assert mem.bytes_below(ram, 4 * GIB) <= sum(e - s for s, e in ram)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_random_text_never_raises(text):
    entries = mem.parse_iomem(text)
    mem.memory_facts(entries, "aarch64", None, text)
    mem.reservation_facts(entries, 4 * GIB, text, text)
