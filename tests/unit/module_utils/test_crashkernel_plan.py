# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""crashkernel_plan: policies, the form each kernel honours, refusals and input errors."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils import _crashkernel as ck

M, G = 1 << 20, 1 << 30


def facts(arch="aarch64", release="6.1.0-27-arm64", total=256 * G, low=2 * G, altra=False, page_size=4096,
          cmdline="BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro quiet", kexec="2.0.25", **platform):
    plat = {"arch": arch, "is_altra": altra, "page_size": page_size}
    plat.update(platform)
    return {
        "platform": plat,
        "memory": {"total_bytes": total, "low_limit_bytes": 4 * G, "low_bytes": low},
        "kernel": {"release": release, "version": [int(part) for part in release.split("-")[0].split(".")],
                   "cmdline": cmdline, "crashkernel": []},
        "software": {"kexec_tools_version": kexec},
        "capabilities": {"high_low_reservation": {"supported": None, "why": ""}},
    }


def ids(result, severity=None):
    return [f["id"] for f in result["findings"] if severity is None or f["severity"] == severity]


def test_altra_debian12_gets_high_low():
    result = ck.plan(facts(altra=True, low=1536 * M))
    assert result["policy"] == "altra"
    assert result["args"] == ["crashkernel=768M,high", "crashkernel=16M,low"]
    assert (result["expected"]["region"], result["expected"]["size"], result["expected"]["low_size"]) == \
        ("high", 768 * M, 16 * M)
    assert "crashkernel-high-low-form" in ids(result, "info")
    assert not ids(result, "error")


@pytest.mark.parametrize("total, size", [(8 * G, "128M"), (32 * G, "256M"), (96 * G, "512M"), (512 * G, "768M")])
def test_altra_size_follows_the_seed_table(total, size):
    result = ck.plan(facts(altra=True, total=total, release="6.12.0-31-arm64"))
    assert result["args"] == ["crashkernel=%s,high" % size, "crashkernel=16M,low"]


def test_altra_rhel9_gets_high_low():
    result = ck.plan(facts(altra=True, release="5.14.0-427.13.1.el9_4.aarch64"))
    assert result["args"] == ["crashkernel=768M,high", "crashkernel=16M,low"]
    assert result["expected"]["model"] == ck.MODEL_ARM64_519


def test_altra_old_kernel_falls_back_to_plain_and_warns():
    result = ck.plan(facts(altra=True, release="5.10.0-30-arm64", low=1536 * M))
    assert result["args"] == ["crashkernel=512M-12G:128M,12G-64G:256M,64G-128G:512M,128G-:768M"]
    assert {"crashkernel-high-low-unsupported", "crashkernel-altra-low-risk"} <= set(ids(result, "warning"))
    assert result["expected"]["region"] == "low"


def test_altra_old_kernel_short_low_memory_is_refused():
    result = ck.plan(facts(altra=True, release="5.10.0-30-arm64", low=512 * M))
    assert ids(result, "error") == ["crashkernel-low-memory-short"]
    assert result["expected"]["region"] == "none"


def test_altra_backport_reported_by_facts():
    data = facts(altra=True, release="5.10.0-30-arm64", low=512 * M)
    data["capabilities"]["high_low_reservation"]["supported"] = True
    result = ck.plan(data)
    assert result["args"] == ["crashkernel=768M,high", "crashkernel=16M,low"]
    assert not ids(result, "error")


def test_altra_low_override():
    result = ck.plan(facts(altra=True), low="0")
    assert result["args"] == ["crashkernel=768M,high", "crashkernel=0,low"]
    assert result["expected"]["low_size"] == 0
    result = ck.plan(facts(altra=True), low="64M")
    assert result["args"][1] == "crashkernel=64M,low"


def test_generic_arm64_6_1_short_low_memory_switches_to_high_low():
    result = ck.plan(facts(low=256 * M))
    assert result["policy"] == "kdump-utils"
    assert result["args"] == ["crashkernel=576M,high", "crashkernel=128M,low"]
    assert result["expected"]["region"] == "high"
    assert "crashkernel-high-low-form" in ids(result, "info")


def test_generic_arm64_6_1_enough_low_memory_keeps_the_table():
    result = ck.plan(facts(low=2 * G))
    assert result["args"] == ["crashkernel=2G-4G:256M,4G-64G:320M,64G-:576M"]
    assert result["expected"]["region"] == "low"


def test_generic_arm64_6_6_keeps_the_table_and_falls_back():
    result = ck.plan(facts(release="6.6.0-14-arm64", low=256 * M))
    assert result["args"] == ["crashkernel=2G-4G:256M,4G-64G:320M,64G-:576M"]
    assert (result["expected"]["region"], result["expected"]["low_size"]) == ("high", 128 * M)


def test_generic_arm64_6_1_unknown_low_memory_warns():
    result = ck.plan(facts(low=None))
    assert "crashkernel-low-memory-unknown" in ids(result, "warning")
    assert "crashkernel-low-ram-assumed" in ids(result, "info")


@pytest.mark.parametrize("platform, size", [
    ({}, "2G-4G:356M,4G-64G:420M,64G-:676M"),
    ({"arm_smmu": True, "mlx5": False}, "2G-4G:740M,4G-64G:804M,64G-:1060M"),
    ({"arm_smmu": True, "mlx5": True}, "2G-4G:940M,4G-64G:1004M,64G-:1260M"),
])
def test_kdump_utils_64k_additions(platform, size):
    result = ck.plan(facts(page_size=65536, release="6.12.0-31-arm64", **platform))
    assert result["args"] == ["crashkernel=" + size]
    assert ("crashkernel-sizing-facts-missing" in ids(result)) == (not platform)


def test_kdump_utils_4k_mlx5():
    result = ck.plan(facts(release="6.12.0-31-arm64", mlx5=True))
    assert result["args"] == ["crashkernel=2G-4G:406M,4G-64G:470M,64G-:726M"]


def test_x86_kdump_utils():
    result = ck.plan(facts(arch="x86_64", release="6.1.0-27-amd64", total=32 * G, low=3 * G))
    assert result["args"] == ["crashkernel=2G-64G:256M,64G-:512M"]
    assert (result["expected"]["region"], result["expected"]["size"]) == ("low", 256 * M)
    assert result["expected"]["model"] == ck.MODEL_X86_52


@pytest.mark.parametrize("distro,version,expected", [
    ("debian", "13", "crashkernel=512M-:192M"),   # kdump-tools 1.10.7's grub.d snippet
    ("debian", "14", "crashkernel=512M-:192M"),
    ("debian", "12", "crashkernel=384M-:128M"),   # kdump-tools 1.8.1
    ("ubuntu", "24.04", "crashkernel=384M-:128M"),
    (None, None, "crashkernel=384M-:128M"),
])
def test_debian_policy_follows_the_release_on_x86_64(distro, version, expected):
    host = facts(arch="x86_64", release="6.12.57-amd64", total=3 * G)
    host["software"].update(distro=distro, version=version)
    assert ck.plan(host, "debian")["args"] == [expected]


def test_debian_13_keeps_the_arm64_table():
    host = facts(total=16 * G)
    host["software"].update(distro="debian", version="13")
    assert ck.plan(host, "debian")["args"] == ["crashkernel=2G-4G:320M,4G-32G:512M,32G-64G:1G,64G-128G:2G,128G-:4G"]


def test_debian_policy():
    assert ck.plan(facts(arch="x86_64", release="6.1.0-27-amd64"), "debian")["args"] == ["crashkernel=384M-:128M"]
    assert ck.plan(facts(total=16 * G), "debian")["args"] == \
        ["crashkernel=2G-4G:320M,4G-32G:512M,32G-64G:1G,64G-128G:2G,128G-:4G"]
    # 4G from the table does not fit the 2 GiB of low RAM and 6.1 cannot fall back
    assert ck.plan(facts(total=256 * G), "debian")["args"] == ["crashkernel=4G,high", "crashkernel=128M,low"]


def test_small_vm_on_an_old_kernel_matches_no_range():
    data = facts(release="5.10.0-30-arm64", total=2 * G - 5 * M, low=2 * G - 5 * M)
    result = ck.plan(data)
    assert ids(result, "error") == ["crashkernel-no-range-match"]
    data["kernel"]["release"] = "6.1.0-27-arm64"
    assert not ids(ck.plan(data), "error")


def test_explicit_values_are_written_as_given():
    result = ck.plan(facts(), "crashkernel=0x30000000,high crashkernel=16M,low")
    assert result["policy"] == "explicit"
    assert result["args"] == ["crashkernel=768M,high", "crashkernel=16M,low"]


def test_explicit_plain_with_low_override_warns_that_low_is_ignored():
    result = ck.plan(facts(release="6.12.0-31-arm64"), "512M", low="16M")
    assert result["args"] == ["crashkernel=512M", "crashkernel=16M,low"]
    assert "crashkernel-low-ignored" in ids(result, "warning")


def test_explicit_low_override_replaces_low():
    result = ck.plan(facts(), "768M,high 64M,low", low="16M")
    assert result["args"] == ["crashkernel=768M,high", "crashkernel=16M,low"]


def test_explicit_duplicates_warn():
    result = ck.plan(facts(), "256M 16M,low 768M,high")
    assert "crashkernel-duplicate-token" not in ids(result)
    result = ck.plan(facts(), "256M 16M,low 512M 1G-:128M 32M,low")
    assert "crashkernel-duplicate-token" in ids(result, "warning")
    assert result["args"] == ["crashkernel=1G-:128M", "crashkernel=32M,low"]
    assert result["expected"]["size"] == 128 * M


def test_explicit_high_on_old_arm64_is_refused():
    result = ck.plan(facts(release="5.10.0-30-arm64"), "768M,high")
    assert "crashkernel-high-ignored" in ids(result, "warning")
    assert ids(result, "error") == ["crashkernel-no-crashkernel"]


def test_table_policy():
    table = [{"min": "2G", "max": "64G", "size": "256M"}, {"min": "64G", "size": "512M"}]
    result = ck.plan(facts(), table)
    assert result["policy"] == "table"
    assert result["args"] == ["crashkernel=2G-64G:256M,64G-:512M"]
    assert result["expected"]["size"] == 512 * M


def test_table_with_low_override_uses_high_low():
    result = ck.plan(facts(), [{"min": "2G", "size": "256M"}], low="32M")
    assert result["args"] == ["crashkernel=256M,high", "crashkernel=32M,low"]


@pytest.mark.parametrize("policy, words", [
    ("fast", "kdump_crashkernel: 'fast' is neither a preset"),
    ("512M,huge", "kdump_crashkernel: '512M,huge' is neither a preset"),
    ("", "kdump_crashkernel is empty"),
    ("root=/dev/sda1 quiet", "holds no crashkernel value"),
    ("quiet splash", "'quiet splash' is neither a preset"),
    (512, "did you mean '512M'?"),
    ({"2G-64G": "256M"}, "a table is a list of {min, max, size} entries, not a mapping"),
    ([], "non-empty list"),
    ([{"min": "2G"}], "entry 1: needs 'min' and 'size'"),
    ([{"min": "2G", "size": "lots"}], "entry 1 size: 'lots' is not a size"),
    ([{"min": "2G", "max": "1G", "size": "256M"}], "entry 1: max 1G is not above min 2G"),
    ([{"min": "2G", "size": "256M", "mem": 1}], "entry 1: unknown key"),
    ([{"min": "2G", "size": "0"}], "size 0 reserves nothing"),
    ([{"min": "2G", "max": "64G", "size": "256M"}, {"min": "32G", "size": "512M"}], "overlap"),
    (["2G-:256M"], "entry 1: expected a mapping"),
])
def test_bad_policy_names_kdump_crashkernel(policy, words):
    with pytest.raises(ck.CrashkernelError) as info:
        ck.plan(facts(), policy)
    assert words in str(info.value)
    assert "kdump_crashkernel" in str(info.value)


@pytest.mark.parametrize("low", ["lots", "-1", True, [16]])
def test_bad_low_names_kdump_crashkernel_low(low):
    with pytest.raises(ck.CrashkernelError, match="kdump_crashkernel_low.*Fix: set kdump_crashkernel_low"):
        ck.plan(facts(), "altra", low)


@pytest.mark.parametrize("low", [None, "", "auto", "default"])
def test_low_default(low):
    assert ck.plan(facts(), "altra", low)["args"][1] == "crashkernel=16M,low"


def test_size_not_below_ram_is_refused():
    result = ck.plan(facts(total=32 * G), "64G")
    assert ids(result, "error") == ["crashkernel-size-exceeds-ram"]


def test_low_region_larger_than_low_ram_is_refused():
    result = ck.plan(facts(altra=True, low=512 * M), low="1G")
    assert ids(result, "error") == ["crashkernel-low-region-does-not-fit"]


def test_large_share_warns():
    result = ck.plan(facts(total=4 * G, low=3 * G), "1G-:2560M")
    assert "crashkernel-large-share" in ids(result, "warning")


def test_old_kexec_tools_with_two_regions_is_the_facts_error():
    # same id and severity as the facts' finding, so the assessment reports the problem once
    result = ck.plan(facts(altra=True, kexec="2.0.22"))
    assert "kexec-tools-too-old-for-high-low" in ids(result, "error")
    result = ck.plan(facts(altra=True, kexec="2.0.25"))
    assert "kexec-tools-too-old-for-high-low" not in ids(result)


def test_old_kexec_tools_already_loaded_into_two_regions_is_not_accused():
    host = facts(altra=True, kexec="2.0.22")
    host["reservation"] = dict(kexec_crash_loaded=True, regions=[
        {"start": 0x80000000, "end": 0x81000000, "size": 16 * M},
        {"start": 0x800000000, "end": 0x830000000, "size": 768 * M}])
    assert "kexec-tools-too-old-for-high-low" not in ids(ck.plan(host))


def test_swiotlb_on_the_running_cmdline_sizes_the_x86_low_region():
    data = facts(arch="x86_64", release="6.12.0-31-amd64", total=64 * G, low=1 * G,
                 cmdline="root=/dev/sda1 swiotlb=262144 crashkernel=128M")
    result = ck.plan(data, "1G")
    assert result["args"] == ["crashkernel=1G"]
    assert result["expected"]["low_size"] == 520 * M


def test_running_crashkernel_tokens_do_not_leak_into_the_prediction():
    data = facts(cmdline="root=/dev/sda1 crashkernel=2G crashkernel=16M,low")
    result = ck.plan(data, "512M")
    assert result["expected"]["size"] == 512 * M


def test_whole_ansible_facts_accepted():
    assert ck.plan({"kdump": facts(altra=True)})["policy"] == "altra"


@pytest.mark.parametrize("change, error", [
    (lambda d: d["memory"].update(total_bytes=None), "crashkernel-facts-incomplete"),
    (lambda d: d.pop("memory"), "crashkernel-facts-incomplete"),
    (lambda d: d["platform"].update(arch="ppc64le"), "crashkernel-arch-unsupported"),
    (lambda d: d["kernel"].update(release=None), "crashkernel-kernel-unknown"),
    (lambda d: d["kernel"].update(release="unknown"), "crashkernel-kernel-unknown"),
])
def test_incomplete_facts_are_refused(change, error):
    data = facts()
    change(data)
    result = ck.plan(data)
    assert ids(result, "error") == [error]
    assert result["args"] == []
    assert result["expected"]["region"] == "none"


def test_not_facts_raises():
    with pytest.raises(ck.CrashkernelError, match="ansible_facts.kdump"):
        ck.plan("host1")


def test_plan_does_not_change_the_facts():
    data = facts(altra=True)
    before = copy.deepcopy(data)
    ck.plan(data, low="32M")
    assert data == before


@pytest.mark.parametrize("data", [facts(altra=True), facts(low=256 * M), facts(arch="x86_64", release="5.15.0-1-amd64")])
def test_expected_is_what_reserve_predicts_for_the_args(data):
    result = ck.plan(data)
    again = ck.reserve(data["kernel"]["cmdline"].split() + result["args"], data["memory"]["total_bytes"],
                       arch=data["platform"]["arch"], kernel=data["kernel"]["release"],
                       low_ram=data["memory"]["low_bytes"])
    assert again == result["expected"]
