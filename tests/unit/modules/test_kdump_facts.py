# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kdump_facts: every fixture tree is classified correctly, the live machine works, main() behaves."""

import glob
import importlib.util
import io
import json
import os
import platform
import shutil
import subprocess
import sys
from contextlib import redirect_stdout

import pytest

from ansible_collections.fleetops.kdump.plugins.modules import kdump_facts

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HOSTS = os.path.join(REPO, "tests", "fixtures", "hosts")
GIB = 1 << 30
MIB = 1 << 20

GENERATOR = os.path.join(REPO, "tests", "fixtures", "make_host_trees.py")
_spec = importlib.util.spec_from_file_location("make_host_trees", GENERATOR)
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

# name: platform expectations, then the exact error/warning finding ids and required info ids
EXPECTED = {
    "ampere-altra-mtjade": {
        "platform": {"arch": "aarch64", "vendor": "ampere", "soc": "altra", "is_altra": True,
                     "soc_id": "jep106:0a16:0001", "cpu_implementer": "0x41", "cpu_part": "0xd0c", "cpu_count": 80,
                     "virtualization": "none", "agdi": True, "page_size": 4096},
        "kallsyms_text": False,
        "problems": {"crashkernel-reservation-failed", "plain-crashkernel-low-only", "agdi-present",
                     "kexec-no-text-symbol"},
        "info": {"arm64-linear-map-cost"},
    },
    "ampere-altra-max": {
        "platform": {"arch": "aarch64", "vendor": "ampere", "soc": "altra_max", "is_altra": True, "soc_id": None,
                     "cpu_part": "0xd0c", "cpu_count": 128, "virtualization": "none", "agdi": False,
                     "page_size": 4096},
        "kallsyms_text": True,
        "problems": set(),
        "info": set(),
    },
    "ampereone": {
        "platform": {"arch": "aarch64", "vendor": "ampere", "soc": "ampereone", "is_altra": False,
                     "soc_id": "jep106:0a16:0004", "cpu_implementer": "0xc0", "cpu_part": "0xac3",
                     "cpu_count": 192, "virtualization": "none", "page_size": 65536},
        "kallsyms_text": True,
        "problems": {"crash-kernel-not-loaded", "kdump-service-not-enabled"},
        "info": set(),
    },
    "aws-graviton2": {
        "platform": {"arch": "aarch64", "vendor": "amazon", "soc": "graviton2", "is_altra": False,
                     "cpu_part": "0xd0c", "cpu_count": 64, "virtualization": "amazon", "agdi": False},
        "kallsyms_text": None,
        "problems": set(),
        "info": {"arm64-linear-map-cost"},
    },
    "rhel9-x86_64": {
        "platform": {"arch": "x86_64", "vendor": "intel", "soc": None, "is_altra": False, "cpu_implementer": None,
                     "cpu_count": 128, "virtualization": "none", "page_size": 4096},
        "kallsyms_text": None,
        "problems": set(),
        "info": {"input-missing"},
    },
}


@pytest.fixture(scope="module")
def gathered():
    return {name: kdump_facts.gather_facts(os.path.join(HOSTS, name)) for name in EXPECTED}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_platform(gathered, name):
    platform_facts = gathered[name]["platform"]
    for key, value in EXPECTED[name]["platform"].items():
        assert platform_facts[key] == value, key


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_findings(gathered, name):
    found = gathered[name]["findings"]
    problems = {item["id"] for item in found if item["severity"] in ("error", "warning")}
    info = {item["id"] for item in found if item["severity"] == "info"}
    assert problems == EXPECTED[name]["problems"]
    assert EXPECTED[name]["info"] <= info


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_kallsyms_text(gathered, name):
    assert gathered[name]["kernel"]["kallsyms_text"] is EXPECTED[name]["kallsyms_text"]


def test_mtjade_on_debian_12_lists_no_text_and_has_no_kexec_file_load(gathered):
    facts = gathered["ampere-altra-mtjade"]
    assert facts["kernel"]["kallsyms_text"] is False
    assert facts["capabilities"]["kexec_file_crash"]["supported"] is False
    assert "kexec-no-text-symbol" in {item["id"] for item in facts["findings"]}


def test_altra_max_on_ubuntu_lists_text(gathered):
    facts = gathered["ampere-altra-max"]
    assert facts["kernel"]["kallsyms_text"] is True
    assert "kexec-no-text-symbol" not in {item["id"] for item in facts["findings"]}


def test_mtjade_memory_and_reservation(gathered):
    facts = gathered["ampere-altra-mtjade"]
    assert 255 * GIB < facts["memory"]["total_bytes"] < 256 * GIB
    assert facts["memory"]["low_bytes"] < 1 * GIB
    assert facts["reservation"]["regions"] == [] and facts["reservation"]["kexec_crash_loaded"] is False
    assert facts["kernel"]["crashkernel"] == ["crashkernel=512M-12G:128M,12G-64G:256M,64G-128G:512M,128G-:768M",
                                              "crashkernel=16M,low"]
    assert facts["software"]["kexec_tools_version"] == "2.0.25" and facts["software"]["service_enabled"] is True
    assert facts["capabilities"]["high_low_reservation"]["supported"] is True


def test_mtjade_failure_is_explained_by_the_crashkernel_engine(gathered):
    found = gathered["ampere-altra-mtjade"]["findings"]
    failed = [item["message"] for item in found if item["id"] == "crashkernel-reservation-failed"][0]
    assert "768 MiB does not fit below the low limit" in failed and "arm64-5.19" in failed
    plain = [item for item in found if item["id"] == "plain-crashkernel-low-only"][0]
    assert plain["message"].startswith("crashkernel=512M-12G:128M,") and "crashkernel=768M,high" in plain["fix"]


def test_altra_max_high_low_reservation(gathered):
    facts = gathered["ampere-altra-max"]
    reservation = facts["reservation"]
    assert (reservation["low_bytes"], reservation["high_bytes"]) == (16 * MIB, 768 * MIB)
    assert reservation["kexec_crash_loaded"] is True
    assert facts["capabilities"]["kexec_multiple_regions"]["supported"] is True
    assert facts["platform"]["smbios_processor"]["part"] == "M128-30"
    assert facts["platform"]["mlx5"] is True and facts["platform"]["arm_smmu"] is True


def test_ampereone_generic_fallback_gave_two_regions(gathered):
    reservation = gathered["ampereone"]["reservation"]
    assert [region["size"] for region in reservation["regions"]] == [128 * MIB, 4 * GIB]


def test_graviton2_rpm_tree(gathered):
    software = gathered["aws-graviton2"]["software"]
    assert (software["family"], software["distro"], software["kdump_package"]) == ("redhat", "amzn", "kexec-tools")
    assert software["kexec_tools_version"] == "2.0.26" and software["makedumpfile_installed"] is True
    assert software["service_enabled"] is True and software["service_active"] is None
    assert gathered["aws-graviton2"]["memory"]["low_bytes"] == 3 * GIB


def test_rhel9_sosreport_tree(gathered):
    facts = gathered["rhel9-x86_64"]
    assert facts["kernel"]["release"] == "5.14.0-427.13.1.el9_4.x86_64"
    assert facts["kernel"]["config"] is None
    assert facts["platform"]["dmi"]["product_name"] == "PowerEdge R650"
    assert facts["platform"]["smbios_processor"]["sockets"] == 2
    assert facts["software"]["service_enabled"] is True and facts["software"]["kexec_tools_version"] == "2.0.27"
    assert facts["reservation"]["regions"][0]["size"] == 512 * MIB


def test_fixture_trees_match_their_generator():
    assert gen.main(["--check"]) == 0


CAPTURED = sorted(path for path in glob.glob(os.path.join(HOSTS, "debian1[23]-*-qemu*")) if os.path.isdir(path))


@pytest.mark.skipif(not CAPTURED, reason="no captured test-VM trees yet")
@pytest.mark.parametrize("path", CAPTURED, ids=[os.path.basename(p) for p in CAPTURED])
def test_captured_vm_trees(path):
    facts = kdump_facts.gather_facts(path)
    arch = "aarch64" if "arm64" in os.path.basename(path) else "x86_64"
    assert facts["platform"]["arch"] == arch
    assert facts["platform"]["virtualization"] in ("qemu", "kvm")
    assert facts["software"]["family"] == "debian"
    assert facts["memory"]["total_bytes"] and facts["kernel"]["release"]


def test_captured_debian12_arm64_tree_has_no_text_symbol():
    facts = kdump_facts.gather_facts(os.path.join(HOSTS, "debian12-arm64-qemu-altra"))
    assert facts["kernel"]["kallsyms_text"] is False
    assert facts["capabilities"]["kexec_file_crash"]["supported"] is False
    found = [item for item in facts["findings"] if item["id"] == "kexec-no-text-symbol"]
    assert len(found) == 1 and found[0]["severity"] == "error"
    assert "CONFIG_KEXEC_FILE is not set" in found[0]["message"]
    assert not any(item["id"] == "input-missing" and "kallsyms" in item["message"] for item in facts["findings"])


def test_captured_debian13_arm64_tree_shows_the_makedumpfile_gap():
    # fresh guest: makedumpfile not installed yet, and no released one reads 4K pages with 52-bit VA
    facts = kdump_facts.gather_facts(os.path.join(HOSTS, "debian13-arm64-qemu-altra"))
    config = facts["kernel"]["config"]
    assert (config["CONFIG_ARM64_VA_BITS"], config["CONFIG_PAGE_SHIFT"], config["CONFIG_ARM64_LPA2"],
            config["CONFIG_KEXEC_FILE"]) == ("52", "12", "y", "n")
    assert facts["kernel"]["release"].startswith("6.12.") and facts["software"]["version"] == "13"
    assert facts["capabilities"]["makedumpfile_reads_kernel"]["supported"] is False
    assert "makedumpfile-cannot-read-kernel" in {item["id"] for item in facts["findings"]}
    # Debian 13's arm64 kernel lists _text (CONFIG_KALLSYMS_ALL=y): no kallsyms finding
    assert "kexec-no-text-symbol" not in {item["id"] for item in facts["findings"]}
    # 6 GiB from 1 GiB: RAM above 4 GiB, as on an Altra
    assert facts["memory"]["total_bytes"] - facts["memory"]["low_bytes"] > 2 << 30


def test_captured_debian13_amd64_tree_reads_its_kernel():
    facts = kdump_facts.gather_facts(os.path.join(HOSTS, "debian13-amd64-qemu"))
    assert facts["kernel"]["config"]["CONFIG_KEXEC_FILE"] == "y"
    assert facts["capabilities"]["makedumpfile_reads_kernel"]["supported"] is True
    assert facts["software"]["version"] == "13" and facts["storage"] is None


def test_captured_debian12_amd64_tree_does_not_read_kallsyms(tmp_path):
    root = tmp_path / "amd64"
    shutil.copytree(os.path.join(HOSTS, "debian12-amd64-qemu"), str(root), symlinks=True)
    (root / "proc" / "kallsyms").write_text("ffffffff81000000 T _stext\n")  # no _text, yet x86_64: not read
    facts = kdump_facts.gather_facts(str(root))
    assert facts["platform"]["arch"] == "x86_64" and facts["kernel"]["kallsyms_text"] is None
    assert "kexec-no-text-symbol" not in {item["id"] for item in facts["findings"]}


@pytest.mark.parametrize("kallsyms,fires", [
    ("ffffdce186330000 T _text\nffffdce186340000 T _stext\n", False),
    (None, False),  # no /proc/kallsyms in the tree: unknown, no finding
])
def test_debian12_arm64_tree_variants(tmp_path, kallsyms, fires):
    root = tmp_path / "arm64"
    shutil.copytree(os.path.join(HOSTS, "debian12-arm64-qemu-altra"), str(root), symlinks=True)
    if kallsyms is None:
        (root / "proc" / "kallsyms").unlink()
    else:
        (root / "proc" / "kallsyms").write_text(kallsyms)
    facts = kdump_facts.gather_facts(str(root))
    assert facts["kernel"]["kallsyms_text"] is (None if kallsyms is None else True)
    assert ("kexec-no-text-symbol" in {item["id"] for item in facts["findings"]}) is fires


# ---------------------------------------------------------------- live machine and odd trees

def test_live_machine():
    facts = kdump_facts.gather_facts("/")
    json.dumps(facts)
    assert facts["root"] == "/"
    assert facts["platform"]["arch"] == platform.machine()
    assert facts["kernel"]["release"] == os.uname().release
    assert facts["platform"]["page_size"] == os.sysconf("SC_PAGE_SIZE")
    for finding in facts["findings"]:
        assert finding["severity"] in ("error", "warning", "info") and finding["fix"]


def test_empty_directory_gives_nulls_not_errors(tmp_path):
    facts = kdump_facts.gather_facts(str(tmp_path))
    assert facts["platform"]["arch"] is None and facts["memory"]["total_bytes"] is None
    assert facts["kernel"]["release"] is None and facts["reservation"]["kexec_crash_loaded"] is None
    missing = [item["message"] for item in facts["findings"] if item["id"] == "input-missing"]
    assert any("/proc/iomem" in message for message in missing)
    assert any("/proc/cpuinfo" in message for message in missing)


def test_garbage_tree_does_not_raise(tmp_path):
    root = tmp_path / "garbage"
    shutil.copytree(os.path.join(HOSTS, "ampere-altra-mtjade"), str(root), symlinks=True)
    for rel in ("proc/iomem", "proc/cpuinfo", "proc/cmdline", "etc/os-release", "var/lib/dpkg/status",
                "sys/firmware/dmi/entries/4-0/raw", "boot/config-6.1.0-27-arm64", "sys/kernel/kexec_crash_size",
                "sys/devices/soc0/soc_id", "proc/sys/kernel/osrelease"):
        with open(str(root / rel), "wb") as handle:
            handle.write(os.urandom(512))
    facts = kdump_facts.gather_facts(str(root))
    json.dumps(facts)
    assert facts["memory"]["total_bytes"] is None


def test_zeroed_iomem_tree(tmp_path):
    root = tmp_path / "nonroot"
    shutil.copytree(os.path.join(HOSTS, "aws-graviton2"), str(root), symlinks=True)
    with open(str(root / "proc/iomem")) as handle:
        lines = handle.read().splitlines()
    with open(str(root / "proc/iomem"), "w") as handle:
        for line in lines:
            indent = line[:len(line) - len(line.lstrip())]
            handle.write("%s00000000-00000000 : %s\n" % (indent, line.split(" : ", 1)[1]))
    facts = kdump_facts.gather_facts(str(root))
    assert facts["memory"]["total_bytes"] is None and facts["reservation"]["regions"] is None
    ids = {item["id"] for item in facts["findings"]}
    assert "iomem-unreadable" in ids and "no-crashkernel-reserved" not in ids


# ---------------------------------------------------------------- main()

def run_main(args):
    """Run the module's main() with args; return (result dict, exit code)."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        patch_module_args = None
    out = io.StringIO()
    code = None
    with redirect_stdout(out):
        try:
            if patch_module_args is not None:
                with patch_module_args(args):
                    kdump_facts.main()
            else:
                from ansible.module_utils import basic
                from unittest import mock
                with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()):
                    kdump_facts.main()
        except SystemExit as stop:
            code = stop.code
    return json.loads(out.getvalue()), code


@pytest.mark.parametrize("check_mode", [False, True])
def test_main_returns_facts_unchanged(check_mode):
    result, code = run_main({"root": os.path.join(HOSTS, "ampereone"), "_ansible_check_mode": check_mode})
    assert code == 0 and result["changed"] is False
    assert result["ansible_facts"]["kdump"]["platform"]["soc"] == "ampereone"


def test_main_on_this_machine():
    result, code = run_main({})
    assert code == 0 and result["changed"] is False
    facts = result["ansible_facts"]["kdump"]
    assert facts["root"] == "/" and facts["platform"]["arch"] == platform.machine()


def test_main_rejects_a_root_that_is_not_a_directory(tmp_path):
    result, code = run_main({"root": str(tmp_path / "nope")})
    assert code == 1 and result["failed"] is True
    assert "root=" in result["msg"] and "captured tree" in result["msg"]


def test_main_rejects_unknown_options():
    result, code = run_main({"rooot": "/"})
    assert code == 1 and "rooot" in result["msg"]


def test_module_utils_run_on_python36():
    pythons = sorted(glob.glob("/root/.pyenv/versions/3.6.*/bin/python3.6")) + \
        [p for p in (shutil.which("python3.6"),) if p]
    if not pythons:
        pytest.skip("no Python 3.6 on this machine")
    code = ("import sys, json; sys.path.insert(0, sys.argv[1])\n"
            "from ansible_collections.fleetops.kdump.plugins.module_utils._hostfiles import HostTree\n"
            "from ansible_collections.fleetops.kdump.plugins.module_utils import _platform, _kernel, _software, _memory\n"
            "from ansible_collections.fleetops.kdump.plugins.module_utils import _readiness\n"
            "tree = HostTree(sys.argv[2]); kernel = _kernel.kernel_facts(tree)\n"
            "p = _platform.platform_facts(tree, kernel)\n"
            "facts = {'platform': p, 'kernel': kernel, 'software': _software.software_facts(tree),\n"
            "         'memory': {'total_bytes': 256 << 30, 'low_bytes': 761 << 20, 'low_limit_bytes': 4 << 30},\n"
            "         'reservation': {'regions': [], 'kexec_crash_size': 0, 'kexec_crash_loaded': False}}\n"
            "found = _readiness.findings(facts, _readiness.capabilities(facts), [])\n"
            "print(json.dumps([p['soc'], facts['software']['kexec_tools_version'],\n"
            "                  'plain-crashkernel-low-only' in [item['id'] for item in found]]))\n")
    collections = os.path.join(REPO, "build", "collections")
    out = subprocess.check_output([pythons[0], "-c", code, collections, os.path.join(HOSTS, "ampere-altra-mtjade")])
    assert json.loads(out.decode()) == ["altra", "2.0.25", True]


def test_ansible_cli_classifies_a_fixture():
    ansible = os.path.join(os.path.dirname(sys.executable), "ansible")
    if not os.path.exists(ansible):
        pytest.skip("ansible CLI not installed next to this Python")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    out = subprocess.run([ansible, "localhost", "-m", "fleetops.kdump.kdump_facts",
                          "-a", "root=%s" % os.path.join(HOSTS, "aws-graviton2")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, universal_newlines=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert '"soc": "graviton2"' in out.stdout and '"virtualization": "amazon"' in out.stdout


def test_kdump_config_show_runs_only_where_kdump_tools_is_installed(tmp_path):
    calls = []

    def runner(argv):
        calls.append(argv)
        return (0, "crashkernel suggested size: 212M\n", "") if len(calls) == 1 else (1, "", "not ready")

    tree = kdump_facts.HostTree(str(tmp_path))
    assert kdump_facts.kdump_config_show(tree, runner) is None and calls == []
    os.makedirs(str(tmp_path / "usr" / "sbin"))
    (tmp_path / "usr" / "sbin" / "kdump-config").write_text("#!/bin/sh\n")
    assert kdump_facts.kdump_config_show(tree, runner) == "crashkernel suggested size: 212M\n"
    assert calls == [["kdump-config", "show"]]
    assert kdump_facts.kdump_config_show(tree, runner) is None  # a failing show suggests nothing
    assert kdump_facts.kdump_config_show(tree, None) is None  # a captured tree runs nothing


def test_captured_trees_have_capture_facts_without_a_kernel_image():
    facts = kdump_facts.gather_facts(os.path.join(HOSTS, "debian13-amd64-qemu"))
    # the captured tree holds no kernel image or kdump initrd (tools/capture-host-tree copies text files)
    assert facts["capture"] == {"kernel_image": None, "kernel_image_bytes": None, "kdump_initrd": None,
                                "kdump_initrd_bytes": None, "loaded_modules_bytes": 8810496, "luks2_devices": [],
                                "luks2_argon_bytes": None, "tool_suggested_bytes": None}


def test_luks_dumps_run_cryptsetup_for_each_backing_device_of_a_live_host(tmp_path):
    calls = []

    def runner(argv):
        calls.append(argv)
        return (0, "Memory:     1048576\n", "") if argv[-1] == "/dev/sda3" else (1, "", "not a LUKS device")

    for name, slave in (("dm-0", "sda3"), ("dm-1", "sdb1")):
        os.makedirs(str(tmp_path / "sys" / "block" / name / "dm"))
        os.makedirs(str(tmp_path / "sys" / "block" / name / "slaves" / slave))
        (tmp_path / "sys" / "block" / name / "dm" / "uuid").write_text("CRYPT-LUKS2-%s-x\n" % name)
    tree = kdump_facts.HostTree(str(tmp_path))
    assert kdump_facts.luks_dumps(tree, runner) == ["Memory:     1048576\n"]
    assert calls == [["cryptsetup", "luksDump", "/dev/sda3"], ["cryptsetup", "luksDump", "/dev/sdb1"]]
    assert kdump_facts.luks_dumps(tree, None) == []
