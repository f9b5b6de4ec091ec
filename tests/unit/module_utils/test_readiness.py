# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capabilities and findings: each finding fires on its scenario and stays quiet on a healthy host."""

import copy
import os
import re

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils import _readiness as rd

GIB = 1 << 30
MIB = 1 << 20
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

FULL_CONFIG = {symbol: "y" for symbol in ("CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_CRASH_DUMP",
                                          "CONFIG_PROC_VMCORE", "CONFIG_MAGIC_SYSRQ", "CONFIG_ZONE_DMA")}

HEALTHY = {
    "platform": {"arch": "aarch64", "soc": "altra", "is_altra": True, "agdi": False, "soc_evidence": []},
    "memory": {"total_bytes": 256 * GIB, "low_limit_bytes": 4 * GIB, "low_bytes": 1800 * MIB, "iomem_zeroed": False},
    "kernel": {"release": "6.8.0-49-generic", "version": [6, 8, 0],
               "crashkernel": ["crashkernel=768M,high", "crashkernel=16M,low"], "config": FULL_CONFIG},
    "reservation": {"regions": [{"start": 0xbec00000, "end": 0xbfc00000, "size": 16 * MIB},
                                {"start": 0x87fd0000000, "end": 0x88000000000, "size": 768 * MIB}],
                    "kexec_crash_size": 768 * MIB, "kexec_crash_loaded": True},
    "software": {"family": "debian", "kexec_tools_version": "2.0.27", "kexec_tools_installed": True,
                 "makedumpfile_installed": True, "kdump_package": "kdump-tools", "kdump_package_installed": True,
                 "service": "kdump-tools", "service_enabled": True, "service_active": True, "use_kdump": True},
}


def facts_with(**changes):
    """HEALTHY with section.key=value changes, e.g. kernel__version=[5, 15, 0]."""
    facts = copy.deepcopy(HEALTHY)
    for name, value in changes.items():
        section, key = name.split("__")
        facts[section][key] = value
    return facts


def run(facts, missing=(), live=False):
    caps = rd.capabilities(facts)
    return caps, rd.findings(facts, caps, list(missing), live=live)


def ids(found, severity=None):
    return [item["id"] for item in found if severity is None or item["severity"] == severity]


NOTHING_RESERVED = {"reservation__regions": [], "reservation__kexec_crash_size": 0,
                    "reservation__kexec_crash_loaded": False}


# ---------------------------------------------------------------- crashkernel parsing

@pytest.mark.parametrize("text,value", [("512M", 512 * MIB), ("4G", 4 * GIB), ("0x1000", 4096), ("16777216", 16 * MIB),
                                        ("1T", 1 << 40), ("64k", 64 << 10), ("12Q", None), ("", None), ("M", None)])
def test_memparse(text, value):
    assert rd.memparse(text) == value


def test_parse_crashkernel_forms():
    assert rd.parse_crashkernel("crashkernel=256M") == {"kind": "plain", "size": 256 * MIB, "ranges": None,
                                                        "offset": None}
    assert rd.parse_crashkernel("crashkernel=256M@16M")["offset"] == 16 * MIB
    assert rd.parse_crashkernel("crashkernel=768M,high")["kind"] == "high"
    assert rd.parse_crashkernel("crashkernel=0,low") == {"kind": "low", "size": 0, "ranges": None, "offset": None}
    ranges = rd.parse_crashkernel("crashkernel=512M-12G:128M,128G-:768M@64M")
    assert ranges["ranges"] == [(512 * MIB, 12 * GIB, 128 * MIB), (128 * GIB, None, 768 * MIB)]
    assert ranges["offset"] == 64 * MIB


@pytest.mark.parametrize("token", ["crashkernel=abc", "crashkernel=1G-:", "crashkernel=1G:128M", "crashkernel=",
                                   "crashkernel=1G-2G:x", "crashkernel=x,high", "crashkernel=1G@zz"])
def test_parse_crashkernel_malformed(token):
    assert rd.parse_crashkernel(token) is None


def test_size_for_ram_follows_the_kernel():
    seed = rd.parse_crashkernel(rd.SEED_TABLE)
    assert rd.size_for_ram(seed, 256 * GIB) == 768 * MIB
    assert rd.size_for_ram(seed, 8 * GIB) == 128 * MIB
    assert rd.size_for_ram(seed, 300 * MIB) == 0               # no range matches (384M after rounding)
    assert rd.size_for_ram(seed, 400 * MIB) == 128 * MIB       # rounded up to 512M: the first range matches
    assert rd.size_for_ram(seed, 511 * MIB + 1) == 128 * MIB   # RAM is rounded up to 128 MiB first
    assert rd.size_for_ram(rd.parse_crashkernel("crashkernel=0-:2G,1G-:128M"), 1536 * MIB) == 0  # size >= RAM
    assert rd.size_for_ram(seed, None) is None


def test_requested_last_plain_wins_and_high_only_without_plain():
    both = rd.requested(["crashkernel=1G", "crashkernel=256M", "crashkernel=2G,high"], 64 * GIB)
    assert (both["mode"], both["size"], both["token"]) == ("plain", 256 * MIB, "crashkernel=256M")
    high = rd.requested(["crashkernel=768M,high", "crashkernel=16M,low"], 64 * GIB)
    assert (high["mode"], high["size"], high["low_size"]) == ("high", 768 * MIB, 16 * MIB)
    assert rd.requested(["crashkernel=garbage"], 64 * GIB)["mode"] is None


# ---------------------------------------------------------------- capabilities

@pytest.mark.parametrize("changes,expected", [
    ({}, True),
    ({"kernel__version": [5, 15, 0], "kernel__release": "5.15.0-91-generic"}, True),        # regions prove it
    ({"kernel__version": [5, 15, 0], "kernel__release": "5.15.0-91-generic",
      "reservation__regions": [{"start": 0xa0000000, "end": 0xb0000000, "size": 256 * MIB}]}, False),
    ({"kernel__version": [5, 14, 0], "kernel__release": "5.14.0-427.13.1.el9_4.aarch64",
      "reservation__regions": []}, True),
    ({"kernel__version": [5, 14, 0], "kernel__release": "5.14.0-70.13.1.el9_0.aarch64",
      "reservation__regions": []}, False),
    ({"kernel__version": [5, 15, 0], "kernel__release": "5.15.0-1001-ampere", "reservation__regions": []}, True),
    ({"kernel__version": None, "kernel__release": None, "reservation__regions": []}, None),
    ({"platform__arch": "x86_64", "reservation__regions": []}, True),
    ({"platform__arch": "ppc64le"}, None),
])
def test_high_low_capability(changes, expected):
    assert rd.capabilities(facts_with(**changes))["high_low_reservation"]["supported"] is expected


def test_high_low_capability_ignored_high_means_no():
    facts = facts_with(kernel__version=[5, 10, 0], kernel__release="5.10.0-28-arm64", **NOTHING_RESERVED)
    cap = rd.capabilities(facts)["high_low_reservation"]
    assert cap["supported"] is False and "ignored" in cap["why"]


@pytest.mark.parametrize("changes,expected", [
    ({}, True),
    ({"software__kexec_tools_version": "2.0.22", "reservation__kexec_crash_loaded": False}, False),
    ({"software__kexec_tools_version": "2.0.22", "software__family": "redhat",
      "reservation__kexec_crash_loaded": False}, None),
    ({"software__kexec_tools_version": "2.0.22"}, True),         # loaded into two regions: evidence wins
    ({"software__kexec_tools_version": None, "reservation__kexec_crash_loaded": False}, None),
    ({"platform__arch": "x86_64", "software__kexec_tools_version": "2.0.15"}, True),
])
def test_multiple_regions_capability(changes, expected):
    assert rd.capabilities(facts_with(**changes))["kexec_multiple_regions"]["supported"] is expected


@pytest.mark.parametrize("changes,expected", [
    ({}, True),
    ({"kernel__config": None}, None),
    ({"kernel__config": dict(FULL_CONFIG, CONFIG_KEXEC_FILE="n")}, False),
    ({"kernel__version": [5, 4, 0], "kernel__release": "5.4.0-150-generic"}, None),
    ({"platform__arch": "x86_64", "kernel__version": [4, 18, 0]}, True),
])
def test_kexec_file_capability(changes, expected):
    assert rd.capabilities(facts_with(**changes))["kexec_file_crash"]["supported"] is expected


# ---------------------------------------------------------------- findings

def test_healthy_host_has_no_findings():
    _caps, found = run(HEALTHY)
    assert found == []


SCENARIOS = [
    ("no-crashkernel-reserved", "error", dict(kernel__crashkernel=[], **NOTHING_RESERVED)),
    ("crashkernel-reservation-failed", "error", dict(NOTHING_RESERVED)),
    ("crash-kernel-not-loaded", "error", {"reservation__kexec_crash_loaded": False}),
    ("kexec-tools-too-old-for-high-low", "error", {"software__kexec_tools_version": "2.0.22",
                                                   "reservation__kexec_crash_loaded": False}),
    ("kernel-config-no-kexec", "error", {"kernel__config": dict(FULL_CONFIG, CONFIG_KEXEC="n", CONFIG_KEXEC_FILE=None)}),
    ("kernel-config-no-crash-dump", "error", {"kernel__config": dict(FULL_CONFIG, CONFIG_CRASH_DUMP=None)}),
    ("kernel-config-no-proc-vmcore", "error", {"kernel__config": dict(FULL_CONFIG, CONFIG_PROC_VMCORE="n")}),
    ("kernel-config-no-magic-sysrq", "warning", {"kernel__config": dict(FULL_CONFIG, CONFIG_MAGIC_SYSRQ="n")}),
    ("high-low-unsupported-low-ram-short", "warning",
     dict(kernel__version=[5, 15, 0], kernel__release="5.15.0-91-generic", kernel__crashkernel=["crashkernel=768M"],
          reservation__regions=[{"start": 0xb0000000, "end": 0xe0000000, "size": 768 * MIB}])),
    ("plain-crashkernel-low-only", "error",
     dict(kernel__version=[6, 1, 0], kernel__release="6.1.0-27-arm64",
          kernel__crashkernel=["crashkernel=512M-12G:128M,128G-:768M", "crashkernel=16M,low"], **NOTHING_RESERVED)),
    ("arm64-linear-map-cost", "info", {"kernel__version": [6, 1, 0], "kernel__release": "6.1.0-27-arm64"}),
    ("agdi-present", "warning", {"platform__agdi": True}),
    ("makedumpfile-missing", "warning", {"software__makedumpfile_installed": False}),
    ("kexec-tools-missing", "warning", {"software__kexec_tools_installed": False}),
    ("kexec-tools-version-unknown", "info", {"software__kexec_tools_version": "git20240101"}),
    ("kdump-package-missing", "warning", {"software__kdump_package_installed": False}),
    ("kdump-service-not-enabled", "warning", {"software__service_enabled": False}),
    ("kdump-service-not-active", "warning", {"software__service_active": False}),
    ("kdump-disabled-in-config", "warning", {"software__use_kdump": False}),
    ("iomem-unreadable", "info", {"memory__iomem_zeroed": True, "reservation__regions": None}),
    ("soc-unidentified", "info", {"platform__soc": "unknown", "platform__is_altra": False}),
]


@pytest.mark.parametrize("ident,severity,changes", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_each_finding_fires_on_its_scenario(ident, severity, changes):
    _caps, found = run(facts_with(**changes))
    matching = [item for item in found if item["id"] == ident]
    assert matching, ids(found)
    assert matching[0]["severity"] == severity
    assert matching[0]["message"] and matching[0]["fix"]


def test_plain_crashkernel_low_only_warns_when_the_outcome_is_unknown():
    facts = facts_with(kernel__version=[6, 1, 0], kernel__release="6.1.0-27-arm64",
                       kernel__crashkernel=["crashkernel=768M"], reservation__regions=None,
                       reservation__kexec_crash_size=None, memory__iomem_zeroed=True)
    _caps, found = run(facts)
    assert [item["severity"] for item in found if item["id"] == "plain-crashkernel-low-only"] == ["warning"]


def test_plain_crashkernel_that_fit_is_fine_and_6_2_falls_back():
    fit = facts_with(kernel__version=[6, 1, 0], kernel__release="6.1.0-27-arm64",
                     kernel__crashkernel=["crashkernel=256M"],
                     reservation__regions=[{"start": 0xb0000000, "end": 0xc0000000, "size": 256 * MIB}])
    assert "plain-crashkernel-low-only" not in ids(run(fit)[1])
    newer = facts_with(kernel__crashkernel=["crashkernel=768M"], **NOTHING_RESERVED)
    assert "plain-crashkernel-low-only" not in ids(run(newer)[1])


def test_low_ram_short_uses_the_seed_table_without_a_crashkernel_argument():
    facts = facts_with(kernel__version=[5, 10, 0], kernel__release="5.10.0-28-arm64", kernel__crashkernel=[],
                       **NOTHING_RESERVED)
    assert "high-low-unsupported-low-ram-short" in ids(run(facts)[1])
    roomy = facts_with(kernel__version=[5, 10, 0], kernel__release="5.10.0-28-arm64", kernel__crashkernel=[],
                       memory__low_bytes=3 * GIB, **NOTHING_RESERVED)
    assert "high-low-unsupported-low-ram-short" not in ids(run(roomy)[1])


def test_agdi_is_info_off_altra():
    _caps, found = run(facts_with(platform__agdi=True, platform__soc="graviton2", platform__is_altra=False))
    assert [item["severity"] for item in found if item["id"] == "agdi-present"] == ["info"]


def test_linear_map_cost_not_on_x86_or_new_kernels():
    assert "arm64-linear-map-cost" not in ids(run(HEALTHY)[1])
    x86 = facts_with(platform__arch="x86_64", kernel__version=[5, 14, 0], kernel__release="5.14.0-427.el9.x86_64")
    assert "arm64-linear-map-cost" not in ids(run(x86)[1])


def test_missing_package_silences_service_findings():
    _caps, found = run(facts_with(software__kdump_package_installed=False, software__service_enabled=False,
                                  software__service_active=False))
    assert "kdump-package-missing" in ids(found)
    assert "kdump-service-not-enabled" not in ids(found) and "kdump-service-not-active" not in ids(found)


def test_unknown_config_gives_no_config_findings():
    _caps, found = run(facts_with(kernel__config=None))
    assert not [item for item in found if item["id"].startswith("kernel-config-")]


def test_input_missing_once_per_path_with_live_wording():
    _caps, found = run(HEALTHY, missing=["proc/iomem", "proc/iomem", "boot/config-6.8.0"], live=True)
    messages = [item["message"] for item in found if item["id"] == "input-missing"]
    assert len(messages) == 2 and "RAM size" in messages[0] and "kernel config" in messages[1]
    assert "running kernel" in [item for item in found if item["id"] == "input-missing"][0]["fix"]


def test_errors_come_first():
    _caps, found = run(facts_with(platform__agdi=True, reservation__kexec_crash_loaded=False,
                                  software__service_enabled=False, memory__iomem_zeroed=True))
    order = [rd.SEVERITY_ORDER[item["severity"]] for item in found]
    assert order == sorted(order) and order[0] == 0


def test_every_finding_id_is_documented():
    with open(os.path.join(REPO, "plugins", "module_utils", "_readiness.py")) as handle:
        emitted = set(re.findall(r'\.add\(\s*"([a-z0-9-]+)"', handle.read()))
    with open(os.path.join(REPO, "docs", "facts.md")) as handle:
        documented = set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`", handle.read()))
    assert {s[0] for s in SCENARIOS} | {"input-missing"} <= emitted
    assert emitted - documented == set()


def test_unknown_load_state_is_not_reported_as_unloaded():
    _caps, found = run(facts_with(reservation__kexec_crash_loaded=None))
    assert "crash-kernel-not-loaded" not in ids(found)
    _caps, found = run(facts_with(reservation__regions=None, reservation__kexec_crash_size=None,
                                  reservation__kexec_crash_loaded=False))
    assert "crash-kernel-not-loaded" not in ids(found) and "no-crashkernel-reserved" not in ids(found)
