# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Platform identification: architecture, CPU (MIDR), SoC, SMBIOS processor, DMI, virtualization.

Ampere Altra, Altra Max and AWS Graviton2 share the Neoverse N1 MIDR (0x41/0xd0c), so the SoC is
told apart by stronger evidence first: the SMCCC SOC_ID (sysfs soc0, or the SMBIOS processor ID),
then the SMBIOS type 4 strings, then DMI system strings, and the MIDR last.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
import struct

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import canonical_arch, decimal, is_arm64, release_arch

# MIDR implementer codes (Arm ARM, MIDR_EL1.Implementer) -> vendor name used in the facts
IMPLEMENTERS = {
    0x41: "arm", 0x42: "broadcom", 0x43: "cavium", 0x46: "fujitsu", 0x48: "hisilicon",
    0x4e: "nvidia", 0x50: "ampere", 0x51: "qualcomm", 0x61: "apple", 0x6d: "microsoft",
    0x70: "phytium", 0xc0: "ampere",
}

# (implementer, part) -> soc, only where the MIDR alone names the SoC
MIDR_SOCS = {
    (0xc0, 0xac3): "ampereone",
    (0xc0, 0xac4): "ampereone",
    (0x50, 0x000): "emag",
    (0x48, 0xd01): "kunpeng920",
}

# Arm core parts used by AWS Graviton generations (valid only once DMI says "Amazon EC2")
GRAVITON_PARTS = {0xd08: "graviton", 0xd0c: "graviton2", 0xd40: "graviton3", 0xd4f: "graviton4"}

# SMCCC SOC_ID values: JEP106 family -> vendor; full id -> soc
SOC_ID_FAMILIES = {"jep106:0a16": "ampere", "jep106:0426": "mediatek"}
SOC_IDS = {"jep106:0a16:0001": "altra", "jep106:0a16:0004": "ampereone"}
GENERIC_SOC_FAMILIES = ("jep106:091e",)  # Arm's value: says nothing about the SoC

MAX_INSTALLED = 1 << 51  # 2 PiB: what one SMBIOS memory device's extended size field can say
MAX_CPUS = 1 << 16  # above any NR_CPUS a distribution builds (8192 on x86 MAXSMP, 4096 on arm64)
ALTRA_MAX_CORES = 128
ALTRA_CORES = 80

# systemd's DMI vendor table (detect-virt), checked in product_name, sys_vendor, board_vendor, bios_vendor, product_version
DMI_VIRT_VENDORS = (
    ("KVM", "kvm"), ("OpenStack", "kvm"), ("KubeVirt", "kvm"), ("Amazon EC2", "amazon"), ("QEMU", "qemu"),
    ("VMware", "vmware"), ("VMW", "vmware"), ("innotek GmbH", "oracle"), ("VirtualBox", "oracle"),
    ("Oracle Corporation", "oracle"), ("Xen", "xen"), ("Bochs", "bochs"), ("Parallels", "parallels"),
    ("BHYVE", "bhyve"), ("Hyper-V", "microsoft"), ("Apple Virtualization", "apple"),
    ("Google Compute Engine", "google"),
)

AMBIGUOUS_VIRT_VENDORS = ("Oracle Corporation",)  # a VM vendor that also sells bare-metal servers

X86_VENDORS = {
    "GenuineIntel": "intel", "AuthenticAMD": "amd", "HygonGenuine": "hygon", "CentaurHauls": "zhaoxin",
    "  Shanghai  ": "zhaoxin",
}

SMBIOS_PROCESSOR_TYPE = 4
SMBIOS_CHAR_ARM64_SOC_ID = 0x0200
SMBIOS_STATUS_POPULATED = 0x40


def _hex(value: Optional[int], width: int) -> Optional[str]:
    return None if value is None else "0x%0*x" % (width, value)


def _to_int(text: Optional[str]) -> Optional[int]:
    if text is None:
        return None
    try:
        return int(text.strip(), 0)
    except ValueError:
        return None


# cpuinfo key -> (field, largest value its MIDR_EL1 bits can hold)
MIDR_FIELD_TOP = {"CPU implementer": ("implementer", 0xff), "CPU variant": ("variant", 0xf),
                  "CPU part": ("part", 0xfff), "CPU revision": ("revision", 0xf)}


def parse_cpuinfo(text: Optional[str]) -> Dict[str, Any]:
    """Summary of /proc/cpuinfo: processor count and the first processor's identity (arm64 or x86)."""
    info: Dict[str, Any] = {
        "processors": 0, "implementer": None, "variant": None, "part": None, "revision": None,
        "vendor_id": None, "model_name": None, "flags": [], "features": [],
    }
    if not text:
        return info
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        value = value.strip()
        if key == "processor" and value.isdigit():
            info["processors"] += 1
        elif key in MIDR_FIELD_TOP and info[MIDR_FIELD_TOP[key][0]] is None:
            name, top = MIDR_FIELD_TOP[key]
            number = _to_int(value)
            info[name] = number if number is not None and 0 <= number <= top else None
        elif key == "vendor_id" and info["vendor_id"] is None:
            info["vendor_id"] = value
        elif key == "model name" and info["model_name"] is None:
            info["model_name"] = value
        elif key == "flags" and not info["flags"]:
            info["flags"] = value.split()
        elif key == "Features" and not info["features"]:
            info["features"] = value.split()
    return info


def parse_midr(text: Optional[str]) -> Optional[Dict[str, int]]:
    """Fields of a MIDR_EL1 value as sysfs prints it (0x00000000413fd0c1)."""
    value = _to_int(text)
    if value is None or value <= 0 or value > 0xffffffffffffffff:
        return None
    return {
        "implementer": (value >> 24) & 0xff, "variant": (value >> 20) & 0xf,
        "part": (value >> 4) & 0xfff, "revision": value & 0xf,
    }


def parse_cpu_list(text: Optional[str]) -> Optional[int]:
    """Number of CPUs in a sysfs list such as '0-79' or '0-3,8-11'."""
    if not text:
        return None
    count = 0
    previous = -1
    if not re.match(r"^[0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*$", text.strip()):
        return None  # the kernel writes '0-3,8-11': no spaces inside, no empty chunk
    for chunk in text.strip().split(","):
        low, sep, high = chunk.partition("-")
        first = decimal(low, 6)
        last = decimal(high, 6) if sep else first
        if first is None or last is None or last < first or first <= previous:
            return None  # not a list the kernel writes: ranges ascend and never repeat
        count += last - first + 1
        previous = last
    return count if 0 < count <= MAX_CPUS else None


def parse_smbios_structure(blob: Optional[bytes]) -> Optional[Tuple[int, bytes, List[str]]]:
    """(type, formatted area, strings) of one SMBIOS structure; None when not even the header is there.

    A truncated formatted area is kept as far as it goes; strings are read up to the double NUL.
    """
    if not blob or len(blob) < 4:
        return None
    length = blob[1]
    if length < 4:
        return None
    formatted = blob[:length]
    area = blob[length:]
    end = area.find(b"\x00\x00")
    if end == 0:
        raw_strings: List[bytes] = []
    else:
        raw_strings = (area if end < 0 else area[:end]).split(b"\x00")
    strings = [raw.decode("utf-8", "replace").strip() for raw in raw_strings]
    return blob[0], formatted, strings


def _smbios_byte(formatted: bytes, offset: int) -> Optional[int]:
    return formatted[offset] if offset < len(formatted) else None


def _smbios_word(formatted: bytes, offset: int) -> Optional[int]:
    if offset + 2 > len(formatted):
        return None
    return struct.unpack_from("<H", formatted, offset)[0]


def _smbios_string(formatted: bytes, strings: List[str], offset: int) -> Optional[str]:
    index = _smbios_byte(formatted, offset)
    if not index or index > len(strings):
        return None
    return strings[index - 1] or None


SMBIOS_MEMORY_DEVICE_TYPE = 17


def parse_smbios_memory_device(blob: Optional[bytes]) -> Optional[int]:
    """Bytes of one SMBIOS type 17 memory device: 0 for an empty slot, None when unknown or unreadable.
    Size word at 0x0C (bit 15: KiB units, 0x7FFF: extended size in MiB at 0x1C, 0xFFFF: unknown)."""
    parsed = parse_smbios_structure(blob)
    if parsed is None or parsed[0] != SMBIOS_MEMORY_DEVICE_TYPE:
        return None
    formatted = parsed[1]
    size = _smbios_word(formatted, 0x0C)
    if size is None or size == 0xFFFF:
        return None
    if size == 0x7FFF:
        if len(formatted) < 0x20:
            return None
        return (struct.unpack_from("<I", formatted, 0x1C)[0] & 0x7FFFFFFF) << 20
    if size & 0x8000:
        return (size & 0x7FFF) << 10
    return size << 20


SMBIOS_ENTRY_MAX = 64 * 1024  # one structure: a formatted area of at most 255 bytes and its strings
SMBIOS_ENTRIES_MAX = 4096  # entries of one type (a large server has a few hundred memory devices)


def smbios_entries(tree: Any, smbios_type: int) -> List[Optional[bytes]]:
    """The raw sysfs DMI entries of one SMBIOS type (None for one that cannot be read); none (and an
    input-implausible entry) when one is larger than any SMBIOS structure or there are more than any machine has."""
    names = [entry for entry in tree.listdir("sys/firmware/dmi/entries") if entry.startswith("%d-" % smbios_type)]
    if len(names) > SMBIOS_ENTRIES_MAX:
        tree.implausible.append(("sys/firmware/dmi/entries", "it holds %d entries of SMBIOS type %d, more than %d"
                                 % (len(names), smbios_type, SMBIOS_ENTRIES_MAX)))
        return []
    found: List[Optional[bytes]] = []
    for entry in names:
        raw = tree.read_bytes("sys/firmware/dmi/entries/%s/raw" % entry, max_bytes=SMBIOS_ENTRY_MAX + 1)
        if raw is not None and len(raw) > SMBIOS_ENTRY_MAX:
            tree.implausible.append(("sys/firmware/dmi/entries", "entry %s is larger than %d KiB, which no SMBIOS "
                                     "structure is" % (entry[:40], SMBIOS_ENTRY_MAX >> 10)))
            return []
        found.append(raw)
    return found


def installed_memory(tree: Any) -> Optional[int]:
    """Sum of the SMBIOS memory devices (sysfs DMI entries); None unless every device's size is known."""
    sizes = [parse_smbios_memory_device(raw) for raw in smbios_entries(tree, 17)]
    if not sizes or any(size is None for size in sizes):
        return None
    total = sum(size for size in sizes if size is not None)
    if total > MAX_INSTALLED:
        tree.implausible.append(("sys/firmware/dmi/entries", "its memory devices add up to %d PiB, more than any "
                                 "machine holds" % (total >> 50)))
        return None
    return total or None


def soc_id_from_version(value: int) -> Optional[str]:
    """SMCCC SOC_ID version word (JEP106 bank bits 30:24, id 22:16, SoC 15:0) as 'jep106:BBII:SSSS'."""
    if value < 0 or value & 0x80000000:
        return None
    bank = (value >> 24) & 0x7f
    ident = (value >> 16) & 0x7f
    if not ident:
        return None
    return "jep106:%02x%02x:%04x" % (bank, ident, value & 0xffff)


def parse_smbios_processor(blob: Optional[bytes]) -> Optional[Dict[str, Any]]:
    """SMBIOS type 4 (Processor Information) from a raw entry blob; None when it is not one.

    Offsets follow the SMBIOS specification (DSP0134). Fields past a short formatted area are None.
    """
    parsed = parse_smbios_structure(blob)
    if parsed is None or parsed[0] != SMBIOS_PROCESSOR_TYPE:
        return None
    _type, formatted, strings = parsed
    processor_id = None
    if len(formatted) >= 0x10:
        processor_id = struct.unpack_from("<Q", formatted, 0x08)[0]
    core_count = _smbios_byte(formatted, 0x23)
    if core_count == 0xff:
        core_count = _smbios_word(formatted, 0x2a)
    thread_count = _smbios_byte(formatted, 0x25)
    if thread_count == 0xff:
        thread_count = _smbios_word(formatted, 0x2e)
    status = _smbios_byte(formatted, 0x18)
    characteristics = _smbios_word(formatted, 0x26)
    return {
        "socket": _smbios_string(formatted, strings, 0x04),
        "manufacturer": _smbios_string(formatted, strings, 0x07),
        "version": _smbios_string(formatted, strings, 0x10),
        "part": _smbios_string(formatted, strings, 0x22),
        "core_count": core_count or None,
        "thread_count": thread_count or None,
        "populated": None if status is None else bool(status & SMBIOS_STATUS_POPULATED),
        "processor_id": processor_id,
        "soc_id_flag": None if characteristics is None else bool(characteristics & SMBIOS_CHAR_ARM64_SOC_ID),
        "max_speed_mhz": _smbios_word(formatted, 0x14) or None,
    }


def parse_smbios_table(blob: Optional[bytes]) -> List[Dict[str, Any]]:
    """Every type 4 structure of a whole SMBIOS table (/sys/firmware/dmi/tables/DMI)."""
    found: List[Dict[str, Any]] = []
    if not blob:
        return found
    offset = 0
    while offset + 4 <= len(blob):
        kind, length = blob[offset], blob[offset + 1]
        if length < 4 or kind == 127:
            break
        end = blob.find(b"\x00\x00", offset + length)
        if end < 0:
            end = len(blob) - 2
        chunk = blob[offset:end + 2]
        if kind == SMBIOS_PROCESSOR_TYPE:
            processor = parse_smbios_processor(chunk)
            if processor is not None:
                found.append(processor)
        offset = end + 2
    return found


def parse_dmidecode(text: Optional[str]) -> Dict[str, Any]:
    """System, base board and processor strings from `dmidecode` text (as a sosreport stores it)."""
    result: Dict[str, Any] = {"system": {}, "baseboard": {}, "processors": []}
    if not text:
        return result
    section: Optional[Dict[str, Any]] = None
    for line in text.splitlines():
        stripped = line.strip()
        if not line.startswith(("\t", " ")):
            if stripped == "System Information":
                section = result["system"]
            elif stripped == "Base Board Information":
                section = result["baseboard"]
            elif stripped == "Processor Information":
                section = {}
                result["processors"].append(section)
            else:
                section = None
            continue
        if section is None:
            continue
        key, sep, value = stripped.partition(":")
        if sep and value.strip():
            section.setdefault(key.strip(), value.strip())
    return result


def _normalize(text: Optional[str]) -> str:
    text = (text or "").lower()
    text = re.sub(r"\((r|tm|c)\)", " ", text)
    return " ".join(text.split())


def _smbios_soc(version: Optional[str], part: Optional[str]) -> Optional[str]:
    name = _normalize(version)
    part_name = (part or "").strip().upper()
    if "altra max" in name or "altramax" in name:
        return "altra_max"
    if "altra" in name:
        return "altra"
    if "ampereone" in name or "ampere one" in name:
        return "ampereone"
    if "emag" in name:
        return "emag"
    match = re.search(r"graviton\s*(\d*)", name)
    if match:
        return "graviton" + match.group(1)
    if re.match(r"^M\d{2,3}-\d", part_name):
        return "altra_max"
    if re.match(r"^Q\d{2}-\d", part_name):
        return "altra"
    return None


def _smbios_vendor(manufacturer: Optional[str], version: Optional[str]) -> Optional[str]:
    name = _normalize(manufacturer) + " " + _normalize(version)
    if "ampere" in name:
        return "ampere"
    if "amazon" in name or "aws" in name.split() or "graviton" in name:
        return "amazon"
    return None


def identify_soc(arch: Optional[str],
                 cpu: Dict[str, Any],
                 soc_id: Optional[str],
                 smbios: List[Dict[str, Any]],
                 dmi: Dict[str, Optional[str]],
                 cpu_count: Optional[int],
                 sockets: Optional[int]) -> Dict[str, Any]:
    """vendor, soc, is_altra and the evidence used. x86_64: soc None. arm64 without evidence: 'unknown'."""
    implementer = cpu.get("implementer")
    part = cpu.get("part")
    evidence: List[str] = []
    if not is_arm64(arch):
        vendor_id = cpu.get("vendor_id")
        x86_vendor = X86_VENDORS.get(vendor_id or "", "unknown") if vendor_id else "unknown"
        return {"vendor": x86_vendor, "soc": None, "is_altra": False,
                "evidence": ["cpuinfo vendor_id %s" % vendor_id] if vendor_id else []}

    vendor: Optional[str] = None
    soc: Optional[str] = None
    if soc_id:
        family = ":".join(soc_id.split(":")[:2])
        if soc_id in SOC_IDS:
            soc = SOC_IDS[soc_id]
            evidence.append("SOC_ID %s" % soc_id)
        if family in SOC_ID_FAMILIES:
            vendor = SOC_ID_FAMILIES[family]
            if soc is None:
                evidence.append("SOC_ID family %s" % family)
    first = smbios[0] if smbios else {}
    smbios_soc = _smbios_soc(first.get("version"), first.get("part")) if first else None
    smbios_vendor = _smbios_vendor(first.get("manufacturer"), first.get("version")) if first else None
    if smbios_soc and (soc is None or (soc == "altra" and smbios_soc == "altra_max")):
        soc = smbios_soc
        evidence.append("SMBIOS processor %r" % (first.get("version") or first.get("part")))
    if vendor is None and smbios_vendor:
        vendor = smbios_vendor
        if soc is None:
            evidence.append("SMBIOS manufacturer %r" % first.get("manufacturer"))
    sys_vendor = (dmi.get("sys_vendor") or "").strip()
    if sys_vendor.startswith("Amazon EC2"):
        if vendor is None:
            vendor = "amazon"
        if soc is None and implementer == 0x41 and part in GRAVITON_PARTS:
            soc = GRAVITON_PARTS[part]
            evidence.append("DMI sys_vendor 'Amazon EC2' + MIDR part 0x%03x" % part)
    family = (dmi.get("product_family") or "").strip()
    if soc is None and family.lower() in ("altra", "altra max"):
        soc = "altra_max" if "max" in family.lower() else "altra"
        vendor = vendor or "ampere"
        evidence.append("DMI product_family %r" % dmi["product_family"])
    if soc is None and implementer is not None and part is not None and (implementer, part) in MIDR_SOCS:
        soc = MIDR_SOCS[(implementer, part)]
        evidence.append("MIDR 0x%02x/0x%03x" % (implementer, part))
    if vendor is None:
        vendor = IMPLEMENTERS.get(implementer, "unknown") if implementer is not None else "unknown"
    if soc == "altra" and smbios_soc is None:
        # SOC_ID and DMI say "Altra" for both models: the core count per socket decides
        cores = first.get("core_count") if first else None
        if cores is None and cpu_count:
            cores = cpu_count // (sockets or 1)
        if cores is not None and cores > ALTRA_CORES:
            soc = "altra_max"
            evidence.append("%d cores per socket (Altra has at most %d)" % (cores, ALTRA_CORES))
    if soc is None:
        soc = "unknown"
        if implementer is not None:
            evidence.append("MIDR 0x%02x/0x%03x alone does not name the SoC" % (implementer, part or 0))
    if soc.startswith("graviton"):
        vendor = "amazon"
    if soc in ("altra", "altra_max", "ampereone", "emag"):
        vendor = "ampere"
    return {"vendor": vendor, "soc": soc, "is_altra": soc in ("altra", "altra_max"), "evidence": evidence}


def detect_virtualization(dmi: Dict[str, Optional[str]],
                          cpu_flags: List[str],
                          hypervisor_type: Optional[str],
                          dt_hypervisor: Optional[str],
                          have_evidence: bool = True) -> Optional[str]:
    """systemd-detect-virt style name from files only: none, kvm, qemu, amazon, xen, vm-other, ..."""
    if hypervisor_type and hypervisor_type.strip() == "xen":
        return "xen"
    if dt_hypervisor:
        lowered = dt_hypervisor.lower()
        for needle, name in (("linux,kvm", "kvm"), ("xen", "xen"), ("vmware", "vmware")):
            if needle in lowered:
                return name
    product = dmi.get("product_name") or ""
    if (dmi.get("sys_vendor") or "").startswith("Microsoft Corporation") and product.startswith("Virtual Machine"):
        return "microsoft"
    for field in ("product_name", "sys_vendor", "board_vendor", "bios_vendor", "product_version"):
        value = dmi.get(field) or ""
        for prefix, name in DMI_VIRT_VENDORS:
            if value.startswith(prefix):
                if name == "amazon" and product.endswith(".metal"):
                    return "none"
                if prefix in AMBIGUOUS_VIRT_VENDORS and "hypervisor" not in cpu_flags:
                    continue  # Oracle's own servers say "Oracle Corporation" too: a VM needs the hypervisor flag
                return name
    if "hypervisor" in cpu_flags:
        return "vm-other"
    return "none" if have_evidence else None


def _release_page_size(release: Optional[str], arch: Optional[str]) -> Optional[int]:
    """The page size a kernel release names (-64k, +16k), None when it names none."""
    if not is_arm64(arch) or not release:
        return None
    lowered = release.lower()
    if "64k" in lowered:
        return 65536
    if "16k" in lowered:
        return 16384
    return None


CONFIG_ARCH_SYMBOLS = (("CONFIG_X86_64", "x86_64"), ("CONFIG_ARM64", "aarch64"))  # the arch a config was built for


def page_size_from(config: Optional[Dict[str, Optional[str]]],
                   release: Optional[str],
                   arch: Optional[str]) -> Tuple[Optional[int], Optional[str]]:
    """Kernel page size from the kernel config, else from release naming (-64k, el7/el8 aarch64); and why
    the config cannot be believed (more than one page size set, or not the one the release names), or None."""
    named = _release_page_size(release, arch)
    if config:
        chosen = [(size, symbol) for size, symbol in ((65536, "CONFIG_ARM64_64K_PAGES"),
                                                      (16384, "CONFIG_ARM64_16K_PAGES"),
                                                      (4096, "CONFIG_ARM64_4K_PAGES")) if config.get(symbol) == "y"]
        if len(chosen) > 1:
            return None, "it sets %s: a kernel has one page size" % " and ".join(symbol + "=y" for _s, symbol in chosen)
        if chosen and named is not None and named != chosen[0][0]:
            return None, "it sets %s=y, but the kernel release %r names %d KiB pages: the config of another kernel" \
                % (chosen[0][1], (release or "")[:80], named // 1024)
        built_for = [name for symbol, name in CONFIG_ARCH_SYMBOLS if config.get(symbol) == "y"]
        host = canonical_arch(arch) or arch
        if built_for and host in ("x86_64", "aarch64") and built_for[0] != host:
            return None, "it is the config of an %s kernel, but the host is %s" % (built_for[0], arch)
        shift_symbol = "CONFIG_ARM64_PAGE_SHIFT" if config.get("CONFIG_ARM64_PAGE_SHIFT") else "CONFIG_PAGE_SHIFT"
        shift = config.get(shift_symbol) or ""
        if chosen and shift.isdigit() and int(shift) < 32 and 1 << int(shift) != chosen[0][0]:
            return None, "it sets %s=y and %s=%s (%d KiB pages): a kernel has one page size" % (
                chosen[0][1], shift_symbol, shift, (1 << int(shift)) // 1024)
        if chosen:
            return chosen[0][0], None
    if arch == "x86_64":
        return 4096, None
    if named is not None:
        return named, None
    if is_arm64(arch) and release and re.search(r"\.el[78]", release.lower()):
        return 65536, None
    return None, None


def arch_evidence(release: Optional[str], cpu: Dict[str, Any]) -> Dict[str, str]:
    """{source: arch} that the kernel release's suffix and cpuinfo's identity say, where they say one."""
    found = {}
    named = release_arch(release)
    if named:
        found["the kernel release"] = named
    x86 = cpu.get("vendor_id") in ("GenuineIntel", "AuthenticAMD", "HygonGenuine", "CentaurHauls")
    if x86:
        found["/proc/cpuinfo"] = "x86_64"
    if cpu.get("implementer") is not None:  # an Arm MIDR (cpuinfo or sysfs midr_el1) next to an x86 vendor_id
        found["the MIDR (midr_el1)" if x86 else "/proc/cpuinfo"] = "aarch64"
    return found


ARCH_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,15}$")


def arch_contradiction(arch: Optional[str], release: Optional[str], cpu: Dict[str, Any]) -> Optional[str]:
    """Why the architecture read contradicts the release suffix or the CPU identity, or is no uname -m
    name at all, else None."""
    if arch is None:
        return None
    if not ARCH_NAME_RE.match(arch):
        return "%r is not an architecture name (uname -m)" % arch[:40]
    others = dict((source, said) for source, said in arch_evidence(release, cpu).items() if said != arch)
    if not others:
        return None
    return "it says %s, but %s" % (arch, " and ".join("%s says %s" % item for item in sorted(others.items())))


def arch_from(kernel_arch: Optional[str],
              uname_text: Optional[str],
              release: Optional[str],
              cpu: Dict[str, Any]) -> Optional[str]:
    """uname -m style architecture from the best available file."""
    if kernel_arch:
        return kernel_arch.strip()
    if uname_text:
        for token in reversed(uname_text.split()):
            if token in ("aarch64", "x86_64", "ppc64le", "s390x", "riscv64", "armv7l", "i686"):
                return token
    named = release_arch(release)
    if named:
        return named
    if cpu.get("implementer") is not None:
        return "aarch64"
    if cpu.get("vendor_id") and "lm" in cpu.get("flags", []):
        return "x86_64"
    return None


def _soc_ids_from_sysfs(tree: Any) -> List[Tuple[str, str]]:
    """(file, value) of every SMCCC soc_id the soc devices show (jep106:... values only)."""
    candidates = ["sys/bus/soc/devices/%s" % name for name in tree.listdir("sys/bus/soc/devices")]
    candidates.append("sys/devices/soc0")
    found: List[Tuple[str, str]] = []
    for base in candidates:
        value = tree.read_line(base + "/soc_id")
        if value and value.startswith("jep106:") and value not in [known for _rel, known in found]:
            found.append((base + "/soc_id", value))
    return found


SOC_ID_RE = re.compile(r"^jep106:[0-9a-f]{4}:[0-9a-f]{4}$")
MIDR_NEOVERSE_N1 = (0x41, 0xd0c)
# SoC -> the MIDR its cores have: (implementer, part), part None where the SoC's own cores vary
SOC_MIDRS = {"altra": MIDR_NEOVERSE_N1, "altra_max": MIDR_NEOVERSE_N1, "ampereone": (0xc0, None), "emag": (0x50, None),
             "graviton2": MIDR_NEOVERSE_N1, "graviton3": (0x41, 0xd40), "graviton4": (0x41, 0xd4f)}


def cores_mismatch(soc: Optional[str], midr: Tuple[Optional[int], Optional[int]]) -> Optional[str]:
    """'whose cores have MIDR ..., but the MIDR is ...' when the SoC's cores are not the ones seen, else None."""
    want = SOC_MIDRS.get(soc or "")
    if not want or midr[0] is None or (want[0] == midr[0] and want[1] in (None, midr[1])):
        return None
    return "whose cores have MIDR 0x%02x/%s, but the MIDR is 0x%02x/0x%03x" % (
        want[0], "0x%03x" % want[1] if want[1] is not None else "any part", midr[0], midr[1] or 0)


def soc_id_contradiction(soc_ids: List[str], cpu: Dict[str, Any], smbios_first: Dict[str, Any]) -> Optional[str]:
    """Why the SMCCC SOC_ID cannot be believed next to the MIDR and SMBIOS, or None: soc devices that
    disagree, a value that is not jep106:BBII:SSSS, or a SoC whose cores are not the ones seen."""
    if len(soc_ids) > 1:
        return "the soc devices disagree (%s)" % ", ".join(soc_ids[:4])
    soc_id = soc_ids[0]
    if not SOC_ID_RE.match(soc_id):
        return "%r is not a SOC_ID of the form jep106:BBII:SSSS" % soc_id[:60]
    mismatch = cores_mismatch(SOC_IDS.get(soc_id), (cpu.get("implementer"), cpu.get("part")))
    return "SOC_ID %s is %s, %s" % (soc_id, SOC_IDS[soc_id], mismatch) if mismatch else None


SMBIOS_SOC_VENDORS = {"altra": "ampere", "altra_max": "ampere", "ampereone": "ampere", "emag": "ampere"}


def _soc_vendor(soc: Optional[str]) -> Optional[str]:
    return SMBIOS_SOC_VENDORS.get(soc or "") or ("amazon" if (soc or "").startswith("graviton") else None)


def vendor_claims(soc_id: Optional[str],
                  soc_id_file: str,
                  cpu: Dict[str, Any],
                  smbios_first: Dict[str, Any],
                  dmi: Dict[str, Optional[str]]) -> List[Tuple[str, str, str]]:
    """(file, what it says, vendor) for every source that names the SoC's vendor."""
    claims: List[Tuple[str, str, str]] = []
    family_vendor = SOC_ID_FAMILIES.get(":".join((soc_id or "").split(":")[:2]))
    if family_vendor:
        claims.append((soc_id_file, "SOC_ID %s" % soc_id, family_vendor))
    implementer = cpu.get("implementer")
    if implementer is not None and implementer != 0x41 and implementer in IMPLEMENTERS:
        claims.append(("proc/cpuinfo", "MIDR implementer 0x%02x" % implementer, IMPLEMENTERS[implementer]))
    if smbios_first:
        soc = _smbios_soc(smbios_first.get("version"), smbios_first.get("part"))
        vendor = _smbios_vendor(smbios_first.get("manufacturer"), smbios_first.get("version")) or _soc_vendor(soc)
        if vendor:
            claims.append(("sys/firmware/dmi", "SMBIOS processor %r" % (smbios_first.get("version")
                                                                        or smbios_first.get("manufacturer")), vendor))
    if (dmi.get("sys_vendor") or "").strip().startswith("Amazon EC2"):
        claims.append(("sys/class/dmi/id/sys_vendor", "DMI sys_vendor 'Amazon EC2'", "amazon"))
    if (dmi.get("product_family") or "").strip().lower() in ("altra", "altra max"):
        claims.append(("sys/class/dmi/id/product_family", "DMI product_family %r" % dmi["product_family"], "ampere"))
    return claims


def soc_core_contradiction(smbios_first: Dict[str, Any],
                           dmi: Dict[str, Optional[str]],
                           cpu: Dict[str, Any]) -> Optional[Tuple[str, str]]:
    """(file, why) when SMBIOS or the DMI product family names a SoC whose cores are not the ones the MIDR
    shows (an Altra Max label on AmpereOne cores: a tree mixed from two hosts), else None."""
    midr = (cpu.get("implementer"), cpu.get("part"))
    if midr[0] is None:
        return None
    claims: List[Tuple[str, str, Optional[str]]] = []
    if smbios_first:
        claims.append(("sys/firmware/dmi", "SMBIOS processor %r" % (smbios_first.get("version")
                                                                    or smbios_first.get("part")),
                       _smbios_soc(smbios_first.get("version"), smbios_first.get("part"))))
    family = (dmi.get("product_family") or "").strip().lower()
    if family in ("altra", "altra max"):
        claims.append(("sys/class/dmi/id/product_family", "DMI product_family %r" % dmi["product_family"],
                       family.replace(" ", "_")))
    for rel, what, soc in claims:
        mismatch = cores_mismatch(soc, midr)
        if mismatch:
            return rel, "%s names %s, %s" % (what[:80], soc, mismatch)
    return None


def _manufacturer_vendor(manufacturer: Optional[str]) -> Optional[str]:
    name = _normalize(manufacturer)
    for word, vendor in (("ampere", "ampere"), ("amazon", "amazon"), ("intel", "intel"), ("amd", "amd"),
                         ("advanced micro devices", "amd")):
        if re.search(r"\b%s\b" % word, name):
            return vendor
    return None


def smbios_contradiction(populated: List[Dict[str, Any]]) -> Optional[Tuple[str, str]]:
    """(file, why) when an SMBIOS processor record contradicts itself (manufacturer, version and part name
    different SoCs) or the populated sockets name different SoCs, else None."""
    socs = []
    for index, record in enumerate(populated):
        named = [(what, soc) for what, soc in (("version", _smbios_soc(record.get("version"), None)),
                                               ("part", _smbios_soc(None, record.get("part")))) if soc]
        if len(set(soc.replace("altra_max", "altra") for _what, soc in named)) > 1:
            return "sys/firmware/dmi", "processor %d's version %r and part %r name different SoCs" % (
                index, (record.get("version") or "")[:60], (record.get("part") or "")[:30])
        made_by = _manufacturer_vendor(record.get("manufacturer"))
        soc_vendor = _soc_vendor(named[0][1]) if named else None
        if made_by and soc_vendor and made_by != soc_vendor:
            return "sys/firmware/dmi", "processor %d's manufacturer %r did not make the %s its version %r names" % (
                index, (record.get("manufacturer") or "")[:40], named[0][1], (record.get("version") or "")[:60])
        socs.append(named[0][1] if named else None)
    if len(set(soc for soc in socs if soc)) > 1:
        return "sys/firmware/dmi", "the sockets hold different SoCs (%s)" % ", ".join(str(soc) for soc in socs[:4])
    return None


def vendor_contradiction(claims: List[Tuple[str, str, str]]) -> Optional[Tuple[str, str]]:
    """(file, why) when the sources name different SoC vendors, else None."""
    vendors = sorted(set(vendor for _file, _what, vendor in claims))
    if len(vendors) < 2:
        return None
    odd = next(claim for claim in claims if claim[2] != claims[0][2])
    return odd[0], "the sources name different SoC vendors: %s" % ", ".join(
        "%s is %s's" % (what[:60], vendor) for _file, what, vendor in claims)


def _smbios_processors(tree: Any, dmidecode: Dict[str, Any]) -> List[Dict[str, Any]]:
    processors: List[Dict[str, Any]] = []
    for raw in smbios_entries(tree, 4):
        parsed = parse_smbios_processor(raw)
        if parsed is not None:
            processors.append(parsed)
    if not processors:
        processors = parse_smbios_table(tree.read_bytes("sys/firmware/dmi/tables/DMI"))
    if not processors:
        for record in dmidecode["processors"]:
            cores = record.get("Core Count")
            processors.append({
                "manufacturer": record.get("Manufacturer"), "version": record.get("Version"),
                "part": record.get("Part Number"),
                "core_count": decimal(cores, 5) or None,
                "populated": "Populated" in (record.get("Status") or "Populated"),
                "processor_id": None, "soc_id_flag": None,
            })
    return processors


def _dmi_ids(tree: Any, dmidecode: Dict[str, Any]) -> Dict[str, Optional[str]]:
    dmi: Dict[str, Optional[str]] = {}
    for name in ("sys_vendor", "product_name", "product_family", "product_version", "board_name",
                 "board_vendor", "bios_vendor"):
        dmi[name] = tree.read_line("sys/class/dmi/id/" + name)
    if not any(dmi.values()):
        system, board = dmidecode["system"], dmidecode["baseboard"]
        dmi.update({
            "sys_vendor": system.get("Manufacturer"), "product_name": system.get("Product Name"),
            "product_family": system.get("Family"), "product_version": system.get("Version"),
            "board_name": board.get("Product Name"), "board_vendor": board.get("Manufacturer"),
        })
    return dmi


def detect_arm_smmu(tree: Any, resource_names: List[str]) -> Optional[bool]:
    """An Arm SMMU is present (kdump-utils adds 384 MiB on 64K-page kernels): platform devices, else iomem."""
    if tree.is_dir("sys/devices/platform"):
        return any(name.startswith("arm-smmu") for name in tree.listdir("sys/devices/platform"))
    if resource_names:
        return any(name.startswith("arm-smmu") for name in resource_names)
    return None


def detect_mlx5(tree: Any) -> Optional[bool]:
    """A Mellanox ConnectX (mlx5_core) NIC is bound (kdump-utils adds memory for it)."""
    if tree.is_dir("sys/bus/pci/drivers"):
        return tree.is_dir("sys/bus/pci/drivers/mlx5_core")
    modules = tree.read_text("proc/modules")
    if modules is not None:
        return any(line.split(" ", 1)[0] == "mlx5_core" for line in modules.splitlines())
    return None


def platform_facts(tree: Any,
                   kernel: Dict[str, Any],
                   live_arch: Optional[str] = None,
                   live_page_size: Optional[int] = None,
                   resource_names: Optional[List[str]] = None) -> Dict[str, Any]:
    """The `platform` facts of a host tree (a HostTree).

    kernel: the `kernel` facts (release, config). resource_names: /proc/iomem names (an SMMU hint).
    """
    cpuinfo_text = tree.read_text("proc/cpuinfo", record=True)
    cpu = parse_cpuinfo(cpuinfo_text)
    midr_file = "sys/devices/system/cpu/cpu0/regs/identification/midr_el1"
    midr = parse_midr(tree.read_line(midr_file))
    if midr and cpu["implementer"] is None:
        cpu.update(midr)
    elif midr and (midr["implementer"], midr["part"]) != (cpu["implementer"], cpu["part"]):
        # both describe CPU 0 (cpuinfo lists it first): a tree mixed from two hosts
        tree.implausible.append((midr_file, "MIDR 0x%02x/0x%03x, but /proc/cpuinfo's first CPU is 0x%02x/0x%03x" % (
            midr["implementer"], midr["part"], cpu["implementer"] or 0, cpu["part"] or 0)))
        cpu.update({"implementer": None, "variant": None, "part": None, "revision": None})
    arch = arch_from(tree.read_line("proc/sys/kernel/arch"), tree.read_line("uname"), kernel.get("release"), cpu)
    why = arch_contradiction(arch, kernel.get("release"), cpu)
    if why:
        tree.implausible.append(("proc/sys/kernel/arch", why))
        arch = None
    if arch is None:
        arch = live_arch
    online = tree.read_value("sys/devices/system/cpu/online") if tree.exists("sys/devices/system/cpu/online") \
        else None
    cpu_count = parse_cpu_list(online)
    if online is not None and cpu_count is None:
        tree.implausible.append(("sys/devices/system/cpu/online", "%r is not a CPU list such as 0-79" % online[:40]))
    if cpu_count is not None and 0 < cpu["processors"] != cpu_count:
        # /proc/cpuinfo lists the online CPUs: the two files come from different hosts or times
        tree.implausible.append(("sys/devices/system/cpu/online", "it counts %d CPUs, but /proc/cpuinfo lists %d"
                                 % (cpu_count, cpu["processors"])))
        cpu_count = None
    elif cpu_count is None:
        cpu_count = cpu["processors"] if 0 < cpu["processors"] <= MAX_CPUS else None

    dmidecode = parse_dmidecode(tree.read_text("sos_commands/hardware/dmidecode"))
    smbios = _smbios_processors(tree, dmidecode)
    populated = [p for p in smbios if p.get("populated") is not False]
    sockets = len(populated) or None
    dmi = _dmi_ids(tree, dmidecode)

    sysfs_ids = _soc_ids_from_sysfs(tree)
    soc_id = sysfs_ids[0][1] if sysfs_ids else None
    soc_id_source = "soc0" if soc_id else None
    is_arm = is_arm64(arch)
    soc_id_why = soc_id_contradiction([value for _rel, value in sysfs_ids], cpu, populated[0] if populated else {}) \
        if sysfs_ids else None
    if soc_id_why:
        tree.implausible.append((sysfs_ids[0][0], soc_id_why))
    if soc_id is None and is_arm and populated and populated[0].get("processor_id") is not None:
        candidate = soc_id_from_version(populated[0]["processor_id"] & 0xffffffff)
        midr_word = None
        if cpu["implementer"] is not None and cpu["part"] is not None:
            midr_word = (cpu["implementer"] << 24) | ((cpu["variant"] or 0) << 20) | (0xf << 16) \
                | (cpu["part"] << 4) | (cpu["revision"] or 0)
        known_family = candidate is not None and ":".join(candidate.split(":")[:2]) in SOC_ID_FAMILIES
        if candidate and (populated[0].get("soc_id_flag") or known_family) \
                and (populated[0]["processor_id"] & 0xffffffff) != midr_word:
            soc_id, soc_id_source = candidate, "smbios"

    identity = identify_soc(arch, cpu, soc_id, populated, dmi, cpu_count, sockets)
    vendors_why = None if soc_id_why or not is_arm else vendor_contradiction(vendor_claims(
        soc_id, sysfs_ids[0][0] if sysfs_ids and soc_id_source == "soc0" else "sys/firmware/dmi", cpu,
        populated[0] if populated else {}, dmi))
    if vendors_why is None and not soc_id_why and is_arm:
        vendors_why = smbios_contradiction(populated) or \
            soc_core_contradiction(populated[0] if populated else {}, dmi, cpu)
    if vendors_why:
        tree.implausible.append(vendors_why)
        soc_id_why = vendors_why[1]
    if soc_id_why:
        identity = {"vendor": None, "soc": None, "is_altra": None, "evidence": ["contradictory: " + soc_id_why]}
    if soc_id and soc_id_source == "smbios":
        identity["evidence"].append("SOC_ID read from the SMBIOS processor ID")
    first = populated[0] if populated else {}
    if tree.is_dir("sys/firmware/acpi/tables"):
        agdi: Optional[bool] = tree.exists("sys/firmware/acpi/tables/AGDI")
    else:
        agdi = False if tree.is_dir("proc/device-tree") else None
    page_size = live_page_size
    if page_size is None:
        page_size, page_why = page_size_from(kernel.get("config"), kernel.get("release"), arch)
        if page_why:
            tree.implausible.append(((kernel.get("config_source") or "boot/config").lstrip("/"), page_why))
    return {
        "arch": arch,
        "cpu_implementer": _hex(cpu["implementer"], 2) if is_arm else None,
        "cpu_part": _hex(cpu["part"], 3) if is_arm else None,
        "cpu_count": cpu_count,
        "vendor": identity["vendor"],
        "soc": identity["soc"],
        "is_altra": identity["is_altra"],
        "soc_id": soc_id,
        "soc_evidence": identity["evidence"],
        "smbios_processor": {
            "manufacturer": first.get("manufacturer"), "version": first.get("version"),
            "part": first.get("part"), "core_count": first.get("core_count"), "sockets": sockets,
        },
        "dmi": {key: dmi.get(key) for key in ("sys_vendor", "product_name", "product_family", "board_name")},
        "virtualization": detect_virtualization(
            dmi, cpu["flags"], tree.read_line("sys/hypervisor/type"),
            tree.read_line("proc/device-tree/hypervisor/compatible"),
            have_evidence=bool(cpuinfo_text) or any(dmi.values())),
        "agdi": agdi,
        "page_size": page_size,
        "arm_smmu": detect_arm_smmu(tree, resource_names or []) if is_arm else None,
        "mlx5": detect_mlx5(tree),
    }
