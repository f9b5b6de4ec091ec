# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SMBIOS and DMI as a host tree holds them: sysfs DMI entries (raw structures), a sosreport's dmidecode
output, and what they say about processors and installed memory."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import struct

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import decimal


MAX_INSTALLED = 1 << 51  # 2 PiB: what one SMBIOS memory device's extended size field can say
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
