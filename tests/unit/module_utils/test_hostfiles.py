# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HostTree: reading a captured tree must never leave it, and must never raise on a bad file."""

import gzip
import os

from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree


def write(root, rel, data):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())
    return path


def test_absolute_symlink_resolves_inside_the_tree(tmp_path):
    write(tmp_path, "usr/lib/os-release", "ID=fixture-inside\n")
    os.makedirs(str(tmp_path / "etc"))
    os.symlink("/usr/lib/os-release", str(tmp_path / "etc/os-release"))
    tree = HostTree(str(tmp_path))
    assert tree.read_text("etc/os-release") == "ID=fixture-inside\n"
    assert tree.path("etc/os-release") == str(tmp_path / "usr/lib/os-release")


def test_dotdot_cannot_climb_above_the_root(tmp_path):
    write(tmp_path, "etc/hostname", "inside\n")
    tree = HostTree(str(tmp_path / "etc"))
    assert tree.path("../../../../hostname") == str(tmp_path / "etc/hostname")


def test_relative_symlink_and_directory_symlink(tmp_path):
    write(tmp_path, "sys/devices/virtual/dmi/id/sys_vendor", "WIWYNN\n")
    os.makedirs(str(tmp_path / "sys/class/dmi"))
    os.symlink("../../devices/virtual/dmi/id", str(tmp_path / "sys/class/dmi/id"))
    assert HostTree(str(tmp_path)).read_line("sys/class/dmi/id/sys_vendor") == "WIWYNN"


def test_symlink_loop_gives_none_and_is_recorded(tmp_path):
    os.symlink("b", str(tmp_path / "a"))
    os.symlink("a", str(tmp_path / "b"))
    tree = HostTree(str(tmp_path))
    assert tree.read_text("a", record=True) is None
    assert tree.unreadable == ["a"]


def test_missing_file_recorded_only_when_asked(tmp_path):
    tree = HostTree(str(tmp_path))
    assert tree.read_text("proc/iomem") is None
    assert tree.missing == []
    assert tree.read_text("proc/iomem", record=True) is None
    assert tree.missing == ["proc/iomem"]


def test_file_in_place_of_directory_is_missing_not_a_crash(tmp_path):
    write(tmp_path, "proc", "not a directory")
    tree = HostTree(str(tmp_path))
    assert tree.read_text("proc/cpuinfo", record=True) is None
    assert tree.missing == ["proc/cpuinfo"]
    assert tree.listdir("proc") == []


def test_gzip_is_unpacked_and_bad_gzip_is_none(tmp_path):
    write(tmp_path, "proc/config.gz", gzip.compress(b"CONFIG_KEXEC=y\n"))
    write(tmp_path, "boot/broken.gz", b"this is not gzip")
    tree = HostTree(str(tmp_path))
    assert tree.read_text("proc/config.gz") == "CONFIG_KEXEC=y\n"
    assert tree.read_text("boot/broken.gz", record=True) is None
    assert tree.unreadable == ["boot/broken.gz"]


def test_read_line_strips_nul_and_handles_empty(tmp_path):
    write(tmp_path, "sys/devices/soc0/soc_id", "jep106:0a16:0001\x00\n")
    write(tmp_path, "sys/kernel/empty", "")
    tree = HostTree(str(tmp_path))
    assert tree.read_line("sys/devices/soc0/soc_id") == "jep106:0a16:0001"
    assert tree.read_line("sys/kernel/empty") is None


def test_invalid_utf8_is_replaced_not_raised(tmp_path):
    write(tmp_path, "proc/cpuinfo", b"processor\t: 0\n\xff\xfe garbage\n")
    assert "processor" in HostTree(str(tmp_path)).read_text("proc/cpuinfo")


def test_lexists_sees_dangling_links(tmp_path):
    os.makedirs(str(tmp_path / "etc/systemd/system/multi-user.target.wants"))
    os.symlink("/lib/systemd/system/kdump.service",
               str(tmp_path / "etc/systemd/system/multi-user.target.wants/kdump.service"))
    tree = HostTree(str(tmp_path))
    assert tree.lexists("etc/systemd/system/multi-user.target.wants/kdump.service")
    assert not tree.exists("etc/systemd/system/multi-user.target.wants/kdump.service")
    assert tree.readlink("etc/systemd/system/multi-user.target.wants/kdump.service") == \
        "/lib/systemd/system/kdump.service"


def test_live_root_reads_the_real_system():
    tree = HostTree("/")
    assert tree.live
    assert tree.path("proc/cpuinfo") == "/proc/cpuinfo"
    assert tree.read_text("proc/self/status") is not None
