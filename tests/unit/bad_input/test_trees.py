"""kdump_facts on corrupted trees, table-driven. Each case copies a captured tree (tests/fixtures/hosts),
damages one file the way a bad capture or a hostile tree would, and names the exact outcome: the finding
id, and the value that must be null or what it must be. Nothing may raise, hang or leave the tree."""
import gzip
import os
import shutil
import signal
import struct

import pytest

from ansible_collections.fleetops.kdump.plugins.modules.kdump_facts import gather_facts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HOSTS = os.path.join(REPO, "tests", "fixtures", "hosts")
DEBIAN13 = "debian13-amd64-qemu"  # captured from a fresh Debian 13 guest, no reservation
DEBIAN13_ARM64 = "debian13-arm64-qemu-altra"  # captured from the Debian 13 arm64 guest presenting as an Altra
ALTRA_MAX = "ampere-altra-max"    # generated: 768 MiB high + 16 MiB low Crash kernel regions
MTJADE = "ampere-altra-mtjade"     # Altra Q80-30 (SOC_ID jep106:0a16:0001, MIDR Neoverse N1, SMBIOS Ampere)
AMPEREONE = "ampereone"
MTJADE_CONFIG = "boot/config-6.1.0-27-arm64"
MIDR = "sys/devices/system/cpu/cpu0/regs/identification/midr_el1"
SMBIOS_CPU = "sys/firmware/dmi/entries/4-0/raw"


def write(root, rel, data):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())


def read(root, rel):
    with open(os.path.join(root, rel)) as handle:
        return handle.read()


def replace_with(rel, make):
    def mutate(root):
        path = os.path.join(root, rel)
        if os.path.lexists(path):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        make(path)
    return mutate


def setting(rel, text):
    return lambda root: write(root, rel, text)


def editing(rel, edit):
    return lambda root: write(root, rel, edit(read(root, rel)))


def smbios_memory_device(size_word, extended=0):
    formatted = bytearray(0x28)
    formatted[0], formatted[1] = 17, 0x28
    struct.pack_into("<H", formatted, 0x0C, size_word)
    struct.pack_into("<I", formatted, 0x1C, extended)
    return bytes(formatted) + b"DIMM 0\x00\x00"


def config_gz(data):
    def mutate(root):
        os.unlink(os.path.join(root, "boot/config-6.12.118+deb13-amd64"))
        write(root, "proc/config.gz", data)
    return mutate


def removing(rel):
    return lambda root: os.unlink(os.path.join(root, rel))


def running_config_gz(edit):
    """/proc/config.gz holding the boot config of the Altra Max tree, edited."""
    def mutate(root):
        write(root, "proc/config.gz", gzip.compress(edit(read(root, "boot/config-6.8.0-49-generic")).encode()))
    return mutate


def three_largest_memory_devices(root):
    for index in range(3):
        write(root, "sys/firmware/dmi/entries/17-%d/raw" % index, smbios_memory_device(0x7FFF, 0x7FFFFFFF))


def dpkg_package(name, version):
    return lambda root: write(root, "var/lib/dpkg/status", read(root, "var/lib/dpkg/status") + (
        "\nPackage: %s\nStatus: install ok installed\nVersion: %s\n" % (name, version)))


def dpkg_kexec(version):
    return dpkg_package("kexec-tools", version)


def copied(tree, rel, to=None, edit=lambda text: text):
    if rel.endswith("/raw"):  # binary
        with open(os.path.join(HOSTS, tree, rel), "rb") as handle:
            return setting(to or rel, handle.read())
    return setting(to or rel, edit(read(os.path.join(HOSTS, tree), rel)))


def smbios_strings(rel, mapping):
    """Replace strings of an SMBIOS structure (its string set after the formatted area)."""
    def mutate(root):
        with open(os.path.join(root, rel), "rb") as handle:
            blob = handle.read()
        strings = blob[blob[1]:].rstrip(b"\0").split(b"\0")
        write(root, rel, blob[:blob[1]] + b"\0".join(mapping.get(text, text) for text in strings) + b"\0\0")
    return mutate


def sparse_smbios_entries(count, size=1 << 30):
    """count SMBIOS type 17 entries, each a sparse file of size bytes (a junk capture; reading all would take minutes)."""
    def mutate(root):
        for index in range(count):
            path = os.path.join(root, "sys/firmware/dmi/entries/17-%d/raw" % index)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(smbios_memory_device(4096))
                handle.truncate(size)
    return mutate


def running(release):
    """The tree's kernel replaced: proc/sys/kernel/osrelease and proc/version both name release."""
    return both(setting("proc/sys/kernel/osrelease", release + "\n"),
                setting("proc/version", "Linux version %s (builder@example) #1 SMP\n" % release))


def linking(rel, target):
    def mutate(root):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)
    return mutate


def both(*mutations):
    def mutate(root):
        for mutation in mutations:
            mutation(root)
    return mutate


def arm64_ram_above_4g(root):
    """The Debian 13 arm64 guest with its System RAM starting at 4 GiB (as on servers whose DRAM sits high)."""
    kept, inside = [], False
    for line in read(root, "proc/iomem").splitlines():
        if line.startswith("40000000-1bc43ffff"):
            kept.append("100000000-1bc43ffff : System RAM")
            inside = True
            continue
        if inside and line.startswith("  ") and int(line.split("-")[0], 16) < 0x100000000:
            continue
        inside = inside and line.startswith("  ")
        kept.append(line)
    write(root, "proc/iomem", "\n".join(kept) + "\n")
    os.unlink(os.path.join(root, "proc/meminfo"))  # MemTotal would say RAM is missing


def far_ram(text):
    return text + "100000000-2ffffffff : System RAM\n"


CORRUPT_GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-not-deflate"
BEYOND_64_BITS = "fffffffffffffffff-1ffffffffffffffff : System RAM\n"
MEMTOTAL_DOUBLE = "MemTotal:        8000000 kB\nMemFree: 1 kB\n"
NULL_RAM = ("memory", "total_bytes", None)

CASES = [
    # (id, tree, mutation, finding id or None, (section, key, expected value) or None)
    ("iomem-duplicated", DEBIAN13, editing("proc/iomem", lambda t: t + t), "input-implausible", NULL_RAM),
    ("iomem-overlap", DEBIAN13, editing("proc/iomem", lambda t: t + "00100000-20000000 : System RAM\n"),
     "input-implausible", NULL_RAM),
    ("iomem-beyond-64-bits", DEBIAN13, editing("proc/iomem", lambda t: t + BEYOND_64_BITS), "input-implausible",
     NULL_RAM),
    ("iomem-cut-mid-line", DEBIAN13, editing("proc/iomem", lambda t: t[:len(t) // 2 + 7]), "input-implausible", NULL_RAM),
    ("iomem-first-half-only", DEBIAN13, editing("proc/iomem", lambda t: "".join(t.splitlines(True)[:12])),
     "input-implausible", NULL_RAM),
    ("iomem-end-before-start", DEBIAN13, editing("proc/iomem", lambda t: t + "ffff-0fff : System RAM\n"),
     "input-implausible", NULL_RAM),
    ("iomem-garbage-line", DEBIAN13, editing("proc/iomem", lambda t: t + "this is not iomem\n"), "input-implausible",
     NULL_RAM),
    ("iomem-extra-ram-beyond-memtotal", DEBIAN13, editing("proc/iomem", far_ram), "input-implausible", NULL_RAM),
    ("iomem-only-garbage", DEBIAN13, setting("proc/iomem", "\x00\xff garbage\n"), "input-implausible", NULL_RAM),
    ("iomem-empty", DEBIAN13, setting("proc/iomem", ""), "input-implausible", NULL_RAM),
    ("iomem-binary", DEBIAN13, setting("proc/iomem", os.urandom(4096)), "input-implausible", NULL_RAM),
    ("iomem-no-system-ram", DEBIAN13, editing("proc/iomem", lambda t: t.replace("System RAM", "system ram")),
     "input-implausible", NULL_RAM),
    ("iomem-crash-region-repeated", ALTRA_MAX, editing("proc/iomem", lambda t: t + "".join(
        line + "\n" for line in t.splitlines() if "Crash kernel" in line)), "input-implausible",
     ("reservation", "regions", None)),
    ("iomem-crash-region-outside-ram", DEBIAN13, editing("proc/iomem", lambda t: t + "ffffffffff000000-ffffffffffffffff "
                                                         ": Crash kernel\n"), "input-implausible",
     ("reservation", "regions", None)),
    ("iomem-fifo", DEBIAN13, replace_with("proc/iomem", os.mkfifo), "input-missing", NULL_RAM),
    ("iomem-directory", DEBIAN13, replace_with("proc/iomem", os.mkdir), "input-missing", NULL_RAM),
    ("iomem-link-out-of-tree", DEBIAN13, replace_with("proc/iomem", lambda p: os.symlink("/proc/iomem", p)),
     "input-missing", NULL_RAM),
    ("iomem-relative-link-escaping", DEBIAN13,
     replace_with("proc/iomem", lambda p: os.symlink("../../../../../../../../proc/iomem", p)), "input-missing", NULL_RAM),
    ("meminfo-above-iomem", DEBIAN13, setting("proc/meminfo", MEMTOTAL_DOUBLE), "input-implausible", NULL_RAM),
    ("meminfo-tiny", DEBIAN13, setting("proc/meminfo", "MemTotal: 1000 kB\n"), "input-implausible",
     ("memory", "total_bytes", 3215040512)),
    ("meminfo-garbage", DEBIAN13, setting("proc/meminfo", "MemTotal: lots\n"), "input-implausible",
     ("memory", "meminfo_total_bytes", None)),
    ("meminfo-two-memtotals", DEBIAN13, setting("proc/meminfo", "MemTotal: 2977944 kB\nMemTotal: 1977944 kB\n"),
     "input-implausible", ("memory", "meminfo_total_bytes", None)),
    ("meminfo-other-script-digits", DEBIAN13, setting("proc/meminfo", "MemTotal: \u0662\u0669\u0667 kB\n"),
     "input-implausible", ("memory", "meminfo_total_bytes", None)),
    ("meminfo-fifo", DEBIAN13, replace_with("proc/meminfo", os.mkfifo), None, ("memory", "meminfo_total_bytes", None)),
    ("smbios-dimm-too-small", DEBIAN13, setting("sys/firmware/dmi/entries/17-0/raw", smbios_memory_device(512)),
     "input-implausible", NULL_RAM),
    ("smbios-dimm-truncated", DEBIAN13, setting("sys/firmware/dmi/entries/17-0/raw", b"\x11\x28\x00"), None,
     ("memory", "installed_bytes", None)),
    ("smbios-dimm-unknown-size", DEBIAN13, setting("sys/firmware/dmi/entries/17-0/raw", smbios_memory_device(0xFFFF)),
     None, ("memory", "installed_bytes", None)),
    ("smbios-dimm-extended-size", DEBIAN13,
     setting("sys/firmware/dmi/entries/17-0/raw", smbios_memory_device(0x7FFF, 3072)), None,
     ("memory", "installed_bytes", 3 << 30)),
    ("smbios-devices-above-2-pib", DEBIAN13, three_largest_memory_devices,
     "input-implausible", ("memory", "installed_bytes", None)),
    ("smbios-dimm-kib-units", DEBIAN13,
     setting("sys/firmware/dmi/entries/17-0/raw", smbios_memory_device(0x8000 | 1024)), "input-implausible", NULL_RAM),
    ("smbios-entries-of-a-gibibyte-each", DEBIAN13, sparse_smbios_entries(200), "input-implausible",
     ("memory", "installed_bytes", None)),
    ("smbios-5000-memory-devices", DEBIAN13, sparse_smbios_entries(5000, 64), "input-implausible",
     ("memory", "installed_bytes", None)),
    # a vendor that sells VMs and servers: only the hypervisor CPU flag makes it a VM (the crash test's guard)
    ("oracle-bare-metal-server", DEBIAN13, both(
        setting("sys/class/dmi/id/sys_vendor", "Oracle Corporation\n"),
        setting("sys/class/dmi/id/product_name", "ORACLE SERVER X9-2\n"),
        setting("sys/class/dmi/id/bios_vendor", "American Megatrends Inc.\n"),
        setting("sys/class/dmi/id/product_version", "1.0\n"),
        editing("proc/cpuinfo", lambda text: text.replace(" hypervisor", ""))), None,
     ("platform", "virtualization", "none")),
    ("oracle-vm-with-the-hypervisor-flag", DEBIAN13, both(
        setting("sys/class/dmi/id/sys_vendor", "Oracle Corporation\n"),
        setting("sys/class/dmi/id/product_name", "Standard PC\n"),
        setting("sys/class/dmi/id/bios_vendor", "Oracle Corporation\n")), None,
     ("platform", "virtualization", "oracle")),
    ("crash-size-negative", DEBIAN13, setting("sys/kernel/kexec_crash_size", "-5\n"), "input-implausible",
     ("reservation", "kexec_crash_size", None)),
    ("crash-size-without-region", DEBIAN13, setting("sys/kernel/kexec_crash_size", "268435456\n"), "input-implausible",
     ("reservation", "kexec_crash_size", None)),
    ("crash-size-huge", DEBIAN13, setting("sys/kernel/kexec_crash_size", "99999999999999999999999\n"),
     "input-implausible", ("reservation", "kexec_crash_size", None)),
    ("crash-size-text", DEBIAN13, setting("sys/kernel/kexec_crash_size", "abc\n"), "input-implausible",
     ("reservation", "kexec_crash_size", None)),
    ("crash-size-with-plus", DEBIAN13, setting("sys/kernel/kexec_crash_size", "+0\n"), "input-implausible",
     ("reservation", "kexec_crash_size", None)),
    ("crash-size-underscores", ALTRA_MAX, setting("sys/kernel/kexec_crash_size", "805_306_368\n"), "input-implausible",
     ("reservation", "kexec_crash_size", None)),
    ("crash-size-disagrees", ALTRA_MAX, setting("sys/kernel/kexec_crash_size", "536870912\n"), "input-implausible",
     ("reservation", "kexec_crash_size", None)),
    ("crash-size-main-region", ALTRA_MAX, setting("sys/kernel/kexec_crash_size", "805306368\n"), None,
     ("reservation", "kexec_crash_size", 805306368)),
    ("crash-size-both-regions", ALTRA_MAX, setting("sys/kernel/kexec_crash_size", "822083584\n"), None,
     ("reservation", "kexec_crash_size", 822083584)),
    ("crash-size-two-lines", ALTRA_MAX, setting("sys/kernel/kexec_crash_size", "805306368\n805306368\n"),
     "input-implausible", ("reservation", "kexec_crash_size", None)),
    ("crash-size-empty", DEBIAN13, setting("sys/kernel/kexec_crash_size", ""), "input-implausible",
     ("reservation", "kexec_crash_size", None)),
    ("crash-loaded-two-lines", DEBIAN13, setting("sys/kernel/kexec_crash_loaded", "1\n0\n"), "input-implausible",
     ("reservation", "kexec_crash_loaded", None)),
    ("cpu-list-empty", DEBIAN13, setting("sys/devices/system/cpu/online", "\x00"), "input-implausible",
     ("platform", "cpu_count", 2)),
    ("crash-loaded-2", DEBIAN13, setting("sys/kernel/kexec_crash_loaded", "2\n"), "input-implausible",
     ("reservation", "kexec_crash_loaded", None)),
    ("cpu-list-reversed", DEBIAN13, setting("sys/devices/system/cpu/online", "5-1\n"), "input-implausible",
     ("platform", "cpu_count", 2)),
    ("cpu-list-huge", DEBIAN13, setting("sys/devices/system/cpu/online", "0-99999999\n"), "input-implausible",
     ("platform", "cpu_count", 2)),
    ("cpu-list-repeated", DEBIAN13, setting("sys/devices/system/cpu/online", "0-1,0-1\n"), "input-implausible",
     ("platform", "cpu_count", 2)),
    ("cpu-list-superscript", DEBIAN13, setting("sys/devices/system/cpu/online", "0-\u00b2\n"), "input-implausible",
     ("platform", "cpu_count", 2)),
    ("sysrq-superscript", DEBIAN13, setting("proc/sys/kernel/sysrq", "\u00b2\n"), None, ("kernel", "sysrq", None)),
    ("osrelease-5000-digits", DEBIAN13, setting("proc/sys/kernel/osrelease", "9" * 5000 + ".1.0\n"), "input-implausible",
     ("kernel", "version", None)),
    ("osrelease-huge-minor", DEBIAN13, running("6.99999999999999999999-aws"), None,
     ("kernel", "version", None)),
    ("cpu-list-garbage", DEBIAN13, setting("sys/devices/system/cpu/online", "all of them\n"), "input-implausible",
     ("platform", "cpu_count", 2)),
    ("cpuinfo-binary", DEBIAN13, setting("proc/cpuinfo", os.urandom(8192)), None, ("platform", "cpu_count", 2)),
    ("dpkg-version-garbage", DEBIAN13, dpkg_kexec("garbage"), "kexec-tools-version-unknown",
     ("software", "kexec_tools_installed", True)),
    ("dpkg-version-single-number", DEBIAN13, dpkg_kexec("2"), "kexec-tools-version-unknown",
     ("software", "kexec_tools_installed", True)),
    ("makedumpfile-version-garbage", "debian13-arm64-qemu-altra", dpkg_package("makedumpfile", "1:weird"),
     "makedumpfile-version-unknown", ("software", "makedumpfile_version", "weird")),
    ("dmesg-low-limit-absurd", DEBIAN13, setting("var/log/dmesg", "crashkernel low RAM limit: 99999999999999 MB\n"),
     "input-implausible", ("memory", "low_limit_source", "default")),
    ("dmesg-low-limit-zero", DEBIAN13, setting("var/log/dmesg", "crashkernel low RAM limit: 0 MB\n"),
     "input-implausible", ("memory", "low_limit_bytes", 4 << 30)),
    ("dmesg-low-limit-5000-digits", DEBIAN13, setting("var/log/dmesg", "low RAM limit: %s MB\n" % ("9" * 5000)),
     "input-implausible", ("memory", "low_limit_source", "default")),
    ("dpkg-version-empty", DEBIAN13, dpkg_kexec(""), "kexec-tools-version-unknown",
     ("software", "kexec_tools_installed", True)),
    ("dpkg-version-twice", DEBIAN13, dpkg_package("kexec-tools", "1:2.0.25-1\nVersion: 1:2.0.20-1"),
     "kexec-tools-version-unknown", ("software", "kexec_tools_version", "")),
    ("dpkg-status-binary", DEBIAN13, setting("var/lib/dpkg/status", os.urandom(4096)), "input-implausible",
     ("software", "kexec_tools_version", None)),
    ("os-release-binary", DEBIAN13, setting("etc/os-release", os.urandom(2048)), None, ("software", "family", "unknown")),
    # the link is resolved inside the tree (dangling there), so the tree's usr/lib/os-release (13) is read,
    # never this controller's /etc/os-release (Debian 12)
    ("os-release-link-out-of-tree", DEBIAN13, replace_with("etc/os-release", lambda p: os.symlink("/etc/os-release", p)),
     None, ("software", "version", "13")),
    ("config-not-gzip", DEBIAN13, lambda root: (os.unlink(os.path.join(root, "boot/config-6.12.118+deb13-amd64")),
                                                write(root, "proc/config.gz", b"not gzip at all")),
     None, ("kernel", "config", None)),
    ("config-gzip-cut", DEBIAN13, lambda root: (os.unlink(os.path.join(root, "boot/config-6.12.118+deb13-amd64")),
                                                write(root, "proc/config.gz", gzip.compress(b"CONFIG_KEXEC=y\n" * 99)[:40])),
     None, ("kernel", "config", None)),
    ("config-gzip-bomb", DEBIAN13, lambda root: (os.unlink(os.path.join(root, "boot/config-6.12.118+deb13-amd64")),
                                                 write(root, "proc/config.gz", gzip.compress(b"\0" * (65 << 20)))),
     "input-missing", ("kernel", "config", None)),
    ("config-gzip-corrupt", DEBIAN13, config_gz(CORRUPT_GZIP),
     "input-missing", ("kernel", "config", None)),
    ("cmdline-megabytes", DEBIAN13, setting("proc/cmdline", "crashkernel=" * 20000), "input-implausible",
     ("kernel", "crashkernel", [])),
    ("dmesg-two-low-limits", "ampere-altra-mtjade", setting("var/log/dmesg", "low RAM limit: 1024MB\n"
                                                            "low RAM limit: 4096MB\n"),
     "input-implausible", ("memory", "low_limit_source", "default")),
    ("dmesg-low-limit-below-ram", "ampere-altra-mtjade", setting("var/log/dmesg", "low RAM limit: 1024MB\n"),
     "input-implausible", ("memory", "low_limit_source", "default")),
    ("dmesg-low-limit-negative", DEBIAN13, setting("var/log/dmesg", "low RAM limit: -4096MB\n"),
     "input-implausible", ("memory", "low_limit_source", "default")),
    ("arch-x86-on-an-altra", ALTRA_MAX, setting("proc/sys/kernel/arch", "x86_64\n"), "input-implausible",
     ("platform", "arch", None)),
    ("arch-arm64-on-x86", "rhel9-x86_64", setting("proc/sys/kernel/arch", "aarch64\n"), "input-implausible",
     ("platform", "arch", None)),
    ("release-suffix-contradicts-cpu", "ampere-altra-mtjade", setting("proc/sys/kernel/osrelease",
                                                                      "6.8.0-49-generic.x86_64\n"),
     "input-implausible", ("platform", "arch", None)),
    # shapes that made a parser quadratic (a real kallsyms is megabytes): answered in one pass now
    ("kallsyms-one-line-of-text-hits", ALTRA_MAX, setting("proc/kallsyms", "a b c d" + " _text " * 40000), None,
     ("kernel", "kallsyms_text", False)),
    ("dpkg-status-of-package-lines", DEBIAN13, setting("var/lib/dpkg/status", "Package: kexec-tools\n" * 40000),
     "input-implausible",
     ("software", "kexec_tools_version", None)),
    ("osrelease-garbage", DEBIAN13, setting("proc/sys/kernel/osrelease", "banana\n"), "input-implausible",
     ("kernel", "version", None)),
    ("cmdline-fifo", DEBIAN13, replace_with("proc/cmdline", os.mkfifo), "input-missing", ("kernel", "crashkernel", [])),
    ("cmdline-bad-crashkernel", DEBIAN13, setting("proc/cmdline", "root=/dev/vda1 crashkernel=bogus\n"),
     "crashkernel-reservation-failed", ("kernel", "crashkernel", ["crashkernel=bogus"])),
    # the kernel ends a crashkernel= value at a space only: after a tab it refuses the value
    ("cmdline-tab-after-crashkernel", DEBIAN13, setting("proc/cmdline", "root=/dev/vda1 crashkernel=256M\tquiet\n"),
     "crashkernel-reservation-failed", ("kernel", "crashkernel", ["crashkernel=256M\tquiet"])),
    ("iomem-nul-in-a-name", DEBIAN13, editing("proc/iomem", lambda t: t.replace("System RAM", "System\0RAM", 1)),
     "input-implausible", NULL_RAM),
    ("iomem-vertical-tabs-for-newlines", DEBIAN13, editing("proc/iomem", lambda t: t.replace("\n", "\x0b", 3)),
     "input-implausible", NULL_RAM),
    # a kernel has one page size; SMCCC SOC_ID must agree with the cores (MIDR) and SMBIOS it sits next to
    ("config-two-page-sizes", MTJADE, editing(MTJADE_CONFIG, lambda t: t + "CONFIG_ARM64_64K_PAGES=y\n"),
     "input-implausible", ("platform", "page_size", None)),
    # the release names the page size too (-64k): a 4K config under a 64K release belongs to another kernel
    ("release-64k-with-a-4k-config", MTJADE, both(setting("proc/sys/kernel/osrelease", "6.1.0-27-arm64-64k\n"),
                                                  copied(MTJADE, MTJADE_CONFIG, "boot/config-6.1.0-27-arm64-64k")),
     "input-implausible", ("platform", "page_size", None)),
    ("release-64k-with-a-64k-config", MTJADE, both(
        setting("proc/sys/kernel/osrelease", "6.1.0-27-arm64-64k\n"),
        copied(MTJADE, MTJADE_CONFIG, "boot/config-6.1.0-27-arm64-64k", lambda t: t.replace(
            "CONFIG_ARM64_4K_PAGES=y", "CONFIG_ARM64_64K_PAGES=y").replace("# CONFIG_ARM64_64K_PAGES is not set\n", ""))),
     None, ("platform", "page_size", 65536)),
    # the config names its arch (CONFIG_ARM64, CONFIG_X86_64) and its page shift: both must fit the host
    ("config-of-an-arm64-kernel-on-x86", DEBIAN13,
     copied(DEBIAN13_ARM64, "boot/config-6.12.118+deb13-arm64", "boot/config-6.12.118+deb13-amd64"),
     "input-implausible", ("platform", "page_size", None)),
    ("config-page-shift-disagrees", DEBIAN13_ARM64, editing("boot/config-6.12.118+deb13-arm64", lambda t: t.replace(
        "CONFIG_PAGE_SHIFT=12", "CONFIG_PAGE_SHIFT=16")), "input-implausible", ("platform", "page_size", None)),
    ("config-page-shift-agrees", DEBIAN13_ARM64, editing("boot/config-6.12.118+deb13-arm64", lambda t: t),
     None, ("platform", "page_size", 4096)),
    # arm64 RAM that starts at 4 GiB takes the DMA zone, so the low limit, with it (max_zone_phys, 6.12)
    ("arm64-ram-above-4g", DEBIAN13_ARM64, arm64_ram_above_4g, None, ("memory", "low_limit_bytes", 0x1c0000000)),
    # systemd.unit(5) masks: a link to /dev/null, absolute or relative, or an empty unit file; only targets the
    # boot reaches enable a unit
    ("service-masked-by-an-empty-unit", ALTRA_MAX, setting("etc/systemd/system/kdump-tools.service", ""),
     "kdump-service-not-enabled", ("software", "service_enabled", False)),
    ("service-masked-by-a-relative-link", ALTRA_MAX, linking("etc/systemd/system/kdump-tools.service",
                                                             "../../../dev/null"),
     "kdump-service-not-enabled", ("software", "service_enabled", False)),
    ("service-wanted-only-at-shutdown", ALTRA_MAX, both(
        lambda root: os.unlink(os.path.join(root, "etc/systemd/system/multi-user.target.wants/kdump-tools.service")),
        linking("etc/systemd/system/shutdown.target.wants/kdump-tools.service",
                "/lib/systemd/system/kdump-tools.service")),
     "kdump-service-not-enabled", ("software", "service_enabled", False)),
    ("service-unit-overridden-not-masked", ALTRA_MAX, setting("etc/systemd/system/kdump-tools.service",
                                                              "[Service]\nType=oneshot\n"),
     None, ("software", "service_enabled", True)),
    # /etc/default/kdump-tools is sourced by sh: a comment after the value is not part of it
    ("use-kdump-with-a-trailing-comment", ALTRA_MAX, editing("etc/default/kdump-tools", lambda t: t.replace(
        "USE_KDUMP=1", "USE_KDUMP=1\t# enabled by the fleet")), None, ("software", "use_kdump", True)),
    ("use-kdump-quoted-zero-with-a-comment", ALTRA_MAX, editing("etc/default/kdump-tools", lambda t: t.replace(
        "USE_KDUMP=1", "USE_KDUMP='0' # off")), "kdump-disabled-in-config", ("software", "use_kdump", False)),
    ("soc-id-ampereone-on-neoverse-n1", MTJADE, setting("sys/devices/soc0/soc_id", "jep106:0a16:0004\n"),
     "input-implausible", ("platform", "is_altra", None)),
    ("soc-id-mediatek-on-ampere-smbios", MTJADE, setting("sys/devices/soc0/soc_id", "jep106:0426:8192\n"),
     "input-implausible", ("platform", "soc", None)),
    ("soc-id-altra-on-ampereone-cores", AMPEREONE, setting("sys/devices/soc0/soc_id", "jep106:0a16:0001\n"),
     "input-implausible", ("platform", "soc", None)),
    ("soc-id-malformed", MTJADE, setting("sys/devices/soc0/soc_id", "jep106:zzzz:9999\n"), "input-implausible",
     ("platform", "is_altra", None)),
    ("soc-devices-disagree", MTJADE, setting("sys/bus/soc/devices/soc1/soc_id", "jep106:0a16:0004\n"),
     "input-implausible", ("platform", "soc", None)),
    ("cmdline-with-nul-bytes", DEBIAN13, setting("proc/cmdline", "ro\0crashkernel=512M\0quiet\n"), "input-implausible",
     ("kernel", "crashkernel", [])),
    ("cmdline-two-lines", DEBIAN13, setting("proc/cmdline", "ro quiet\ncrashkernel=1G\n"), "input-implausible",
     ("kernel", "cmdline", None)),
    ("crash-kernel-loaded-with-nothing-reserved", DEBIAN13, setting("sys/kernel/kexec_crash_loaded", "1\n"),
     "input-implausible", ("reservation", "kexec_crash_loaded", None)),
    ("arch-riscv64-on-an-amd64-host", DEBIAN13, setting("proc/sys/kernel/arch", "riscv64\n"), "input-implausible",
     ("platform", "arch", None)),
    ("arch-binary-junk", DEBIAN13, setting("proc/sys/kernel/arch", "\xff\xfex86_64\n"), "input-implausible",
     ("platform", "arch", None)),
    ("kexec-tools-version-in-arabic-digits", "debian13-arm64-qemu-altra", dpkg_kexec("\u0662.\u0660.\u0662\u0665"), None,
     ("capabilities", "kexec_multiple_regions", {"supported": None, "why": "kexec-tools version unknown"})),
    ("dpkg-status-empty", DEBIAN13, setting("var/lib/dpkg/status", ""), "input-implausible",
     ("software", "kexec_tools_version", None)),
    ("dpkg-status-crlf-copy", DEBIAN13,
     both(dpkg_kexec("1:2.0.31-1"), editing("var/lib/dpkg/status", lambda t: t.replace("\n", "\r\n"))),
     None, ("software", "kexec_tools_version", "2.0.31")),
    # os-release values become role vars file names: only os-release(5) identifiers are believed
    ("os-release-id-with-a-path", DEBIAN13, setting("etc/os-release", 'ID="../../../../tmp/evil"\nID_LIKE=debian\n'
                                                    'VERSION_ID="12"\n'), "input-implausible",
     ("software", "distro", None)),
    ("os-release-version-with-a-slash", DEBIAN13, setting("etc/os-release", 'ID=debian\nVERSION_ID="13/../x"\n'),
     "input-implausible", ("software", "family", "unknown")),
    # an x86 cpuinfo on a host whose sysfs MIDR is Arm's
    ("cpuinfo-x86-next-to-an-arm-midr", MTJADE, setting("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\n"
                                                        "flags\t\t: fpu lm\n"), "input-implausible",
     ("platform", "arch", None)),
    ("cpu-online-counts-other-cpus-than-cpuinfo", DEBIAN13, setting("sys/devices/system/cpu/online", "0-79\n"),
     "input-implausible", ("platform", "cpu_count", None)),
    ("cpu-online-trailing-comma", DEBIAN13, setting("sys/devices/system/cpu/online", "0-1,\n"), "input-implausible",
     None),
    # the kernel writes one release of at most 64 characters
    ("osrelease-two-lines", DEBIAN13, setting("proc/sys/kernel/osrelease", "6.8.0-49-generic\n5.14.0-427.el9.x86_64\n"),
     "input-implausible", None),
    ("osrelease-longer-than-uname-allows", DEBIAN13, setting("proc/sys/kernel/osrelease", "6.12.0-" + "x" * 5000 + "\n"),
     "input-implausible", None),
    # one symbol set to two values: a config joined from two kernels (the later line would have won)
    ("config-zone-dma-set-and-unset", MTJADE,
     editing(MTJADE_CONFIG, lambda t: t + "# CONFIG_ZONE_DMA is not set\n# CONFIG_ZONE_DMA32 is not set\n"),
     "input-implausible", ("kernel", "config", None)),
    ("installed-rpms-kexec-tools-twice", "aws-graviton2",
     editing("installed-rpms", lambda t: t + "kexec-tools-2.0.20-1.el8.aarch64     Thu 10 Oct 2024\n"),
     "input-implausible", ("software", "kexec_tools_version", "")),
    ("meminfo-crlf-copy", DEBIAN13, editing("proc/meminfo", lambda t: t.replace("\n", "\r\n")), None,
     ("memory", "meminfo_total_bytes", 3049414656)),
    ("cmdline-crlf-copy", DEBIAN13, editing("proc/cmdline", lambda t: t.replace("\n", "\r\n")), None,
     ("kernel", "cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.12.118+deb13-amd64 root=UUID=009282be-792e-404b-9dab-b7393e10dbf5 "
                           "ro console=ttyS0,115200")),
    ("cmdline-carriage-return-inside", DEBIAN13, editing("proc/cmdline", lambda t: t.replace(" ro ", " ro\r")),
     "input-implausible", ("kernel", "cmdline", None)),
    ("iomem-crlf-copy", DEBIAN13, editing("proc/iomem", lambda t: t.replace("\n", "\r\n")), None,
     ("memory", "total_bytes", 3215040512)),
    # os-release against the kernel build and the package database of the same tree
    ("os-release-ubuntu-on-a-rhel-tree", "rhel9-x86_64", setting("etc/os-release", 'ID=ubuntu\nID_LIKE=debian\n'
                                                                 'VERSION_ID="24.04"\n'), "input-implausible",
     ("software", "family", "unknown")),
    ("os-release-rhel-on-a-debian-tree", DEBIAN13, setting("etc/os-release", 'ID=rhel\nVERSION_ID="9.4"\n'),
     "input-implausible", ("software", "distro", None)),
    ("os-release-debian-with-an-el9-kernel", DEBIAN13, running("5.14.0-427.13.1.el9_4.x86_64"),
     "input-implausible", ("software", "family", "unknown")),
    # os-release's VERSION_ID against the kernel build and Debian's own release files
    ("os-release-version-12-on-a-deb13-kernel", DEBIAN13,
     editing("etc/os-release", lambda text: text.replace('VERSION_ID="13"', 'VERSION_ID="12"')), "input-implausible",
     ("software", "version", None)),
    ("os-release-all-of-12-on-a-deb13-kernel", DEBIAN13, both(
        editing("etc/os-release", lambda text: text.replace('VERSION_ID="13"', 'VERSION_ID="12"').replace(
            "trixie", "bookworm")), setting("etc/debian_version", "12.15\n")), "input-implausible",
     ("software", "family", "unknown")),
    ("debian-version-of-another-release", DEBIAN13, setting("etc/debian_version", "12.15\n"), "input-implausible",
     ("software", "distro", None)),
    ("rhel-8-os-release-on-an-el9-kernel", "rhel9-x86_64",
     editing("etc/os-release", lambda text: text.replace('VERSION_ID="9.4"', 'VERSION_ID="8.4"')),
     "input-implausible", ("software", "version", None)),
    # an older kernel than the release is a host upgraded but not yet rebooted: believed
    ("rhel-9-os-release-on-an-el8-kernel", "rhel9-x86_64", setting(
        "uname", "Linux r650 4.18.0-513.el8.x86_64 #1 SMP Mon Jan 1 00:00:00 EST 2024 x86_64 x86_64 x86_64 GNU/Linux\n"),
     None, ("software", "version", "9.4")),
    # the kernel's release as osrelease, a sosreport's uname and proc/version name it
    ("uname-names-another-kernel-than-osrelease", "rhel9-x86_64", both(
        setting("proc/sys/kernel/osrelease", "5.14.0-427.13.1.el9_4.x86_64\n"),
        setting("uname", "Linux r650 4.18.0-513.el8.x86_64 #1 SMP x86_64 GNU/Linux\n")), "input-implausible",
     ("kernel", "release", None)),
    ("proc-version-names-another-kernel", DEBIAN13, setting(
        "proc/version", "Linux version 5.10.0-30-amd64 (debian-kernel@lists.debian.org) #1 SMP Debian 5.10.218-1\n"),
     "input-implausible", ("kernel", "release", None)),
    ("osrelease-with-a-path", DEBIAN13, running("6.12.118+deb13-amd64/../../../tmp"), "input-implausible",
     ("kernel", "release", None)),
    ("osrelease-with-a-command", DEBIAN13, running("6.8.0-49-generic$(touch /tmp/x)"), "input-implausible",
     ("kernel", "release", None)),
    ("osrelease-with-a-nul", DEBIAN13, setting("proc/sys/kernel/osrelease", "6.12.118+deb13-amd64\x00junk\n"),
     "input-implausible", ("kernel", "release", None)),
    ("osrelease-in-arabic-digits", DEBIAN13, running("\u0666.\u0661\u0662.0-1-amd64"), "input-implausible",
     ("kernel", "release", None)),
    ("os-release-id-openeuler-capital", "rhel9-x86_64", setting("etc/os-release", 'ID="openEuler"\n'
                                                                'VERSION_ID="24.03"\n'), None,
     ("software", "distro", "openEuler")),
    # /etc/default/kdump-tools is sourced by sh: an export line sets the variable too
    ("kdump-tools-defaults-export-use-kdump-0", DEBIAN13, setting("etc/default/kdump-tools", "export USE_KDUMP=0\n"),
     None, ("software", "use_kdump", False)),
    # probe 12 S3: kdump-tools installed, its defaults file gone: the init script loads no capture kernel
    ("kdump-tools-defaults-missing", ALTRA_MAX, removing("etc/default/kdump-tools"), "kdump-config-missing",
     ("software", "config_file_present", False)),
    # probe 13 S1: a config that is a directory or binary configures nothing (dash sources a directory silently)
    ("kdump-tools-defaults-a-directory", ALTRA_MAX, replace_with("etc/default/kdump-tools", os.makedirs),
     "kdump-config-missing", ("software", "use_kdump", None)),
    ("kdump-conf-a-directory", "aws-graviton2", replace_with("etc/kdump.conf", os.makedirs), "kdump-config-missing",
     ("software", "config_file_present", False)),
    ("kdump-conf-binary", "aws-graviton2", setting("etc/kdump.conf", bytes(range(256)) * 2), "kdump-config-missing",
     ("software", "config_file_present", False)),
    # probe 12 M12: kdump-tools tests [ "$USE_KDUMP" -ne 0 ]: any non-zero number enables it, unset disables it
    ("kdump-tools-use-kdump-2", ALTRA_MAX, setting("etc/default/kdump-tools", "USE_KDUMP=2\n"), None,
     ("software", "use_kdump", True)),
    ("kdump-tools-use-kdump-01", ALTRA_MAX, setting("etc/default/kdump-tools", "USE_KDUMP=01\n"), None,
     ("software", "use_kdump", True)),
    ("kdump-tools-use-kdump-unset", ALTRA_MAX, setting("etc/default/kdump-tools", "KDUMP_COREDIR=/var/crash\n"),
     "kdump-disabled-in-config", ("software", "use_kdump", False)),
    ("kdump-tools-use-kdump-word", ALTRA_MAX, setting("etc/default/kdump-tools", "USE_KDUMP=yes\n"),
     "kdump-disabled-in-config", ("software", "use_kdump", False)),
    # probe 12 S4: the running kernel's own config contradicts the installed one for the same release
    ("proc-config-gz-contradicts-boot-config", ALTRA_MAX, running_config_gz(
        lambda text: text.replace("CONFIG_CRASH_DUMP=y", "# CONFIG_CRASH_DUMP is not set")), "input-implausible",
     ("kernel", "config", None)),
    ("proc-config-gz-agrees-with-boot-config", ALTRA_MAX, running_config_gz(lambda text: text), None,
     ("kernel", "config_source", "/boot/config-6.8.0-49-generic")),
    # one package installed twice at different versions: dpkg keeps one stanza per package, so two trees were merged
    ("dpkg-status-kexec-tools-twice", DEBIAN13, both(dpkg_kexec("1:2.0.31-1"), dpkg_kexec("1:2.0.25-1")),
     "input-implausible", ("software", "kexec_tools_version", "")),
    ("dpkg-status-kexec-tools-twice-same-version", DEBIAN13, both(dpkg_kexec("1:2.0.31-1"), dpkg_kexec("1:2.0.31-1")),
     None, ("software", "kexec_tools_version", "2.0.31")),
    # cpuinfo and sysfs both describe CPU 0
    ("midr-sysfs-differs-from-cpuinfo", MTJADE, setting("sys/devices/system/cpu/cpu0/regs/identification/midr_el1",
                                                        "0x00000000481fd010\n"), "input-implausible",
     ("platform", "cpu_part", None)),
    # SoC vendors named by different sources
    ("dmi-amazon-ec2-with-altra-family", "aws-graviton2", setting("sys/class/dmi/id/product_family", "Altra\n"),
     "input-implausible", ("platform", "soc", None)),
    ("dmi-amazon-ec2-on-an-altra", MTJADE, setting("sys/class/dmi/id/sys_vendor", "Amazon EC2\n"),
     "input-implausible", ("platform", "is_altra", None)),
    # an SMBIOS processor record whose manufacturer, version and part name different makers or SoCs
    ("smbios-graviton2-version-on-an-altra-max-part", ALTRA_MAX, smbios_strings(SMBIOS_CPU, {
        b"Ampere(R) Altra(R) Max Processor": b"AWS Graviton2 Processor"}), "input-implausible", ("platform", "is_altra", None)),
    ("smbios-intel-manufacturer-of-an-altra-max", ALTRA_MAX, smbios_strings(SMBIOS_CPU, {b"Ampere(R)": b"Intel(R) Corporation"}),
     "input-implausible", ("platform", "soc", None)),
    ("smbios-second-socket-names-another-soc", ALTRA_MAX, both(
        copied(ALTRA_MAX, SMBIOS_CPU, "sys/firmware/dmi/entries/4-1/raw"),
        smbios_strings("sys/firmware/dmi/entries/4-1/raw", {b"Ampere(R) Altra(R) Max Processor": b"AWS Graviton2 Processor",
                                                            b"Ampere(R)": b"Amazon", b"M128-30": b"G2"})),
     "input-implausible", ("platform", "soc", None)),
    # a SoC named by SMBIOS or DMI whose cores are not the ones the MIDR shows
    ("smbios-altra-max-on-ampereone-cores", ALTRA_MAX, both(copied(AMPEREONE, "proc/cpuinfo"), copied(AMPEREONE, MIDR)),
     "input-implausible", ("platform", "is_altra", None)),
    ("dmi-altra-max-family-on-ampereone-cores", AMPEREONE, setting("sys/class/dmi/id/product_family", "Altra Max\n"),
     "input-implausible", ("platform", "soc", None)),
    ("smbios-altra-max-on-neoverse-v1-cores", ALTRA_MAX,
     both(editing("proc/cpuinfo", lambda t: t.replace("0xd0c", "0xd40")), editing(MIDR, lambda t: t.replace("d0c", "d40"))),
     "input-implausible", ("platform", "vendor", None)),
    ("dmi-altra-family-agreeing-with-soc-id", MTJADE,
     both(setting("sys/class/dmi/id/product_family", "Altra\n"), setting("sys/devices/soc0/soc_id", "jep106:0a16:0001\n")),
     None, ("platform", "soc", "altra")),
]


def run_bounded(root, seconds=30):
    def expired(_signum, _frame):
        raise AssertionError("kdump_facts did not return within %d s (a file blocked it)" % seconds)
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        return gather_facts(root)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name, tree, mutate, finding, value", CASES, ids=[case[0] for case in CASES])
def test_corrupted_tree(tmp_path, name, tree, mutate, finding, value):
    root = str(tmp_path / name)
    shutil.copytree(os.path.join(HOSTS, tree), root, symlinks=True)
    mutate(root)
    facts = run_bounded(root)
    ids = [item["id"] for item in facts["findings"]]
    if finding is not None:
        assert finding in ids, ids
    if finding != "input-implausible":
        assert "input-implausible" not in ids, facts["findings"]
    if value is not None:
        section, key, expected = value
        assert facts[section][key] == expected


def test_implausible_finding_names_the_file_and_why(tmp_path):
    root = str(tmp_path / "t")
    shutil.copytree(os.path.join(HOSTS, DEBIAN13), root, symlinks=True)
    setting("proc/meminfo", MEMTOTAL_DOUBLE)(root)
    found = [item for item in run_bounded(root)["findings"] if item["id"] == "input-implausible"]
    assert len(found) == 1 and found[0]["severity"] == "error"
    assert found[0]["message"].startswith("/proc/meminfo cannot be believed: MemTotal (7812 MiB) is more than")
    assert "nothing is planned" in found[0]["fix"]


@pytest.mark.parametrize("tree, mutate, words", [
    ("rhel9-x86_64", setting("etc/os-release", "ID=ubuntu\nVERSION_ID=24.04\n"), ("/etc/os-release", "redhat build")),
    ("rhel9-x86_64", both(setting("etc/os-release", "ID=ubuntu\nVERSION_ID=24.04\n"), setting("uname", "Linux h 6.12.9 #1")),
     ("/etc/os-release", "rpm package list and no dpkg status")),
    (DEBIAN13, running("5.14.0-427.el9.x86_64"), ("/etc/os-release", "redhat build")),
    ("aws-graviton2", setting("sys/class/dmi/id/product_family", "Altra\n"),
     ("/sys/class/dmi/id/product_family", "DMI sys_vendor 'Amazon EC2' is amazon's", "is ampere's")),
    (AMPEREONE, setting("sys/class/dmi/id/product_family", "Altra Max\n"),
     ("/sys/class/dmi/id/product_family", "names altra_max, whose cores have MIDR 0x41/0xd0c", "MIDR is 0xc0/0xac3")),
])
def test_contradiction_names_both_sources(tmp_path, tree, mutate, words):
    root = str(tmp_path / "t")
    shutil.copytree(os.path.join(HOSTS, tree), root, symlinks=True)
    mutate(root)
    messages = [item["message"] for item in run_bounded(root)["findings"] if item["id"] == "input-implausible"]
    assert len(messages) == 1 and all(word in messages[0] for word in words), messages


@pytest.mark.parametrize("tree, rel, text", [
    (MTJADE, "sys/devices/soc0/soc_id", "jep106:0a16:0004\n"),
    (MTJADE, "sys/class/dmi/id/sys_vendor", "Amazon EC2\n"),
    (MTJADE, MTJADE_CONFIG, None),
])
def test_contradictory_soc_or_page_size_give_no_plan(tmp_path, tree, rel, text):
    from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel import plan
    root = str(tmp_path / "t")
    shutil.copytree(os.path.join(HOSTS, tree), root, symlinks=True)
    (setting(rel, text) if text else editing(rel, lambda t: t + "CONFIG_ARM64_16K_PAGES=y\n"))(root)
    facts = run_bounded(root)
    result = plan(facts, "auto") if text else plan(facts, "kdump-utils")
    if text:
        assert result["args"] == [] and result["expected"]["cause"] == "facts-incomplete"
    else:  # page size unknown: kdump-utils adds nothing for 64K pages, and the facts block the host
        assert "input-implausible" in [item["id"] for item in facts["findings"]]
        assert facts["platform"]["page_size"] is None


def test_implausible_facts_give_no_plan(tmp_path):
    from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel import plan
    root = str(tmp_path / "t")
    shutil.copytree(os.path.join(HOSTS, DEBIAN13), root, symlinks=True)
    editing("proc/iomem", lambda t: t + t)(root)
    result = plan(run_bounded(root))
    assert result["args"] == [] and result["expected"]["cause"] == "facts-incomplete"
