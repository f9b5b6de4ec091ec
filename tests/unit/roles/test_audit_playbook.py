"""playbooks/audit.yml on captured host trees: statuses, totals and the two report files.

The hosts are fixture trees read on the controller (ansible_connection=local, kdump_facts_root=<tree>),
plus one host with an unusable variable (failed) and one nobody answers for (unreachable).
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIXTURES = os.path.join(REPO, "tests", "fixtures", "hosts")
MIB = 1024 * 1024


def local(fixture, **extra):
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "kdump_facts_root": os.path.join(FIXTURES, fixture), "ansible_become": False}
    host.update(extra)
    return host


HOSTS = {
    "altra-max-done": local("ampere-altra-max", kdump_crashkernel="768M,high 16M,low"),
    "fresh-debian": local("debian12-amd64-qemu"),
    "too-big": local("debian12-amd64-qemu", kdump_crashkernel="12G"),
    "bad-target": local("debian12-amd64-qemu", kdump_target={"type": "nfs", "location": "no-export-path"}),
    "gone": {"ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_user": "nobody",
             "ansible_ssh_common_args": "-o ConnectTimeout=3 -o BatchMode=yes"},
}


def run_audit(work, hosts):
    (work / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "collections"),
               ANSIBLE_NOCOLOR="1", PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                          str(work / "hosts.yml"), os.path.join(REPO, "playbooks", "audit.yml"),
                          "-e", "audit_report_dir=reports"], env=env, cwd=str(work), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    reports = work / "reports"
    assert (reports / "kdump-audit.json").exists(), run.stdout[-6000:]
    return {"rc": run.returncode, "output": run.stdout, "json": json.loads((reports / "kdump-audit.json").read_text()),
            "markdown": (reports / "kdump-audit.md").read_text()}


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    return run_audit(tmp_path_factory.mktemp("audit"), HOSTS)


def test_debian13_arm64_is_ready_with_the_makedumpfile_gap_left_to_the_rollout(tmp_path):
    result = run_audit(tmp_path, {"trixie-altra": local("debian13-arm64-qemu-altra")})
    (row,) = result["json"]["hosts"]
    assert (row["status"], row["soc"]) == ("ready", "altra"), result["output"][-3000:]
    assert "makedumpfile-cannot-read-kernel" in row["fixed_by_rollout"]
    assert row["planned_mib"] == 144.0 and row["reserved_mib"] == 0.0


def test_every_host_gets_a_status(audit):
    statuses = {row["host"]: row["status"] for row in audit["json"]["hosts"]}
    assert statuses == {"altra-max-done": "done", "fresh-debian": "ready", "too-big": "blocked",
                        "bad-target": "failed", "gone": "unreachable"}
    # only the unreachable host makes ansible-playbook exit non-zero; the audit itself succeeded
    assert audit["rc"] == 4, audit["output"][-3000:]


def test_totals(audit):
    rows = {row["host"]: row for row in audit["json"]["hosts"]}
    totals = audit["json"]["totals"]
    assert totals["hosts"] == 5 and totals["ready"] == 2 and totals["up_to_date"] == 1
    assert totals["blocked"] == 1 and totals["unreachable"] == 2
    # Altra Max reserves 768M + 16M now and the plan keeps it; the fresh guest plans 256M; too-big plans nothing
    assert rows["altra-max-done"]["reserved_mib"] == 784.0 and rows["altra-max-done"]["planned_mib"] == 784.0
    assert rows["fresh-debian"]["planned_mib"] == 256.0 and rows["fresh-debian"]["reserved_mib"] == 0.0
    assert totals["reserved_mib"] == 784.0
    assert totals["planned_mib"] == 784.0 + 256.0


def test_rows_explain_themselves(audit):
    rows = {row["host"]: row for row in audit["json"]["hosts"]}
    assert [f["id"] for f in rows["too-big"]["blocking"]] == ["crashkernel-size-exceeds-ram"]
    assert sorted(rows["fresh-debian"]["fixed_by_rollout"]) == [
        "kdump-package-missing", "kexec-tools-missing", "makedumpfile-missing", "no-crashkernel-reserved"]
    assert rows["fresh-debian"]["warnings"] == []
    assert "kdump_target" in rows["bad-target"]["error"]
    assert rows["altra-max-done"]["soc"] == "altra_max"


def test_markdown_and_screen(audit):
    markdown = audit["markdown"]
    assert "| 5 | 2 | 1 | 1 | 2 | 784.0 | 1040.0 |" in markdown
    assert "**blocking** `crashkernel-size-exceeds-ram`" in markdown
    assert "| fresh-debian | ready | x86_64 |" in markdown
    assert "hosts 5: ready 2 (already done 1), blocked 1, unreachable/failed 2" in audit["output"]


def tree_with_capture_files(tmp_path, name, initrd_mib):
    """debian13-amd64-qemu plus the Debian 13 kernel image's header and a kdump initrd of initrd_mib MiB."""
    import shutil
    root = tmp_path / name
    shutil.copytree(os.path.join(FIXTURES, "debian13-amd64-qemu"), str(root), symlinks=True)
    release = (root / "proc" / "sys" / "kernel" / "osrelease").read_text().strip()
    head = os.path.join(REPO, "tests", "fixtures", "kernel-images", "vmlinuz-6.12.117+deb13-amd64.head")
    shutil.copyfile(head, str(root / "boot" / ("vmlinuz-" + release)))
    (root / "var" / "lib" / "kdump").mkdir(parents=True, exist_ok=True)
    with open(str(root / "var" / "lib" / "kdump" / ("initrd.img-" + release)), "wb") as handle:
        handle.truncate(initrd_mib * MIB)
    return str(root)


def test_the_report_shows_table_estimate_planned_and_reserved(tmp_path):
    hosts = {
        "small-initrd": dict(local("debian13-amd64-qemu", kdump_crashkernel="estimate"),
                             kdump_facts_root=tree_with_capture_files(tmp_path, "small", 40)),
        "large-initrd": dict(local("debian13-amd64-qemu", kdump_crashkernel="estimate"),
                             kdump_facts_root=tree_with_capture_files(tmp_path, "large", 100)),
        "no-initrd": local("debian13-amd64-qemu", kdump_crashkernel="estimate"),
    }
    result = run_audit(tmp_path, hosts)
    rows = {row["host"]: row for row in result["json"]["hosts"]}
    # 55.9 MiB image + 8.4 MiB modules + 3 x initrd + 16 MiB, up to a MiB
    assert (rows["small-initrd"]["table_mib"], rows["small-initrd"]["estimate_mib"],
            rows["small-initrd"]["planned_mib"]) == (256.0, 201.0, 256.0), result["output"][-3000:]
    assert (rows["large-initrd"]["estimate_mib"], rows["large-initrd"]["planned_mib"]) == (381.0, 381.0)
    assert rows["large-initrd"]["plan_args"] == ["crashkernel=381M"]
    assert (rows["no-initrd"]["estimate_mib"], rows["no-initrd"]["planned_mib"]) == (None, 256.0)
    assert "crashkernel-estimate-unavailable" in [item["id"] for item in rows["no-initrd"]["warnings"]]
    assert "| large-initrd | ready | x86_64 | - | debian 13 | 6.12.118+deb13-amd64 | 3066 | 256.0 | 381.0 | 381.0 | 0.0 |" \
        in result["markdown"]
    assert "| no-initrd | ready | x86_64 | - | debian 13 | 6.12.118+deb13-amd64 | 3066 | 256.0 | - | 256.0 | 0.0 |" \
        in result["markdown"]
