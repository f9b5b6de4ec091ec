# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which SoC an arm64 host is, from every source that can say (MIDR, soc0 SOC_ID, SMBIOS type 4, DMI), and
the contradictions between them that make the answer unknown.

Ampere Altra, Altra Max and AWS Graviton2 share the Neoverse N1 MIDR (0x41/0xd0c), so the SoC is told apart by
stronger evidence first: the SMCCC SOC_ID (sysfs soc0, or the SMBIOS processor ID), then the SMBIOS type 4
strings, then DMI system strings, and the MIDR last.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import is_arm64


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
ALTRA_MAX_CORES = 128
ALTRA_CORES = 80


X86_VENDORS = {
    "GenuineIntel": "intel", "AuthenticAMD": "amd", "HygonGenuine": "hygon", "CentaurHauls": "zhaoxin",
    "  Shanghai  ": "zhaoxin",
}


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


def _from_soc_id(soc_id: Optional[str], evidence: List[str]) -> Tuple[Optional[str], Optional[str]]:
    """(vendor, soc) an SMCCC SOC_ID names, each None when it does not."""
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
    return vendor, soc


def _more_cores_than_altra(first: Dict[str, Any], cpu_count: Optional[int], sockets: Optional[int],
                           evidence: List[str]) -> bool:
    """SOC_ID and DMI say "Altra" for both models: more cores per socket than an Altra has make it an Altra Max."""
    cores = first.get("core_count") if first else None
    if cores is None and cpu_count:
        cores = cpu_count // (sockets or 1)
    if cores is not None and cores > ALTRA_CORES:
        evidence.append("%d cores per socket (Altra has at most %d)" % (cores, ALTRA_CORES))
        return True
    return False


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

    vendor, soc = _from_soc_id(soc_id, evidence)
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
    if soc == "altra" and smbios_soc is None and _more_cores_than_altra(first, cpu_count, sockets, evidence):
        soc = "altra_max"
    if soc is None:
        soc = "unknown"
        if implementer is not None:
            evidence.append("MIDR 0x%02x/0x%03x alone does not name the SoC" % (implementer, part or 0))
    if soc.startswith("graviton"):
        vendor = "amazon"
    if soc in ("altra", "altra_max", "ampereone", "emag"):
        vendor = "ampere"
    return {"vendor": vendor, "soc": soc, "is_altra": soc in ("altra", "altra_max"), "evidence": evidence}


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
