"""kernel_cmdline, in check mode and for real, on temporary roots (tests/unit/fakes/boottrees.py builds a
Debian 12 style /etc/default/grub + grub.d tree with a fake update-grub). Each bad input must fail with
the option named and the key words of the fix, before anything is read into a shell or written: the
tree's bytes and the fake's call log are the same afterwards."""
import json
import os
import shutil
import sys

import pytest

from ansible.module_utils.testing import patch_module_args

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakes"))

import boottrees as bt  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.fleetops.kdump.plugins.module_utils import _bootloader as bl  # noqa: E402
from ansible_collections.fleetops.kdump.plugins.modules import kernel_cmdline  # noqa: E402


def run_module(capsys, args, check_mode):
    args = dict(args, _ansible_check_mode=check_mode)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            kernel_cmdline.main()
    return json.loads(capsys.readouterr().out)


BAD_ARGS = [
    ("crashkernel=512M", {}, ["args: must be a list"]),
    ([5], {}, ["item 1 (5) is not a string"]),
    ([None], {}, ["item 1 (None) is not a string"]),
    ([["crashkernel=512M"]], {}, ["is not a string"]),
    ([{"crashkernel": "512M"}], {}, ["is not a string"]),
    ([True], {}, ["is not a string"]),
    (["crashkernel=bogus"], {}, ["item 1", "memory value expected"]),
    (["crashkernel="], {}, ["item 1", "memory value expected"]),
    (["crashkernel"], {}, ["has no value", "state: absent"]),
    (["crashkernel=2T"], {}, ["asks for 2 TiB"]),
    (["crashkernel=16E"], {}, ["overflows 64 bits"]),
    (["crashkernel=256"], {}, ["'256' without a unit", "crashkernel=256M?"]),
    (["crashkernel=1G-:256"], {}, ["crashkernel=1G-:256M?"]),
    (["crashkernel=512M,hihg"], {}, ["known suffixes"]),
    (["crashkernel=512M@"], {}, ["nothing usable follows '@'"]),
    (["crashkernel=1G-512M:128M"], {}, ["end <= start"]),
    (["crashkernel=512M", "crashkernel=256M"], {}, ["both set the"]),
    (["crashkernel=0x10"], {}, ["16 bytes", "less than 1 MiB"]),
    (["crashkernel=64K"], {}, ["did you mean '64M'"]),
    (["crashkernel=512M", "xcrashkernel=16"], {}, ["contains 'crashkernel='", "wherever it appears"]),
    (["rd.crashkernel=1E"], {}, ["contains 'crashkernel='"]),
    (["crashkernel=1G-:0x100"], {}, ["less than 1 MiB"]),
    (["crashkernel=0256M"], {}, ["octal (0256 is 174)", "'256M'"]),
    (["crashkernel=512M", "crashkernel=15E,low"], {}, ["asks for"]),
    (["crashkernel=768M", "high"], {}, ["cut at a comma"]),
    (["quiet splash"], {}, ["contains whitespace"]),
    (["a=$(reboot)"], {}, ["'$'"]),
    (["a=`reboot`"], {}, ["'`'"]),
    (["a='x'"], {}, ["quotes"]),
    (["=5"], {}, ["empty key"]),
    ([""], {}, ["is empty"]),
    (["root=/dev/sda1"], {}, ["set by the boot loader"]),
    ([], {}, ["no kernel argument given"]),
    (["crashkernel=0"], {}, ["crashkernel=0 reserves nothing", "state: absent"]),
    (["crashkernel=0M,high", "crashkernel=16M,low"], {}, ["crashkernel=0M,high reserves nothing"]),
    (["crashkernel=" + "1G-2G:64M," * 7000 + "2G-:128M"], {}, ["70008 characters long", "64 KiB"]),
    # arguments that reserve nothing on any machine: the kernel reads ,low and ,cma only next to the main one
    (["crashkernel=16M,low"], {}, ["crashkernel=16M,low alone reserves nothing", "crashkernel=512M,high"]),
    (["crashkernel=0,low"], {}, ["alone reserves nothing"]),
    (["crashkernel=64M,cma"], {}, ["crashkernel=64M,cma alone reserves nothing"]),
    (["crashkernel=16M,low", "crashkernel=64M,cma"], {}, ["crashkernel=16M,low and crashkernel=64M,cma alone"]),
    (["crashkernel=1G-:0M"], {}, ["reserves 0 in every range", "nothing was changed"]),
    (["crashkernel=1G-4G:0M,4G-:0M", "crashkernel=512M,high"], {}, ["reserves 0 in every range",
                                                                    "does not read ,high next to it"]),
    (["x=" + "a" * 3000], {}, ["would be 3", "keeps the first 2047", "nothing was changed"]),
    (["crashkernel=512M"], {"remove_args": ["crashkernel"]}, ["args and remove_args both"]),
    (["quiet"], {"remove_args": ["foo=bar"]}, ["has a value"]),
    (["quiet"], {"grub_dropin": "../../evil.cfg"}, ["grub_dropin"]),
    (["quiet"], {"grub_dropin": "zz-fleetops.sh"}, ["grub_dropin"]),
    (["quiet"], {"backend": "lilo"}, ["backend", "lilo"]),
    (["crashkernel=512M"], {"grub_mkconfig_command": []}, ["grub_mkconfig_command", "list of non-empty strings"]),
    # the options are read as given: a string is not split into a list, nor a number turned into a key
    (["crashkernel=512M"], {"grub_mkconfig_command": "update-grub; touch /tmp/x"},
     ["grub_mkconfig_command: give the command as a list", "no shell runs it"]),
    (["crashkernel=512M"], {"grub_mkconfig_command": ["update-grub", 5]}, ["list of non-empty strings"]),
    (["crashkernel=512M"], {"grubby_command": "grubby"}, ["grubby_command: give the command as a list"]),
    (["quiet"], {"remove_args": "nokaslr"}, ["remove_args: must be a list", "str 'nokaslr'", "not split"]),
    (["quiet"], {"remove_args": [5]}, ["remove_args: item 1 (5) is not a string"]),
    (["quiet"], {"repeatable_keys": [5]}, ["repeatable_keys: must be a list of kernel parameter names"]),
    (["quiet"], {"repeatable_keys": "console"}, ["repeatable_keys: must be a list"]),
]


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
@pytest.mark.parametrize("args, extra, words", BAD_ARGS, ids=[repr(case[0])[:30] + repr(case[1])[:20]
                                                              for case in BAD_ARGS])
def test_bad_request_fails_before_touching_the_host(tmp_path, capsys, args, extra, words, check_mode):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    before = bt.snapshot(root)
    request = dict(args=args, root=str(root), grub_mkconfig_command=bt.mkconfig_command(root))
    request.update(extra)
    result = run_module(capsys, request, check_mode)
    assert result.get("failed"), result
    missing = [word for word in words if word not in result["msg"]]
    assert not missing, (result["msg"], missing)
    assert bt.snapshot(root) == before and bt.calls(root) == []


SHELL_LINES = [
    "touch {marker}",
    'GRUB_CMDLINE_LINUX="$(touch {marker})"',
    "GRUB_CMDLINE_LINUX=`touch {marker}`",
    'GRUB_CMDLINE_LINUX_DEFAULT="quiet"; touch {marker}',
    '. /etc/default/grub.local',
    'if true; then GRUB_CMDLINE_LINUX="x"; fi',
    'GRUB_DISTRIBUTOR=$(touch {marker})\nGRUB_CMDLINE_LINUX="$GRUB_DISTRIBUTOR"',
    'X=1 GRUB_CMDLINE_LINUX="nokaslr"',
    'X=1; GRUB_CMDLINE_LINUX="nokaslr"',
]


@pytest.mark.parametrize("line", SHELL_LINES)
def test_grub_defaults_of_another_root_are_read_never_run(tmp_path, capsys, line):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    marker = str(tmp_path / "ran")
    with open(os.path.join(str(root), "etc/default/grub"), "a") as handle:
        handle.write(line.format(marker=marker) + "\n")
    before = bt.snapshot(root)
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(root),
                                     grub_mkconfig_command=bt.mkconfig_command(root)), True)
    assert result.get("failed") and "needs a shell to evaluate" in result["msg"], result
    assert "/etc/default/grub line" in result["msg"]
    assert not os.path.exists(marker)
    assert bt.snapshot(root) == before


def test_harmless_command_substitution_elsewhere_is_ignored(tmp_path, capsys):
    """Debian's own /etc/default/grub sets GRUB_DISTRIBUTOR with backticks: unknown, unused, not run."""
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    marker = str(tmp_path / "ran")
    with open(os.path.join(str(root), "etc/default/grub"), "a") as handle:
        handle.write("GRUB_DISTRIBUTOR=`touch %s`\n" % marker)
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(root),
                                     grub_mkconfig_command=bt.mkconfig_command(root)), True)
    assert not result.get("failed") and result["cmdline_after"].endswith("crashkernel=512M")
    assert not os.path.exists(marker)


@pytest.mark.parametrize("rel", ["etc/default/grub", "etc/default/grub.d/kdump-tools.cfg"])
def test_fifo_where_a_defaults_file_belongs_does_not_hang(tmp_path, capsys, rel):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    path = os.path.join(str(root), rel)
    os.unlink(path)
    os.mkfifo(path)
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(root),
                                     grub_mkconfig_command=bt.mkconfig_command(root)), True)
    assert result.get("failed") and "not a regular file" in result["msg"], result


@pytest.mark.parametrize("table, pairs", [("1G-:256M,2G-:512M", 1), ("1G-4G:128M,4G-8G:256M,2G-6G:512M", 2)])
def test_overlapping_ranges_are_warned_about(tmp_path, table, pairs):
    """Checked on run()'s result: how module warnings reach the output differs between ansible-core versions."""
    root = bt.debian12_tree(tmp_path, kdump_tools=True)

    def no_commands(argv, env=None):
        raise AssertionError("check mode on another root runs nothing, yet it ran %r" % (argv,))
    result = bl.run(dict(args=["crashkernel=" + table], root=str(root),
                         grub_mkconfig_command=bt.mkconfig_command(root)), no_commands, check_mode=True)
    assert len([text for text in result["warnings"] if text.startswith("crashkernel=%s: ranges" % table)]) == pairs


@pytest.mark.parametrize("keys", [[5], [None], "console", [""]])
def test_repeatable_keys_must_be_names(keys):
    """Called directly (the module's argument spec turns 5 into '5' first, as Ansible does for str lists)."""
    with pytest.raises(bl.BootloaderError, match="repeatable_keys: must be a list"):
        bl.validate_args(["quiet"], repeatable_keys=keys)


@pytest.mark.parametrize("token", ["Crashkernel=512M", "crash_kernel=512M", "CRASHKERNEL=1G"])
def test_misspelt_crashkernel_is_warned_about(tmp_path, token):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    result = bl.run(dict(args=[token], root=str(root), grub_mkconfig_command=bt.mkconfig_command(root)),
                    lambda argv, env=None: (0, "", ""), check_mode=True)
    assert [text for text in result["warnings"] if text.startswith(token + ": the kernel reads only crashkernel=")]


def test_root_that_is_not_a_directory(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(target)), True)
    assert result.get("failed") and "is not a directory" in result["msg"]


@pytest.mark.parametrize("word", ["foo.crashkernel=2G", "xcrashkernel=2G", "rd.crashkernel=3G"])
@pytest.mark.parametrize("request_args", [dict(args=["crashkernel=768M,high", "crashkernel=16M,low"]),
                                          dict(args=["crashkernel"], state="absent")], ids=["present", "absent"])
def test_a_stray_crashkernel_word_in_the_defaults_fails_before_anything_changes(tmp_path, capsys, word, request_args):
    """The kernel finds 'crashkernel=' inside any word (strstr): such a word would still reserve."""
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    with open(os.path.join(str(root), "etc/default/grub"), "a") as handle:
        handle.write('GRUB_CMDLINE_LINUX_DEFAULT="quiet %s"\n' % word)
    before = bt.snapshot(root)
    result = run_module(capsys, dict(request_args, root=str(root), grub_mkconfig_command=bt.mkconfig_command(root)),
                        False)
    assert result.get("failed") and "would still hold %r" % word in result["msg"], result
    assert "remove_args: ['%s']" % word.split("=")[0] in result["msg"] and "nothing was changed" in result["msg"]
    assert bt.snapshot(root) == before and bt.calls(root) == []


def test_removing_the_stray_word_with_remove_args_passes(tmp_path, capsys):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    with open(os.path.join(str(root), "etc/default/grub"), "a") as handle:
        handle.write('GRUB_CMDLINE_LINUX_DEFAULT="quiet foo.crashkernel=2G"\n')
    result = run_module(capsys, dict(args=["crashkernel=512M"], remove_args=["foo.crashkernel"], root=str(root),
                                     grub_mkconfig_command=bt.mkconfig_command(root)), True)
    assert not result.get("failed"), result
    assert "foo.crashkernel" not in result["cmdline_after"] and result["cmdline_after"].endswith("crashkernel=512M")


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_a_dangling_link_where_the_drop_in_goes_is_never_written_through(tmp_path, capsys, check_mode):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    before = bt.snapshot(root)
    link = os.path.join(str(root), "etc/default/grub.d/zz-fleetops-kdump.cfg")
    os.symlink("/etc/passwd-fleetops-test", link)
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(root),
                                     grub_mkconfig_command=bt.mkconfig_command(root)), check_mode)
    assert result.get("failed") and "is a symbolic link to '/etc/passwd-fleetops-test'" in result["msg"], result
    assert "nothing was changed" in result["msg"] and os.path.islink(link)
    os.unlink(link)
    assert bt.snapshot(root) == before and bt.calls(root) == []


@pytest.mark.parametrize("make", [os.mkfifo, lambda path: open(path, "wb").write(os.urandom(3000))],
                         ids=["fifo", "binary"])
def test_an_unreadable_running_cmdline_makes_reboot_required_follow_changed(tmp_path, capsys, make):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    cmdline = os.path.join(str(root), "proc", "cmdline")
    os.makedirs(os.path.dirname(cmdline), exist_ok=True)
    if os.path.lexists(cmdline):
        os.unlink(cmdline)
    make(cmdline)
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(root),
                                     grub_mkconfig_command=bt.mkconfig_command(root)), True)
    assert not result.get("failed"), result
    assert result["running_cmdline"] is None and result["changed"] is True and result["reboot_required"] is True


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_a_stray_crashkernel_behind_a_no_break_space_fails_before_anything_changes(tmp_path, capsys, check_mode):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    with open(os.path.join(str(root), "etc/default/grub"), "a", encoding="utf-8") as handle:
        handle.write('GRUB_CMDLINE_LINUX_DEFAULT="quiet\xa0crashkernel=2G"\n')
    before = bt.snapshot(root)
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(root),
                                     grub_mkconfig_command=bt.mkconfig_command(root)), check_mode)
    assert result.get("failed") and "would still hold" in result["msg"], result
    assert bt.snapshot(root) == before and bt.calls(root) == []


def test_a_command_line_already_longer_than_the_kernel_reads_is_warned_about_when_nothing_changes(tmp_path):
    line = "root=UUID=7d1f ro x=%s crashkernel=256M" % ("a" * 3000)
    root = bt.sdboot_tree(tmp_path, kernel_cmdline=line + "\n", entries=0, running=line + "\n")
    result = bl.run(dict(args=["crashkernel=256M"], root=str(root), backend="kernel_install"), None, check_mode=True)
    assert not result["changed"], result
    assert any("the kernel keeps the first 2047" in warning for warning in result["warnings"]), result


def test_a_plain_crashkernel_next_to_a_high_one_is_warned_about(tmp_path):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    result = bl.run(dict(args=["crashkernel=512M", "crashkernel=768M,high"], root=str(root),
                         grub_mkconfig_command=bt.mkconfig_command(root)), None, check_mode=True)
    assert any("crashkernel=768M,high: the kernel reads ,high only when no plain" in warning
               for warning in result["warnings"]), result


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_a_managed_file_that_is_a_link_to_another_file_is_refused(tmp_path, capsys, check_mode):
    root = bt.sdboot_tree(tmp_path)
    bt.write(root, "/etc/fstab", "UUID=7d1f / ext4 defaults 0 1\n")
    os.unlink(os.path.join(str(root), "etc/kernel/cmdline"))
    os.symlink("/etc/fstab", os.path.join(str(root), "etc/kernel/cmdline"))
    before = bt.snapshot(root)
    result = run_module(capsys, dict(args=["crashkernel=256M"], root=str(root), backend="kernel_install"), check_mode)
    assert result.get("failed") and "is a symbolic link to '/etc/fstab'" in result["msg"], result
    assert bt.read(root, "/etc/fstab") == "UUID=7d1f / ext4 defaults 0 1\n" and bt.snapshot(root) == before


@pytest.mark.parametrize("indent", ["  ", "\t"], ids=["spaces", "tab"])
def test_an_indented_options_line_is_edited_as_systemd_boot_reads_it(tmp_path, capsys, indent):
    """probe 12 S2: systemd-boot skips blanks before a key, so an indented options line is part of the command line."""
    root = bt.sdboot_tree(tmp_path)
    entries = os.path.join(root, "boot/efi/loader/entries")
    for name in os.listdir(entries):
        path = os.path.join(entries, name)
        with open(path) as handle:
            text = handle.read()
        with open(path, "w") as handle:
            handle.write(text.replace("options    quiet", indent + "options    quiet"))
    args = ["crashkernel=768M,high", "crashkernel=16M,low"]
    result = run_module(capsys, dict(args=args, root=str(root), backend="kernel_install"), False)
    assert result["changed"] and not result.get("failed"), result
    for name in os.listdir(entries):
        text = bt.read(root, "/boot/efi/loader/entries/" + name)
        assert "384M" not in text and bl.bls_options(text).split()[-2:] == args, text
    assert "quiet" in result["cmdline_after"].split()
    assert not run_module(capsys, dict(args=args, root=str(root), backend="kernel_install"), False)["changed"]


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_a_crashkernel_after_the_init_separator_is_refused(tmp_path, capsys, check_mode):
    """The kernel's strstr finds crashkernel= after '--' too; the module never edits init's words."""
    root = bt.sdboot_tree(tmp_path, kernel_cmdline="root=UUID=7d1f ro quiet -- crashkernel=64M\n")
    before = bt.snapshot(root)
    result = run_module(capsys, dict(args=["crashkernel=256M"], root=str(root), backend="kernel_install"), check_mode)
    assert result.get("failed") and "would still hold 'crashkernel=64M'" in result["msg"], result
    assert bt.snapshot(root) == before


def test_a_grub_variable_that_starts_with_the_crashkernel_argument_is_no_stray(tmp_path):
    """Debian 13's guest has GRUB_CMDLINE_LINUX_DEFAULT="" : the view then reads DEFAULT="crashkernel=..."."""
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    text = bt.read(root, "/etc/default/grub").replace('GRUB_CMDLINE_LINUX_DEFAULT="quiet"', 'GRUB_CMDLINE_LINUX_DEFAULT=""')
    bt.write(root, "/etc/default/grub", text)
    result = bl.run(dict(args=["crashkernel=512M"], root=str(root), grub_mkconfig_command=bt.mkconfig_command(root)),
                    None, check_mode=True)
    assert 'GRUB_CMDLINE_LINUX_DEFAULT="crashkernel=512M"' in result["diff"]["after"], result["diff"]


@pytest.mark.parametrize("target, words", [("/../../../../outside-grub.cfg", ["outside root", "nothing was changed"]),
                                           ("missing.cfg", ["which does not exist", "Remove the link"]),
                                           ("/boot/grub/other.cfg", ["leads to /boot/grub/other.cfg", "outside root"])],
                         ids=["out-of-the-root", "dangling", "absolute-in-another-root"])
@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_a_grub_cfg_link_is_refused_before_regenerating(tmp_path, capsys, target, words, check_mode):
    root = bt.debian12_tree(tmp_path / "root", kdump_tools=True)
    grub_cfg = os.path.join(root, "boot/grub/grub.cfg")
    os.unlink(grub_cfg)
    if target.startswith("/.."):
        bt.write(str(tmp_path), "/outside-grub.cfg", "outside\n")
        target = os.path.relpath(str(tmp_path / "outside-grub.cfg"), os.path.dirname(grub_cfg))
    before = bt.snapshot(root)
    os.symlink(target, grub_cfg)
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(root),
                                     grub_mkconfig_command=bt.mkconfig_command(root)), check_mode)
    assert result.get("failed") and result["msg"].startswith("grub_config: "), result
    assert not [word for word in words if word not in result["msg"]], result["msg"]
    assert os.readlink(grub_cfg) == target and bt.calls(root) == []
    os.unlink(grub_cfg)
    assert bt.snapshot(root) == before and not os.path.exists(os.path.join(root, "boot/grub/missing.cfg"))
    assert not target.startswith("..") or bt.read(str(tmp_path), "/outside-grub.cfg") == "outside\n"


def test_a_regenerated_grub_cfg_without_a_linux_entry_fails_and_restores(tmp_path, capsys):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    before = bt.snapshot(root)
    blank = ["/bin/sh", "-c", "echo '# nothing' > \"$0/boot/grub/grub.cfg\"", str(root)]
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(root), grub_mkconfig_command=blank), False)
    assert result.get("failed") and "has no Linux entry" in result["msg"], result
    assert "the previous files were restored" in result["msg"]
    assert bt.snapshot(root) == before


def test_a_grub_config_that_is_not_an_absolute_plain_path_is_refused(tmp_path, capsys):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    before = bt.snapshot(root)
    for value in ("relative.cfg", "/boot/grub/../grub/grub.cfg"):
        result = run_module(capsys, dict(args=["crashkernel=512M"], root=str(root), grub_config=value,
                                         grub_mkconfig_command=bt.mkconfig_command(root)), False)
        assert result.get("failed") and "grub_config" in result["msg"] and "absolute plain path" in result["msg"]
    assert bt.snapshot(root) == before and bt.calls(root) == []


@pytest.mark.parametrize("options, prepare, words", [
    ({"grub_config": "/boot/grub/grub.cfg\n"}, None, ["grub_config: '/boot/grub/grub.cfg\\n'", "no spaces or line breaks"]),
    ({"grub_config": "/nonexistent/grub.cfg"}, None, ["grub_config: its directory", "/nonexistent does not exist"]),
    ({}, "grub.d-is-a-file", ["grub_dropin:", "etc/default/grub.d is not a directory"]),
], ids=["grub-config-with-a-newline", "grub-config-in-no-directory", "grub-d-is-a-file"])
@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "apply"])
def test_check_mode_refuses_what_apply_mode_would_fail_on(tmp_path, capsys, options, prepare, words, check_mode):
    """Probe 11: check mode predicted success for these, apply mode then failed (and restored)."""
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    if prepare:
        shutil.rmtree(os.path.join(root, "etc/default/grub.d"))
        bt.write(root, "/etc/default/grub.d", "x\n")
    before = bt.snapshot(root)
    result = run_module(capsys, dict(dict(args=["crashkernel=512M"], root=str(root),
                                          grub_mkconfig_command=bt.mkconfig_command(root)), **options), check_mode)
    assert result.get("failed"), result
    assert not [word for word in words if word not in result["msg"]], result["msg"]
    assert bt.snapshot(root) == before and bt.calls(root) == []


def test_grub_cfg_is_restored_when_the_configured_file_is_not_the_one_regenerated(tmp_path, capsys):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    before = bt.snapshot(root)
    result = run_module(capsys, dict(args=["crashkernel=768M,high", "crashkernel=16M,low"], root=str(root),
                                     grub_config="/boot/grub/custom.cfg",
                                     grub_mkconfig_command=bt.mkconfig_command(root)), False)
    assert result.get("failed") and "the previous files were restored" in result["msg"], result
    assert bt.snapshot(root) == before


def test_an_etc_kernel_cmdline_the_kernel_would_cut_is_refused(tmp_path, capsys):
    root = bt.sdboot_tree(tmp_path)
    bt.write(root, "/etc/kernel/cmdline", "root=UUID=7d1f ro " + "a" * 2000 + "\n")
    before = bt.snapshot(root)
    result = run_module(capsys, dict(args=["crashkernel=768M,high", "crashkernel=16M,low"], root=str(root),
                                     backend="kernel_install"), False)
    assert result.get("failed") and "keeps the first 2047" in result["msg"], result
    assert bt.snapshot(root) == before
