# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The platform facts of a host tree: CPUs (cpuinfo, MIDR, the online list), arch, page size,
virtualization, IOMMU and NICs that change the crashkernel size; the SoC comes from _soc.py, SMBIOS from
_smbios.py."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import (
    canonical_arch, decimal, is_arm64, release_arch,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._smbios import (
    _dmi_ids, _hex, _smbios_processors, _to_int, parse_dmidecode, soc_id_from_version,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._soc import (
    SOC_ID_FAMILIES, _soc_ids_from_sysfs, identify_soc, smbios_contradiction, soc_core_contradiction,
    soc_id_contradiction, vendor_claims, vendor_contradiction,
)


MAX_CPUS = 1 << 16  # above any NR_CPUS a distribution builds (8192 on x86 MAXSMP, 4096 on arm64)


# systemd's DMI vendor table (detect-virt), checked in product_name, sys_vendor, board_vendor, bios_vendor, product_version
DMI_VIRT_VENDORS = (
    ("KVM", "kvm"), ("OpenStack", "kvm"), ("KubeVirt", "kvm"), ("Amazon EC2", "amazon"), ("QEMU", "qemu"),
    ("VMware", "vmware"), ("VMW", "vmware"), ("innotek GmbH", "oracle"), ("VirtualBox", "oracle"),
    ("Oracle Corporation", "oracle"), ("Xen", "xen"), ("Bochs", "bochs"), ("Parallels", "parallels"),
    ("BHYVE", "bhyve"), ("Hyper-V", "microsoft"), ("Apple Virtualization", "apple"),
    ("Google Compute Engine", "google"),
)


AMBIGUOUS_VIRT_VENDORS = ("Oracle Corporation",)  # a VM vendor that also sells bare-metal servers


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


def _cpu(tree: Any, cpuinfo_text: Optional[str]) -> Dict[str, Any]:
    """CPU 0's identity from /proc/cpuinfo, completed or contradicted by its sysfs MIDR."""
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
    return cpu


def _cpu_count(tree: Any, cpu: Dict[str, Any]) -> Optional[int]:
    """Online CPUs from sysfs, cross-checked with /proc/cpuinfo (which lists the online ones)."""
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
    return cpu_count


def _soc_id(tree: Any, is_arm: bool, cpu: Dict[str, Any],
            populated: List[Dict[str, Any]]) -> Tuple[List[Tuple[str, str]], Optional[str], Optional[str], Optional[str]]:
    """(sysfs SOC_IDs, the SOC_ID, its source soc0 or smbios, why the SOC_ID cannot be believed or None)."""
    sysfs_ids = _soc_ids_from_sysfs(tree)
    soc_id = sysfs_ids[0][1] if sysfs_ids else None
    soc_id_source = "soc0" if soc_id else None
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
    return sysfs_ids, soc_id, soc_id_source, soc_id_why


def _agdi(tree: Any) -> Optional[bool]:
    """An ACPI AGDI table exists (false on device-tree hosts, null when ACPI tables were not captured)."""
    if tree.is_dir("sys/firmware/acpi/tables"):
        return tree.exists("sys/firmware/acpi/tables/AGDI")
    return False if tree.is_dir("proc/device-tree") else None


def _arch(tree: Any, release: Optional[str], cpu: Dict[str, Any]) -> Optional[str]:
    """The architecture the tree's own files name, None when they contradict each other."""
    arch = arch_from(tree.read_line("proc/sys/kernel/arch"), tree.read_line("uname"), release, cpu)
    why = arch_contradiction(arch, release, cpu)
    if why:
        tree.implausible.append(("proc/sys/kernel/arch", why))
        return None
    return arch


def _identity(tree: Any, arch: Optional[str], cpu: Dict[str, Any],
              soc_ids: Tuple[List[Tuple[str, str]], Optional[str], Optional[str], Optional[str]],
              populated: List[Dict[str, Any]], dmi: Dict[str, Optional[str]], cpu_count: Optional[int]) -> Dict[str, Any]:
    """The SoC identity (vendor, soc, is_altra, evidence), all null when the sources contradict each other."""
    sysfs_ids, soc_id, soc_id_source, soc_id_why = soc_ids
    is_arm = is_arm64(arch)
    sockets = len(populated) or None
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
    return identity


def platform_facts(tree: Any,
                   kernel: Dict[str, Any],
                   live_arch: Optional[str] = None,
                   live_page_size: Optional[int] = None,
                   resource_names: Optional[List[str]] = None) -> Dict[str, Any]:
    """The `platform` facts of a host tree (a HostTree).

    kernel: the `kernel` facts (release, config). resource_names: /proc/iomem names (an SMMU hint).
    """
    cpuinfo_text = tree.read_text("proc/cpuinfo", record=True)
    cpu = _cpu(tree, cpuinfo_text)
    arch = _arch(tree, kernel.get("release"), cpu) or live_arch
    cpu_count = _cpu_count(tree, cpu)

    dmidecode = parse_dmidecode(tree.read_text("sos_commands/hardware/dmidecode"))
    smbios = _smbios_processors(tree, dmidecode)
    populated = [p for p in smbios if p.get("populated") is not False]
    sockets = len(populated) or None
    dmi = _dmi_ids(tree, dmidecode)

    is_arm = is_arm64(arch)
    sysfs_ids, soc_id, soc_id_source, soc_id_why = _soc_id(tree, is_arm, cpu, populated)

    identity = _identity(tree, arch, cpu, (sysfs_ids, soc_id, soc_id_source, soc_id_why), populated, dmi, cpu_count)
    first = populated[0] if populated else {}
    agdi = _agdi(tree)
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
