# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The size estimate, the `estimate` policy and the below-estimate warning, on facts built here; the kernel
image sizes are the Debian 13 6.12.117 images' (tests/fixtures/kernel-images)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils import _crashkernel as ck
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.estimate import estimate

M, G = 1 << 20, 1 << 30
AMD64_IMAGE, ARM64_IMAGE = 58650624, 38797312


def facts(arch="x86_64", release="6.12.48+deb13-amd64", total=3 * G, low=3 * G, altra=False, image=AMD64_IMAGE,
          initrd=30 * M, modules=8 * M, luks=(), argon=None, reserved=None, suggested=None):
    return {
        "platform": {"arch": arch, "is_altra": altra, "page_size": 4096, "arm_smmu": False, "mlx5": False},
        "memory": {"total_bytes": total, "low_limit_bytes": 4 * G, "low_bytes": low},
        "kernel": {"release": release, "cmdline": "root=/dev/vda1 ro", "crashkernel": []},
        "software": {"kexec_tools_version": "2.0.31", "distro": "debian", "version": "13"},
        "capabilities": {"high_low_reservation": {"supported": None, "why": ""}},
        "reservation": {"total_bytes": reserved},
        "capture": {"kernel_image_bytes": image, "kdump_initrd_bytes": initrd, "loaded_modules_bytes": modules,
                    "luks2_devices": list(luks), "luks2_argon_bytes": argon, "tool_suggested_bytes": suggested},
    }


def finding(result, fid):
    return [item for item in result["findings"] if item["id"] == fid]


def test_the_estimate_adds_kdumpctls_terms_and_rounds_up_to_a_mib():
    result = estimate(facts())
    assert result["bytes"] == -(-(AMD64_IMAGE + 8 * M + 3 * 30 * M + 16 * M) // M) * M  # 170 MiB
    assert result["bytes"] == 170 * M
    names = [term["name"] for term in result["terms"]]
    assert names == ["kernel image", "loaded modules", "3 x kdump initrd", "runtime"]
    assert result["missing"] == [] and result["notes"] == []


def test_luks2_adds_its_argon_memory_or_the_default_maximum_when_unread():
    assert estimate(facts(luks=["cryptroot"], argon=256 * M))["bytes"] == 170 * M + 256 * M
    unread = estimate(facts(luks=["cryptroot"]))
    assert unread["bytes"] == 170 * M + 1 * G
    assert "1 LUKS2 device(s)" in unread["notes"][0]


@pytest.mark.parametrize("field, value", [("kdump_initrd_bytes", None), ("kernel_image_bytes", None),
                                          ("kdump_initrd_bytes", True), ("kernel_image_bytes", -1),
                                          ("kdump_initrd_bytes", 1 << 50), ("kernel_image_bytes", "58M")])
def test_a_missing_or_garbled_required_fact_gives_no_estimate(field, value):
    host = facts()
    host["capture"][field] = value
    result = estimate(host)
    assert result["bytes"] is None and result["missing"] == ["capture." + field]


def test_unknown_modules_count_as_zero_and_say_so():
    result = estimate(facts(modules=None))
    assert result["bytes"] == 162 * M and "loaded modules are unknown" in result["notes"][0]


def test_no_capture_facts_at_all():
    host = facts()
    del host["capture"]
    assert estimate(host)["missing"] == ["capture.kernel_image_bytes", "capture.kdump_initrd_bytes"]


def test_estimate_within_the_table_plans_what_auto_plans():
    auto, est = ck.plan(facts()), ck.plan(facts(), policy="estimate")
    assert est["args"] == auto["args"] == ["crashkernel=2G-64G:256M,64G-:512M"]
    assert est["policy"] == "estimate" and est["table_bytes"] == 256 * M and est["estimate"]["bytes"] == 170 * M
    assert "within the table's 256 MiB" in finding(est, "crashkernel-estimate")[0]["message"]
    assert not finding(est, "crashkernel-below-estimate")


def test_estimate_above_the_table_plans_the_estimate():
    result = ck.plan(facts(initrd=100 * M), policy="estimate")
    assert result["args"] == ["crashkernel=380M"]  # 55.93 + 8 + 3 x 100 + 16 = 379.93, up to 380 MiB
    assert result["expected"]["size"] == result["estimate"]["bytes"] == 380 * M
    assert result["table_bytes"] == 256 * M
    assert "above the table's 256 MiB" in finding(result, "crashkernel-estimate")[0]["message"]


def test_estimate_on_altra_grows_the_high_region_and_keeps_the_low_one():
    host = facts(arch="aarch64", release="6.12.48+deb13-arm64", total=6 * G, low=3 * G, altra=True,
                 image=ARM64_IMAGE, initrd=60 * M, modules=4 * M)
    auto, est = ck.plan(host), ck.plan(host, policy="estimate")
    assert auto["args"] == ["crashkernel=128M,high", "crashkernel=16M,low"] and auto["table_bytes"] == 144 * M
    need = est["estimate"]["bytes"]
    assert need == -(-(ARM64_IMAGE + 4 * M + 180 * M + 16 * M) // M) * M
    assert est["args"] == ["crashkernel=%dM,high" % ((need - 16 * M) // M), "crashkernel=16M,low"]
    assert est["expected"]["size"] + est["expected"]["low_size"] == need


def test_without_a_kdump_initrd_estimate_plans_the_table_and_warns():
    result = ck.plan(facts(initrd=None), policy="estimate")
    assert result["args"] == ["crashkernel=2G-64G:256M,64G-:512M"]
    warning = finding(result, "crashkernel-estimate-unavailable")[0]
    assert warning["severity"] == "warning" and "capture.kdump_initrd_bytes is unknown" in warning["message"]
    assert "256 MiB" in warning["message"]


def test_a_plan_or_a_running_reservation_below_the_estimate_warns_under_any_policy():
    planned = finding(ck.plan(facts(), policy="128M"), "crashkernel-below-estimate")[0]
    assert planned["severity"] == "warning"
    assert planned["message"].startswith("The plan reserves 128 MiB, below 170 MiB (the estimate: 170 MiB = kernel "
                                         "image")
    running = finding(ck.plan(facts(reserved=96 * M)), "crashkernel-below-estimate")[0]
    assert running["message"].startswith("The running kernel reserved 96 MiB, below 170 MiB (the estimate")
    both = finding(ck.plan(facts(reserved=96 * M), policy="128M"), "crashkernel-below-estimate")
    assert len(both) == 1 and "128 MiB and the running kernel reserved 96 MiB" in both[0]["message"]
    assert not finding(ck.plan(facts(reserved=256 * M)), "crashkernel-below-estimate")


def test_an_explicit_policy_still_reports_autos_table():
    result = ck.plan(facts(), policy="192M")
    assert result["table_bytes"] == 256 * M and result["expected"]["size"] == 192 * M


def test_estimate_is_a_preset_and_refuses_unknown_altra_like_auto():
    assert ck.parse_policy("estimate")["kind"] == "preset"
    host = facts(arch="aarch64", release="6.12.48+deb13-arm64", total=6 * G, altra=None, image=ARM64_IMAGE)
    assert ck.plan(host, policy="estimate")["args"] == []


def test_kdump_tools_suggestion_replaces_the_table():
    # the Debian 13 amd64 test VM: kdump-config show said 175M, the estimate 113 MiB, the table 256 MiB
    result = ck.plan(facts(initrd=11 * M, suggested=175 * M), policy="estimate")
    assert result["args"] == ["crashkernel=175M"] and result["expected"]["size"] == 175 * M
    assert result["estimate"]["needed_bytes"] == 175 * M and result["estimate"]["bytes"] == 113 * M
    message = finding(result, "crashkernel-estimate")[0]["message"]
    assert "kdump-config show suggests 175 MiB" in message and "replaces the table's 256 MiB" in message


def test_the_larger_of_estimate_and_suggestion_counts():
    assert ck.plan(facts(initrd=60 * M, suggested=175 * M), policy="estimate")["args"] == ["crashkernel=260M"]
    assert ck.plan(facts(initrd=None, suggested=200 * M), policy="estimate")["args"] == ["crashkernel=200M"]
    assert ck.plan(facts(suggested=256 * M), policy="estimate")["args"] == ["crashkernel=2G-64G:256M,64G-:512M"]


def test_a_suggestion_on_altra_shrinks_the_high_region_and_keeps_the_low_one():
    host = facts(arch="aarch64", release="6.12.48+deb13-arm64", total=6 * G, low=3 * G, altra=True,
                 image=ARM64_IMAGE, initrd=10 * M, modules=4 * M, suggested=120 * M)
    assert ck.plan(host, policy="estimate")["args"] == ["crashkernel=104M,high", "crashkernel=16M,low"]


def test_below_the_suggestion_warns_too():
    warning = finding(ck.plan(facts(suggested=300 * M)), "crashkernel-below-estimate")[0]
    assert warning["message"].startswith("The plan reserves 256 MiB, below 300 MiB (the estimate: 170 MiB")
    assert "kdump-config show suggests 300 MiB" in warning["message"]


def test_a_table_policy_reports_its_own_table():
    result = ck.plan(facts(), policy=[{"min": "2G", "size": "192M"}])
    assert result["table_bytes"] == 192 * M and result["expected"]["size"] == 192 * M
