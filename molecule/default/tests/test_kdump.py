"""After converge + crash test: kdump works on the guest, checked from the guest's own files.

Each scenario states the arguments and regions its guest must end up with (molecule_expected_args /
molecule_expected_regions in its molecule.yml), compared with /proc/cmdline and /proc/iomem parsed here:
an oracle independent of the planner. The plan recomputed from fresh facts is checked against the guest too.
"""
import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "build", "collections"))

from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel import (  # noqa: E402
    check_regions, plan,
)

DUMP_SIGNATURES = (b"KDUMP   ", b"makedumpfile", b"\x7fELF")
SYSRQ_LINES = ("sysrq: Trigger a crash", "SysRq : Trigger a crash")
# Where low memory ends on both test VMs: 4 GiB (x86_64 by definition; the arm64 virt machine's DMA limit)
LOW_LIMIT = 4 << 30


@pytest.fixture(scope="module")
def facts(host):
    result = host.ansible("fleetops.kdump.kdump_facts", "", become=True, check=False)
    return result["ansible_facts"]["kdump"]


@pytest.fixture(scope="module")
def expected(host, facts):
    variables = host.ansible.get_variables()
    return plan(facts, variables.get("kdump_crashkernel", "auto"), variables.get("kdump_crashkernel_low"))


def crash_kernel_regions(host):
    """(start, end) of every "Crash kernel" line of /proc/iomem, read as root."""
    regions = []
    for line in host.check_output("sudo cat /proc/iomem").splitlines():
        span, dummy, name = line.partition(" : ")
        if name.strip() == "Crash kernel":
            start, end = (int(part, 16) for part in span.strip().split("-"))
            regions.append((start, end + 1))
    return regions


def placement(start):
    return "low" if start < LOW_LIMIT else "high"


def test_command_line_has_the_arguments_this_scenario_states(host):
    stated = host.ansible.get_variables()["molecule_expected_args"]
    tokens = [t for t in host.file("/proc/cmdline").content_string.split() if t.startswith("crashkernel=")]
    assert tokens == stated


def test_iomem_has_the_regions_this_scenario_states(host):
    stated = host.ansible.get_variables()["molecule_expected_regions"]
    actual = [{"placement": placement(start), "size_mib": (end - start) >> 20}
              for start, end in crash_kernel_regions(host)]
    assert sorted(actual, key=lambda r: (r["placement"], r["size_mib"])) == \
        sorted(stated, key=lambda r: (r["placement"], r["size_mib"]))


def test_the_plan_is_applicable(expected):
    assert expected["args"], expected
    assert not [f for f in expected["findings"] if f["severity"] == "error"], expected["findings"]


def test_running_command_line_has_exactly_the_planned_arguments(host, expected):
    tokens = [t for t in host.file("/proc/cmdline").content_string.split() if t.startswith("crashkernel=")]
    assert tokens == expected["args"]


def test_reservation_in_iomem_equals_the_plan_region_by_region(host, expected):
    regions = [{"start": start, "end": end, "size": end - start} for start, end in crash_kernel_regions(host)]
    check = check_regions(expected["expected"], regions, LOW_LIMIT)
    print("Crash kernel regions: %s" % ", ".join("0x%x+%d MiB (%s)" % (r["start"], r["size"] >> 20, r["placement"])
                                                 for r in check["actual"]))
    assert check["ok"], check["problems"]
    # with two regions, 6.1 reports the main (high) one only, 6.12 both: measured in the Debian 12 and 13 guests
    total = sum(region["size"] for region in regions)
    assert int(host.file("/sys/kernel/kexec_crash_size").content_string) in (expected["expected"]["size"], total)


def test_kdump_service_enabled_and_active(host):
    service = host.service("kdump-tools")
    assert service.is_enabled
    assert service.is_running or host.run("systemctl is-active kdump-tools").stdout.strip() == "active"


def test_capture_kernel_loaded(host):
    assert host.file("/sys/kernel/kexec_crash_loaded").content_string.strip() == "1"


def test_kallsyms_text_fix_only_where_the_facts_ask_for_it(host, facts):
    # kexec-no-text-symbol (Debian 12 arm64): the kdump service must see /proc/kallsyms with _text
    wanted = "kexec-no-text-symbol" in [finding["id"] for finding in facts["findings"]]
    dropin = host.file("/etc/systemd/system/kdump-tools.service.d/fleetops-kdump-kallsyms.conf")
    assert dropin.exists == wanted
    if wanted:
        assert host.run("systemctl is-active fleetops-kdump-kallsyms.service").stdout.strip() == "active"
        seen = host.check_output("sudo grep -c -E '^[0-9a-f]+ T _text$' /run/fleetops-kdump/kallsyms")
        assert seen.strip() == "1"


def test_copy_fallback_only_where_the_facts_ask_for_it(host, facts):
    # makedumpfile-cannot-read-kernel (Debian 13 arm64): the capture unit must not see makedumpfile
    wanted = "makedumpfile-cannot-read-kernel" in [finding["id"] for finding in facts["findings"]]
    dropin = host.file("/etc/systemd/system/kdump-tools-dump.service.d/fleetops-kdump-vmcore-copy.conf")
    assert dropin.exists == wanted
    if wanted:
        assert "InaccessiblePaths=-/usr/bin/makedumpfile" in dropin.content_string


def test_one_validated_dump_with_the_sysrq_line(host, facts):
    # testinfra formats the command with the quoted arguments, hence %% for find's own %p
    listing = host.check_output("sudo find %s -mindepth 2 -maxdepth 2 \\( -name 'dump.*' -o -name 'vmcore.*' \\) "
                                "-printf '%%p\\n'", "/var/crash")
    dumps = sorted(listing.split())
    assert len(dumps) == 1, dumps
    dump = dumps[0]
    assert "-incomplete" not in dump
    head = bytes.fromhex(host.check_output("sudo head -c 16 %s | od -An -v -tx1 | tr -d ' \\n'", dump))
    assert head.startswith(DUMP_SIGNATURES), head
    assert int(host.check_output("sudo stat -c %%s %s", dump)) > 1024 * 1024
    kind, stamp = os.path.basename(dump).split(".", 1)
    if "makedumpfile-cannot-read-kernel" in [finding["id"] for finding in facts["findings"]]:
        # the unfiltered copy: an ELF core, no dmesg file; its kernel log is read from the dump itself
        assert (kind, head[:4]) == ("vmcore", b"\x7fELF")
        info = host.ansible("fleetops.kdump.vmcore_info", "path=/var/crash", become=True, check=False)
        latest = info["latest"]
        assert (latest["complete"], latest["dmesg_source"], latest["dmesg_has_sysrq"]) == (True, "dump", True), latest
        return
    assert kind == "dump"
    dmesg = host.check_output("sudo cat %s", "%s/dmesg.%s" % (os.path.dirname(dump), stamp))
    assert any(line in dmesg for line in SYSRQ_LINES)
