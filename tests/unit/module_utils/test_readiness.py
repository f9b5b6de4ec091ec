# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capabilities and findings: each finding fires on its scenario and stays quiet on a healthy host."""

import copy
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.fleetops.kdump.plugins.module_utils import _crashkernel as ck
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
               "crashkernel": ["crashkernel=768M,high", "crashkernel=16M,low"], "config": FULL_CONFIG,
               "kallsyms_text": True},
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


# ---------------------------------------------------------------- crashkernel= through the engine

def predictor(tokens, ram=256 * GIB, release="6.1.0-27-arm64", low_bytes=1800 * MIB, supported=None):
    facts = facts_with(kernel__crashkernel=tokens, kernel__release=release, memory__total_bytes=ram,
                       memory__low_bytes=low_bytes)
    return rd.Predictor(facts, supported)


def test_seed_table_comes_from_the_engine():
    assert rd.SEED_TABLE == "512M-12G:128M,12G-64G:256M,64G-128G:512M,128G-:768M"
    assert ck.parse(rd.SEED_TABLE)[0]["ranges"][-1] == {"start": 128 * GIB, "end": None, "size": 768 * MIB}


@pytest.mark.parametrize("tokens,ram,asked", [
    (["crashkernel=1G", "crashkernel=256M", "crashkernel=2G,high"], 64 * GIB, 256 * MIB),  # last plain wins
    (["crashkernel=768M,high", "crashkernel=16M,low"], 64 * GIB, 768 * MIB),             # ,high without a plain
    ([rd.CRASHKERNEL + rd.SEED_TABLE], 256 * GIB, 768 * MIB),
    ([rd.CRASHKERNEL + rd.SEED_TABLE], 8 * GIB, 128 * MIB),
    ([rd.CRASHKERNEL + rd.SEED_TABLE], 300 * MIB, 0),             # no range matches 384M (rounded up)
    ([rd.CRASHKERNEL + rd.SEED_TABLE], 400 * MIB, 128 * MIB),     # rounded up to 512M: the first range matches
    (["crashkernel=0-:2G,1G-:128M"], 1536 * MIB, 0),              # an entry >= RAM spoils the whole argument
    (["crashkernel=0x20000000"], 64 * GIB, 512 * MIB),
    (["crashkernel=1G@zz"], 64 * GIB, 1 * GIB),                   # the kernel reads base 0: no fixed offset
    (["crashkernel=garbage"], 64 * GIB, 0),
    (["crashkernel=garbage", "crashkernel=768M,high"], 64 * GIB, 0),  # an invalid plain one hides ,high
    ([], 64 * GIB, 0),
])
def test_asked_reads_the_command_line_like_the_kernel(tokens, ram, asked):
    assert predictor(tokens, ram=ram).asked(ck.MODEL_ARM64_519) == asked


def test_predictions_need_ram_and_a_modelled_arch():
    assert predictor(["crashkernel=512M"], ram=None).asked() is None
    facts = facts_with(platform__arch="ppc64le")
    assert rd.Predictor(facts)(low_ram=None) is None
    garbage_release = predictor(["crashkernel=768M,high"], release="not-a-release")
    assert garbage_release(low_ram=None)["model"] == ck.MODEL_GENERIC   # unknown: the newest kernel


MALFORMED = ["crashkernel=abc", "crashkernel=", "crashkernel=1G-:", "crashkernel=1G:128M", "crashkernel=1G-2G:x",
             "crashkernel=x,high", "crashkernel=512M,hihg", "crashkernel=0x", "crashkernel=1G-:2G,2G-1G:64M",
             "crashkernel=\u00e9\u00e9M", "crashkernel=16E", "crashkernel=99999999999999999999999G"]


@pytest.mark.parametrize("token", MALFORMED)
@pytest.mark.parametrize("release", ["6.1.0-27-arm64", "5.10.0-28-arm64", "6.8.0-49-generic", None])
def test_malformed_crashkernel_gives_a_finding_not_a_traceback(token, release):
    facts = facts_with(kernel__crashkernel=[token], kernel__release=release,
                       kernel__version=None if release is None else [int(p) for p in release.split("-")[0].split(".")],
                       **NOTHING_RESERVED)
    caps, found = run(facts)
    failed = [item for item in found if item["id"] == "crashkernel-reservation-failed"]
    assert failed and failed[0]["severity"] == "error" and token in failed[0]["message"]
    assert caps["high_low_reservation"]["supported"] in (True, False, None)


def test_reservation_failed_quotes_the_kernels_complaint():
    _caps, found = run(facts_with(kernel__crashkernel=["crashkernel=abc"], **NOTHING_RESERVED))
    message = [item["message"] for item in found if item["id"] == "crashkernel-reservation-failed"][0]
    assert "invalid" in message and "crashkernel: memory value expected" in message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens=st.lists(st.text(alphabet="0123456789xXabcdefKMGTPE@:,-. highlowcma", max_size=24)
                       .map(lambda value: "crashkernel=" + value), max_size=3),
       release=st.sampled_from(["6.1.0-27-arm64", "5.10.0-28-arm64", "6.8.0-49-generic", "5.15.0-1001-ampere",
                                "5.14.0-427.el9.aarch64", "", None, "x"]),
       ram=st.one_of(st.none(), st.integers(min_value=0, max_value=1 << 44)),
       low=st.one_of(st.none(), st.integers(min_value=0, max_value=8 * GIB)),
       state=st.sampled_from(["reserved", "nothing", "unknown"]),
       arch=st.sampled_from(["aarch64", "x86_64", "ppc64le", None]))
def test_any_command_line_gives_findings_never_an_exception(tokens, release, ram, low, state, arch):
    changes = {"kernel__crashkernel": tokens, "kernel__release": release, "memory__total_bytes": ram,
               "memory__low_bytes": low, "platform__arch": arch}
    if state == "nothing":
        changes.update(NOTHING_RESERVED)
    elif state == "unknown":
        changes.update(reservation__regions=None, reservation__kexec_crash_size=None,
                       reservation__kexec_crash_loaded=None)
    _caps, found = run(facts_with(**changes))
    assert all(item["severity"] in rd.SEVERITY_ORDER and item["fix"] for item in found)
    if state == "nothing" and tokens:
        assert "crashkernel-reservation-failed" in ids(found)


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
    ("kexec-no-text-symbol", "error", {"kernel__config": dict(FULL_CONFIG, CONFIG_KEXEC_FILE="n"),
                                       "kernel__kallsyms_text": False}),
    ("makedumpfile-cannot-read-kernel", "error",
     {"kernel__config": dict(FULL_CONFIG, CONFIG_ARM64_VA_BITS="52", CONFIG_ARM64_PAGE_SHIFT="12")}),
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


OLD_KEXEC = {"software__kexec_tools_version": "2.0.22", "reservation__kexec_crash_loaded": False,
             "reservation__regions": None, "reservation__kexec_crash_size": None}


@pytest.mark.parametrize("release,tokens,two", [
    ("6.8.0-49-generic", ["crashkernel=768M,high", "crashkernel=16M,low"], True),
    ("6.8.0-49-generic", ["crashkernel=768M,high", "crashkernel=0,low"], False),     # ,low 0: one region
    ("6.1.0-27-arm64", ["crashkernel=768M,high"], False),      # 5.19-6.1 add no low region without ,low
    ("6.8.0-49-generic", ["crashkernel=768M,high"], True),     # 6.2+ add their 128 MiB default
    ("6.1.0-27-arm64", ["crashkernel=256M", "crashkernel=16M,low"], False),   # ,low next to a plain is ignored
    ("6.8.0-49-generic", ["crashkernel=1G"], True),            # 1G does not fit 450M of low RAM: falls back high
    ("6.8.0-49-generic", ["crashkernel=256M"], False),         # fits low: one region
    ("5.10.0-28-arm64", ["crashkernel=768M,high", "crashkernel=16M,low"], False),   # ,high ignored: nothing
    ("6.8.0-49-generic", ["crashkernel=1G,low"], False),       # a lone ,low reserves nothing
])
def test_old_kexec_tools_only_when_the_kernel_makes_two_regions(release, tokens, two):
    facts = facts_with(kernel__release=release, kernel__version=[int(p) for p in release.split("-")[0].split(".")],
                       kernel__crashkernel=tokens, memory__low_bytes=450 * MIB, **OLD_KEXEC)
    assert ("kexec-tools-too-old-for-high-low" in ids(run(facts)[1])) is two


def test_old_kexec_tools_with_ram_unknown_reads_the_form():
    facts = facts_with(memory__total_bytes=None, memory__low_bytes=None, memory__iomem_zeroed=True, **OLD_KEXEC)
    assert "kexec-tools-too-old-for-high-low" in ids(run(facts)[1])
    plain = facts_with(memory__total_bytes=None, memory__low_bytes=None, kernel__crashkernel=["crashkernel=256M"],
                       **OLD_KEXEC)
    assert "kexec-tools-too-old-for-high-low" not in ids(run(plain)[1])


@pytest.mark.parametrize("release,tokens,fires", [
    ("6.1.0-27-arm64", ["crashkernel=768M"], True),
    ("6.1.0-27-arm64", ["crashkernel=1G@zz"], True),           # the kernel reads 1G with no fixed offset
    ("6.1.0-27-arm64", ["crashkernel=512M@2G"], False),        # a fixed offset is not searched for
    ("6.1.0-27-arm64", ["crashkernel=768M,high"], False),
    ("6.1.0-27-arm64", ["crashkernel=abc"], False),            # invalid: reservation-failed says why
    ("6.1.0-27-arm64", ["crashkernel=1G-2G:128M"], False),     # no range matches 256 GiB
    ("5.14.0-427.13.1.el9_4.aarch64", ["crashkernel=768M"], False),   # RHEL 9 may fall back like 6.2
    ("5.15.0-1001-ampere", ["crashkernel=768M"], False),       # Ampere LTS backport
    ("6.2.0-1-arm64", ["crashkernel=768M"], False),
])
def test_plain_low_only_is_upstream_5_19_to_6_1_with_a_searched_plain_value(release, tokens, fires):
    facts = facts_with(kernel__release=release, kernel__version=[int(p) for p in release.split("-")[0].split(".")],
                       kernel__crashkernel=tokens, **NOTHING_RESERVED)
    found = run(facts)[1]
    assert ("plain-crashkernel-low-only" in ids(found, "error")) is fires
    assert "crashkernel-reservation-failed" in ids(found)


def test_plain_low_only_agrees_with_the_planner():
    for tokens in (["crashkernel=768M"], ["crashkernel=" + rd.SEED_TABLE, "crashkernel=16M,low"],
                   ["crashkernel=768M,high", "crashkernel=16M,low"], ["crashkernel=2G"]):
        facts = facts_with(kernel__release="6.1.0-27-arm64", kernel__version=[6, 1, 0], kernel__crashkernel=tokens,
                           memory__low_bytes=700 * MIB, **NOTHING_RESERVED)
        expected = ck.plan(facts, policy=" ".join(tokens))["expected"]
        assert ("plain-crashkernel-low-only" in ids(run(facts)[1])) is (expected["cause"] == "low-memory-short")


def test_low_ram_short_takes_the_size_of_any_form():
    facts = facts_with(kernel__version=[5, 10, 0], kernel__release="5.10.0-28-arm64", memory__total_bytes=8 * GIB,
                       kernel__crashkernel=["crashkernel=768M,high"], memory__low_bytes=1800 * MIB, **NOTHING_RESERVED)
    message = [item["message"] for item in run(facts)[1] if item["id"] == "high-low-unsupported-low-ram-short"]
    assert message and "768M reservation" in message[0]     # not the seed table's 128M for 8 GiB


def test_ignored_high_needs_a_usable_high_value():
    base = dict(kernel__version=[5, 10, 0], kernel__release="5.10.0-28-arm64", **NOTHING_RESERVED)
    assert "ignored" in rd.capabilities(facts_with(**base))["high_low_reservation"]["why"]
    invalid = facts_with(kernel__crashkernel=["crashkernel=x,high"], **base)
    assert "predates 5.19" in rd.capabilities(invalid)["high_low_reservation"]["why"]
    low_only = facts_with(kernel__crashkernel=["crashkernel=16M,low"], **base)
    assert "predates 5.19" in rd.capabilities(low_only)["high_low_reservation"]["why"]


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
    emitted |= set(need[1] for need in rd.KERNEL_CONFIG_NEEDS)
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


NO_KEXEC_FILE = dict(FULL_CONFIG, CONFIG_KEXEC_FILE="n")


@pytest.mark.parametrize("changes,fires", [
    ({"kernel__config": NO_KEXEC_FILE, "kernel__kallsyms_text": False}, True),
    # kexec_file_crash unknown (no config, an arm64 kernel before 5.6) is not "supported": still fires
    ({"kernel__config": None, "kernel__kallsyms_text": False}, True),
    ({"kernel__version": [5, 4, 0], "kernel__release": "5.4.0-150-generic", "kernel__kallsyms_text": False}, True),
    ({"kernel__config": NO_KEXEC_FILE, "kernel__kallsyms_text": True}, False),    # _text listed
    ({"kernel__config": NO_KEXEC_FILE, "kernel__kallsyms_text": None}, False),    # kallsyms not read
    ({"kernel__kallsyms_text": False}, False),                                     # kexec_file_load works
    ({"kernel__config": NO_KEXEC_FILE, "kernel__kallsyms_text": False, "platform__arch": "x86_64",
      "platform__soc": None, "platform__is_altra": False}, False),
])
def test_kexec_no_text_symbol(changes, fires):
    caps, found = run(facts_with(**changes))
    matching = [item for item in found if item["id"] == "kexec-no-text-symbol"]
    assert bool(matching) is fires, (caps["kexec_file_crash"], ids(found))
    if fires:
        assert matching[0]["severity"] == "error"
        assert caps["kexec_file_crash"]["why"] in matching[0]["message"]
        assert "kdump_kallsyms_text_fix" in matching[0]["fix"] and "CONFIG_KALLSYMS_ALL=y" in matching[0]["fix"]


# ---------------------------------------------------------------- makedumpfile and 52-bit VA (Debian 13 arm64)

LPA2_4K = dict(FULL_CONFIG, CONFIG_ARM64_VA_BITS="52", CONFIG_ARM64_PAGE_SHIFT="12", CONFIG_ARM64_4K_PAGES="y")


@pytest.mark.parametrize("changes,supported", [
    ({"kernel__config": LPA2_4K, "software__makedumpfile_version": "1:1.7.6-1"}, False),   # Debian 13
    ({"kernel__config": LPA2_4K, "software__makedumpfile_version": "1.7.9"}, False),
    ({"kernel__config": LPA2_4K, "software__makedumpfile_version": None}, False),          # not installed yet
    ({"kernel__config": dict(LPA2_4K, CONFIG_ARM64_PAGE_SHIFT=None)}, False),               # 4K_PAGES only
    ({"kernel__config": LPA2_4K, "software__makedumpfile_version": "1.7.10"}, True),
    ({"kernel__config": dict(LPA2_4K, CONFIG_ARM64_VA_BITS="48")}, True),                  # Debian 12
    ({"kernel__config": dict(LPA2_4K, CONFIG_ARM64_PAGE_SHIFT="16", CONFIG_ARM64_4K_PAGES="n")}, True),
    ({"kernel__config": FULL_CONFIG}, None),                                                # VA bits unknown
    ({"kernel__config": None}, None),
    ({"kernel__config": LPA2_4K, "platform__arch": "x86_64"}, True),
])
def test_makedumpfile_reads_kernel(changes, supported):
    caps, found = run(facts_with(**changes))
    assert caps["makedumpfile_reads_kernel"]["supported"] is supported, caps["makedumpfile_reads_kernel"]
    matching = [item for item in found if item["id"] == "makedumpfile-cannot-read-kernel"]
    assert bool(matching) is (supported is False)
    if matching:
        assert "VA Bits 52 not supported" in matching[0]["message"]
        assert "kdump_vmcore_copy_fallback" in matching[0]["fix"]


@pytest.mark.parametrize("version,package,start", [
    (None, "kdump-tools", "Released makedumpfile (up to 1.7.9) read no arm64 dump of a kernel built with 52-bit VA "
                          "with 4 KiB pages (upstream issue 18"),
    ("1.7.6", "kdump-tools", "Makedumpfile 1.7.6 reads no arm64 dump"),
    ("1.7.6", "kdump-utils", "Makedumpfile 1.7.6 reads no arm64 dump"),
])
def test_makedumpfile_message_reads_as_one_sentence_naming_the_hosts_tool(version, package, start):
    _caps, found = run(facts_with(kernel__config=LPA2_4K, software__makedumpfile_version=version,
                                  software__kdump_package=package))
    message = [item for item in found if item["id"] == "makedumpfile-cannot-read-kernel"][0]["message"]
    assert message.startswith(start), message
    assert ("kdumpctl would save" if package == "kdump-utils" else "kdump-tools would save") in message


@pytest.mark.parametrize("free,fires", [(200 * GIB, True), (300 * GIB, False), (None, False)])
def test_unfiltered_dump_needs_room_for_all_ram(free, fires):
    facts = facts_with(kernel__config=LPA2_4K)
    facts["storage"] = {"path": "/var/crash", "measured_at": "/var", "free_bytes": free, "size_bytes": 400 * GIB}
    _caps, found = run(facts)
    matching = [item for item in found if item["id"] == "dump-space-short-for-full-copy"]
    assert bool(matching) is fires
    if fires:
        assert matching[0]["message"] == ("An unfiltered dump of this host is up to 256G (all RAM) but /var/crash "
                                          "has 200G free.")


def test_room_for_a_full_copy_matters_only_when_makedumpfile_cannot_filter():
    facts = facts_with()
    facts["storage"] = {"path": "/var/crash", "measured_at": "/var", "free_bytes": MIB, "size_bytes": GIB}
    assert "dump-space-short-for-full-copy" not in ids(run(facts)[1])
