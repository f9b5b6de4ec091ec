# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the capture kernel must fit into its reservation (the `capture` facts): the memory its kernel image
takes once loaded, the size of the kdump initrd, the loaded modules, the LUKS2 devices and the Argon2 memory
their key slots need in the capture kernel, and the distribution tool's own suggested size where it prints one.

Kernel image memory, from the image's own header (no decompression of the whole image):
- x86 bzImage: boot protocol >= 2.10 `init_size` at 0x260, behind the "HdrS" magic at 0x202;
- arm64 Image: `image_size` at 0x10, behind the "ARM\\x64" magic at 0x38 (Documentation/arch/arm64/booting.rst);
  a gzip-compressed Image (Debian's and RHEL's vmlinuz) is unpacked only as far as that header;
- an EFI zboot image ("zimg" at offset 4) with a gzip payload is unpacked the same way from its payload offset.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
import struct
import zlib
from typing import Any, Dict, List, Optional

HEADER_BYTES = 1024 * 1024  # what is read of a kernel image: its header, or a zboot payload's start
ARM64_MAGIC = b"ARM\x64"
X86_MAGIC = b"HdrS"

# kdump initrds by where each distribution's tools build them ({release} is the kernel release)
KDUMP_INITRDS = (
    "var/lib/kdump/initrd.img-{release}",          # Debian / Ubuntu kdump-tools
    "boot/initramfs-{release}kdump.img",           # RHEL family kdumpctl
    "var/lib/kdump/initramfs-{release}kdump.img",  # kdumpctl with a read-only /boot
    "boot/initrd-{release}-kdump",                 # SUSE kdump
)
KERNEL_IMAGES = ("boot/vmlinuz-{release}", "usr/lib/modules/{release}/vmlinuz", "lib/modules/{release}/vmlinuz",
                 "boot/Image-{release}", "boot/vmlinux-{release}")
SUGGESTED = re.compile(r"crashkernel suggested size:\s*(\d+)\s*([KMG])", re.I)
ARGON_MEMORY = re.compile(r"^\s*Memory:\s*(\d+)\s*$", re.M)  # cryptsetup luksDump, KiB per key slot


def _unpacked_head(data: bytes, limit: int = 128) -> Optional[bytes]:
    """The first `limit` bytes of a gzip stream, None when it is not one."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, limit)
    except zlib.error:
        return None


def _arm64_image_size(head: Optional[bytes]) -> Optional[int]:
    if head is None or len(head) < 0x3c or head[0x38:0x3c] != ARM64_MAGIC:
        return None
    size = struct.unpack_from("<Q", head, 0x10)[0]
    return size or None  # 0: a kernel older than 3.17, which does not say


def kernel_image_bytes(data: Optional[bytes]) -> Optional[int]:
    """Memory the kernel in image `data` (its first bytes) takes once loaded; None when the header does not
    say (an unknown format, an old kernel, a zboot payload that is not gzip)."""
    if not data:
        return None
    if len(data) >= 0x264 and data[0x202:0x206] == X86_MAGIC:
        if struct.unpack_from("<H", data, 0x206)[0] < 0x020a:  # boot protocol before 2.10: no init_size
            return None
        return struct.unpack_from("<I", data, 0x260)[0] or None
    if data[:2] == b"\x1f\x8b":
        return _arm64_image_size(_unpacked_head(data))
    if data[:2] == b"MZ" and data[4:8] == b"zimg" and len(data) >= 0x20:
        offset, size = struct.unpack_from("<II", data, 8)
        if data[0x18:0x1c] != b"gzip" or offset + min(size, 64) > len(data):
            return None
        return _arm64_image_size(_unpacked_head(data[offset:offset + size]))
    return _arm64_image_size(data)


def _luks2_blocks(tree: Any) -> List[str]:
    """The sys/block names of the open LUKS2 device-mapper devices (dm uuid CRYPT-LUKS2-...)."""
    return [block for block in tree.listdir("sys/block")
            if (tree.read_line("sys/block/%s/dm/uuid" % block) or "").startswith("CRYPT-LUKS2-")]


def luks2_devices(tree: Any) -> List[str]:
    """Names of the open LUKS2 device-mapper devices."""
    return [tree.read_line("sys/block/%s/dm/name" % block) or block for block in _luks2_blocks(tree)]


def loaded_modules_bytes(proc_modules: Optional[str]) -> Optional[int]:
    """Static size of the loaded modules (/proc/modules, column 2): an upper bound of kdumpctl's "loaded
    modules that go into the kdump initrd", whose listing needs the initrd unpacked (zstd: not in Python 3.6)."""
    if not proc_modules:
        return None
    sizes = [line.split()[1] for line in proc_modules.splitlines() if len(line.split()) > 1]
    return sum(int(size) for size in sizes if size.isdigit())


def luks2_backing_devices(tree: Any) -> List[str]:
    """/dev paths that carry the open LUKS2 devices (the dm device's slaves), for cryptsetup luksDump."""
    return sorted(set("/dev/" + slave for block in _luks2_blocks(tree)
                      for slave in tree.listdir("sys/block/%s/slaves" % block)))


def argon_bytes(luks_dumps: List[str]) -> Optional[int]:
    """The largest Argon2 memory of any key slot in `cryptsetup luksDump` outputs, in bytes (kdumpctl adds it:
    unlocking the device in the capture kernel needs it); None when no output names one."""
    kib = [int(value) for text in luks_dumps for value in ARGON_MEMORY.findall(text or "")]
    return max(kib) * 1024 if kib else None


def suggested_bytes(kdump_config_show: Optional[str]) -> Optional[int]:
    """kdump-tools' "crashkernel suggested size: NM" (kdump-config show, 1.10 and later) in bytes."""
    match = SUGGESTED.search(kdump_config_show or "")
    if match is None:
        return None
    return int(match.group(1)) << {"K": 10, "M": 20, "G": 30}[match.group(2).upper()]


def _first_file(tree: Any, patterns: Any, release: str) -> Optional[str]:
    for pattern in patterns:
        rel = pattern.format(release=release)
        if tree.size(rel) is not None:
            return rel
    return None


def capture_facts(tree: Any, release: Optional[str], kdump_config_show: Optional[str] = None,
                  luks_dumps: Optional[List[str]] = None) -> Dict[str, Any]:
    """The `capture` facts: {kernel_image, kernel_image_bytes, kdump_initrd, kdump_initrd_bytes,
    loaded_modules_bytes, luks2_devices, luks2_argon_bytes, tool_suggested_bytes}; paths are absolute on the
    host, None when not found. luks_dumps are the `cryptsetup luksDump` outputs of luks2_backing_devices()."""
    image = initrd = None
    if release:
        image = _first_file(tree, KERNEL_IMAGES, release)
        initrd = _first_file(tree, KDUMP_INITRDS, release)
    return {
        "kernel_image": "/" + image if image else None,
        "kernel_image_bytes": kernel_image_bytes(tree.read_bytes(image, max_bytes=HEADER_BYTES)) if image else None,
        "kdump_initrd": "/" + initrd if initrd else None,
        "kdump_initrd_bytes": tree.size(initrd) if initrd else None,
        "loaded_modules_bytes": loaded_modules_bytes(tree.read_text("proc/modules")),
        "luks2_devices": luks2_devices(tree),
        "luks2_argon_bytes": argon_bytes(luks_dumps or []),
        "tool_suggested_bytes": suggested_bytes(kdump_config_show),
    }
