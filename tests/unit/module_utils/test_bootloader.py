# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for _bootloader: token logic, parsers, and the three backends on temp trees with fake tools."""

import os
import stat
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakes"))

import boottrees as bt  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.fleetops.kdump.plugins.module_utils import _bootloader as bl  # noqa: E402

HIGH_LOW = ["crashkernel=768M,high", "crashkernel=16M,low"]
DROPIN = "/etc/default/grub.d/zz-fleetops-kdump.cfg"


def grub_params(root, **extra):
    params = dict(args=list(HIGH_LOW), root=str(root), grub_mkconfig_command=bt.mkconfig_command(root))
    params.update(extra)
    return params


def grubby_params(root, **extra):
    params = dict(args=list(HIGH_LOW), root=str(root), grubby_command=bt.grubby_command(root))
    params.update(extra)
    return params


def first_linux_args(root, rel="/boot/grub/grub.cfg"):
    return bl.grub_cfg_default_args(bt.read(root, rel))


def cmdline_of(text, keys=("crashkernel",)):
    return bl.managed_tokens(bl.split_cmdline(text), keys)


# --------------------------------------------------------------------------------------------------------
# tokens

def test_split_cmdline_keeps_double_quoted_values_together():
    assert bl.split_cmdline(' ro  dyndbg="file a.c +p"\tquiet\n') == ["ro", 'dyndbg="file a.c +p"', "quiet"]


def test_edit_tokens_replaces_every_crashkernel_token_in_given_order():
    tokens = "ro crashkernel=512M quiet crashkernel=1G,high crashkernel=64M,low".split()
    assert bl.edit_tokens(tokens, ["crashkernel"], HIGH_LOW) == ["ro", "quiet"] + HIGH_LOW


def test_edit_tokens_inserts_before_init_arguments():
    tokens = "ro crashkernel=1G -- single crashkernel=init-sees-this".split()
    assert bl.edit_tokens(tokens, ["crashkernel"], ["crashkernel=2G"]) == \
        ["ro", "crashkernel=2G", "--", "single", "crashkernel=init-sees-this"]


def test_keys_match_with_dash_and_underscore_alike():
    assert bl.managed_tokens(["nr-cpus=4", "nr_cpus=2", "nr_cpusx=1"], ["nr_cpus"]) == ["nr-cpus=4", "nr_cpus=2"]


@pytest.mark.parametrize("token,slot", [
    ("crashkernel=512M", "plain"), ("crashkernel=512M-12G:128M,12G-:256M", "plain"),
    ("crashkernel=768M,high", "high"), ("crashkernel=16M,low", "low"), ("crashkernel=0,low", "low"),
    ("crashkernel=64M,cma", "cma")])
def test_crashkernel_slot(token, slot):
    assert bl.crashkernel_slot(token) == slot


# --------------------------------------------------------------------------------------------------------
# validation

def test_validate_keeps_order_and_drops_exact_duplicates():
    spec = bl.validate_args(["crashkernel=768M,high", "quiet", "crashkernel=16M,low", "quiet"])
    assert spec.tokens == ["crashkernel=768M,high", "quiet", "crashkernel=16M,low"]
    assert spec.keys == ["crashkernel", "quiet"]


@pytest.mark.parametrize("args,words", [
    ("crashkernel=768M,high", ["args", "must be a list"]),
    (["crashkernel=512M", "crashkernel=1G"], ["args", "plain crashkernel", "keep one"]),
    (["crashkernel=64M,low", "crashkernel=16M,low"], ["args", "low crashkernel"]),
    (["nr_cpus=1", "nr-cpus=2"], ["args", "twice", "repeatable_keys"]),
    ([""], ["args", "item 1", "empty"]),
    (["=512M"], ["args", "empty key"]),
    (["crashkernel= 512M"], ["args", "whitespace"]),
    (["crashkernel=512M quiet"], ["args", "whitespace", "own list item"]),
    (['crashkernel="512M"'], ["args", "quotes"]),
    (["foo=$(reboot)"], ["args", "'$'"]),
    (["foo=a;b"], ["args", "';'"]),
    (["cr@sh=1"], ["args", "key 'cr@sh'"]),
    (["crashkernel=768M", "high"], ["args", "item 2", "cut at a comma", "quote each item"]),
    (["crashkernel=512M-12G:128M", "12G-:256M"], ["args", "item 2", "cut at a comma"]),
    (["root=/dev/sda1"], ["args", "root=", "boot loader"]),
    ([True], ["args", "not a string"]),
    ([], ["args", "at least one"]),
])
def test_validate_rejects_bad_input_naming_the_option(args, words):
    with pytest.raises(bl.BootloaderError) as error:
        bl.validate_args(args)
    for word in words:
        assert word in error.value.msg


def test_validate_rejects_a_key_both_set_and_removed():
    with pytest.raises(bl.BootloaderError) as error:
        bl.validate_args(["crashkernel=512M"], remove_args=["crashkernel"])
    assert "args and remove_args" in error.value.msg and "crashkernel" in error.value.msg


def test_validate_remove_args_takes_keys_only():
    with pytest.raises(bl.BootloaderError) as error:
        bl.validate_args(["quiet"], remove_args=["nokaslr=1"])
    assert error.value.msg.startswith("remove_args:")


def test_validate_allows_repeatable_keys():
    spec = bl.validate_args(["console=tty0", "console=ttyS0,115200", "foo=1", "foo=2"], repeatable_keys=["foo"])
    assert spec.tokens == ["console=tty0", "console=ttyS0,115200", "foo=1", "foo=2"]


def test_validate_absent_uses_keys_only():
    spec = bl.validate_args(["crashkernel=512M", "nokaslr"], state="absent", remove_args=["quiet"])
    assert spec.keys == ["crashkernel", "nokaslr", "quiet"] and spec.tokens == []


# --------------------------------------------------------------------------------------------------------
# grub drop-in shell code, evaluated by the real /bin/sh

def evaluate(sources):
    script, env = bl.grub_eval_script(sources)
    rc, out, err = bt.Runner()(["/bin/sh", "-c", script, "test"], env)
    assert rc == 0, err
    return bl.parse_grub_eval(out)


def test_dropin_wins_over_kdump_tools_cfg(tmp_path):
    default = bt.write(tmp_path, "/etc/default/grub", bt.DEBIAN12_DEFAULT_GRUB)
    kdump = bt.write(tmp_path, "/etc/default/grub.d/kdump-tools.cfg", bt.KDUMP_TOOLS_CFG)
    dropin = bl.render_dropin(["crashkernel"], HIGH_LOW)
    linux, linux_default = evaluate([(default, None), (kdump, None), ("zz", dropin)])
    assert linux == ""
    assert linux_default == "quiet crashkernel=768M,high crashkernel=16M,low"


def test_dropin_strips_keys_from_both_variables_and_can_target_grub_cmdline_linux():
    setup = 'GRUB_CMDLINE_LINUX="crashkernel=1G nr-cpus=2 rd.lvm.lv=vg/root"\n' \
            'GRUB_CMDLINE_LINUX_DEFAULT="quiet nr_cpus=4 crashkernel=2G,high"\n'
    dropin = bl.render_dropin(["crashkernel", "nr_cpus"], ["nr_cpus=1"], variable="GRUB_CMDLINE_LINUX")
    assert evaluate([("setup", setup), ("dropin", dropin)]) == ("rd.lvm.lv=vg/root nr_cpus=1", "quiet")


def test_dropin_does_not_glob_existing_arguments(tmp_path):
    bt.write(tmp_path, "/match-me", "")
    setup = 'cd %s; GRUB_CMDLINE_LINUX="match-* crashkernel=1G"\n' % tmp_path
    linux, _default = evaluate([("setup", setup), ("dropin", bl.render_dropin(["crashkernel"], []))])
    assert linux == "match-*"


token_chars = st.text(alphabet="abcxyz019_-.,:/=+@%!", min_size=1, max_size=8)
key_choice = st.sampled_from(["crashkernel", "nr_cpus", "nr-cpus", "quiet", "ro", "console", "a.b"])
cmdline_tokens = st.lists(st.one_of(key_choice, st.tuples(key_choice, token_chars).map("=".join)), max_size=8)


@settings(max_examples=40, deadline=None)
@given(linux=cmdline_tokens, default=cmdline_tokens,
       keys=st.lists(st.sampled_from(["crashkernel", "nr_cpus", "quiet", "a.b"]), min_size=1, max_size=3,
                     unique=True),
       wanted=st.lists(st.sampled_from(HIGH_LOW + ["crashkernel=512M", "quiet"]), max_size=3, unique=True))
def test_dropin_shell_matches_python_edit(linux, default, keys, wanted):
    """The shell filter grub-mkconfig runs and the Python prediction agree for any command line."""
    wanted = [token for token in wanted if bl.arg_key(token) in keys]
    setup = 'GRUB_CMDLINE_LINUX="%s"\nGRUB_CMDLINE_LINUX_DEFAULT="%s"\n' % (" ".join(linux), " ".join(default))
    got = evaluate([("setup", setup), ("dropin", bl.render_dropin(keys, wanted))])
    assert got == (" ".join(bl.edit_tokens(linux, keys, [])), " ".join(bl.edit_tokens(default, keys, wanted)))


def test_parse_dropin_roundtrip_and_foreign_file():
    text = bl.render_dropin(["crashkernel", "nokaslr"], ["crashkernel=512M"])
    assert bl.parse_dropin(text) == (["crashkernel", "nokaslr"], ["crashkernel=512M"])
    assert bl.parse_dropin(bt.KDUMP_TOOLS_CFG) is None


def test_merge_dropin_keeps_other_managed_keys():
    spec = bl.validate_args(["crashkernel=1G"])
    assert bl.merge_dropin((["nokaslr", "crashkernel"], ["crashkernel=512M"]), spec) == \
        (["nokaslr", "crashkernel"], ["crashkernel=1G"])


# --------------------------------------------------------------------------------------------------------
# /etc/default/grub editing

def test_edit_grub_defaults_rewrites_only_changed_lines():
    text = 'GRUB_TIMEOUT=5\nexport GRUB_CMDLINE_LINUX="rhgb crashkernel=auto quiet"  # installer\n' \
           "GRUB_CMDLINE_LINUX_DEFAULT='crashkernel=1G'\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT x\"\n"
    new = bl.edit_grub_defaults(text, ["crashkernel"], ["crashkernel=512M"], "GRUB_CMDLINE_LINUX")
    assert new.splitlines() == [
        "GRUB_TIMEOUT=5",
        'export GRUB_CMDLINE_LINUX="rhgb quiet crashkernel=512M"  # installer',
        "GRUB_CMDLINE_LINUX_DEFAULT=''",
        'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT x"']


def test_edit_grub_defaults_adds_missing_variable():
    new = bl.edit_grub_defaults("GRUB_TIMEOUT=5", ["crashkernel"], ["crashkernel=512M"], "GRUB_CMDLINE_LINUX")
    assert new == 'GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX crashkernel=512M"\n'


@pytest.mark.parametrize("line", ['GRUB_CMDLINE_LINUX="$(cat /etc/args)"', 'GRUB_CMDLINE_LINUX="a \\\nb"',
                                  'GRUB_CMDLINE_LINUX="a"b', "GRUB_CMDLINE_LINUX=`x`"])
def test_edit_grub_defaults_refuses_shell_it_cannot_rewrite(line):
    with pytest.raises(bl.BootloaderError) as error:
        bl.edit_grub_defaults(line + "\n", ["crashkernel"], [], "GRUB_CMDLINE_LINUX")
    assert "/etc/default/grub line 1" in error.value.msg


# --------------------------------------------------------------------------------------------------------
# parsers

def test_parse_grub_cfg_lists_entries_in_file_order(tmp_path):
    bt.debian12_tree(tmp_path)
    entries = bl.parse_grub_cfg(bt.read(tmp_path, "/boot/grub/grub.cfg"))
    assert [entry["title"] for entry in entries] == [
        "Debian GNU/Linux", "Debian GNU/Linux, with Linux 6.1.0-27-amd64",
        "Debian GNU/Linux, with Linux 6.1.0-27-amd64 (recovery mode)"]
    assert entries[0]["args"] == "root=UUID=0b5e2c1a ro quiet" and entries[0]["depth"] == 0
    assert entries[2]["args"] == "root=UUID=0b5e2c1a ro single" and entries[2]["depth"] == 1


LEGACY_GRUBBY_INFO = """\
index=0
kernel=/boot/vmlinuz-3.10.0-1160.el7.x86_64
args="ro crashkernel=auto rhgb quiet LANG=en_US.UTF-8"
root=/dev/mapper/centos-root
initrd=/boot/initramfs-3.10.0-1160.el7.x86_64.img
title=CentOS Linux (3.10.0-1160.el7.x86_64) 7 (Core)
index=1
non linux entry
"""


def test_parse_grubby_info_legacy_and_bls(tmp_path):
    legacy = bl.parse_grubby_info(LEGACY_GRUBBY_INFO)
    assert len(legacy) == 1 and legacy[0]["args"] == "ro crashkernel=auto rhgb quiet LANG=en_US.UTF-8"
    assert legacy[0]["root"] == "/dev/mapper/centos-root"
    bt.rhel9_tree(tmp_path)
    rc, out, _err = bt.Runner()(bt.grubby_command(tmp_path) + ["--info=ALL"])
    entries = bl.parse_grubby_info(out)
    assert rc == 0 and [entry["kernel"] for entry in entries] == ["/vmlinuz-" + v for v in bt.RHEL9_KERNELS]
    assert entries[0]["root"] == "/dev/mapper/rhel-root" and "root=" not in entries[0]["args"]


def test_grubby_update_argv_removes_each_copy_and_adds_in_order():
    entries = [{"args": "ro crashkernel=1G crashkernel=1G crashkernel=64M,low"}, {"args": "ro crashkernel=2G"}]
    spec = bl.validate_args(HIGH_LOW)
    assert bl.grubby_update_argv(entries, spec) == [
        "--update-kernel=ALL", "--remove-args=crashkernel=1G crashkernel=1G crashkernel=64M,low crashkernel=2G",
        "--args=crashkernel=768M,high crashkernel=16M,low"]
    assert bl.grubby_update_argv([{"args": "ro " + " ".join(HIGH_LOW)}], spec) is None


def test_edit_bls_options_spreads_over_several_lines():
    text = "title x\noptions root=UUID=1 crashkernel=1G\noptions quiet crashkernel=64M,low\nlinux /x\n"
    new = bl.edit_bls_options(text, ["crashkernel"], HIGH_LOW)
    assert new == "title x\noptions root=UUID=1\noptions quiet %s\nlinux /x\n" % " ".join(HIGH_LOW)
    assert bl.edit_bls_options("title x\n", ["crashkernel"], ["crashkernel=1G"]) == \
        "title x\noptions crashkernel=1G\n"


# --------------------------------------------------------------------------------------------------------
# detection

def test_detect_backend(tmp_path):
    assert bl.detect_backend(bl.Files(bt.rhel9_tree(tmp_path / "rhel"))) == "grubby"
    assert bl.detect_backend(bl.Files(bt.debian12_tree(tmp_path / "deb"))) == "grub"
    assert bl.detect_backend(bl.Files(bt.sdboot_tree(tmp_path / "sdb"))) == "kernel_install"
    with pytest.raises(bl.BootloaderError) as error:
        bl.detect_backend(bl.Files(str(tmp_path)))
    assert "set backend" in error.value.msg


# --------------------------------------------------------------------------------------------------------
# grub backend

@pytest.mark.parametrize("kdump_tools", [False, True], ids=["stock", "kdump-tools"])
def test_grub_present_then_idempotent(tmp_path, kdump_tools):
    root = bt.debian12_tree(tmp_path, kdump_tools=kdump_tools)
    result = bl.run(grub_params(root), bt.Runner())
    assert result["changed"] and result["backend"] == "grub"
    assert result["cmdline_before"] == ("quiet crashkernel=384M-:128M" if kdump_tools else "quiet")
    assert result["cmdline_after"] == "quiet crashkernel=768M,high crashkernel=16M,low"
    assert result["files_changed"] == [os.path.join(root, DROPIN.lstrip("/"))]
    assert bt.calls(root) == ["grub-mkconfig -o %s/boot/grub/grub.cfg" % root]
    entries = bl.parse_grub_cfg(bt.read(root, "/boot/grub/grub.cfg"))
    assert cmdline_of(entries[0]["args"]) == HIGH_LOW
    assert cmdline_of(entries[2]["args"]) == []  # recovery entry: GRUB_CMDLINE_LINUX only
    assert bt.read(root, "/etc/default/grub") == bt.DEBIAN12_DEFAULT_GRUB  # operator's file untouched
    assert stat.S_IMODE(os.stat(os.path.join(root, DROPIN.lstrip("/"))).st_mode) == 0o644

    before = bt.snapshot(root)
    again = bl.run(grub_params(root), bt.Runner())
    assert not again["changed"] and again["commands"] == [] and again["files_changed"] == []
    assert again["cmdline_before"] == again["cmdline_after"] == result["cmdline_after"]
    assert bt.snapshot(root) == before and len(bt.calls(root)) == 1


def test_grub_check_mode_predicts_exactly_and_changes_nothing(tmp_path):
    root = bt.debian12_tree(tmp_path / "a", kdump_tools=True)
    twin = bt.debian12_tree(tmp_path / "b", kdump_tools=True)
    before = bt.snapshot(root)
    runner = bt.Runner()
    predicted = bl.run(grub_params(root), runner, check_mode=True)
    assert bt.snapshot(root) == before and bt.calls(root) == []
    assert all(call[:1] == ["/bin/sh"] and call[1] == "-c" for call in runner.calls)  # only evaluations
    real = bl.run(grub_params(twin), bt.Runner())
    for key in ("changed", "cmdline_before", "cmdline_after", "reboot_required", "diff"):
        assert predicted[key] == real[key], key
    assert predicted["commands"] == [bt.mkconfig_command(root)]


def test_grub_diff_shows_both_variables(tmp_path):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    diff = bl.run(grub_params(root), bt.Runner(), check_mode=True)["diff"]
    assert diff["before"] == 'GRUB_CMDLINE_LINUX=""\nGRUB_CMDLINE_LINUX_DEFAULT="quiet crashkernel=384M-:128M"\n'
    assert diff["after"] == 'GRUB_CMDLINE_LINUX=""\nGRUB_CMDLINE_LINUX_DEFAULT="quiet %s"\n' % " ".join(HIGH_LOW)
    assert diff["before_header"] == diff["after_header"] == \
        "next boot: GRUB_CMDLINE_* after sourcing /etc/default/grub and /etc/default/grub.d/*.cfg"


def test_grub_absent_removes_kdump_tools_reservation(tmp_path):
    root = bt.debian12_tree(tmp_path, kdump_tools=True,
                            running="BOOT_IMAGE=/vmlinuz ro quiet crashkernel=384M-:128M\n")
    result = bl.run(grub_params(root, args=["crashkernel"], state="absent"), bt.Runner())
    assert result["changed"] and result["cmdline_after"] == "quiet" and result["reboot_required"]
    assert cmdline_of(first_linux_args(root)) == []
    assert bl.parse_dropin(bt.read(root, DROPIN)) == (["crashkernel"], [])


def test_grub_absent_when_nothing_has_the_key_changes_nothing(tmp_path):
    root = bt.debian12_tree(tmp_path)
    before = bt.snapshot(root)
    result = bl.run(grub_params(root, args=["crashkernel"], state="absent"), bt.Runner())
    assert not result["changed"] and result["commands"] == [] and not result["reboot_required"]
    assert bt.snapshot(root) == before and bt.calls(root) == []


@pytest.mark.parametrize("running,expected", [
    ("BOOT_IMAGE=/vmlinuz root=UUID=x ro crashkernel=768M,high crashkernel=16M,low\n", False),
    ("BOOT_IMAGE=/vmlinuz root=UUID=x ro quiet crashkernel=16M,low crashkernel=768M,high\n", True),
    ("BOOT_IMAGE=/vmlinuz root=UUID=x ro quiet crashkernel=768M,high\n", True),
], ids=["same-keys-other-args-differ", "order-differs", "low-missing"])
def test_grub_reboot_required_compares_managed_tokens_only(tmp_path, running, expected):
    root = bt.debian12_tree(tmp_path, running=running)
    assert bl.run(grub_params(root), bt.Runner())["reboot_required"] is expected


def test_grub_without_proc_cmdline_reports_reboot_when_changed(tmp_path):
    root = bt.debian12_tree(tmp_path, running=None)
    result = bl.run(grub_params(root), bt.Runner())
    assert result["running_cmdline"] is None and result["reboot_required"] is True
    assert bl.run(grub_params(root), bt.Runner())["reboot_required"] is False


def test_grub_regeneration_failure_restores_previous_files(tmp_path):
    root = bt.debian12_tree(tmp_path, kdump_tools=True, grub_d=True)
    bt.write(root, "/FAIL_MKCONFIG", "")
    before = bt.snapshot(root)
    with pytest.raises(bl.BootloaderError) as error:
        bl.run(grub_params(root), bt.Runner())
    assert error.value.rc == 1 and "fake failure" in error.value.stderr
    assert "Found linux image" in error.value.stdout and error.value.cmd == bt.mkconfig_command(root)
    assert "previous files were restored" in error.value.msg
    assert bt.snapshot(root) == before  # drop-in gone, half-written grub.cfg replaced by the old one


def test_grub_failure_removes_grub_d_it_created(tmp_path):
    root = bt.debian12_tree(tmp_path, grub_d=False)
    bt.write(root, "/FAIL_MKCONFIG", "")
    before = bt.snapshot(root)
    with pytest.raises(bl.BootloaderError):
        bl.run(grub_params(root), bt.Runner())
    assert bt.snapshot(root) == before and not os.path.exists(os.path.join(root, "etc/default/grub.d"))


def test_grub_creates_grub_d_on_a_tree_without_it(tmp_path):
    root = bt.debian12_tree(tmp_path, grub_d=False)
    assert bl.run(grub_params(root), bt.Runner())["changed"]
    assert cmdline_of(first_linux_args(root)) == HIGH_LOW


def test_grub_refuses_when_a_later_file_overrides(tmp_path):
    root = bt.debian12_tree(tmp_path)
    bt.write(root, "/etc/default/grub.d/zzz-local.cfg",
             'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=1G"\n')
    before = bt.snapshot(root)
    with pytest.raises(bl.BootloaderError) as error:
        bl.run(grub_params(root), bt.Runner())
    assert "zzz-local.cfg" in error.value.msg and "grub_dropin" in error.value.msg
    assert bt.snapshot(root) == before and bt.calls(root) == []
    result = bl.run(grub_params(root, grub_dropin="/etc/default/grub.d/zzzz-kdump.cfg"), bt.Runner())
    assert cmdline_of(first_linux_args(root)) == HIGH_LOW and result["changed"]


def test_grub_refuses_foreign_file_and_bad_dropin_path(tmp_path):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    with pytest.raises(bl.BootloaderError) as error:
        bl.run(grub_params(root, grub_dropin="/etc/default/grub.d/kdump-tools.cfg"), bt.Runner())
    assert "not written by this module" in error.value.msg
    with pytest.raises(bl.BootloaderError) as error:
        bl.run(grub_params(root, grub_dropin="/etc/default/grub"), bt.Runner())
    assert error.value.msg.startswith("grub_dropin:")


def test_grub_later_run_for_another_key_keeps_the_first(tmp_path):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    bl.run(grub_params(root), bt.Runner())
    bl.run(grub_params(root, args=["nokaslr"]), bt.Runner())
    args = first_linux_args(root)
    assert cmdline_of(args) == HIGH_LOW and cmdline_of(args, ["nokaslr"]) == ["nokaslr"]


def test_grub_regenerates_a_stale_grub_cfg(tmp_path):
    root = bt.debian12_tree(tmp_path)
    bl.run(grub_params(root), bt.Runner())
    bt.debian12_tree(tmp_path / "old")
    bt.write(root, "/boot/grub/grub.cfg", bt.read(tmp_path / "old", "/boot/grub/grub.cfg"))
    result = bl.run(grub_params(root), bt.Runner())
    assert result["changed"] and result["files_changed"] == [] and "regenerating" in result["warnings"][0]
    assert cmdline_of(first_linux_args(root)) == HIGH_LOW


def test_grub_without_command_for_another_root(tmp_path):
    root = bt.debian12_tree(tmp_path)
    with pytest.raises(bl.BootloaderError) as error:
        bl.run(dict(args=HIGH_LOW, root=root), bt.Runner())
    assert error.value.msg.startswith("grub_mkconfig_command:") and "never guessed" in error.value.msg


def rhel_like_grub_tree(root):
    """grub without grub.d support (SUSE / RHEL without grubby): the defaults file is edited."""
    root = str(root)
    bt.write(root, "/etc/default/grub", 'GRUB_TIMEOUT=8\nGRUB_CMDLINE_LINUX_DEFAULT="splash=silent '
             'crashkernel=245M,high crashkernel=72M,low mitigations=auto quiet"\nGRUB_CMDLINE_LINUX=""\n',
             mode=0o600)
    bt.write(root, "/usr/sbin/grub2-mkconfig", "#!/bin/sh\n# reads /etc/default/grub only\n", mode=0o755)
    bt.write(root, "/proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz ro quiet\n")
    os.makedirs(os.path.join(root, "boot/grub2"))  # grub2-mkconfig -o writes into an existing directory
    return root


def test_grub_defaults_method_edits_default_grub(tmp_path):
    root = rhel_like_grub_tree(tmp_path)
    os.chown(os.path.join(root, "etc/default/grub"), 1234, 1235)
    params = grub_params(root, args=["crashkernel=512M"], grub_config="/boot/grub2/grub.cfg",
                         grub_mkconfig_command=["/bin/sh", os.path.join(bt.FAKES, "grub-mkconfig"), "--root", root,
                                                "-o", os.path.join(root, "boot/grub2/grub.cfg")])
    result = bl.run(params, bt.Runner())
    assert result["cmdline_after"] == "splash=silent mitigations=auto quiet crashkernel=512M"
    assert bt.read(root, "/etc/default/grub").splitlines()[1] == \
        'GRUB_CMDLINE_LINUX_DEFAULT="splash=silent mitigations=auto quiet crashkernel=512M"'
    info = os.stat(os.path.join(root, "etc/default/grub"))
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o600, 1234, 1235)
    assert cmdline_of(first_linux_args(root, "/boot/grub2/grub.cfg")) == ["crashkernel=512M"]
    assert not os.path.exists(os.path.join(root, "etc/default/grub.d"))
    assert not bl.run(params, bt.Runner())["changed"]


# --------------------------------------------------------------------------------------------------------
# grubby backend

def entries_options(root):
    directory = os.path.join(root, "boot/loader/entries")
    return [bl.bls_options(bt.read(root, "/boot/loader/entries/" + name)) for name in sorted(os.listdir(directory))]


def test_grubby_updates_every_kernel_and_inherited_files(tmp_path):
    root = bt.rhel9_tree(tmp_path)
    result = bl.run(grubby_params(root), bt.Runner())
    assert result["backend"] == "grubby" and result["changed"] and result["reboot_required"]
    assert result["cmdline_after"].endswith("rd.lvm.lv=rhel/swap crashkernel=768M,high crashkernel=16M,low")
    assert all(cmdline_of(options) == HIGH_LOW for options in entries_options(root))
    assert cmdline_of(bt.read(root, "/etc/kernel/cmdline")) == HIGH_LOW
    linux_line = [line for line in bt.read(root, "/etc/default/grub").splitlines()
                  if line.startswith("GRUB_CMDLINE_LINUX=")][0]
    assert linux_line == 'GRUB_CMDLINE_LINUX="resume=/dev/mapper/rhel-swap rd.lvm.lv=rhel/root ' \
                         'rd.lvm.lv=rhel/swap crashkernel=768M,high crashkernel=16M,low"'
    updates = [call for call in bt.calls(root) if "--update-kernel" in call]
    assert len(updates) == 1

    before = bt.snapshot(root)
    again = bl.run(grubby_params(root), bt.Runner())
    assert not again["changed"] and bt.snapshot(root) == before
    assert len([call for call in bt.calls(root) if "--update-kernel" in call]) == 1


def test_grubby_check_mode_reads_only(tmp_path):
    root = bt.rhel9_tree(tmp_path / "a")
    twin = bt.rhel9_tree(tmp_path / "b")
    before = bt.snapshot(root)
    predicted = bl.run(grubby_params(root), bt.Runner(), check_mode=True)
    assert bt.snapshot(root) == before
    assert bt.calls(root) == ["grubby --info=ALL", "grubby --default-index"]
    real = bl.run(grubby_params(twin), bt.Runner())
    for key in ("changed", "cmdline_before", "cmdline_after", "reboot_required", "diff"):
        assert predicted[key] == real[key], key
    assert predicted["files_changed"] == [os.path.join(root, "etc/default/grub"),
                                          os.path.join(root, "etc/kernel/cmdline")]


def test_grubby_next_boot_is_the_saved_default(tmp_path):
    old, new = bt.RHEL9_KERNELS[1], bt.RHEL9_KERNELS[0]
    root = bt.rhel9_tree(tmp_path, saved_entry_index=1)
    bt.write(root, "/boot/loader/entries/%s-%s.conf" % (bt.MACHINE_ID, new),
             "title new\nversion %s\nlinux /vmlinuz-%s\noptions root=/dev/x ro crashkernel=2G\n" % (new, new))
    result = bl.run(grubby_params(root, args=["crashkernel=1G"]), bt.Runner(), check_mode=True)
    assert cmdline_of(result["cmdline_before"]) == ["crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"]
    assert "/vmlinuz-%s (default)" % old in result["diff"]["before"]


def test_grubby_failure_restores_entries(tmp_path):
    root = bt.rhel9_tree(tmp_path)
    bt.write(root, "/FAIL_GRUBBY", "")
    before = bt.snapshot(root)
    with pytest.raises(bl.BootloaderError) as error:
        bl.run(grubby_params(root), bt.Runner())
    assert error.value.rc == 1 and "No space left" in error.value.stderr
    assert "previous files were restored" in error.value.msg
    assert bt.snapshot(root) == before


def test_grubby_failure_restores_efi_grub_cfg_too(tmp_path):
    root = bt.rhel9_tree(tmp_path)
    bt.write(root, "/boot/efi/EFI/redhat/grub.cfg", "original efi grub.cfg\n")
    real_runner = bt.Runner()

    def clobbering_runner(argv, env=None):
        if any(arg.startswith("--update-kernel") for arg in argv):
            bt.write(root, "/boot/efi/EFI/redhat/grub.cfg", "rewritten by a legacy grubby\n")
            return 1, "", "grubby: fatal error\n"
        return real_runner(argv, env)

    before = bt.snapshot(root)
    with pytest.raises(bl.BootloaderError):
        bl.run(grubby_params(root), clobbering_runner)
    assert bt.snapshot(root) == before


def test_grubby_result_is_verified_and_rolled_back(tmp_path):
    root = bt.rhel9_tree(tmp_path)
    bt.write(root, "/GRUBBY_LEGACY_ADD", "")
    before = bt.snapshot(root)
    with pytest.raises(bl.BootloaderError) as error:
        bl.run(grubby_params(root), bt.Runner())
    assert "grubby left" in error.value.msg and "crashkernel=16M,low instead of" in error.value.msg
    assert bt.snapshot(root) == before


def test_grubby_absent(tmp_path):
    root = bt.rhel9_tree(tmp_path)
    result = bl.run(grubby_params(root, args=["crashkernel"], state="absent"), bt.Runner())
    assert result["changed"] and result["reboot_required"]
    assert all(cmdline_of(options) == [] for options in entries_options(root))
    assert "crashkernel" not in bt.read(root, "/etc/default/grub")
    assert not bl.run(grubby_params(root, args=["crashkernel"], state="absent"), bt.Runner())["changed"]


# --------------------------------------------------------------------------------------------------------
# kernel_install backend

def sdboot_entries(root):
    directory = os.path.join(root, "boot/efi/loader/entries")
    return [bt.read(root, "/boot/efi/loader/entries/" + name) for name in sorted(os.listdir(directory))]


def test_kernel_install_updates_cmdline_file_and_entries(tmp_path):
    root = bt.sdboot_tree(tmp_path)
    result = bl.run(dict(args=HIGH_LOW, root=root), bt.Runner())
    assert result["backend"] == "kernel_install" and result["commands"] == []
    assert bt.read(root, "/etc/kernel/cmdline") == "root=UUID=7d1f ro quiet %s\n" % " ".join(HIGH_LOW)
    for text in sdboot_entries(root):
        assert cmdline_of(bl.bls_options(text)) == HIGH_LOW
        assert "options    root=UUID=7d1f ro\n" in text  # line without the key kept as written
    assert result["cmdline_before"] == "root=UUID=7d1f ro quiet crashkernel=384M-:128M"
    before = bt.snapshot(root)
    assert not bl.run(dict(args=HIGH_LOW, root=root), bt.Runner())["changed"]
    assert bt.snapshot(root) == before


def test_kernel_install_creates_cmdline_from_running_kernel(tmp_path):
    root = bt.sdboot_tree(tmp_path, kernel_cmdline=None, entries=0)
    result = bl.run(dict(args=["crashkernel=512M"], root=root, backend="kernel_install"), bt.Runner())
    assert bt.read(root, "/etc/kernel/cmdline") == "root=UUID=7d1f ro quiet crashkernel=512M\n"
    assert "no boot loader entries" in result["warnings"][0]


def test_kernel_install_follows_loader_conf_default(tmp_path):
    root = bt.sdboot_tree(tmp_path)
    bt.write(root, "/boot/efi/loader/loader.conf", "timeout 3\ndefault %s-6.1.0-26-*\n" % bt.MACHINE_ID)
    before = bt.snapshot(root)
    result = bl.run(dict(args=HIGH_LOW, root=root), bt.Runner(), check_mode=True)
    assert "6.1.0-26-arm64.conf (default)" in result["diff"]["before"]
    assert result["changed"] and len(result["files_changed"]) == 3 and bt.snapshot(root) == before


def test_root_must_exist(tmp_path):
    with pytest.raises(bl.BootloaderError) as error:
        bl.run(dict(args=HIGH_LOW, root=str(tmp_path / "nope")), bt.Runner())
    assert error.value.msg.startswith("root:")


def test_fakes_are_executable():
    for name in ("grubby", "grub-mkconfig", "update-grub"):
        assert os.access(os.path.join(bt.FAKES, name), os.X_OK), name
    proc = subprocess.run([sys.executable, os.path.join(bt.FAKES, "grubby"), "--bogus"], check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.returncode != 0
