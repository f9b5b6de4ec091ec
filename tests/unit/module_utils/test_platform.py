# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Platform identification: MIDR, SMBIOS type 4, SOC_ID, DMI, virtualization, page size."""

import importlib.util
import os
import struct

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.fleetops.kdump.plugins.module_utils import _platform as plat
from ansible_collections.fleetops.kdump.plugins.module_utils import _smbios as smb
from ansible_collections.fleetops.kdump.plugins.module_utils import _soc as socs
from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")
_spec = importlib.util.spec_from_file_location("make_host_trees", os.path.join(FIXTURES, "make_host_trees.py"))
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

# AmpereOne /proc/cpuinfo as published in hrw/arm-socs-table (cpuinfo-data/ampere-ampereone)
AMPEREONE_CPUINFO = """processor       : 0
BogoMIPS        : 50.00
Features        : fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc
CPU implementer : 0xc0
CPU architecture: 8
CPU variant     : 0x0
CPU part        : 0xac3
CPU revision    : 1
"""

# The real Mt. Jade values (LinuxBoot book, case study Ampere: dmidecode -t 4)
ALTRA_BLOB = gen.smbios_type4(0x0003, "CPU01", "Ampere(R)", "Ampere(R) Altra(R) Processor", "Q80-30",
                              0x000000A10A160001, 80, 3000, serial="000000000000000002550904033865B4",
                              asset="Not Set", length=0x33)


def n1(**extra):
    cpu = {"implementer": 0x41, "part": 0xd0c, "variant": 3, "revision": 1, "vendor_id": None}
    cpu.update(extra)
    return cpu


NO_DMI = {}


# ---------------------------------------------------------------- cpuinfo / MIDR

def test_cpuinfo_arm64_ampereone():
    info = plat.parse_cpuinfo(AMPEREONE_CPUINFO)
    assert (info["processors"], info["implementer"], info["part"], info["variant"]) == (1, 0xc0, 0xac3, 0)
    assert "bti" not in info["features"] and "atomics" in info["features"]


def test_cpuinfo_counts_every_processor_and_keeps_the_first_identity():
    text = gen.arm64_cpuinfo(3, 0x41, 3, 0xd0c, 1, "fp", "50.00") + "processor\t: 3\nCPU part\t: 0xd40\n"
    info = plat.parse_cpuinfo(text)
    assert info["processors"] == 4
    assert info["part"] == 0xd0c


def test_cpuinfo_x86():
    info = plat.parse_cpuinfo(gen.x86_cpuinfo(4, 2, "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"))
    assert info["vendor_id"] == "GenuineIntel" and info["processors"] == 4
    assert "lm" in info["flags"] and info["implementer"] is None


@pytest.mark.parametrize("text", [None, "", "\x00\x01\x02", "CPU implementer : banana\nCPU part : \n", ":::\n"])
def test_cpuinfo_garbage(text):
    info = plat.parse_cpuinfo(text)
    assert info["processors"] == 0 and info["implementer"] is None and info["part"] is None


def test_midr():
    assert plat.parse_midr("0x00000000413fd0c1\n") == {"implementer": 0x41, "variant": 3, "part": 0xd0c, "revision": 1}
    assert plat.parse_midr("0x00000000c00fac31")["part"] == 0xac3


@pytest.mark.parametrize("text", [None, "", "zz", "0x0", "-5", "0x1" + "0" * 20])
def test_midr_garbage(text):
    assert plat.parse_midr(text) is None


@pytest.mark.parametrize("text,count", [("0-79", 80), ("0-3,8-11", 8), ("5", 1), ("0-1\n", 2),
                                        ("", None), (None, None), ("a-b", None), ("3-", None)])
def test_cpu_list(text, count):
    assert plat.parse_cpu_list(text) == count


# ---------------------------------------------------------------- SMBIOS

def test_smbios_altra_real_values():
    proc = smb.parse_smbios_processor(ALTRA_BLOB)
    assert proc["manufacturer"] == "Ampere(R)"
    assert proc["version"] == "Ampere(R) Altra(R) Processor"
    assert proc["part"] == "Q80-30"
    assert proc["core_count"] == 80 and proc["populated"] is True
    assert proc["soc_id_flag"] is False
    assert smb.soc_id_from_version(proc["processor_id"] & 0xffffffff) == "jep106:0a16:0001"


def test_smbios_core_count_above_255_uses_core_count_2():
    blob = gen.smbios_type4(1, "CPU0", "Ampere(R)", "AmpereOne (R)", "A384", 0, 384, 3000)
    assert smb.parse_smbios_processor(blob)["core_count"] == 384


def test_smbios_truncated_formatted_area_keeps_what_is_there():
    blob = ALTRA_BLOB[:0x12]  # header says 0x33 bytes, only 0x12 present, no strings
    proc = smb.parse_smbios_processor(blob)
    assert proc is not None
    assert proc["version"] is None and proc["manufacturer"] is None
    assert proc["core_count"] is None and proc["populated"] is None
    assert proc["processor_id"] == 0x000000A10A160001


def test_smbios_missing_string_table_terminator():
    blob = ALTRA_BLOB[:-2]  # lost the double NUL: strings still read up to the end
    proc = smb.parse_smbios_processor(blob)
    assert proc["version"] == "Ampere(R) Altra(R) Processor"
    assert proc["part"] == "Q80-30"


def test_smbios_string_index_out_of_range_is_none():
    formatted = bytearray(ALTRA_BLOB[:0x33])
    formatted[0x10] = 9  # version -> string 9, only 6 exist
    proc = smb.parse_smbios_processor(bytes(formatted) + b"A\x00\x00")
    assert proc["version"] is None and proc["manufacturer"] is None


@pytest.mark.parametrize("blob", [None, b"", b"\x04", b"\x04\x02\x00\x00", b"\x00\x18\x00\x00" + b"\x00" * 30])
def test_smbios_not_a_processor(blob):
    assert smb.parse_smbios_processor(blob) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_smbios_never_raises_on_random_bytes(blob):
    result = smb.parse_smbios_processor(b"\x04" + blob)
    assert result is None or isinstance(result, dict)
    assert isinstance(smb.parse_smbios_table(blob), list)


def test_smbios_table_walks_structures():
    bios = struct.pack("<BBH", 0, 4, 0) + b"\x00\x00"
    end = struct.pack("<BBH", 127, 4, 0xfeff) + b"\x00\x00"
    second = gen.smbios_type4(4, "CPU02", "Ampere(R)", "Ampere(R) Altra(R) Processor", "Q80-30", 0, 80, 3000)
    found = smb.parse_smbios_table(bios + ALTRA_BLOB + second + end + ALTRA_BLOB)
    assert [p["socket"] for p in found] == ["CPU01", "CPU02"]


def test_dmidecode_text():
    files, _links = gen.tree_rhel9_x86_64(cpus=2)
    parsed = smb.parse_dmidecode(files["sos_commands/hardware/dmidecode"])
    assert parsed["system"]["Manufacturer"] == "Dell Inc."
    assert parsed["baseboard"]["Product Name"] == "0Y2K8N"
    assert [p["Socket Designation"] for p in parsed["processors"]] == ["CPU1", "CPU2"]
    assert smb.parse_dmidecode("garbage\n\tno: section\n") == {"system": {}, "baseboard": {}, "processors": []}


# ---------------------------------------------------------------- SoC identification

def smbios(version, part=None, manufacturer="Ampere(R)", cores=None):
    return [{"manufacturer": manufacturer, "version": version, "part": part, "core_count": cores}]


def test_altra_and_graviton2_share_the_midr_and_are_told_apart():
    altra = socs.identify_soc("aarch64", n1(), None, smbios("Ampere(R) Altra(R) Processor", "Q80-30", cores=80),
                              NO_DMI, 80, 1)
    graviton = socs.identify_soc("aarch64", n1(), None, [], {"sys_vendor": "Amazon EC2", "product_name": "m6g.large"},
                                 2, None)
    bare = socs.identify_soc("aarch64", n1(), None, [], NO_DMI, 80, None)
    assert (altra["soc"], altra["vendor"], altra["is_altra"]) == ("altra", "ampere", True)
    assert (graviton["soc"], graviton["vendor"], graviton["is_altra"]) == ("graviton2", "amazon", False)
    assert (bare["soc"], bare["vendor"], bare["is_altra"]) == ("unknown", "arm", False)


def test_altra_max_from_smbios_version_part_or_core_count():
    by_version = socs.identify_soc("aarch64", n1(), None, smbios("Ampere(R) Altra(R) Max Processor", "M128-30"),
                                   NO_DMI, 128, 1)
    by_part = socs.identify_soc("aarch64", n1(), None, smbios("Ampere(R) Processor", "M96-28"), NO_DMI, 96, 1)
    by_soc_id_cores = socs.identify_soc("aarch64", n1(), "jep106:0a16:0001", [], NO_DMI, 128, None)
    assert by_version["soc"] == by_part["soc"] == by_soc_id_cores["soc"] == "altra_max"
    assert by_version["is_altra"] and by_soc_id_cores["is_altra"]


def test_two_socket_altra_is_not_mistaken_for_max():
    two_sockets = socs.identify_soc("aarch64", n1(), "jep106:0a16:0001", [], NO_DMI, 160, 2)
    by_smbios_cores = socs.identify_soc("aarch64", n1(), "jep106:0a16:0001",
                                        [{"manufacturer": "Ampere(R)", "version": None, "part": None,
                                          "core_count": 80}] * 2, NO_DMI, 160, 2)
    assert two_sockets["soc"] == by_smbios_cores["soc"] == "altra"


def test_altra_from_dmi_family_only():
    found = socs.identify_soc("aarch64", n1(), None, [], {"product_family": "Altra"}, 32, None)
    assert (found["soc"], found["vendor"]) == ("altra", "ampere")


@pytest.mark.parametrize("cpu,soc_id", [(n1(implementer=0xc0, part=0xac3), None),
                                        (n1(implementer=0xc0, part=0xac4), None),
                                        (n1(), "jep106:0a16:0004")])
def test_ampereone(cpu, soc_id):
    found = socs.identify_soc("aarch64", cpu, soc_id, [], NO_DMI, 192, None)
    assert (found["soc"], found["vendor"], found["is_altra"]) == ("ampereone", "ampere", False)


def test_mediatek_soc_id_is_not_amazon():
    # jep106:0426 is MediaTek's JEP106 code (bank 5, 0x26), not Amazon's
    found = socs.identify_soc("aarch64", n1(), "jep106:0426:8195", [], NO_DMI, 8, None)
    assert (found["soc"], found["vendor"]) == ("unknown", "mediatek")


def test_generic_arm_soc_id_says_nothing():
    found = socs.identify_soc("aarch64", n1(part=0xd40), "jep106:091e:0001", [], NO_DMI, 64, None)
    assert (found["soc"], found["vendor"]) == ("unknown", "arm")


@pytest.mark.parametrize("part,soc", [(0xd08, "graviton"), (0xd0c, "graviton2"), (0xd40, "graviton3"),
                                      (0xd4f, "graviton4")])
def test_graviton_generations_from_dmi(part, soc):
    found = socs.identify_soc("aarch64", n1(part=part), None, [], {"sys_vendor": "Amazon EC2"}, 4, None)
    assert found["soc"] == soc


def test_graviton_from_smbios_strings():
    found = socs.identify_soc("aarch64", n1(part=0xd40), None, smbios("AWS Graviton3", "N/A", "Amazon EC2"),
                              NO_DMI, 4, 1)
    assert (found["soc"], found["vendor"]) == ("graviton3", "amazon")


@pytest.mark.parametrize("vendor_id,vendor", [("GenuineIntel", "intel"), ("AuthenticAMD", "amd"),
                                              ("HygonGenuine", "hygon"), ("Weird", "unknown"), (None, "unknown")])
def test_x86_vendor_and_no_soc(vendor_id, vendor):
    found = socs.identify_soc("x86_64", {"vendor_id": vendor_id}, None, [], NO_DMI, 2, None)
    assert (found["vendor"], found["soc"], found["is_altra"]) == (vendor, None, False)


# ---------------------------------------------------------------- virtualization

@pytest.mark.parametrize("dmi,flags,hyp,dt,expected", [
    ({"sys_vendor": "Amazon EC2", "product_name": "m6g.16xlarge"}, [], None, None, "amazon"),
    ({"sys_vendor": "Amazon EC2", "product_name": "m6g.metal"}, [], None, None, "none"),
    ({"sys_vendor": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)"}, ["hypervisor"], None, None, "qemu"),
    ({"sys_vendor": "Red Hat", "product_name": "KVM"}, [], None, None, "kvm"),
    ({"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine"}, [], None, None, "microsoft"),
    ({"sys_vendor": "VMware, Inc."}, [], None, None, "vmware"),
    ({"sys_vendor": "WIWYNN", "product_name": "Mt.Jade"}, [], None, None, "none"),
    ({}, ["fpu", "hypervisor"], None, None, "vm-other"),
    ({}, [], "xen", None, "xen"),
    ({}, [], None, "linux,kvm\x00", "kvm"),
])
def test_virtualization(dmi, flags, hyp, dt, expected):
    assert plat.detect_virtualization(dmi, flags, hyp, dt) == expected


def test_virtualization_without_evidence_is_unknown():
    assert plat.detect_virtualization({}, [], None, None, have_evidence=False) is None


# ---------------------------------------------------------------- page size / arch

@pytest.mark.parametrize("config,release,arch,size", [
    ({"CONFIG_ARM64_64K_PAGES": "y"}, "6.8.0-45-generic", "aarch64", 65536),
    (None, "6.8.0-45-generic-64k", "aarch64", 65536),
    (None, "4.18.0-553.el8_10.aarch64", "aarch64", 65536),
    (None, "5.14.0-427.el9.aarch64", "aarch64", None),
    (None, "5.14.0-427.el9.x86_64", "x86_64", 4096),
    (None, None, None, None),
])
def test_page_size(config, release, arch, size):
    assert plat.page_size_from(config, release, arch) == (size, None)


def test_a_config_that_disagrees_with_the_release_page_size_is_not_believed():
    size, why = plat.page_size_from({"CONFIG_ARM64_4K_PAGES": "y"}, "6.8.0-45-generic-64k", "aarch64")
    assert size is None and "names 64 KiB pages" in why


@pytest.mark.parametrize("kernel_arch,uname,release,cpu,arch", [
    ("aarch64\n", None, None, {}, "aarch64"),
    (None, "Linux h 5.14.0-427.el9.x86_64 #1 SMP x86_64 x86_64 x86_64 GNU/Linux", None, {}, "x86_64"),
    (None, None, "6.1.0-27-arm64", {}, "aarch64"),
    (None, None, "5.14.0-427.13.1.el9_4.aarch64", {}, "aarch64"),
    (None, None, "6.1.0-27-amd64", {}, "x86_64"),
    (None, None, None, {"implementer": 0x41}, "aarch64"),
    (None, None, None, {"vendor_id": "GenuineIntel", "flags": ["fpu", "lm"]}, "x86_64"),
    (None, None, None, {}, None),
])
def test_arch(kernel_arch, uname, release, cpu, arch):
    assert plat.arch_from(kernel_arch, uname, release, cpu) == arch


# ---------------------------------------------------------------- platform_facts over trees

def write(root, rel, data):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())


def test_soc_id_from_smbios_when_soc0_is_absent(tmp_path):
    write(tmp_path, "proc/cpuinfo", gen.arm64_cpuinfo(2, 0x41, 3, 0xd0c, 1, "fp", "50.00"))
    write(tmp_path, "sys/firmware/dmi/entries/4-0/raw", ALTRA_BLOB)
    facts = plat.platform_facts(HostTree(str(tmp_path)), {})
    assert facts["soc_id"] == "jep106:0a16:0001"
    assert facts["soc"] == "altra"
    assert any("SMBIOS processor ID" in item for item in facts["soc_evidence"])


def test_smbios_processor_id_holding_the_midr_is_not_a_soc_id(tmp_path):
    write(tmp_path, "proc/cpuinfo", gen.arm64_cpuinfo(2, 0x41, 3, 0xd0c, 1, "fp", "50.00"))
    write(tmp_path, "sys/firmware/dmi/entries/4-0/raw",
          gen.smbios_type4(3, "CPU01", "Ampere(R)", "Ampere(R) Altra(R) Max Processor", "M128-30",
                           0x413FD0C1, 128, 3000))
    facts = plat.platform_facts(HostTree(str(tmp_path)), {})
    assert facts["soc_id"] is None and facts["soc"] == "altra_max"


def test_soc0_wins_and_empty_tree_gives_nulls(tmp_path):
    write(tmp_path, "sys/devices/soc0/soc_id", "jep106:0a16:0004\n")
    write(tmp_path, "proc/sys/kernel/arch", "aarch64\n")
    facts = plat.platform_facts(HostTree(str(tmp_path)), {})
    assert (facts["soc_id"], facts["soc"], facts["cpu_implementer"]) == ("jep106:0a16:0004", "ampereone", None)
    empty = plat.platform_facts(HostTree(str(tmp_path / "nothing")), {})
    assert empty["arch"] is None and empty["cpu_count"] is None and empty["virtualization"] is None
    assert empty["agdi"] is None and empty["soc"] is None


def test_garbage_sysfs_files_do_not_raise(tmp_path):
    write(tmp_path, "proc/cpuinfo", os.urandom(2048))
    write(tmp_path, "sys/devices/system/cpu/online", "garbage")
    write(tmp_path, "sys/devices/system/cpu/cpu0/regs/identification/midr_el1", "0xZZ")
    write(tmp_path, "sys/firmware/dmi/entries/4-0/raw", b"\x04\xff" + os.urandom(64))
    write(tmp_path, "sys/firmware/dmi/entries/4-1/raw", b"\x04")
    write(tmp_path, "sys/class/dmi/id/sys_vendor", b"\xff\xfe\x00")
    facts = plat.platform_facts(HostTree(str(tmp_path)), {})
    assert facts["cpu_count"] is None or isinstance(facts["cpu_count"], int)


def test_smmu_and_mlx5(tmp_path):
    write(tmp_path, "proc/sys/kernel/arch", "aarch64\n")
    write(tmp_path, "sys/devices/platform/arm-smmu-v3.0.auto/uevent", "")
    write(tmp_path, "sys/bus/pci/drivers/mlx5_core/uevent", "")
    facts = plat.platform_facts(HostTree(str(tmp_path)), {})
    assert facts["arm_smmu"] is True and facts["mlx5"] is True
    bare = HostTree(str(tmp_path / "bare"))
    assert plat.detect_arm_smmu(bare, ["System RAM", "arm-smmu-v3.3.auto"]) is True
    assert plat.detect_arm_smmu(bare, []) is None
    assert plat.detect_mlx5(bare) is None
