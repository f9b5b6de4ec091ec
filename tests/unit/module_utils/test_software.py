# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel release/cmdline/config and kdump software: distro family, package versions, service state."""

import gzip
import os

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils import _kernel as kn
from ansible_collections.fleetops.kdump.plugins.module_utils import _software as sw
from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree

DPKG_STATUS = """Package: kexec-tools
Status: install ok installed
Architecture: arm64
Version: 1:2.0.25-3+b1
Description: tools to support fast kexec reboots

Package: kdump-tools
Status: deinstall ok config-files
Architecture: arm64
Version: 1:1.8.1

Package: makedumpfile
Status: install ok installed
Architecture: arm64
Version: 1:1.7.2-1
"""

INSTALLED_RPMS = """kexec-tools-debuginfo-2.0.27-8.el9.x86_64                   Mon 13 May 2024
kexec-tools-2.0.27-8.el9.x86_64                             Mon 13 May 2024 02:21:07 PM EDT
kdump-utils-1.0.42-2.el10.x86_64                            Mon 13 May 2024 02:21:07 PM EDT
makedumpfile-1.7.5-12.el10.x86_64                           Mon 13 May 2024 02:21:07 PM EDT
"""


def write(root, rel, data):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())


# ---------------------------------------------------------------- kernel

@pytest.mark.parametrize("release,version", [
    ("6.1.0-27-arm64", [6, 1, 0]), ("5.14.0-427.13.1.el9_4.aarch64", [5, 14, 0]), ("6.8.0-45-generic-64k", [6, 8, 0]),
    ("6.10", [6, 10, 0]), ("4.18.0-553.el8_10.x86_64", [4, 18, 0]), ("", None), (None, None), ("linux", None)])
def test_kernel_version(release, version):
    assert kn.kernel_version(release) == version


def test_release_from_uname():
    assert kn.release_from_uname("Linux h 5.14.0-427.el9.x86_64 #1 SMP x86_64 GNU/Linux") == "5.14.0-427.el9.x86_64"
    assert kn.release_from_uname("garbage") is None
    assert kn.release_from_uname(None) is None


def test_crashkernel_tokens_are_found_by_substring_like_the_kernel():
    """get_last_crashkernel() runs strstr(boot_command_line, "crashkernel="): init args after -- and words that
    merely contain crashkernel= count too (kernel/crash_reserve.c)."""
    cmdline = ('BOOT_IMAGE=/vmlinuz ro crashkernel=512M-12G:128M,128G-:768M quiet "crashkernel=16M,low" '
               "-- crashkernel=1G")
    assert kn.crashkernel_tokens(cmdline) == ["crashkernel=512M-12G:128M,128G-:768M", "crashkernel=16M,low",
                                              "crashkernel=1G"]
    assert kn.crashkernel_tokens(None) == []
    assert kn.crashkernel_tokens("crashkernelX=1 nocrashkernel=5") == ["crashkernel=5"]


def test_kernel_config_values():
    config = kn.parse_kernel_config("CONFIG_KEXEC=y\n# CONFIG_KEXEC_FILE is not set\nCONFIG_CRASH_DUMP=m\n"
                                    "CONFIG_OTHER=y\nCONFIG_ARM64_VA_BITS=48\n")
    assert config["CONFIG_KEXEC"] == "y" and config["CONFIG_KEXEC_FILE"] == "n"
    assert config["CONFIG_CRASH_DUMP"] == "m" and config["CONFIG_PROC_VMCORE"] is None
    assert "CONFIG_OTHER" not in config
    assert kn.config_enabled(config, "CONFIG_KEXEC") is True
    assert kn.config_enabled(config, "CONFIG_KEXEC_FILE") is False
    assert kn.config_enabled(config, "CONFIG_PROC_VMCORE") is False
    assert kn.config_enabled(None, "CONFIG_KEXEC") is None


@pytest.mark.parametrize("text", [None, "", "garbage\n\x00\x01", "# just a comment\n"])
def test_kernel_config_unknown(text):
    assert kn.parse_kernel_config(text) is None


def test_kernel_facts_from_boot_config_and_uname_fallback(tmp_path):
    write(tmp_path, "uname", "Linux h 5.14.0-427.el9.x86_64 #1 SMP x86_64 GNU/Linux\n")
    write(tmp_path, "boot/config-5.14.0-427.el9.x86_64", "CONFIG_KEXEC=y\nCONFIG_MAGIC_SYSRQ=y\n")
    write(tmp_path, "proc/cmdline", "ro crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M\n")
    tree = HostTree(str(tmp_path))
    facts = kn.kernel_facts(tree)
    assert facts["release"] == "5.14.0-427.el9.x86_64" and facts["version"] == [5, 14, 0]
    assert facts["config"]["CONFIG_KEXEC"] == "y" and facts["config_source"] == "/boot/config-5.14.0-427.el9.x86_64"
    assert facts["crashkernel"] == ["crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"]
    assert tree.missing == []


def test_kernel_facts_from_proc_config_gz(tmp_path):
    write(tmp_path, "proc/sys/kernel/osrelease", "6.1.0-27-arm64\n")
    write(tmp_path, "proc/config.gz", gzip.compress(b"CONFIG_PROC_VMCORE=y\n"))
    write(tmp_path, "proc/cmdline", "ro\n")
    facts = kn.kernel_facts(HostTree(str(tmp_path)))
    assert facts["config"]["CONFIG_PROC_VMCORE"] == "y" and facts["config_source"] == "/proc/config.gz"


def test_kernel_facts_empty_tree_records_missing(tmp_path):
    tree = HostTree(str(tmp_path))
    facts = kn.kernel_facts(tree)
    assert facts["release"] is None and facts["version"] is None and facts["config"] is None
    assert facts["cmdline"] is None and facts["crashkernel"] == []
    assert "proc/cmdline" in tree.missing and "proc/sys/kernel/osrelease" in tree.missing


# ---------------------------------------------------------------- distro

@pytest.mark.parametrize("text,family", [
    ('ID=debian\nVERSION_ID="12"\n', "debian"),
    ('ID=ubuntu\nID_LIKE=debian\n', "debian"),
    ('ID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n', "redhat"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "redhat"),
    ('ID="amzn"\nID_LIKE="fedora"\n', "redhat"),
    ('ID="sles"\nID_LIKE="suse"\n', "suse"),
    ('ID="opensuse-leap"\nID_LIKE="suse opensuse"\n', "suse"),
    ('ID=arch\n', "unknown"),
    ("\x00garbage", "unknown"),
    ("", "unknown"),
])
def test_distro_family(text, family):
    assert sw.distro_family(sw.parse_os_release(text)) == family


@pytest.mark.parametrize("os_release,split", [
    ({"ID": "fedora", "VERSION_ID": "40"}, True), ({"ID": "fedora", "VERSION_ID": "39"}, False),
    ({"ID": "rhel", "VERSION_ID": "10.0"}, True), ({"ID": "rhel", "VERSION_ID": "9.4"}, False),
    ({"ID": "centos", "VERSION_ID": "10"}, True), ({"ID": "amzn", "VERSION_ID": "2023"}, False),
    ({"ID": "rhel"}, False)])
def test_kdump_split_packages(os_release, split):
    assert sw.kdump_split_packages(os_release) is split


# ---------------------------------------------------------------- versions

@pytest.mark.parametrize("text,parsed", [("2.0.25", (2, 0, 25)), ("2.0.27~rc1", (2, 0, 27)), ("1.7.5", (1, 7, 5)),
                                         ("", None), (None, None), ("git", None)])
def test_version_tuple(text, parsed):
    assert sw.version_tuple(text) == parsed


@pytest.mark.parametrize("debian,upstream", [("1:2.0.25-3+b1", "2.0.25"), ("2.0.25", "2.0.25"),
                                             ("1:1.7.2-1", "1.7.2"), ("1:1.9.3ubuntu2", "1.9.3ubuntu2")])
def test_upstream_version(debian, upstream):
    assert sw.upstream_version(debian) == upstream


def test_dpkg_status():
    found = sw.parse_dpkg_status(DPKG_STATUS, sw.DEB_PACKAGES)
    assert found == {"kexec-tools": "2.0.25", "makedumpfile": "1.7.2", "kdump-tools": None}
    assert sw.parse_dpkg_status(None, ("kexec-tools",)) == {"kexec-tools": None}
    assert sw.parse_dpkg_status("\x00\x01garbage", ("kexec-tools",)) == {"kexec-tools": None}


def test_installed_rpms_ignores_lookalike_names():
    found = sw.parse_installed_rpms(INSTALLED_RPMS, sw.RPM_PACKAGES)
    assert found == {"kexec-tools": "2.0.27", "makedumpfile": "1.7.5", "kdump-utils": "1.0.42", "kdump": None}


def test_rpm_query_output():
    out = "kexec-tools 2.0.27\npackage makedumpfile is not installed\nkdump-utils 1.0.42\n"
    found = sw.parse_rpm_query(out, sw.RPM_PACKAGES)
    assert found == {"kexec-tools": "2.0.27", "makedumpfile": None, "kdump-utils": "1.0.42", "kdump": None}


def test_unit_files_listing():
    listing = "UNIT FILE STATE PRESET\nkdump.service disabled enabled\nkdump-tools.service enabled enabled\n"
    assert sw.parse_unit_files(listing, "kdump.service") is False
    assert sw.parse_unit_files(listing, "kdump-tools.service") is True
    assert sw.parse_unit_files(listing, "nope.service") is None


# ---------------------------------------------------------------- software_facts over trees

def debian_tree(root, enable=True, use_kdump=1):
    write(root, "etc/os-release", 'ID=debian\nVERSION_ID="12"\n')
    write(root, "var/lib/dpkg/status", DPKG_STATUS.replace("deinstall ok config-files", "install ok installed"))
    write(root, "etc/default/kdump-tools", "USE_KDUMP=%d\n" % use_kdump)
    os.makedirs(os.path.join(str(root), "etc/systemd/system/multi-user.target.wants"), exist_ok=True)
    if enable:
        os.symlink("/lib/systemd/system/kdump-tools.service",
                   os.path.join(str(root), "etc/systemd/system/multi-user.target.wants/kdump-tools.service"))


def test_debian_tree(tmp_path):
    debian_tree(tmp_path)
    facts = sw.software_facts(HostTree(str(tmp_path)), runner=None)
    assert facts["family"] == "debian" and facts["distro"] == "debian" and facts["version"] == "12"
    assert facts["kexec_tools_version"] == "2.0.25" and facts["makedumpfile_version"] == "1.7.2"
    assert facts["kdump_package"] == "kdump-tools" and facts["kdump_package_installed"] is True
    assert facts["service"] == "kdump-tools" and facts["service_enabled"] is True
    assert facts["service_active"] is None and facts["use_kdump"] is True
    assert facts["config_file"] == "/etc/default/kdump-tools" and facts["config_file_present"] is True


def test_debian_tree_disabled_and_masked(tmp_path):
    debian_tree(tmp_path, enable=False, use_kdump=0)
    facts = sw.software_facts(HostTree(str(tmp_path)))
    assert facts["service_enabled"] is False and facts["use_kdump"] is False
    masked = tmp_path / "masked"
    debian_tree(masked)
    os.symlink("/dev/null", str(masked / "etc/systemd/system/kdump-tools.service"))
    assert sw.software_facts(HostTree(str(masked)))["service_enabled"] is False


def test_sysv_links_when_there_is_no_systemd_dir(tmp_path):
    write(tmp_path, "etc/os-release", "ID=debian\n")
    write(tmp_path, "etc/rc2.d/S01kdump-tools", "")
    assert sw.software_facts(HostTree(str(tmp_path)))["service_enabled"] is True
    assert sw.software_facts(HostTree(str(tmp_path / "x")))["service_enabled"] is None


def test_rhel10_tree_with_split_packages(tmp_path):
    write(tmp_path, "etc/os-release", 'ID="rhel"\nID_LIKE="fedora"\nVERSION_ID="10.0"\n')
    write(tmp_path, "installed-rpms", INSTALLED_RPMS)
    write(tmp_path, "sos_commands/systemd/systemctl_list-unit-files", "kdump.service enabled enabled\n")
    facts = sw.software_facts(HostTree(str(tmp_path)))
    assert facts["kdump_package"] == "kdump-utils" and facts["kdump_package_installed"] is True
    assert facts["makedumpfile_version"] == "1.7.5" and facts["makedumpfile_installed"] is True
    assert facts["service"] == "kdump" and facts["service_enabled"] is True
    assert facts["package_source"] == "installed-rpms"


def test_rhel9_makedumpfile_ships_inside_kexec_tools(tmp_path):
    write(tmp_path, "etc/os-release", 'ID="rhel"\nVERSION_ID="9.4"\n')
    write(tmp_path, "installed-rpms", "kexec-tools-2.0.27-8.el9.x86_64  Mon 13 May 2024\n")
    facts = sw.software_facts(HostTree(str(tmp_path)))
    assert facts["kdump_package"] == "kexec-tools" and facts["kdump_package_installed"] is True
    assert facts["makedumpfile_installed"] is True and facts["makedumpfile_version"] is None


def test_rpm_tree_without_package_list_is_unknown_and_reported(tmp_path):
    write(tmp_path, "etc/os-release", 'ID="rocky"\nVERSION_ID="9.3"\n')
    tree = HostTree(str(tmp_path))
    facts = sw.software_facts(tree, runner=lambda argv: pytest.fail("no command may run for a captured tree"))
    assert facts["kexec_tools_version"] is None and facts["kexec_tools_installed"] is None
    assert facts["kdump_package_installed"] is None and facts["service_enabled"] is None
    assert "installed-rpms" in tree.missing


def test_live_system_uses_rpm_and_systemctl_through_the_runner(tmp_path):
    write(tmp_path, "etc/os-release", 'ID="rhel"\nVERSION_ID="9.4"\n')
    write(tmp_path, "usr/bin/rpm", "")
    os.makedirs(str(tmp_path / "run/systemd/system"))
    calls = []

    def runner(argv):
        calls.append(argv[:2])
        if argv[0] == "rpm":
            return 0, "kexec-tools 2.0.27\npackage makedumpfile is not installed\n", ""
        if argv[0] == "makedumpfile":  # makedumpfile -v as 1.7.x prints it
            return 0, MAKEDUMPFILE_V, ""
        return (0, "enabled\n", "") if argv[1] == "is-enabled" else (3, "inactive\n", "")

    tree = HostTree(str(tmp_path))
    tree.live = True  # pretend this tree is the running system
    facts = sw.software_facts(tree, runner)
    # EL 9 ships makedumpfile inside kexec-tools, so it is asked for its compressions
    assert calls == [["rpm", "-q"], ["systemctl", "is-enabled"], ["systemctl", "is-active"], ["makedumpfile", "-v"]]
    assert facts["kexec_tools_version"] == "2.0.27" and facts["package_source"] == "rpm"
    assert facts["service_enabled"] is True and facts["service_active"] is False
    assert facts["makedumpfile_compressions"] == ["lzo", "zstd"] and facts["systemd_running"] is True


MAKEDUMPFILE_V = "makedumpfile: version 1.7.4 (released on 6 Nov 2023)\nlzo\tenabled\nsnappy\tdisabled\nzstd\tenabled\n"


@pytest.mark.parametrize("text, expected", [
    (MAKEDUMPFILE_V, ["lzo", "zstd"]),
    ("makedumpfile: version 1.7.2\nlzo\tdisabled\nsnappy\tdisabled\nzstd\tdisabled\n", []),
    ("", None),
    ("sh: makedumpfile: not found\n", None),
    ("bash: command not found\n", None),
    ("makedumpfile: version 1.7.6\nlzo enabled here\n", []),  # not the word on a line of its own
])
def test_makedumpfile_compressions(text, expected):
    assert sw.makedumpfile_compressions(text) == expected


def test_captured_tree_has_no_systemd_state_and_reads_the_kallsyms_copy(tmp_path):
    write(tmp_path, "etc/os-release", 'ID=debian\nVERSION_ID="13"\n')
    facts = sw.software_facts(HostTree(str(tmp_path)))
    assert facts["systemd_running"] is None and facts["makedumpfile_compressions"] is None
    assert facts["kallsyms_copy_has_text"] is None
    write(tmp_path, "run/fleetops-kdump/kallsyms", "ffff800080000000 T _text\n")
    assert sw.software_facts(HostTree(str(tmp_path)))["kallsyms_copy_has_text"] is True
    write(tmp_path, "run/fleetops-kdump/kallsyms", "ffff800080000000 T _stext\n")
    assert sw.software_facts(HostTree(str(tmp_path)))["kallsyms_copy_has_text"] is False


def test_unknown_distro(tmp_path):
    write(tmp_path, "etc/os-release", "ID=gentoo\n")
    facts = sw.software_facts(HostTree(str(tmp_path)))
    assert facts["family"] == "unknown" and facts["kdump_package"] is None and facts["service"] is None
    assert facts["kexec_tools_installed"] is None


@pytest.mark.parametrize("result,expected", [
    ((0, "enabled\n", ""), True), ((1, "disabled\n", ""), False), ((1, "masked\n", ""), False),
    ((0, "static\n", ""), False), ((1, "", "Failed to get unit file state for kdump.service: No such file or directory"),
                                   False),
    ((1, "", "Failed to connect to bus: No medium found"), None), ((127, "", "systemctl not found"), None)])
def test_systemctl_is_enabled_output(result, expected):
    assert sw.systemctl_state(result, sw.ENABLED_STATES) is expected


def test_live_system_falls_back_to_links_when_systemctl_says_nothing(tmp_path):
    debian_tree(tmp_path)
    os.makedirs(str(tmp_path / "run/systemd/system"))
    tree = HostTree(str(tmp_path))
    tree.live = True
    facts = sw.software_facts(tree, lambda argv: (1, "", "Failed to connect to bus"))
    assert facts["service_enabled"] is True and facts["service_active"] is None


# ---------------------------------------------------------------- /proc/kallsyms

KALLSYMS_DEBIAN_ARM64 = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "kallsyms",
                                     "debian12-arm64-6.1", "kallsyms")
KALLSYMS_TEXT = "ffffdce186330000 T _text\nffffdce186340000 T _stext\n"


@pytest.mark.parametrize("text,expected", [
    (KALLSYMS_TEXT, True),
    ("ffffdce186340000 T _stext\nffffdce186330000 T _text", True),             # last line, no newline
    ("0000000000000000 T _text\n", True),                                         # read without root
    ("ffff800080a00000 t _text\t[fake]\n", True),                                # third field, module suffix
    ("ffffdce186340000 T _stext\nffffdce186340000 T __text\nffffdce186340000 T _text_start\n", False),
    ("ffffdce186340000 T _stext\n# _text\nffff _text\n", False),               # not the third field
    ("", None),
    (None, None),
])
def test_kallsyms_has_text(text, expected):
    assert kn.kallsyms_has_text(text) is expected


def test_kallsyms_excerpt_of_debian12_arm64_has_no_text():
    with open(KALLSYMS_DEBIAN_ARM64) as handle:
        text = handle.read()
    assert "_stext" in text and kn.kallsyms_has_text(text) is False
    assert kn.kallsyms_has_text("ffffdce186330000 T _text\n" + text) is True


def test_kallsyms_has_text_on_a_full_size_file_with_lookalike_names():
    lines = ["ffffdce1%08x t symbol_%d_text_section" % (n * 16, n) for n in range(60000)]
    text = "\n".join(lines[:59000] + ["ffffdce186330000 T _stext"] + lines[59000:]) + "\n"
    assert kn.kallsyms_has_text(text) is False
    assert kn.kallsyms_has_text(text + "ffffdce186330000 T _text\n") is True


@pytest.mark.parametrize("content,arch,expected", [
    (KALLSYMS_TEXT, "aarch64", True),
    ("ffffdce186340000 T _stext\n", "aarch64", False),
    (None, "aarch64", None),             # absent
    (KALLSYMS_TEXT, "x86_64", None),     # not read off arm64
    (KALLSYMS_TEXT, None, None),
])
def test_kallsyms_text_fact(tmp_path, content, arch, expected):
    if content is not None:
        write(tmp_path, "proc/kallsyms", content)
    tree = HostTree(str(tmp_path))
    assert kn.kallsyms_text(tree, arch) is expected
    assert tree.missing == [] and tree.unreadable == []  # optional: no input-missing finding
