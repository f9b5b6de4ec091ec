# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Table tests: every reservation rule, each case citing the kernel source it was read from."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils import _crashkernel as ck

K, M, G, T = 1 << 10, 1 << 20, 1 << 30, 1 << 40

SOURCES = {
    "memparse": "lib/cmdline.c memparse() v5.10/v6.1: simple_strtoull(ptr, &end, 0), then one K/M/G/T/P/E "
                "(either case) shifting by 10 bits per step; unsigned long long wraps",
    "radix": "lib/kstrtox.c _parse_integer_fixup_radix() v5.10/v6.1: base 0 = hex after 0x when a hex digit "
             "follows, octal after a leading 0, else decimal",
    "last": "kernel/crash_core.c get_last_crashkernel() v5.10/v6.1 (kernel/crash_reserve.c v6.9+): strstr() for "
            "every 'crashkernel=', the last one whose token does not end in a known suffix wins",
    "ranges": "kernel/crash_core.c parse_crashkernel_mem() v6.1: match when total_mem >= start && total_mem < end, "
              "end defaults to ULLONG_MAX; the loop stops at the first match",
    "roundup": "kernel/crash_core.c parse_crashkernel_mem() v6.1: total_mem = roundup(total_mem, SZ_128M); absent "
               "in v5.10 (Tao Liu, 'kdump: round up the total memory size to 128M', 2022-06, merged 6.0)",
    "entry_size": "kernel/crash_core.c parse_crashkernel_mem() v5.10/v6.1: 'if (size >= total_mem) "
                  "pr_warn(\"crashkernel: invalid size\"); return -EINVAL' before the match test",
    "simple": "kernel/crash_core.c parse_crashkernel_simple() v6.1: memparse size, '@' then memparse base, "
              "else 'unrecognized char'",
    "suffix": "kernel/crash_core.c parse_crashkernel_suffix() v6.1: memparse size, then strncmp(cur, suffix) "
              "else 'unrecognized char'",
    "arm64_legacy": "arch/arm64/mm/init.c reserve_crashkernel() v5.10: parse_crashkernel() only; "
                    "memblock_find_in_range(0, arm64_dma32_phys_limit, size, SZ_2M); base must be 2MB aligned",
    "arm64_519": "arch/arm64/mm/init.c reserve_crashkernel() v5.19/v6.1: ,high only when parse_crashkernel() "
                 "returns -ENOENT; crash_low_size stays 0 without ,low; plain searches [0, CRASH_ADDR_LOW_MAX) "
                 "once; an invalid ,low returns",
    "arm64_62": "arch/arm64/mm/init.c reserve_crashkernel() v6.2-v6.6 (a149cf00b158, a9ae89df7377): "
                "DEFAULT_CRASH_KERNEL_LOW_SIZE (128UL << 20); plain retries [CRASH_ADDR_LOW_MAX, HIGH_MAX) with "
                "crash_low_size = default; ,high retries [0, LOW_MAX); low freed with the high region on failure",
    "generic": "kernel/crash_reserve.c parse_crashkernel() and reserve_crashkernel_generic() v6.9+ "
               "(kernel/crash_core.c v6.7-6.8): ,low parsed only on the ,high path; plain fallback sets the "
               "default low size",
    "size_ge_ram": "kernel/crash_reserve.c parse_crashkernel() v6.11+: 'if (*crash_size >= system_ram) ret = "
                   "-EINVAL'; older kernels fail the memblock allocation",
    "page_align": "arch/arm64/mm/init.c reserve_crashkernel() v5.10-v6.6: crash_size = PAGE_ALIGN(crash_size); "
                  "the generic code (6.7+) does not align",
    "x86_52": "arch/x86/kernel/setup.c reserve_crashkernel() v5.10: ,high tried when 'ret != 0 || crash_size <= 0'; "
              "low [CRASH_ALIGN, 4G) then [CRASH_ALIGN, 64T); reserve_crashkernel_low() when crash_base >= 4G "
              "uses ,low (0 = none) or the default, also on the plain fallback; fixed base uses SZ_1M alignment",
    "x86_low": "arch/x86/kernel/setup.c reserve_crashkernel_low() v5.10 and arch/x86/include/asm/crash_reserve.h "
               "v6.9: max(swiotlb_size_or_default() + (8UL << 20), 256UL << 20); an unparsable ,low takes the "
               "default on v5.10",
    "swiotlb": "kernel/dma/swiotlb.c setup_io_tlb_npages()/swiotlb_size_or_default() v6.x: nslabs = "
               "ALIGN(simple_strtoul(str), IO_TLB_SEGSIZE=128), size = nslabs << IO_TLB_SHIFT (11); default "
               "IO_TLB_DEFAULT_SIZE 64M",
    "x86_old": "arch/x86/kernel/setup.c before v5.2 (Dave Young, 'x86/kdump: Have crashkernel=X reserve under 4G "
               "by default' + 'Fall back to reserve high crashkernel memory', 2019-04, merged 5.2): plain only "
               "below CRASH_ADDR_LOW_MAX = 896M, no fallback",
    "x86_generic_fixed": "kernel/crash_reserve.c reserve_crashkernel_generic() v6.9 with x86 CRASH_ALIGN SZ_16M: "
                         "memblock_phys_alloc_range(size, CRASH_ALIGN, base, base + size)",
    "cma": "kernel/crash_reserve.c suffix_tbl v6.17 (35c18f2933c5 'Add a new optional \",cma\" suffix'): ,cma "
           "skipped by the plain search; x86 arch_reserve_crashkernel() passes &cma_size (arm64 not yet)",
    "rhel9": "CentOS Stream 9 MR 1029 (BZ 2091852, RHEL 9.1 kernel 5.14.0-162): backport of the arm64 5.19 "
             "'support reserving crashkernel above 4G on arm64 kdump' series; RHEL 8 has none",
}

ARM61 = "6.1.0-27-arm64"       # Debian 12
ARM66 = "6.6.0-14-arm64"
ARM612 = "6.12.0-31-arm64"
ARM510 = "5.10.0-30-arm64"     # Debian 11
X515 = "5.15.0-1033-aws"
X612 = "6.12.0-31-amd64"

# (id, cmdline, ram, arch, kernel, low_ram, expected subset, source)
CASES = [
    # memparse and the radix of simple_strtoull
    ("memparse-M", "crashkernel=512M", 64 * G, "x86_64", X612, None, {"region": "low", "size": 512 * M}, "memparse"),
    ("memparse-lowercase", "crashkernel=1g", 64 * G, "x86_64", X612, None, {"size": 1 * G}, "memparse"),
    ("memparse-hex", "crashkernel=0x20000000", 64 * G, "x86_64", X612, None, {"size": 512 * M}, "radix"),
    ("memparse-octal", "crashkernel=01000", 64 * G, "x86_64", X612, None, {"size": 512}, "radix"),
    ("memparse-hex-eats-E", "crashkernel=0x1E", 64 * G, "x86_64", X612, None, {"size": 30}, "radix"),
    ("memparse-0x-without-digit", "crashkernel=0x", 64 * G, "x86_64", X612, None,
     {"region": "none", "cause": "invalid"}, "radix"),
    ("memparse-suffix-only", "crashkernel=K", 64 * G, "x86_64", X612, None,
     {"region": "none", "cause": "zero-size"}, "memparse"),
    ("memparse-wraps-to-zero", "crashkernel=16E", 64 * G, "x86_64", X612, None,
     {"region": "none", "cause": "zero-size"}, "memparse"),
    ("memparse-T", "crashkernel=1T", 4 * T, "x86_64", X612, None,
     {"region": "high", "size": 1 * T, "low_size": 256 * M}, "memparse"),
    ("memparse-P-exceeds", "crashkernel=1P", 4 * T, "x86_64", X612, None,
     {"region": "none", "cause": "size-exceeds-ram"}, "memparse"),
    # simple form
    ("simple-junk", "crashkernel=512Mx", 64 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "invalid"}, "simple"),
    ("simple-unknown-suffix", "crashkernel=512M,foo", 64 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "invalid"}, "simple"),
    # ranges
    ("range-start-inclusive", "crashkernel=64G-:256M", 64 * G, "aarch64", ARM61, None, {"size": 256 * M}, "ranges"),
    ("range-end-exclusive", "crashkernel=2G-64G:256M,64G-:512M", 64 * G, "aarch64", ARM61, None,
     {"size": 512 * M}, "ranges"),
    ("range-open-end", "crashkernel=1G-:256M", 4 * T, "aarch64", ARM61, None, {"size": 256 * M}, "ranges"),
    ("range-no-match", "crashkernel=2G-4G:256M", 8 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "no-range-match"}, "ranges"),
    ("range-unsorted", "crashkernel=64G-:512M,2G-64G:256M", 8 * G, "aarch64", ARM61, None,
     {"size": 256 * M}, "ranges"),
    ("range-zero-size-matched", "crashkernel=1G-:0", 8 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "zero-size"}, "ranges"),
    ("range-rounded-up-6.1", "crashkernel=2G-4G:256M", 2 * G - 5 * M, "aarch64", ARM61, None,
     {"region": "low", "size": 256 * M}, "roundup"),
    ("range-not-rounded-5.10", "crashkernel=2G-4G:256M", 2 * G - 5 * M, "aarch64", ARM510, None,
     {"region": "none", "cause": "no-range-match"}, "roundup"),
    ("range-rounding-moves-up-6.1", "crashkernel=2G-4G:256M,4G-:320M", 4 * G - 100 * M, "aarch64", ARM61, None,
     {"size": 320 * M}, "roundup"),
    ("range-rounding-moves-up-5.10", "crashkernel=2G-4G:256M,4G-:320M", 4 * G - 100 * M, "aarch64", ARM510, None,
     {"size": 256 * M}, "roundup"),
    ("range-rounded-up-rhel9", "crashkernel=2G-4G:256M", 2 * G - 5 * M, "aarch64", "5.14.0-427.el9.aarch64", None,
     {"size": 256 * M}, "roundup"),
    ("range-entry-before-match-too-big", "crashkernel=512M-1G:16G,1G-:256M", 8 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "invalid"}, "entry_size"),
    ("range-entry-equal-to-rounded-ram", "crashkernel=512M-1G:8G,1G-:256M", 8 * G - 5 * M, "aarch64", ARM61, None,
     {"region": "none", "cause": "invalid"}, "entry_size"),
    ("range-entry-after-match-unread", "crashkernel=1G-:256M,2G-3G:16G", 8 * G, "aarch64", ARM61, None,
     {"size": 256 * M}, "ranges"),
    ("range-garbage-after-match-unread", "crashkernel=1G-:256M,garbage", 8 * G, "aarch64", ARM61, None,
     {"size": 256 * M}, "ranges"),
    ("range-missing-dash", "crashkernel=1G:256M", 8 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "invalid"}, "ranges"),
    ("range-end-before-start", "crashkernel=2G-1G:256M", 8 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "invalid"}, "ranges"),
    ("range-with-offset", "crashkernel=1G-:256M@4G", 8 * G, "aarch64", ARM61, None,
     {"region": "fixed", "size": 256 * M, "base": 4 * G}, "ranges"),
    # which token the kernel reads
    ("last-plain-wins", "crashkernel=256M crashkernel=512M", 64 * G, "aarch64", ARM61, None,
     {"size": 512 * M}, "last"),
    ("strstr-inside-other-param", "crashkernel=512M rd.crashkernel=128M", 64 * G, "aarch64", ARM61, None,
     {"size": 128 * M}, "last"),
    ("plain-hides-high-6.1", "crashkernel=768M,high crashkernel=512M", 64 * G, "aarch64", ARM61, 256 * M,
     {"region": "none", "cause": "low-memory-short"}, "arm64_519"),
    ("invalid-plain-hides-high", "crashkernel=512M crashkernel=foo crashkernel=768M,high", 64 * G, "aarch64",
     ARM612, None, {"region": "none", "cause": "invalid"}, "generic"),
    ("x86-5.15-invalid-plain-uses-high", "crashkernel=foo crashkernel=512M,high", 64 * G, "x86_64", X515, None,
     {"region": "high", "size": 512 * M, "low_size": 256 * M}, "x86_52"),
    ("x86-5.15-unmatched-plain-uses-high", "crashkernel=128G-:1G crashkernel=512M,high", 64 * G, "x86_64", X515,
     None, {"region": "high", "size": 512 * M}, "x86_52"),
    ("generic-unmatched-plain-hides-high", "crashkernel=128G-:1G crashkernel=512M,high", 64 * G, "x86_64", X612,
     None, {"region": "none", "cause": "no-range-match"}, "generic"),
    # suffix forms
    ("high-with-ranges", "crashkernel=1G-:768M,high", 64 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "invalid"}, "suffix"),
    ("high-with-offset", "crashkernel=768M@4G,high", 64 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "invalid"}, "suffix"),
    ("low-alone", "crashkernel=64M,low", 64 * G, "aarch64", ARM612, None,
     {"region": "none", "cause": "no-crashkernel"}, "generic"),
    # arm64 before 5.19
    ("arm64-5.10-high-ignored", "crashkernel=768M,high crashkernel=16M,low", 256 * G, "aarch64", ARM510, None,
     {"region": "none", "cause": "no-crashkernel"}, "arm64_legacy"),
    ("arm64-5.10-plain-fits", "crashkernel=512M", 256 * G, "aarch64", ARM510, 2 * G,
     {"region": "low", "size": 512 * M}, "arm64_legacy"),
    ("arm64-5.10-plain-short", "crashkernel=512M", 256 * G, "aarch64", ARM510, 512 * M,
     {"region": "none", "cause": "low-memory-short"}, "arm64_legacy"),
    ("arm64-5.10-fixed-misaligned", "crashkernel=256M@1M", 8 * G, "aarch64", ARM510, None,
     {"region": "none", "cause": "misaligned-base"}, "arm64_legacy"),
    ("rhel8-high-ignored", "crashkernel=768M,high", 256 * G, "aarch64", "4.18.0-240.el8.aarch64", None,
     {"region": "none", "cause": "no-crashkernel"}, "rhel9"),
    ("rhel9.0-high-ignored", "crashkernel=768M,high", 256 * G, "aarch64", "5.14.0-70.13.1.el9_0.aarch64", None,
     {"region": "none", "cause": "no-crashkernel"}, "rhel9"),
    # arm64 5.19 - 6.1 and RHEL 9.1+
    ("arm64-6.1-high-no-low", "crashkernel=768M,high", 256 * G, "aarch64", ARM61, 2 * G,
     {"region": "high", "size": 768 * M, "low_size": 0}, "arm64_519"),
    ("arm64-6.1-high-and-low", "crashkernel=768M,high crashkernel=16M,low", 256 * G, "aarch64", ARM61, 2 * G,
     {"region": "high", "size": 768 * M, "low_size": 16 * M}, "arm64_519"),
    ("arm64-6.1-plain-short-no-fallback", "crashkernel=768M", 256 * G, "aarch64", ARM61, 512 * M,
     {"region": "none", "cause": "low-memory-short"}, "arm64_519"),
    ("arm64-6.1-invalid-low-cancels", "crashkernel=768M,high crashkernel=lots,low", 256 * G, "aarch64", ARM61, None,
     {"region": "none", "cause": "invalid"}, "arm64_519"),
    ("arm64-6.1-low-does-not-fit", "crashkernel=768M,high crashkernel=512M,low", 256 * G, "aarch64", ARM61,
     256 * M, {"region": "none", "cause": "low-region-does-not-fit"}, "arm64_519"),
    ("rhel9-high-no-default-low", "crashkernel=768M,high", 256 * G, "aarch64", "5.14.0-427.13.1.el9_4.aarch64",
     2 * G, {"region": "high", "size": 768 * M, "low_size": 0}, "rhel9"),
    ("rhel9-plain-short-no-fallback", "crashkernel=768M", 256 * G, "aarch64", "5.14.0-427.el9.aarch64", 512 * M,
     {"region": "none", "cause": "low-memory-short"}, "rhel9"),
    # arm64 6.2 - 6.6
    ("arm64-6.6-high-default-low", "crashkernel=768M,high", 256 * G, "aarch64", ARM66, 2 * G,
     {"region": "high", "size": 768 * M, "low_size": 128 * M}, "arm64_62"),
    ("arm64-6.6-plain-falls-back", "crashkernel=768M", 256 * G, "aarch64", ARM66, 512 * M,
     {"region": "high", "size": 768 * M, "low_size": 128 * M}, "arm64_62"),
    ("arm64-6.6-fallback-ignores-low", "crashkernel=768M crashkernel=16M,low", 256 * G, "aarch64", ARM66, 512 * M,
     {"region": "high", "size": 768 * M, "low_size": 128 * M}, "arm64_62"),
    ("arm64-6.6-plain-fits-low", "crashkernel=768M crashkernel=16M,low", 256 * G, "aarch64", ARM66, 2 * G,
     {"region": "low", "size": 768 * M, "low_size": 0}, "arm64_62"),
    ("arm64-6.6-high-falls-back-low", "crashkernel=768M,high", 4 * G, "aarch64", ARM66, 3584 * M,
     {"region": "low", "size": 768 * M, "low_size": 0}, "arm64_62"),
    ("arm64-6.6-fallback-default-low-too-big", "crashkernel=768M", 256 * G, "aarch64", ARM66, 160 * M,
     {"region": "none", "cause": "low-region-does-not-fit"}, "arm64_62"),
    # arm64 6.7+
    ("arm64-6.12-zero-low", "crashkernel=768M,high crashkernel=0,low", 256 * G, "aarch64", ARM612, 2 * G,
     {"region": "high", "size": 768 * M, "low_size": 0}, "generic"),
    ("arm64-6.12-invalid-low-cancels", "crashkernel=768M,high crashkernel=1G-:16M,low", 256 * G, "aarch64", ARM612,
     None, {"region": "none", "cause": "invalid"}, "generic"),
    ("arm64-6.12-fallback", "crashkernel=1G", 256 * G, "aarch64", ARM612, 512 * M,
     {"region": "high", "size": 1 * G, "low_size": 128 * M}, "generic"),
    # size against RAM, page alignment
    ("size-equal-ram", "crashkernel=8G", 8 * G, "aarch64", ARM612, None,
     {"region": "none", "cause": "size-exceeds-ram"}, "size_ge_ram"),
    ("page-align-4k", "crashkernel=1000000", 8 * G, "aarch64", ARM61, None, {"size": 1003520}, "page_align"),
    ("no-page-align-generic", "crashkernel=1000000", 8 * G, "aarch64", ARM612, None, {"size": 1000000},
     "page_align"),
    # x86_64
    ("x86-generic-fallback-default-low", "crashkernel=1G", 64 * G, "x86_64", X612, 512 * M,
     {"region": "high", "size": 1 * G, "low_size": 256 * M}, "x86_low"),
    ("x86-generic-fallback-ignores-low", "crashkernel=1G crashkernel=64M,low", 64 * G, "x86_64", X612, 512 * M,
     {"region": "high", "low_size": 256 * M}, "generic"),
    ("x86-generic-swiotlb", "crashkernel=1G swiotlb=262144", 64 * G, "x86_64", X612, 1 * G,
     {"region": "high", "low_size": 520 * M}, "swiotlb"),
    ("x86-generic-swiotlb-aligned-up", "crashkernel=1G swiotlb=200000", 64 * G, "x86_64", X612, 1 * G,
     {"region": "high", "low_size": 200064 * 2 * K + 8 * M}, "swiotlb"),
    ("x86-generic-high-default-low", "crashkernel=512M,high", 64 * G, "x86_64", X612, None,
     {"region": "high", "size": 512 * M, "low_size": 256 * M}, "x86_low"),
    ("x86-5.15-fallback-honours-low", "crashkernel=1G crashkernel=64M,low", 64 * G, "x86_64", X515, 512 * M,
     {"region": "high", "size": 1 * G, "low_size": 64 * M}, "x86_52"),
    ("x86-5.15-zero-low", "crashkernel=512M,high crashkernel=0,low", 64 * G, "x86_64", X515, None,
     {"region": "high", "low_size": 0}, "x86_52"),
    ("x86-5.15-invalid-low-default", "crashkernel=512M,high crashkernel=lots,low", 64 * G, "x86_64", X515, None,
     {"region": "high", "low_size": 256 * M}, "x86_low"),
    ("x86-5.15-fixed-1M-aligned", "crashkernel=256M@8M", 64 * G, "x86_64", X515, None,
     {"region": "fixed", "base": 8 * M, "low_size": 0}, "x86_52"),
    ("x86-5.15-fixed-high-gets-low", "crashkernel=256M@8G", 64 * G, "x86_64", X515, None,
     {"region": "fixed", "base": 8 * G, "low_size": 256 * M}, "x86_52"),
    ("x86-generic-fixed-needs-16M", "crashkernel=256M@8M", 64 * G, "x86_64", X612, None,
     {"region": "none", "cause": "misaligned-base"}, "x86_generic_fixed"),
    ("x86-4.19-no-fallback", "crashkernel=1G", 64 * G, "x86_64", "4.19.0-27-amd64", None,
     {"region": "none", "cause": "low-memory-short"}, "x86_old"),
    ("x86-rhel8-falls-back", "crashkernel=1G", 64 * G, "x86_64", "4.18.0-513.5.1.el8_9.x86_64", 512 * M,
     {"region": "high", "low_size": 256 * M}, "x86_52"),
    # ,cma
    ("x86-6.17-cma", "crashkernel=512M crashkernel=1G,cma", 64 * G, "x86_64", "6.17.0-1-amd64", None,
     {"region": "low", "size": 512 * M, "cma_size": 1 * G}, "cma"),
    ("x86-6.16-cma-unknown", "crashkernel=512M crashkernel=1G,cma", 64 * G, "x86_64", "6.16.0-1-amd64", None,
     {"region": "none", "cause": "invalid"}, "cma"),
    ("arm64-6.17-cma-not-reserved", "crashkernel=512M crashkernel=1G,cma", 64 * G, "aarch64", "6.17.0-1-arm64", None,
     {"region": "low", "size": 512 * M, "cma_size": 0}, "cma"),
]


@pytest.mark.parametrize("name, cmdline, ram, arch, kernel, low_ram, want, source", CASES,
                         ids=[case[0] for case in CASES])
def test_reserve_rule(name, cmdline, ram, arch, kernel, low_ram, want, source):
    assert source in SOURCES
    result = ck.reserve(cmdline, ram, arch=arch, kernel=kernel, low_ram=low_ram)
    got = dict((key, result[key]) for key in want)
    assert got == want, "%s (%s): %s" % (name, SOURCES[source], result["reason"])
    assert result["reason"]


def test_none_results_are_empty():
    result = ck.reserve("quiet", 8 * G, kernel=ARM61)
    assert result["region"] == "none" and result["cause"] == "no-crashkernel"
    assert (result["size"], result["low_size"], result["base"], result["cma_size"]) == (0, 0, None, 0)


def test_reason_quotes_the_kernel():
    result = ck.reserve("crashkernel=512M-1G:16G,1G-:256M", 8 * G, kernel=ARM61)
    assert "crashkernel: invalid size" in result["reason"]
    result = ck.reserve("crashkernel=1G-:768M,high", 8 * G, kernel=ARM61)
    assert "crashkernel: unrecognized char: -" in result["reason"]


def test_low_margin_is_applied():
    fits = ck.reserve("crashkernel=448M", 64 * G, kernel=ARM61, low_ram=512 * M)
    short = ck.reserve("crashkernel=449M", 64 * G, kernel=ARM61, low_ram=512 * M)
    assert fits["region"] == "low"
    assert short["region"] == "none"
    no_margin = ck.reserve("crashkernel=449M", 64 * G, kernel=ARM61, low_ram=512 * M, low_margin=0)
    assert no_margin["region"] == "low"


def test_page_size_64k():
    result = ck.reserve("crashkernel=1000000", 8 * G, kernel=ARM61, page_size=65536)
    assert result["size"] == 1048576


def test_accepts_sizes_and_arg_lists():
    result = ck.reserve(["crashkernel=768M,high", "crashkernel=16M,low"], "256G", kernel=ARM61, low_ram="2G")
    assert (result["region"], result["size"], result["low_size"]) == ("high", 768 * M, 16 * M)


def test_model_override():
    result = ck.reserve("crashkernel=768M", 256 * G, kernel=ARM61, low_ram=512 * M, model=ck.MODEL_ARM64_62)
    assert (result["region"], result["model"]) == ("high", ck.MODEL_ARM64_62)


@pytest.mark.parametrize("kwargs, text", [
    ({"ram": 0}, "ram: 0 bytes is less than any machine"),
    ({"ram": "lots"}, "ram: 'lots' is not a size"),
    ({"ram": 8 * G, "arch": "ppc64le"}, "arch: 'ppc64le' is not modelled"),
    ({"ram": 8 * G, "kernel": "linux"}, "kernel: 'linux' is not a kernel release"),
    ({"ram": 8 * G, "low_ram": -1}, "low_ram: -1 is outside"),
    ({"ram": 8 * G, "page_size": 1000}, "page_size: expected 4096"),
    ({"ram": 8 * G, "model": "arm64-9"}, "model: 'arm64-9' is unknown"),
    ({"ram": 8 * G, "arch": "x86_64", "model": "arm64-6.2"}, "does not match arch"),
])
def test_bad_input_names_the_argument(kwargs, text):
    with pytest.raises(ck.CrashkernelError, match=text.replace("(", r"\(")):
        ck.reserve("crashkernel=512M", **kwargs)


def test_bad_cmdline_type():
    with pytest.raises(ck.CrashkernelError, match="cmdline"):
        ck.reserve(42, 8 * G)


@pytest.mark.parametrize("release, want", [
    ("6.1.0-27-arm64", ((6, 1, 0), None, 27)),
    ("5.14.0-427.el9.aarch64", ((5, 14, 0), 9, 427)),
    ("5.14.0-427.13.1.el9_4.aarch64+64k", ((5, 14, 0), 9, 427)),
    ("5.15.0-1033-aws", ((5, 15, 0), None, 1033)),
    ("4.18.0-240.el8.aarch64", ((4, 18, 0), 8, 240)),
    ("5.15.0-200.131.27.el9uek.aarch64", ((5, 15, 0), None, 200)),
    ("6.8", ((6, 8, 0), None, None)),
])
def test_kernel_release(release, want):
    info = ck.parse_kernel_release(release)
    assert (info["version"], info["rhel"], info["build"]) == want


@pytest.mark.parametrize("arch, release, model", [
    ("aarch64", "5.10.0-30-arm64", ck.MODEL_ARM64_LEGACY),
    ("aarch64", "5.19.0-1-arm64", ck.MODEL_ARM64_519),
    ("aarch64", "6.1.0-27-arm64", ck.MODEL_ARM64_519),
    ("aarch64", "6.2.0-1-arm64", ck.MODEL_ARM64_62),
    ("aarch64", "6.6.0-1-arm64", ck.MODEL_ARM64_62),
    ("aarch64", "6.7.0-1-arm64", ck.MODEL_GENERIC),
    ("aarch64", "4.18.0-240.el8.aarch64", ck.MODEL_ARM64_LEGACY),
    ("aarch64", "5.14.0-70.13.1.el9_0.aarch64", ck.MODEL_ARM64_LEGACY),
    ("aarch64", "5.14.0-162.6.1.el9_1.aarch64", ck.MODEL_ARM64_519),
    ("aarch64", "5.14.0-abc.el9.aarch64", ck.MODEL_ARM64_LEGACY),  # build unreadable: the older RHEL 9 kernels
    ("aarch64", "6.12.0-55.el10.aarch64", ck.MODEL_GENERIC),
    ("x86_64", "4.19.0-27-amd64", ck.MODEL_X86_OLD),
    ("x86_64", "5.2.0-1-amd64", ck.MODEL_X86_52),
    ("x86_64", "4.18.0-513.el8.x86_64", ck.MODEL_X86_52),
    ("x86_64", "6.7.0-1-amd64", ck.MODEL_GENERIC),
])
def test_kernel_models(arch, release, model):
    assert ck.kernel_model(arch, release)["name"] == model


def test_backport_reported_by_facts_upgrades_legacy_arm64():
    assert ck.kernel_model("aarch64", "5.10.0-30-arm64", high_low_supported=True)["name"] == ck.MODEL_ARM64_519
    assert ck.kernel_model("aarch64", "5.10.0-30-arm64", high_low_supported=False)["name"] == ck.MODEL_ARM64_LEGACY


@pytest.mark.parametrize("cmdline, size", [
    ("", 64 * M),
    ("swiotlb=65536", 128 * M),
    ("swiotlb=1", 256 * K),
    ("swiotlb=0x10000,force", 128 * M),
    ("swiotlb=force", 64 * M),
    ("swiotlb=65536 swiotlb=32768", 64 * M),
    ("swiotlb=100000,4", 131072 * 2 * K),
])
def test_swiotlb_size(cmdline, size):
    assert ck.swiotlb_size(cmdline) == size


# ---------------------------------------------------------------- region-by-region comparison with /proc/iomem

MIB, GIB = 1 << 20, 1 << 30
LIMIT = 4 * GIB


def region(start, size):
    return {"start": start, "end": start + size, "size": size}


def test_high_and_low_regions_match_region_by_region():
    # Debian 12 arm64 guest with 6 GiB: 16 MiB at 0xfb000000, 128 MiB at 0x1ae000000 (measured)
    expected = {"region": "high", "size": 128 * MIB, "low_size": 16 * MIB, "base": None}
    check = ck.check_regions(expected, [region(0xfb000000, 16 * MIB), region(0x1ae000000, 128 * MIB)], LIMIT)
    assert check["ok"] and check["problems"] == []
    assert [r["placement"] for r in check["actual"]] == ["low", "high"]


def test_same_total_in_the_wrong_place_is_a_mismatch():
    expected = {"region": "high", "size": 128 * MIB, "low_size": 16 * MIB, "base": None}
    check = ck.check_regions(expected, [region(0xf0000000, 128 * MIB), region(0xfb000000, 16 * MIB)], LIMIT)
    assert not check["ok"]
    assert check["problems"] == [
        "predicted a 128 MiB region at or above 4 GiB, /proc/iomem has none",
        "/proc/iomem has an unpredicted 128 MiB region at 0xf0000000-0xf7ffffff (below 4 GiB)"]


def test_nothing_predicted_and_nothing_reserved():
    assert ck.check_regions({"region": "none", "size": 0, "low_size": 0}, [], LIMIT)["ok"]
    assert not ck.check_regions({"region": "none", "size": 0, "low_size": 0}, [region(0x80000000, MIB)], LIMIT)["ok"]


def test_fixed_region_must_start_at_its_base():
    expected = {"region": "fixed", "size": 256 * MIB, "low_size": 0, "base": 0x20000000}
    assert ck.check_regions(expected, [region(0x20000000, 256 * MIB)], LIMIT)["ok"]
    assert ck.check_regions(expected, [region(0x30000000, 256 * MIB)], LIMIT)["problems"][0] == (
        "predicted a 256 MiB region at 0x20000000, /proc/iomem has none")


def test_a_region_across_the_limit_is_neither_low_nor_high():
    expected = {"region": "low", "size": 256 * MIB, "low_size": 0, "base": None}
    check = ck.check_regions(expected, [region(LIMIT - 128 * MIB, 256 * MIB)], LIMIT)
    assert check["actual"][0]["placement"] == "across the low limit" and not check["ok"]


def test_proc_cmdline_with_its_trailing_newline_reads_like_the_kernel_s_own():
    # found by the 6.12 reservation VM test: /proc/cmdline text ends with "\n"
    for text in ("ro crashkernel=256M\n", "ro\tcrashkernel=256M\r\n", ["ro", "crashkernel=256M"]):
        result = ck.reserve(text, 5114 * MIB, arch="x86_64", kernel="6.12.118+deb13-amd64", low_ram=2042 * MIB)
        assert (result["region"], result["size"]) == ("low", 256 * MIB), result["reason"]
