# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke test of the test VM: boot the amd64 guest, reach it with Ansible, shut it down.

Run: .venv/bin/python -m pytest -m vm tests/integration/test_vm_smoke.py
(builds the image first if it is not cached; that needs root, see tests/vm/testvm --help).
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.vm

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTVM = os.path.join(REPO, "tests", "vm", "testvm")
ARCH = "amd64"


def ansible_bin(name):
    beside_python = os.path.join(os.path.dirname(sys.executable), name)
    return beside_python if os.path.exists(beside_python) else shutil.which(name)


def run_testvm(*args, **kwargs):
    return subprocess.run([sys.executable, TESTVM] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False, **kwargs)


@pytest.fixture(scope="module")
def guest(tmp_path_factory, cannot_run):
    for tool, package in (("qemu-system-x86_64", "qemu-system-x86"), ("qemu-img", "qemu-utils")):
        if shutil.which(tool) is None:
            cannot_run("%s not installed (apt-get install %s ovmf): cannot boot the test VM" % (tool, package))
    if ansible_bin("ansible") is None:
        cannot_run("the 'ansible' command is not installed next to %s nor on PATH" % sys.executable)
    cached = run_testvm("build", "--check", "--arch", ARCH)
    if cached.returncode != 0 and os.geteuid() != 0:
        cannot_run("no cached %s image and building one needs root: sudo %s build --arch %s"
                   % (ARCH, TESTVM, ARCH))
    state_dir = str(tmp_path_factory.mktemp("testvm-state"))
    name = "smoke-%d" % os.getpid()
    up = run_testvm("up", "--arch", ARCH, "--name", name, "--state-dir", state_dir, "--json", "--timeout", "900")
    if up.returncode != 0:
        run_testvm("down", "--name", name, "--state-dir", state_dir, "--keep-logs")
        pytest.fail("testvm up failed (exit %d):\n%s" % (up.returncode, up.stderr[-4000:]))
    state = json.loads(up.stdout)
    state["state_dir"] = state_dir
    yield state
    down = run_testvm("down", "--name", name, "--state-dir", state_dir)
    assert down.returncode == 0, down.stderr
    status = run_testvm("status", "--name", name, "--state-dir", state_dir)
    assert status.returncode == 1, "guest still reported running after down:\n%s" % status.stdout
    assert not os.path.exists(state["overlay"]), "down left the overlay %s" % state["overlay"]
    assert not qemu_running_with(state["overlay"]), "a qemu process still uses %s" % state["overlay"]


def qemu_running_with(overlay):
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().decode(errors="replace")
        except OSError:
            continue
        if "qemu-system" in argv and overlay in argv:
            return True
    return False


@pytest.fixture(scope="module")
def ansible_env(guest, tmp_path_factory):
    """An inventory for the guest and a collections path that holds this repository as fleetops.kdump."""
    workdir = tmp_path_factory.mktemp("ansible")
    link = workdir / "collections" / "ansible_collections" / "fleetops" / "kdump"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO)
    inventory = workdir / "inventory.ini"
    inventory.write_text(
        "guest ansible_host={address} ansible_port={port} ansible_user={user} "
        "ansible_ssh_private_key_file={key} ansible_python_interpreter=/usr/bin/python3 "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n".format(
            address=guest["address"], port=guest["port"], user=guest["user"], key=guest["identity_file"]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(workdir / "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_CALLBACK_RESULT_FORMAT="json",
               ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_NOCOLOR="1")
    return {"inventory": str(inventory), "env": env}


def run_module(ansible_env, module, become=False):
    cmd = [ansible_bin("ansible"), "guest", "-i", ansible_env["inventory"], "-m", module, "--one-line"]
    if become:
        cmd.append("--become")
    result = subprocess.run(cmd, env=ansible_env["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=600, check=False)
    assert result.returncode == 0, "ansible -m %s failed:\n%s\n%s" % (
        module, result.stdout[-4000:], result.stderr[-2000:])
    # One line per host: "guest | SUCCESS => {...}".
    line = [text for text in result.stdout.splitlines() if text.startswith("guest |")][0]
    return json.loads(line.split("=>", 1)[1])


def guest_shell(guest, command):
    result = run_testvm("ssh", "--name", guest["name"], "--state-dir", guest["state_dir"], "--", command,
                        timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_ssh_reaches_an_amd64_guest(guest):
    assert guest["accelerator"] in ("kvm", "tcg")
    assert guest_shell(guest, "uname -m") == "x86_64"


def test_ansible_ping(ansible_env):
    assert run_module(ansible_env, "ansible.builtin.ping")["ping"] == "pong"


def test_kdump_facts_match_the_guest(guest, ansible_env):
    facts = run_module(ansible_env, "fleetops.kdump.kdump_facts", become=True)["ansible_facts"]["kdump"]
    assert facts["platform"]["arch"] == "x86_64"
    assert facts["kernel"]["release"] == guest_shell(guest, "uname -r")
    assert facts["kernel"]["cmdline"].strip() == guest_shell(guest, "cat /proc/cmdline")
    mem_total_kib = int(guest_shell(guest, "awk '/^MemTotal:/ {print $2}' /proc/meminfo"))
    # System RAM from /proc/iomem is a bit more than MemTotal (the kernel keeps some for itself).
    assert mem_total_kib * 1024 <= facts["memory"]["total_bytes"] <= 2 * 1024 ** 3
    # A fresh image has no kdump packages and no crashkernel= reservation.
    assert facts["reservation"]["regions"] == []
    assert facts["software"]["family"] == "debian"
    assert facts["software"]["kdump_package_installed"] is False
