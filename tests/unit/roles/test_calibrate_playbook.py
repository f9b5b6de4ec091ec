"""playbooks/calibrate.yml refuses before it touches a host: without crash_test_confirm (the crash_test guard),
and with kdump_crashkernel given as an extra variable (it would override every try's size). The host is this
machine through the local connection; both refusals come before any task that reads or changes it."""
import os
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def run_calibrate(tmp_path, *extra):
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ansible_become": False}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"kdump_calibrate": {
        "hosts": {"calib-1": host}}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"), ANSIBLE_NOCOLOR="1",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                           str(tmp_path / "hosts.yml"), os.path.join(REPO, "playbooks", "calibrate.yml"),
                           "-e", "calibrate_report_dir=%s" % (tmp_path / "reports")] + list(extra),
                          env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def test_without_crash_test_confirm_nothing_is_tried(tmp_path):
    run = run_calibrate(tmp_path)
    assert run.returncode == 2, run.stdout[-3000:]
    assert "crash_test_confirm is not true" in run.stdout
    assert "Try one size after another" not in run.stdout and not (tmp_path / "reports").exists()


def test_kdump_crashkernel_as_an_extra_variable_is_refused(tmp_path):
    run = run_calibrate(tmp_path, "-e", "crash_test_confirm=true", "-e", "kdump_crashkernel=256M")
    assert run.returncode == 2, run.stdout[-3000:]
    assert "extra variables override the size calibrate sets for each try" in run.stdout
    assert "Refuse unless the host may be crashed" not in run.stdout
