# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Temp host trees with boot loader files, and a runner that executes commands for real.

The trees follow stock layouts: Debian 12 (grub-common / grub2-common 2.06-13, optional kdump-tools
1:1.8.1 with its /etc/default/grub.d/kdump-tools.cfg), RHEL 9 with BLS entries and grubby, and a
systemd-boot host with /etc/kernel/cmdline. Commands run are the fakes in this directory.
"""

import os
import shutil
import subprocess
import sys

FAKES = os.path.dirname(os.path.abspath(__file__))

# /etc/default/grub as Debian 12 installs it (comment lines trimmed).
DEBIAN12_DEFAULT_GRUB = """\
# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""

# Uncomment to disable generation of recovery mode menu entries
#GRUB_DISABLE_RECOVERY="true"
"""
# shipped by grub-common in Debian 12: a comment-only file
INIT_SELECT_CFG = "# Work around a bug in the obsolete init-select package (does nothing).\n"
# shipped by kdump-tools 1:1.8.1 in Debian 12 (one line)
KDUMP_TOOLS_CFG = 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=384M-:128M"\n'

RUNNING_DEBIAN = "BOOT_IMAGE=/boot/vmlinuz-6.1.0-27-amd64 root=UUID=0b5e2c1a ro quiet\n"

RHEL9_DEFAULT_GRUB = """\
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR="$(sed 's, release .*$,,g' /etc/system-release)"
GRUB_DEFAULT=saved
GRUB_DISABLE_SUBMENU=true
GRUB_TERMINAL_OUTPUT="console"
GRUB_CMDLINE_LINUX="crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap"
GRUB_DISABLE_RECOVERY="true"
GRUB_ENABLE_BLSCFG=true
"""
RHEL9_OPTIONS = ("root=/dev/mapper/rhel-root ro crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M "
                 "resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root rd.lvm.lv=rhel/swap")
RHEL9_KERNELS = ("5.14.0-427.13.1.el9_4.aarch64", "5.14.0-362.8.1.el9_3.aarch64")
MACHINE_ID = "5e1c3f0a9b7d4c2e8f6a1b3c5d7e9f01"


def write(root, rel, text, mode=None):
    path = os.path.join(str(root), rel.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)
    if mode is not None:
        os.chmod(path, mode)
    return path


def read(root, rel):
    path = os.path.join(str(root), rel.lstrip("/"))
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def snapshot(root):
    """Every file and directory under root with its bytes and mode (to prove nothing changed)."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(str(root)):
        rel_dir = os.path.relpath(dirpath, str(root))
        state[rel_dir + "/"] = os.stat(dirpath).st_mode
        for name in filenames:
            path = os.path.join(dirpath, name)
            if name == "calls.log":
                continue
            with open(path, "rb") as handle:
                state[os.path.join(rel_dir, name)] = (handle.read(), os.stat(path).st_mode)
    return state


def calls(root):
    text = read(root, "calls.log")
    return text.splitlines() if text else []


class Runner:
    """runner(argv, env_update) -> (rc, stdout, stderr), running the command; remembers every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, argv, env=None):
        self.calls.append(list(argv))
        environ = dict(os.environ)
        environ.update(env or {})
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ,
                              universal_newlines=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr


def mkconfig_command(root):
    return ["/bin/sh", os.path.join(FAKES, "update-grub"), "--root", str(root)]


def grubby_command(root):
    return [sys.executable, os.path.join(FAKES, "grubby"), "--root", str(root)]


def debian12_tree(root, kdump_tools=False, running=RUNNING_DEBIAN, grub_d=True):
    """Stock Debian 12 grub layout; grub.cfg generated once by the fake, as the installer leaves it."""
    root = str(root)
    write(root, "/etc/debian_version", "12.8\n")
    write(root, "/etc/default/grub", DEBIAN12_DEFAULT_GRUB)
    if grub_d:
        write(root, "/etc/default/grub.d/init-select.cfg", INIT_SELECT_CFG)
    if kdump_tools:
        write(root, "/etc/default/grub.d/kdump-tools.cfg", KDUMP_TOOLS_CFG)
    # the tree's own grub-mkconfig is only read (to see that it sources grub.d), never run
    os.makedirs(os.path.join(root, "usr/sbin"), exist_ok=True)
    shutil.copy(os.path.join(FAKES, "grub-mkconfig"), os.path.join(root, "usr/sbin/grub-mkconfig"))
    if running is not None:
        write(root, "/proc/cmdline", running)
    rc, _out, err = Runner()(mkconfig_command(root))
    assert rc == 0, err
    os.unlink(os.path.join(root, "calls.log"))
    return root


def rhel9_tree(root, running=None, saved_entry_index=0):
    root = str(root)
    write(root, "/etc/redhat-release", "Red Hat Enterprise Linux release 9.4 (Plow)\n")
    write(root, "/etc/default/grub", RHEL9_DEFAULT_GRUB, mode=0o644)
    write(root, "/etc/kernel/cmdline", RHEL9_OPTIONS + "\n")
    write(root, "/usr/sbin/grubby", "#!/bin/sh\n# placeholder: tests run tests/unit/fakes/grubby\n", mode=0o755)
    for version in RHEL9_KERNELS:
        write(root, "/boot/loader/entries/%s-%s.conf" % (MACHINE_ID, version),
              "title Red Hat Enterprise Linux (%s) 9.4 (Plow)\nversion %s\nlinux /vmlinuz-%s\n"
              "initrd /initramfs-%s.img $tuned_initrd\noptions %s\ngrub_users $grub_users\n"
              "grub_arg --unrestricted\ngrub_class rhel\n" % (version, version, version, version, RHEL9_OPTIONS))
    write(root, "/boot/grub2/grubenv", "# GRUB Environment Block\nsaved_entry=%s-%s\n"
          % (MACHINE_ID, RHEL9_KERNELS[saved_entry_index]))
    if running is None:
        running = "BOOT_IMAGE=(hd0,gpt2)/vmlinuz-%s %s\n" % (RHEL9_KERNELS[0], RHEL9_OPTIONS)
    write(root, "/proc/cmdline", running)
    return root


def sdboot_tree(root, kernel_cmdline="root=UUID=7d1f ro quiet\n", entries=2, running=None):
    root = str(root)
    if kernel_cmdline is not None:
        write(root, "/etc/kernel/cmdline", kernel_cmdline)
    write(root, "/usr/bin/kernel-install", "#!/bin/sh\n", mode=0o755)
    for number in range(entries):
        version = "6.1.0-%d-arm64" % (27 - number)
        write(root, "/boot/efi/loader/entries/%s-%s.conf" % (MACHINE_ID, version),
              "title      Debian GNU/Linux 12 (bookworm)\nversion    %s\nmachine-id %s\n"
              "options    root=UUID=7d1f ro\noptions    quiet crashkernel=384M-:128M\n"
              "linux      /%s/%s/linux\ninitrd     /%s/%s/initrd.img-%s\n"
              % (version, MACHINE_ID, MACHINE_ID, version, MACHINE_ID, version, version))
    if running is None:
        running = "initrd=\\%s\\6.1.0-27-arm64\\initrd.img-6.1.0-27-arm64 root=UUID=7d1f ro quiet " \
                  "crashkernel=384M-:128M\n" % MACHINE_ID
    write(root, "/proc/cmdline", running)
    return root
