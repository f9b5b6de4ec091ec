# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ELF core dumps (``cp /proc/vmcore``, ``makedumpfile -E``): headers, segments, notes, the kernel log inside."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
import struct
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vmcore.common import (
    ET_CORE, machine_problems, _read_at, VmcoreError,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import MAX_RAM

PT_LOAD = 1
PT_NOTE = 4
PN_XNUM = 0xFFFF
ELF_MACHINES = {3: "i386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 62: "x86_64",
                183: "aarch64", 243: "riscv64", 258: "loongarch64"}
NOTE_READ_LIMIT = 4 * 1024 * 1024
ELF_OSABI_ACCEPTED = (0, 3)  # ELFOSABI_NONE (what the kernel and kexec-tools write) and ELFOSABI_LINUX
PHDR_LIMIT = 1 << 22
Segment = Tuple[int, int, int, int]  # PT_LOAD: (file offset, vaddr, paddr, file size)


def _elf_layout(head: bytes) -> Tuple[str, bool]:
    if len(head) < 64 or head[4:5] not in (b"\x01", b"\x02") or head[5:6] not in (b"\x01", b"\x02"):
        raise VmcoreError("ELF identification is invalid or cut short")
    return ("<" if head[5:6] == b"\x01" else ">"), head[4:5] == b"\x02"


def parse_elf_header(head: bytes) -> Dict[str, Any]:
    """The fields of an ELF header a core file check needs."""
    order, is64 = _elf_layout(head)
    e_type, e_machine, e_version = struct.unpack_from(order + "HHI", head, 16)
    if is64:
        phoff, shoff = struct.unpack_from(order + "QQ", head, 32)
        phentsize, phnum, shentsize = struct.unpack_from(order + "HHH", head, 54)
    else:
        phoff, shoff = struct.unpack_from(order + "II", head, 28)
        phentsize, phnum, shentsize = struct.unpack_from(order + "HHH", head, 42)
    return {"class": 64 if is64 else 32, "byte_order": "little" if order == "<" else "big", "e_type": e_type,
            "e_machine": e_machine, "machine": ELF_MACHINES.get(e_machine), "phoff": phoff, "phnum": phnum,
            "phentsize": phentsize, "shoff": shoff, "shentsize": shentsize, "e_version": e_version,
            "ident_version": head[6], "osabi": head[7]}


def _vmcoreinfo_release(notes: bytes) -> Optional[str]:
    match = re.search(rb"OSRELEASE=([^\n\x00]+)", notes)
    return match.group(1).decode("utf-8", "replace") if match else None


def _core_header_problem(handle: Any, header: Dict[str, Any], size: int) -> Optional[str]:
    """Why the ELF header is not a usable Linux core's, or None; sets the real program header count."""
    if header["e_type"] != ET_CORE:
        return "ELF file is not a core dump (e_type=%d, ET_CORE=4)" % header["e_type"]
    if header["e_version"] != 1 or header["ident_version"] != 1 or header["osabi"] not in ELF_OSABI_ACCEPTED:
        return "ELF header version %d (identification %d, OS ABI %d) is not a Linux core's (1, 1, 0): corrupt" % (
            header["e_version"], header["ident_version"], header["osabi"])
    is64 = header["class"] == 64
    phnum = header["phnum"]
    if phnum == PN_XNUM and header["shoff"] and size >= header["shoff"] + header["shentsize"]:
        # the real count lives in section header 0's sh_info
        section = _read_at(handle, header["shoff"], header["shentsize"])
        phnum = struct.unpack_from(_order(header) + "I", section, 44 if is64 else 28)[0]
    header["phnum"] = phnum
    if phnum == 0 or header["phentsize"] != (56 if is64 else 32):
        return "ELF core has no usable program headers (phnum=%d, phentsize=%d)" % (phnum, header["phentsize"])
    if phnum > PHDR_LIMIT:
        return "ELF core claims %d program headers, more than %d: corrupt" % (phnum, PHDR_LIMIT)
    return None


def _order(header: Dict[str, Any]) -> str:
    return "<" if header["byte_order"] == "little" else ">"


def _program_header(raw: bytes, order: str, is64: bool, index: int) -> Tuple[int, Segment]:
    """(p_type, (offset, vaddr, paddr, filesz)) of one program header; VmcoreError for an impossible PT_LOAD."""
    if is64:
        p_type, _flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz = struct.unpack_from(order + "IIQQQQQ", raw)
    else:
        p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz = struct.unpack_from(order + "IIIIII", raw)
    if p_type == PT_LOAD and p_filesz > p_memsz:
        raise VmcoreError("program header %d is a PT_LOAD with more file bytes (%d) than memory (%d): corrupt"
                          % (index, p_filesz, p_memsz))
    if p_type == PT_LOAD and p_memsz > MAX_RAM:
        raise VmcoreError("program header %d is a PT_LOAD of %d bytes of memory, more than any machine can address "
                          "(4 PiB): corrupt" % (index, p_memsz))
    return p_type, (p_offset, p_vaddr, p_paddr, p_filesz)


def _program_headers(handle: Any, header: Dict[str, Any]) -> Tuple[List[Segment], List[Tuple[int, int]], int]:
    """The PT_LOAD segments (offset, vaddr, paddr, filesz), the PT_NOTE ranges (offset, filesz) and where the
    data of all segments ends."""
    is64 = header["class"] == 64
    entry_size = 56 if is64 else 32
    segments: List[Segment] = []
    notes: List[Tuple[int, int]] = []
    data_end = 0
    handle.seek(header["phoff"])
    for index in range(header["phnum"]):
        raw = handle.read(entry_size)
        if len(raw) < entry_size:
            raise VmcoreError("program header table is cut short: truncated")
        p_type, segment = _program_header(raw, _order(header), is64, index)
        if p_type == PT_LOAD:
            segments.append(segment)
        elif p_type == PT_NOTE:
            notes.append((segment[0], segment[3]))
        data_end = max(data_end, segment[0] + segment[3])
    return segments, notes, data_end


def _segment_problems(segments: List[Segment], notes: List[Tuple[int, int]]) -> List[str]:
    """What a core without memory or notes lacks."""
    problems = []
    if not segments:
        problems.append("ELF core has no PT_LOAD segment: it holds no memory")
    elif not any(segment[3] for segment in segments):
        problems.append("the %d PT_LOAD segments of the ELF core hold no file bytes: it holds no memory"
                        % len(segments))
    if not notes:
        problems.append("ELF core has no PT_NOTE segment: the CPU registers and VMCOREINFO are missing")
    return problems


def _read_notes(handle: Any, notes: List[Tuple[int, int]]) -> List[bytes]:
    """The bytes of each PT_NOTE segment, NOTE_READ_LIMIT in all at most."""
    chunks = []  # joined by the caller once: appending to one bytes object is quadratic in the number of notes
    kept = 0
    for offset, length in notes:
        if kept >= NOTE_READ_LIMIT:
            break
        chunk = _read_at(handle, offset, min(length, NOTE_READ_LIMIT - kept))
        chunks.append(chunk)
        kept += len(chunk)
    return chunks


def _note_problems(header: Dict[str, Any],
                   notes: List[Tuple[int, int]],
                   chunks: List[bytes]) -> Tuple[List[str], bool]:
    """The machine the notes name against the header's, each note inside its segment, a VMCOREINFO note:
    (problems, whether they keep the memory from being read)."""
    mismatch = machine_problems(header["machine"], header["release"], "the ELF header")
    if mismatch:
        return mismatch, True
    names: List[bytes] = []
    for chunk, (_offset, length) in zip(chunks, notes):
        fault = _note_walk(chunk, _order(header), names) if len(chunk) == length else None  # a cut read is no cut note
        if fault:
            return [fault], True
    if notes and sum(len(chunk) for chunk in chunks) < NOTE_READ_LIMIT and b"VMCOREINFO" not in names:
        return ["the ELF notes hold no VMCOREINFO note: the kernel's layout is missing"], False
    return [], False


def inspect_elf(handle: Any, size: int, read_memory: bool = True) -> Dict[str, Any]:
    """ET_CORE type, program header table inside the file, every segment's data inside the file; with
    read_memory, the kernel log found through the segments."""
    result: Dict[str, Any] = {"header": None, "problems": [], "checked": ["signature"]}
    try:
        header = parse_elf_header(_read_at(handle, 0, 64))
    except VmcoreError as exc:
        result["problems"].append(str(exc))
        return result
    result["header"] = header
    result["checked"].append("header")
    problem = _core_header_problem(handle, header, size)
    if problem:
        result["problems"].append(problem)
        return result
    table_end = header["phoff"] + header["phnum"] * header["phentsize"]
    result["checked"].append("size")
    if table_end > size:
        result["problems"].append("file is %d bytes but its program headers end at %d: truncated" % (size, table_end))
        return result
    try:
        segments, notes, data_end = _program_headers(handle, header)
    except VmcoreError as exc:
        result["problems"].append(str(exc))
        return result
    header["load_segments"] = len(segments)
    result["problems"].extend(_segment_problems(segments, notes))
    if data_end > size:
        result["problems"].append("segment data ends at byte %d but the file has %d bytes: truncated"
                                  % (data_end, size))
        return result
    overlap = _file_range_overlap([(0, table_end)] + notes + [(offset, length) for offset, _v, _p, length in segments])
    if overlap:
        result["problems"].append(overlap)
        return result
    chunks = _read_notes(handle, notes)
    note_bytes = b"".join(chunks)
    header["release"] = _vmcoreinfo_release(note_bytes)
    problems, fatal = _note_problems(header, notes, chunks)
    result["problems"].extend(problems)
    if segments and header["class"] == 64 and read_memory and not fatal:
        memory = ElfMemory(handle, segments, parse_vmcoreinfo(note_bytes), _order(header))
        header["kernel_log"] = memory.kernel_log_status()
        result["kernel_log_text"] = memory.kernel_log_text
    return result


def _file_range_overlap(ranges: List[Tuple[int, int]]) -> Optional[str]:
    """A problem when two (offset, size) file ranges of an ELF core share bytes (the headers are range 0)."""
    end = 0
    for offset, length in sorted(item for item in ranges if item[1] > 0):
        if offset < end:
            return "segment data at bytes %d-%d overlaps other headers or segments (up to byte %d): corrupt" % (
                offset, offset + length, end)
        end = max(end, offset + length)
    return None


def _note_walk(chunk: bytes, order: str, names: List[bytes]) -> Optional[str]:
    """Appends the names of the ELF notes in one PT_NOTE segment's bytes; a problem when a note runs past it."""
    position = 0
    while position + 12 <= len(chunk):
        namesz, descsz, _note_type = struct.unpack_from(order + "III", chunk, position)
        if namesz == 0:
            return None  # zero padding after the last note (the kernel stops there too)
        end = position + 12 + -(-namesz // 4) * 4 + -(-descsz // 4) * 4
        if end > len(chunk):
            return "an ELF note at byte %d of its PT_NOTE segment runs past the segment's %d bytes: corrupt" % (
                position, len(chunk))
        names.append(chunk[position + 12:position + 12 + namesz].rstrip(b"\x00"))
        position = end
    if chunk[position:].strip(b"\x00"):
        return "the last ELF note of a PT_NOTE segment is cut after %d bytes: corrupt" % position
    return None


VMCOREINFO_VALUE_RE = re.compile(rb"^([A-Z_]+(?:\([^)\n]*\))?)=([^\n\x00]*)$", re.M)
KERNEL_LOG_LIMIT = 64 * 1024 * 1024
X86_START_KERNEL_MAP = 0xFFFFFFFF80000000
U64 = (1 << 64) - 1


def parse_vmcoreinfo(notes: bytes) -> Dict[str, int]:
    """The numeric entries of a VMCOREINFO note: SYMBOL(x) (hex), OFFSET/SIZE/LENGTH/NUMBER (decimal or 0x)."""
    values: Dict[str, int] = {}
    for key, raw in VMCOREINFO_VALUE_RE.findall(notes):
        name, text = key.decode("ascii", "replace"), raw.decode("ascii", "replace").strip()
        base = 16 if name.startswith("SYMBOL(") or text.lower().startswith("0x") else 10
        try:
            values[name] = int(text, base) & U64 if base == 16 else int(text)
        except ValueError:
            continue
    return values


class ElfMemory:
    """Reads the crashed kernel's memory through an ELF vmcore's PT_LOAD segments, to find its kernel log.

    The printk ring buffer (Linux 5.10+) is located from VMCOREINFO alone: SYMBOL(prb) points to the
    printk_ringbuffer, whose text_data_ring holds every record's text; no vmlinux or makedumpfile is needed.
    Kernel image addresses missing from the segments are translated with kimage_voffset (arm64) or
    phys_base (x86_64).
    """

    def __init__(self,
                 handle: Any,
                 segments: List[Segment],
                 info: Dict[str, int],
                 order: str) -> None:
        self.handle, self.segments, self.info, self.order = handle, segments, info, order
        self.kernel_log_text: Optional[str] = None
        self.problem: Optional[str] = None

    def _offset(self, address: int, length: int, physical: bool) -> Optional[int]:
        for p_offset, vaddr, paddr, filesz in self.segments:
            start = paddr if physical else vaddr
            if start <= address and address + length <= start + filesz:
                return p_offset + address - start
        return None

    def read_virtual(self, address: int, length: int) -> Optional[bytes]:
        offset = self._offset(address, length, physical=False)
        if offset is None and "NUMBER(kimage_voffset)" in self.info:
            offset = self._offset((address - self.info["NUMBER(kimage_voffset)"]) & U64, length, physical=True)
        if offset is None and "NUMBER(phys_base)" in self.info and address >= X86_START_KERNEL_MAP:
            offset = self._offset(address - X86_START_KERNEL_MAP + self.info["NUMBER(phys_base)"], length,
                                  physical=True)
        if offset is None:
            return None
        data = _read_at(self.handle, offset, length)
        return data if len(data) == length else None

    def _pointer(self, address: int) -> Optional[int]:
        raw = self.read_virtual(address, 8)
        return struct.unpack(self.order + "Q", raw)[0] if raw is not None else None

    def kernel_log_status(self) -> Dict[str, Any]:
        """{found, size, problem}: reads the log's text ring into kernel_log_text."""
        wanted = ("SYMBOL(prb)", "OFFSET(printk_ringbuffer.text_data_ring)", "OFFSET(prb_data_ring.size_bits)",
                  "OFFSET(prb_data_ring.data)")
        missing = [name for name in wanted if name not in self.info]
        if missing:
            return {"found": False, "size": None, "problem": "VMCOREINFO lacks %s" % ", ".join(missing)}
        ring = self._pointer(self.info["SYMBOL(prb)"])
        if ring is None:
            return {"found": False, "size": None, "problem": "the printk ring buffer pointer (prb) is not in the dump"}
        text_ring = ring + self.info["OFFSET(printk_ringbuffer.text_data_ring)"]
        raw_bits = self.read_virtual(text_ring + self.info["OFFSET(prb_data_ring.size_bits)"], 4)
        data = self._pointer(text_ring + self.info["OFFSET(prb_data_ring.data)"])
        if raw_bits is None or data is None:
            return {"found": False, "size": None, "problem": "the printk text ring header is not in the dump"}
        bits = struct.unpack(self.order + "I", raw_bits)[0]
        if not 8 <= bits <= 26 or (1 << bits) > KERNEL_LOG_LIMIT:
            return {"found": False, "size": None, "problem": "implausible printk text ring size 2^%d" % bits}
        text = self.read_virtual(data, 1 << bits)
        if text is None:
            return {"found": False, "size": 1 << bits, "problem": "the printk text ring is not in the dump"}
        self.kernel_log_text = text.decode("utf-8", "replace")
        return {"found": True, "size": 1 << bits, "problem": None}
