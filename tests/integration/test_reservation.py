# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The crashkernel engine against real Debian 13 (6.12) kernels: every region, on both arches (make test-matrix).

One fresh guest per arch (no kdump packages, so nothing else writes crashkernel=) is booted once per
crashkernel string, written through a grub.d drop-in and update-grub. After each boot the "Crash kernel"
regions of /proc/iomem (parsed here) are compared region by region with crashkernel_reserve's prediction
for that kernel release, System RAM and RAM below 4 GiB. Any difference is a bug in the engine or in its
reference. The results table is printed in pytest's closing summary.
"""
import json
import os
import subprocess
import sys
import time

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel import check_regions, reserve

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTVM = os.path.join(REPO, "tests", "vm", "testvm")
GIB = 1 << 30
LOW_LIMIT = 4 * GIB  # x86_64's low limit and the arm64 virt machine's DMA limit
DROPIN = "/etc/default/grub.d/99-fleetops-reservation-test.cfg"

# arch -> (guest MiB, qemu binary, [(what, crashkernel args)]). The guests are sized so that the plain size
# that must fall back high does not fit below 4 GiB (q35 keeps 2 GiB there, virt 3 GiB) but fits above, even
# where KASLR placed the kernel image in the middle of high memory. Measured: amd64 with 5 GiB (3 GiB above
# 4 GiB) reserved 2200M high in one boot and "cannot allocate crashkernel (size:0x89800000)" in another; arm64
# with 8 GiB (5 GiB above) refused 3500M. Each guest therefore has at least twice the size above 4 GiB:
# amd64 8 GiB (6 GiB above), arm64 12 GiB (9 GiB above), so either side of the image keeps enough.
CASES = {
    "amd64": (8192, "qemu-system-x86_64", [
        ("plain, placed low", "crashkernel=256M"),
        ("plain, falls back high", "crashkernel=2200M"),
        (",high with ,low", "crashkernel=256M,high crashkernel=32M,low"),
        ("range table", "crashkernel=1G-4G:192M,4G-64G:320M"),
    ]),
    "arm64": (12288, "qemu-system-aarch64", [
        ("plain, placed low", "crashkernel=256M"),
        ("plain, falls back high", "crashkernel=3200M"),
        (",high with ,low", "crashkernel=256M,high crashkernel=32M,low"),
        ("range table", "crashkernel=1G-4G:192M,4G-64G:320M"),
    ]),
}


def run_testvm(*args, timeout=1800, check=True):
    result = subprocess.run([sys.executable, TESTVM] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError("testvm %s failed (exit %d):\n%s" % (" ".join(args), result.returncode,
                                                                  result.stderr[-3000:]))
    return result


def guest(name, command, timeout=300, check=True):
    return run_testvm("ssh", "--name", name, "--", command, timeout=timeout, check=check).stdout


def iomem(text):
    """(System RAM spans, Crash kernel regions) from /proc/iomem text, end exclusive."""
    ram, crash = [], []
    for line in text.splitlines():
        span, _sep, name = line.partition(" : ")
        start, end = (int(part, 16) for part in span.strip().split("-"))
        if name.strip() == "System RAM" and not line.startswith(" "):
            ram.append((start, end + 1))
        elif name.strip() == "Crash kernel":
            crash.append({"start": start, "end": end + 1, "size": end + 1 - start})
    return ram, crash


def reboot(name, timeout=1500):
    """Reboot and wait until the guest answers with a new boot id; returns seconds."""
    before = guest(name, "cat /proc/sys/kernel/random/boot_id").strip()
    started = time.monotonic()
    guest(name, "sudo systemctl reboot", check=False)
    while time.monotonic() - started < timeout:
        time.sleep(10)
        if run_testvm("wait-ssh", "--name", name, "--timeout", "600", check=False).returncode != 0:
            continue
        now = guest(name, "cat /proc/sys/kernel/random/boot_id", check=False).strip()
        if now and now != before:
            return time.monotonic() - started
    raise AssertionError("%s did not come back with a new boot id within %d s" % (name, timeout))


@pytest.mark.vm_matrix
@pytest.mark.parametrize("arch", sorted(CASES))
def test_debian13_kernel_reserves_what_the_engine_predicts(arch, e2e_summary):
    memory, qemu, cases = CASES[arch]
    if os.geteuid() != 0:
        pytest.fail("the test VM image is built with debootstrap, which needs root: run make test-matrix as root")
    name = "resv-%s" % arch
    profile = ["--profile", "altra"] if arch == "arm64" else []
    run_testvm("down", "--name", name, check=False)
    run_testvm("up", "--arch", arch, "--suite", "trixie", "--name", name, "--memory", str(memory), *profile,
               "--timeout", "1500", timeout=3600)
    rows, failures = [], []
    try:
        release = guest(name, "uname -r").strip()
        for what, args in cases:
            guest(name, "echo 'GRUB_CMDLINE_LINUX_DEFAULT=\"%s\"' | sudo tee %s >/dev/null && sudo update-grub"
                  % (args, DROPIN), timeout=600)
            seconds = reboot(name)
            cmdline = guest(name, "cat /proc/cmdline")
            ram, actual = iomem(guest(name, "sudo cat /proc/iomem"))
            total = sum(end - start for start, end in ram)
            low = sum(min(end, LOW_LIMIT) - start for start, end in ram if start < LOW_LIMIT)
            expected = reserve(cmdline, total, arch={"amd64": "x86_64", "arm64": "aarch64"}[arch], kernel=release,
                               low_ram=low)
            check = check_regions(expected, actual, LOW_LIMIT)
            kernel_says = guest(name, "sudo dmesg | grep -i crashkernel || true").strip()
            rows.append({"arch": arch, "kernel": release, "case": what, "args": args, "ram": total, "low_ram": low,
                         "predicted": check["predicted"], "actual": check["actual"], "ok": check["ok"],
                         "problems": check["problems"], "reboot_seconds": round(seconds), "dmesg": kernel_says})
            if args.split()[0] not in cmdline.split():
                failures.append("%s: %s is not on the running command line %r" % (what, args, cmdline))
            if not check["ok"]:
                failures.append("%s (%s): %s; engine: %s; kernel: %s" % (
                    what, args, "; ".join(check["problems"]), expected["reason"], kernel_says))
    finally:
        run_testvm("down", "--name", name, check=False)
    for row in rows:
        regions = ", ".join("%s %d MiB at 0x%x" % (r["placement"], r["size"] >> 20, r["start"]) for r in row["actual"])
        e2e_summary.append("6.12 reservation %s %-24s %-45s %s: %s (reboot %d s)" % (
            arch, row["case"], row["args"], "OK  " if row["ok"] else "DIFF", regions or "nothing", row["reboot_seconds"]))
    results = os.environ.get("KDUMP_RESERVATION_RESULTS")
    if results:
        with open(results, "a") as handle:
            handle.write(json.dumps(rows) + "\n")
    assert not failures, "\n".join(failures)
