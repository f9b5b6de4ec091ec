# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel_cmdline module end to end: AnsibleModule argument handling, check mode, diff, failures."""

import json
import os
import sys

import pytest

from ansible.module_utils.testing import patch_module_args

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fakes"))

import boottrees as bt  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.fleetops.kdump.plugins.modules import kernel_cmdline  # noqa: E402

HIGH_LOW = ["crashkernel=768M,high", "crashkernel=16M,low"]


def run_module(capsys, args, check_mode=False, diff=False):
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            kernel_cmdline.main()
    return json.loads(capsys.readouterr().out)


def grub_args(root, **extra):
    args = dict(args=list(HIGH_LOW), root=str(root), grub_mkconfig_command=bt.mkconfig_command(root))
    args.update(extra)
    return args


def test_check_mode_with_diff_changes_nothing(tmp_path, capsys):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    before = bt.snapshot(root)
    result = run_module(capsys, grub_args(root), check_mode=True, diff=True)
    assert bt.snapshot(root) == before and bt.calls(root) == []
    assert result["changed"] is True and result["reboot_required"] is True
    assert result["backend"] == "grub"
    assert result["diff"]["before"].endswith('GRUB_CMDLINE_LINUX_DEFAULT="quiet crashkernel=384M-:128M"\n')
    assert result["diff"]["after"].endswith('"quiet crashkernel=768M,high crashkernel=16M,low"\n')
    assert result["diff"]["before_header"] and result["diff"]["after_header"]
    assert result["cmdline_after"] == "quiet crashkernel=768M,high crashkernel=16M,low"


def test_apply_then_idempotent(tmp_path, capsys):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    first = run_module(capsys, grub_args(root))
    assert first["changed"] and "diff" not in first
    assert first["files_changed"] == [os.path.join(root, "etc/default/grub.d/zz-fleetops-kdump.cfg")]
    second = run_module(capsys, grub_args(root))
    assert second["changed"] is False and second["commands"] == []
    assert second["running_cmdline"] == bt.RUNNING_DEBIAN.strip()


def test_string_args_fail_before_touching_the_host(tmp_path, capsys):
    root = bt.debian12_tree(tmp_path)
    before = bt.snapshot(root)
    result = run_module(capsys, grub_args(root, args="crashkernel=768M,high"))
    assert result["failed"] and result["msg"].startswith("args: must be a list")
    assert bt.snapshot(root) == before and bt.calls(root) == []


@pytest.mark.parametrize("args,extra,start", [
    (["crashkernel=512M", "crashkernel=1G"], {}, "args:"),
    (["crashkernel=512M"], {"remove_args": ["crashkernel"]}, "args and remove_args"),
    (["quiet splash"], {}, "args:"),
])
def test_conflicting_input_fails_with_the_option_named(tmp_path, capsys, args, extra, start):
    root = bt.debian12_tree(tmp_path)
    before = bt.snapshot(root)
    result = run_module(capsys, grub_args(root, args=args, **extra))
    assert result["failed"] and result["msg"].startswith(start)
    assert bt.snapshot(root) == before


def test_regeneration_failure_reports_command_output(tmp_path, capsys):
    root = bt.debian12_tree(tmp_path)
    bt.write(root, "/FAIL_MKCONFIG", "")
    before = bt.snapshot(root)
    result = run_module(capsys, grub_args(root))
    assert result["failed"] and result["rc"] == 1
    assert "fake failure" in result["stderr"] and "Found linux image" in result["stdout"]
    assert result["cmd"] == bt.mkconfig_command(root)
    assert "restored" in result["msg"]
    assert bt.snapshot(root) == before


def test_missing_regeneration_command_restores(tmp_path, capsys):
    root = bt.debian12_tree(tmp_path, kdump_tools=True)
    before = bt.snapshot(root)
    result = run_module(capsys, grub_args(root, grub_mkconfig_command=[str(tmp_path / "no-such-update-grub")]))
    assert result["failed"] and "could not be started" in result["msg"] and "restored" in result["msg"]
    assert result["cmd"] == [str(tmp_path / "no-such-update-grub")]
    assert bt.snapshot(root) == before


def test_grubby_backend_through_the_module(tmp_path, capsys):
    root = bt.rhel9_tree(tmp_path)
    result = run_module(capsys, dict(args=HIGH_LOW, root=root, grubby_command=bt.grubby_command(root)), diff=True)
    assert result["backend"] == "grubby" and result["changed"]
    assert result["diff"]["after"].count("crashkernel=768M,high crashkernel=16M,low") == 2
    assert run_module(capsys, dict(args=HIGH_LOW, root=root, grubby_command=bt.grubby_command(root)))["changed"] \
        is False


def test_warnings_are_ansible_warnings(tmp_path, capsys, monkeypatch):
    # spy on AnsibleModule.warn: once controller code is imported in the test process, ansible-core
    # 2.19 sends warnings to the controller display instead of the module result
    seen = []
    monkeypatch.setattr(kernel_cmdline.AnsibleModule, "warn", lambda self, warning, *args, **kw: seen.append(warning))
    root = bt.sdboot_tree(tmp_path, entries=0)
    result = run_module(capsys, dict(args=["crashkernel=512M"], root=root))
    assert result["backend"] == "kernel_install" and not result.get("warnings")
    assert len(seen) == 1 and "no boot loader entries" in seen[0]
