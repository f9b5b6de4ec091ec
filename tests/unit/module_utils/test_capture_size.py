# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_capture_size: kernel image memory from real Debian 13 image headers (tests/fixtures/kernel-images) and from
headers built here by the documented layouts (x86 boot protocol, arm64 booting.rst, EFI zboot); the kdump initrd,
LUKS2 devices, loaded modules and kdump-tools' suggested size from trees built in tmp_path; the luksDump text
follows cryptsetup 2.6's output (a key slot's "Memory:" line, KiB)."""
import gzip
import os
import struct

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils._capture_size import (
    argon_bytes, capture_facts, kernel_image_bytes, loaded_modules_bytes, luks2_backing_devices, luks2_devices,
    suggested_bytes)
from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(os.path.dirname(os.path.dirname(HERE)), "fixtures", "kernel-images")
RELEASE = "6.12.117+deb13-amd64"


def image_head(name):
    with open(os.path.join(IMAGES, name), "rb") as handle:
        return handle.read()


def arm64_image(image_size):
    head = bytearray(64)
    struct.pack_into("<Q", head, 0x10, image_size)
    head[0x38:0x3c] = b"ARM\x64"
    return bytes(head) + b"\x00" * 4096


def bzimage(init_size, protocol=0x020f):
    head = bytearray(4096)
    head[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", head, 0x206, protocol)
    struct.pack_into("<I", head, 0x260, init_size)
    return bytes(head)


def zboot(payload, kind=b"gzip"):
    head = bytearray(0x200)
    head[0:2], head[4:8] = b"MZ", b"zimg"
    struct.pack_into("<II", head, 8, len(head), len(payload))
    head[0x18:0x18 + len(kind)] = kind
    return bytes(head) + payload


@pytest.mark.parametrize("name, expected", [("vmlinuz-6.12.117+deb13-amd64.head", 58650624),
                                            ("vmlinuz-6.12.117+deb13-arm64.head", 38797312)])
def test_real_debian_images(name, expected):
    assert kernel_image_bytes(image_head(name)) == expected


def test_built_headers():
    assert kernel_image_bytes(bzimage(50 << 20)) == 50 << 20
    assert kernel_image_bytes(bzimage(50 << 20, protocol=0x0209)) is None  # no init_size before 2.10
    assert kernel_image_bytes(arm64_image(40 << 20)) == 40 << 20
    assert kernel_image_bytes(arm64_image(0)) is None  # pre-3.17 arm64 kernels leave image_size 0
    assert kernel_image_bytes(gzip.compress(arm64_image(41 << 20))[:300]) == 41 << 20  # only the start is read
    assert kernel_image_bytes(zboot(gzip.compress(arm64_image(42 << 20)))) == 42 << 20
    assert kernel_image_bytes(zboot(b"\x28\xb5\x2f\xfd" + b"\x00" * 64, kind=b"zstd")) is None


@pytest.mark.parametrize("data", [None, b"", b"\x7fELF" + b"\x00" * 200, b"\x1f\x8b" + b"\xff" * 100,
                                  b"MZ\x00\x00zimg" + b"\xff" * 8, b"MZ" + b"\x00" * 4094,
                                  zboot(b"\x1f\x8b" + b"\x00" * 8)[:0x220]])
def test_unknown_or_broken_images_say_nothing(data):
    assert kernel_image_bytes(data) is None


LUKS_DUMP = """LUKS header information
Version:       \t2
Keyslots:
  0: luks2
\tPBKDF:      argon2id
\tTime cost:  7
\tMemory:     1048576
\tThreads:    4
  1: luks2
\tPBKDF:      argon2id
\tMemory:     262144
"""


def write(root, rel, data):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())


def test_capture_facts_of_a_debian_tree(tmp_path):
    write(tmp_path, "boot/vmlinuz-%s" % RELEASE, image_head("vmlinuz-6.12.117+deb13-amd64.head"))
    write(tmp_path, "var/lib/kdump/initrd.img-%s" % RELEASE, b"\x00" * 123456)
    write(tmp_path, "sys/block/dm-0/dm/uuid", "CRYPT-LUKS2-0123abcd-cryptroot\n")
    write(tmp_path, "sys/block/dm-0/dm/name", "cryptroot\n")
    write(tmp_path, "sys/block/dm-1/dm/uuid", "LVM-abcdef\n")
    write(tmp_path, "proc/modules", "ext4 1081344 1 - Live 0x0000000000000000\nvirtio_blk 28672 2 - Live 0x0\n")
    facts = capture_facts(HostTree(str(tmp_path)), RELEASE, "crashkernel suggested size: 212M\n",
                          [LUKS_DUMP])
    assert facts == {"kernel_image": "/boot/vmlinuz-%s" % RELEASE, "kernel_image_bytes": 58650624,
                     "kdump_initrd": "/var/lib/kdump/initrd.img-%s" % RELEASE, "kdump_initrd_bytes": 123456,
                     "loaded_modules_bytes": 1081344 + 28672, "luks2_devices": ["cryptroot"],
                     "luks2_argon_bytes": 1048576 * 1024, "tool_suggested_bytes": 212 << 20}


def test_capture_facts_of_a_kdumpctl_tree_before_the_initrd_is_built(tmp_path):
    write(tmp_path, "usr/lib/modules/5.14.0-427.el9.x86_64/vmlinuz", bzimage(48 << 20))
    facts = capture_facts(HostTree(str(tmp_path)), "5.14.0-427.el9.x86_64")
    assert facts["kernel_image"] == "/usr/lib/modules/5.14.0-427.el9.x86_64/vmlinuz"
    assert facts["kernel_image_bytes"] == 48 << 20
    assert facts["kdump_initrd"] is None and facts["kdump_initrd_bytes"] is None
    write(tmp_path, "boot/initramfs-5.14.0-427.el9.x86_64kdump.img", b"\x00" * 1000)
    assert capture_facts(HostTree(str(tmp_path)), "5.14.0-427.el9.x86_64")["kdump_initrd_bytes"] == 1000


def test_without_a_release_nothing_is_looked_up(tmp_path):
    facts = capture_facts(HostTree(str(tmp_path)), None)
    assert facts == {"kernel_image": None, "kernel_image_bytes": None, "kdump_initrd": None,
                     "kdump_initrd_bytes": None, "loaded_modules_bytes": None, "luks2_devices": [],
                     "luks2_argon_bytes": None, "tool_suggested_bytes": None}


def test_a_directory_is_not_an_initrd(tmp_path):
    os.makedirs(str(tmp_path / "var/lib/kdump/initrd.img-x"))
    assert capture_facts(HostTree(str(tmp_path)), "x")["kdump_initrd"] is None


@pytest.mark.parametrize("text, expected", [
    ("current state: ready to kdump\ncrashkernel suggested size: 212M\n", 212 << 20),
    ("crashkernel suggested size: 1G", 1 << 30), ("Crashkernel Suggested Size: 98304K", 96 << 20),
    ("current state: ready to kdump\n", None), (None, None)])
def test_suggested_size(text, expected):
    assert suggested_bytes(text) == expected


def test_luks1_and_plain_dm_devices_are_not_luks2(tmp_path):
    write(tmp_path, "sys/block/dm-0/dm/uuid", "CRYPT-LUKS1-0123-old\n")
    write(tmp_path, "sys/block/dm-2/dm/uuid", "CRYPT-LUKS2-4567-data\n")
    assert luks2_devices(HostTree(str(tmp_path))) == ["dm-2"]  # no dm/name: the block device's name


def test_the_largest_argon_memory_of_all_key_slots_counts():
    assert argon_bytes([LUKS_DUMP.replace("1048576", "65536"), "Memory:     524288\n"]) == 524288 * 1024
    assert argon_bytes([]) is None
    assert argon_bytes(["LUKS header information\n  0: luks2\n\tPBKDF:      pbkdf2\n"]) is None


def test_luks2_backing_devices_are_the_dm_slaves(tmp_path):
    write(tmp_path, "sys/block/dm-0/dm/uuid", "CRYPT-LUKS2-0123-root\n")
    write(tmp_path, "sys/block/dm-0/slaves/nvme0n1p3", "")
    write(tmp_path, "sys/block/dm-1/dm/uuid", "LVM-x\n")
    write(tmp_path, "sys/block/dm-1/slaves/dm-0", "")
    assert luks2_backing_devices(HostTree(str(tmp_path))) == ["/dev/nvme0n1p3"]


@pytest.mark.parametrize("text, expected", [
    ("ext4 1081344 1 - Live 0x0\nvirtio_net 65536 0 - Live 0x0\n", 1081344 + 65536),
    ("", None), (None, None), ("garbled\nname notanumber 1\n", 0)])
def test_loaded_modules_bytes(text, expected):
    assert loaded_modules_bytes(text) == expected
