"""vmcore_info module: arguments, results, errors, check mode, and documentation that matches the code."""
import importlib.util
import json
import os

import pytest
import yaml

from ansible.module_utils import basic

from ansible_collections.fleetops.kdump.plugins.modules import vmcore_info

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_spec = importlib.util.spec_from_file_location(
    "make_vmcores", os.path.join(REPO, "tests", "fixtures", "vmcores", "make_vmcores.py"))
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

STAMP = "202411251705"


def run_module(capsys, **args):
    """Run main() with module args; return (exit code, parsed JSON result)."""
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core < 2.19
        patch_module_args = None
    if patch_module_args is not None:
        context = patch_module_args(args)
    else:
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        context = open(os.devnull)
    with context:
        with pytest.raises(SystemExit) as exited:
            vmcore_info.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def host_tree(tmp_path, mtime=2000.0):
    crash = tmp_path / "var" / "crash"
    (crash / STAMP).mkdir(parents=True)
    dump = crash / STAMP / ("dump." + STAMP)
    dump.write_bytes(build.build_kdump_compressed())
    os.utime(str(dump), (mtime, mtime))
    (crash / STAMP / ("dmesg." + STAMP)).write_text(build.DMESG_WITH_SYSRQ)
    old = crash / "202401010000" / "dump.202401010000"
    old.parent.mkdir()
    old.write_bytes(build.build_kdump_compressed()[:5000])
    os.utime(str(old), (1000.0, 1000.0))
    return str(tmp_path)


def test_lists_dumps_oldest_first_with_latest(tmp_path, capsys):
    code, result = run_module(capsys, root=host_tree(tmp_path))
    assert code == 0 and result["changed"] is False
    assert result["path"] == "/var/crash" and result["path_exists"] is True and result["newer_than"] is None
    assert [d["name"] for d in result["dumps"]] == ["dump.202401010000", "dump." + STAMP]
    assert [d["complete"] for d in result["dumps"]] == [False, True]
    latest = result["latest"]
    assert latest["path"] == "/var/crash/%s/dump.%s" % (STAMP, STAMP)
    assert latest["format"] == "kdump_compressed" and latest["dmesg_has_sysrq"] is True
    assert latest["header"]["block_size"] == 4096


def test_newer_than_marker_file(tmp_path, capsys):
    root = host_tree(tmp_path)
    marker = tmp_path / "var" / "tmp" / "crash.marker"
    marker.parent.mkdir(parents=True)
    marker.write_text("")
    os.utime(str(marker), (1500.0, 1500.0))
    code, result = run_module(capsys, root=root, newer_than="/var/tmp/crash.marker")
    assert code == 0 and result["newer_than"] == 1500.0
    assert [d["name"] for d in result["dumps"]] == ["dump." + STAMP]


def test_newer_than_number_excludes_everything_older(tmp_path, capsys):
    code, result = run_module(capsys, root=host_tree(tmp_path), newer_than=2000.0)
    assert code == 0 and result["dumps"] == [] and result["latest"] is None


def test_check_mode_gives_the_same_answer(tmp_path, capsys):
    root = host_tree(tmp_path)
    _code, normal = run_module(capsys, root=root)
    _code, checked = run_module(capsys, root=root, _ansible_check_mode=True)
    assert checked["dumps"] == normal["dumps"] and checked["changed"] is False


def test_missing_directory_is_not_an_error(tmp_path, capsys):
    code, result = run_module(capsys, root=str(tmp_path), path="/srv/kdump")
    assert code == 0 and result["path_exists"] is False and result["dumps"] == []


@pytest.mark.parametrize("args, message", [
    ({"newer_than": "/var/tmp/gone.marker"}, "newer_than: marker file /var/tmp/gone.marker does not exist"),
    ({"newer_than": "last tuesday"}, "newer_than: 'last tuesday' is neither epoch seconds"),
    ({"path": "crash"}, "path: 'crash' must be an absolute path"),
])
def test_bad_input_fails_with_a_message_naming_the_option(tmp_path, capsys, args, message):
    code, result = run_module(capsys, root=host_tree(tmp_path), **args)
    assert code == 1 and result["failed"] is True
    assert result["msg"].startswith(message)
    assert "Traceback" not in json.dumps(result)


# --- documentation ------------------------------------------------------------------------------------------


def docs(name):
    return yaml.safe_load(getattr(vmcore_info, name))


def test_documented_options_match_the_argument_spec(monkeypatch):
    captured = {}

    class Capture(Exception):
        pass

    def fake_module(argument_spec, supports_check_mode):
        captured.update(spec=argument_spec, check_mode=supports_check_mode)
        raise Capture()

    monkeypatch.setattr(vmcore_info, "AnsibleModule", fake_module)
    with pytest.raises(Capture):
        vmcore_info.main()
    options = docs("DOCUMENTATION")["options"]
    assert sorted(options) == sorted(captured["spec"])
    for name, spec in captured["spec"].items():
        assert options[name]["type"] == spec["type"]
        assert options[name].get("default") == spec.get("default")
    assert captured["check_mode"] is True
    assert docs("DOCUMENTATION")["attributes"]["check_mode"]["support"] == "full"


def test_every_returned_key_is_documented(tmp_path, capsys):
    _code, result = run_module(capsys, root=host_tree(tmp_path))
    documented = docs("RETURN")
    assert set(result) - {"changed", "invocation"} == set(documented)
    dump_keys = set(documented["dumps"]["contains"])
    for dump in result["dumps"]:
        assert set(dump) == dump_keys


def test_examples_use_the_fully_qualified_name():
    examples = docs("EXAMPLES")
    modules = [next(key for key in task if key not in ("name", "register", "when")) for task in examples]
    assert "fleetops.kdump.vmcore_info" in modules
    assert all(module.count(".") == 2 for module in modules)
