"""After converge + crash test: kdump works on the guest, checked from the guest's own files.

The expected reservation is recomputed here from fresh kdump facts with the collection's planner and the
inventory's kdump_crashkernel / kdump_crashkernel_low, then compared with what the kernel shows in
/proc/cmdline and /proc/iomem (parsed here, not by the facts module).
"""
import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "build", "collections"))

from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel import plan  # noqa: E402

DUMP_SIGNATURES = (b"KDUMP   ", b"makedumpfile", b"\x7fELF")
SYSRQ_LINES = ("sysrq: Trigger a crash", "SysRq : Trigger a crash")


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


def test_the_plan_is_applicable(expected):
    assert expected["args"], expected
    assert not [f for f in expected["findings"] if f["severity"] == "error"], expected["findings"]


def test_running_command_line_has_exactly_the_planned_arguments(host, expected):
    tokens = [t for t in host.file("/proc/cmdline").content_string.split() if t.startswith("crashkernel=")]
    assert tokens == expected["args"]


def test_reservation_in_iomem_equals_the_plan(host, expected):
    regions = crash_kernel_regions(host)
    sizes = [expected["expected"]["size"], expected["expected"]["low_size"] or 0]
    assert sum(end - start for start, end in regions) == sum(sizes)
    assert len(regions) == len([size for size in sizes if size > 0])
    assert int(host.file("/sys/kernel/kexec_crash_size").content_string) == sum(sizes)


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


def test_one_validated_dump_with_the_sysrq_line(host):
    # testinfra formats the command with the quoted arguments, hence %% for find's own %p
    listing = host.check_output("sudo find %s -mindepth 2 -maxdepth 2 -name 'dump.*' -printf '%%p\\n'", "/var/crash")
    dumps = sorted(listing.split())
    assert len(dumps) == 1, dumps
    dump = dumps[0]
    assert "-incomplete" not in dump
    head = bytes.fromhex(host.check_output("sudo head -c 16 %s | od -An -v -tx1 | tr -d ' \\n'", dump))
    assert head.startswith(DUMP_SIGNATURES), head
    assert int(host.check_output("sudo stat -c %%s %s", dump)) > 1024 * 1024
    stamp = dump.rsplit("dump.", 1)[1]
    dmesg = host.check_output("sudo cat %s", "%s/dmesg.%s" % (os.path.dirname(dump), stamp))
    assert any(line in dmesg for line in SYSRQ_LINES)
