"""The role entry points given bad variables, table-driven, in one ansible-playbook run (check mode,
connection local). kdump's assess entry point reads the captured Debian 13 amd64 tree; kdump main and
crash_test main only get inputs their argument specs or first checks refuse, so nothing runs past them.
Each case names the words of the failure message, or the finding id the assessment must carry."""
import json
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import local_host, run_playbook  # noqa: E402  pylint: disable=wrong-import-position

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TREE = os.path.join(REPO, "tests", "fixtures", "hosts", "debian13-amd64-qemu")
ARM64_TREE = os.path.join(REPO, "tests", "fixtures", "hosts", "debian13-arm64-qemu-altra")
NO_IOMEM = "<TREE without proc/iomem>"  # made by the outcomes fixture

# (case, entry point, variables, ("failed", words) or ("finding"/"blocking", id, words in its message))
CASES = [
    ("low-bare-number", "assess", {"kdump_crashkernel_low": 16}, ("finding", "crashkernel-policy-invalid", ["16M"])),
    ("low-bare-string", "assess", {"kdump_crashkernel_low": "16"}, ("finding", "crashkernel-policy-invalid", ["16M"])),
    ("policy-bare-number", "assess", {"kdump_crashkernel": "512"},
     ("finding", "crashkernel-policy-invalid", ["crashkernel=512M"])),
    ("policy-int", "assess", {"kdump_crashkernel": 512}, ("finding", "crashkernel-policy-invalid", ["did you mean '512M'?"])),
    ("policy-huge", "assess", {"kdump_crashkernel": "4T"}, ("finding", "crashkernel-policy-invalid", ["4 TiB"])),
    ("table-bare-min", "assess", {"kdump_crashkernel": [{"min": 2, "size": "256M"}]},
     ("finding", "crashkernel-policy-invalid", ["'2G'"])),
    ("ranges-overlap", "assess", {"kdump_crashkernel": "0-4G:128M,2G-:256M"},
     ("finding", "crashkernel-ranges-overlap", ["0-4G:128M wins"])),
    ("policy-1M", "assess", {"kdump_crashkernel": "1M"}, ("blocking", "crashkernel-too-small", ["1 MiB"])),
    ("low-1M-on-x86", "assess", {"kdump_crashkernel": "768M,high", "kdump_crashkernel_low": "1M"},
     ("finding", "crashkernel-low-too-small", ["swiotlb"])),
    ("low-1M-on-arm64", "assess", {"kdump_facts_root": ARM64_TREE, "kdump_crashkernel_low": "1M"},
     ("finding", "crashkernel-low-too-small", ["16 MiB"])),
    ("policy-altra-on-x86", "assess", {"kdump_crashkernel": "Altra"},
     ("blocking", "crashkernel-policy-mismatch", ["this host is x86_64"])),
    ("target-unknown-type", "assess", {"kdump_target": {"type": "ftp"}}, ("failed", ["type", "ftp", "local, ssh, nfs"])),
    ("target-unknown-key", "assess", {"kdump_target": {"type": "local", "host": "x"}}, ("failed", ["host"])),
    ("target-ssh-no-location", "assess", {"kdump_target": {"type": "ssh"}}, ("failed", ["kdump_target", "user@host"])),
    ("target-nfs-bad-location", "assess", {"kdump_target": {"type": "nfs", "location": "server"}},
     ("failed", ["server:/export"])),
    ("target-relative-path", "assess", {"kdump_target": {"type": "local", "path": "crash"}},
     ("failed", ["kdump_target.path 'crash' is relative"])),
    ("dump-level-99", "assess", {"kdump_dump_level": 99}, ("failed", ["kdump_dump_level", "0 (keep every page) to 31"])),
    ("dump-level-text", "assess", {"kdump_dump_level": "high"}, ("failed", ["kdump_dump_level", "int"])),
    ("path-relative", "assess", {"kdump_path": "var/crash"}, ("failed", ["kdump_path 'var/crash' is relative"])),
    ("path-with-space", "assess", {"kdump_path": "/var/my crash"}, ("failed", ["kdump_path '/var/my crash' holds a space"])),
    ("compression-gzip", "assess", {"kdump_compression": "gzip"}, ("failed", ["kdump_compression", "lzo"])),
    ("failure-action-explode", "assess", {"kdump_failure_action": "explode"}, ("failed", ["kdump_failure_action"])),
    ("capture-append-space", "assess", {"kdump_capture_cmdline_append": ["a b"]},
     ("failed", ["single kernel arguments"])),
    ("capture-append-crashkernel", "assess", {"kdump_capture_cmdline_append": ["crashkernel=1G"]},
     ("failed", ["crashkernel= does not belong"])),
    ("reboot-timeout-negative", "assess", {"kdump_reboot_timeout": -1}, ("failed", ["must be positive"])),
    ("load-timeout-text", "assess", {"kdump_load_timeout": "soon"}, ("failed", ["kdump_load_timeout", "int"])),
    ("enabled-maybe", "assess", {"kdump_enabled": "maybe"}, ("failed", ["kdump_enabled", "bool"])),
    ("accept-mapping", "assess", {"kdump_accept_findings": {"a": 1}}, ("failed", ["kdump_accept_findings", "list"])),
    ("facts-root-missing", "assess", {"kdump_facts_root": "/nonexistent/tree"}, ("failed", ["is not a directory"])),
    ("facts-root-empty", "assess", {"kdump_facts_root": ""}, ("failed", ["kdump_facts_root must be / (the live host)"])),
    ("facts-root-relative", "assess", {"kdump_facts_root": "trees/x"}, ("failed", ["absolute path of a captured tree"])),
    ("main-on-captured-tree", "main", {"kdump_facts_root": TREE}, ("failed", ["can only be assessed"])),
    ("main-reboot-ok-text", "main", {"kdump_reboot_ok": "perhaps"}, ("failed", ["kdump_reboot_ok", "bool"])),
    ("main-target-type", "main", {"kdump_target": {"type": "ftp"}}, ("failed", ["ftp"])),
    ("crash-confirm-text", "crash_test", {"crash_test_confirm": "yes please"}, ("failed", ["crash_test_confirm", "bool"])),
    ("crash-timeout-text", "crash_test", {"crash_test_timeout": "soon"}, ("failed", ["crash_test_timeout", "int"])),
    ("crash-confirm-typo", "crash_test", {"crash_test_confirn": True}, ("failed", ["Refusing to crash"])),
    # the crash test's own inputs are refused before anything is read from the host (check mode too)
    ("crash-formats-empty", "crash_test", {"crash_test_confirm": True, "crash_test_formats": []},
     ("failed", ["crash_test_formats is []", "no dump could pass"])),
    ("crash-marker-relative", "crash_test", {"crash_test_confirm": True, "crash_test_marker_dir": "var/tmp"},
     ("failed", ["crash_test_marker_dir 'var/tmp' is relative"])),
    ("crash-marker-tmp", "crash_test", {"crash_test_confirm": True, "crash_test_marker_dir": "/tmp"},
     ("failed", ["is under /tmp", "does not survive the reboot"])),
    ("crash-marker-dev-shm", "crash_test", {"crash_test_confirm": True, "crash_test_marker_dir": "/dev/shm/x"},
     ("failed", ["is under /dev"])),
    ("crash-marker-dotdot", "crash_test", {"crash_test_confirm": True, "crash_test_marker_dir": "/var/tmp/../tmp"},
     ("failed", ["is not a plain path", "write /var/tmp"])),
    ("crash-marker-newline", "crash_test", {"crash_test_confirm": True, "crash_test_marker_dir": "/var/tmp\nx"},
     ("failed", ["holds a control character"])),
    ("crash-marker-dotdot-to-tmp", "crash_test", {"crash_test_confirm": True,
                                                  "crash_test_marker_dir": "/var/tmp/../../tmp"},
     ("failed", ["is under /tmp", "use /var/tmp"])),
    ("crash-path-relative", "crash_test", {"crash_test_confirm": True, "crash_test_path": "var/crash"},
     ("failed", ["crash_test_path 'var/crash' is relative", "absolute directory"])),
    # the marker's path goes through a shell on the host; crash_test_path is checked as kdump_path is
    ("crash-marker-command-substitution", "crash_test", {"crash_test_confirm": True,
                                                         "crash_test_marker_dir": "/var/tmp/$(id)"},
     ("failed", ["crash_test_marker_dir '/var/tmp/$(id)' holds '$'", "plain path"])),
    ("crash-marker-with-a-space", "crash_test", {"crash_test_confirm": True, "crash_test_marker_dir": "/var/tmp/a b"},
     ("failed", ["holds a space"])),
    ("crash-path-root", "crash_test", {"crash_test_confirm": True, "crash_test_path": "/"},
     ("failed", ["crash_test_path '/' is the root directory"])),
    ("crash-path-tmp", "crash_test", {"crash_test_confirm": True, "crash_test_path": "/tmp"},
     ("failed", ["crash_test_path '/tmp' is under /tmp", "use /var/crash"])),
    ("crash-path-semicolon", "crash_test", {"crash_test_confirm": True, "crash_test_path": "/var/crash;rm"},
     ("failed", ["crash_test_path '/var/crash;rm' holds ';'"])),
    ("crash-marker-missing", "crash_test", {"crash_test_confirm": True,
                                            "crash_test_marker_dir": "/var/tmp/fleetops-no-such-dir"},
     ("failed", ["fleetops-no-such-dir is not a directory", "it does not exist"])),
    # the argument spec converts a copy ('irqpoll' into ['irqpoll'], 5 into '5'); the role reads the value as given
    ("capture-append-string", "assess", {"kdump_capture_cmdline_append": "irqpoll"},
     ("failed", ["kdump_capture_cmdline_append is 'irqpoll', not a list", "YAML list"])),
    ("capture-remove-int-item", "assess", {"kdump_capture_cmdline_remove": [5]},
     ("failed", ["kdump_capture_cmdline_remove item 1 is 5, not a str"])),
    ("target-key-value-string", "assess", {"kdump_target": "type=local"},
     ("failed", ["kdump_target is 'type=local', not a mapping"])),
    ("main-target-key-value-string", "main", {"kdump_target": "type=local"},
     ("failed", ["kdump_target is 'type=local', not a mapping"])),
    ("accept-findings-string", "assess", {"kdump_accept_findings": "kexec-no-text-symbol"},
     ("failed", ["kdump_accept_findings is 'kexec-no-text-symbol', not a list"])),
    ("accept-findings-not-an-id", "assess", {"kdump_accept_findings": ["Kexec_No_Text"]},
     ("failed", ["kdump_accept_findings item 1 is 'Kexec_No_Text', not a finding id"])),
    ("path-with-semicolon", "assess", {"kdump_path": "/var/crash;reboot"}, ("failed", ["holds ';'", "/var/crash"])),
    ("path-with-pipe", "assess", {"kdump_path": "/var/crash|x"}, ("failed", ["kdump_path '/var/crash|x' holds '|'"])),
    # the dump must land where it survives the reboot after the capture, in a directory of its own
    ("path-proc", "assess", {"kdump_path": "/proc"}, ("failed", ["kdump_path '/proc' is under /proc", "/var/crash"])),
    ("path-tmp", "assess", {"kdump_path": "/tmp/crash"}, ("failed", ["is under /tmp", "the dump would be lost"])),
    ("path-root", "assess", {"kdump_path": "/"}, ("failed", ["kdump_path '/' is the root directory"])),
    ("path-dotdot", "assess", {"kdump_path": "/var/crash/../../etc"},
     ("failed", ["is not a plain path (it reads as /etc)"])),
    ("target-path-run", "assess", {"kdump_target": {"type": "local", "path": "/run/crash"}},
     ("failed", ["kdump_target.path '/run/crash' is under /run"])),
    ("target-path-with-ampersand", "assess", {"kdump_target": {"type": "local", "path": "/var/crash&"}},
     ("failed", ["kdump_target.path '/var/crash&' holds '&'"])),
    ("target-ssh-key-relative", "assess", {"kdump_target": {"type": "ssh", "location": "kdump@dumps",
                                                            "ssh_key": ".ssh/id"}},
     ("failed", ["kdump_target.ssh_key '.ssh/id' is relative", "/root/.ssh/kdump_id_rsa"])),
    ("target-ssh-key-with-backtick", "assess", {"kdump_target": {"type": "ssh", "location": "kdump@dumps",
                                                                 "ssh_key": "/root/`id`"}},
     ("failed", ["kdump_target.ssh_key '/root/`id`' holds '`'"])),
    ("target-ssh-path-with-dollar", "assess", {"kdump_target": {"type": "ssh", "location": "kdump@dumps",
                                                                "path": "/var/$HOME"}},
     ("failed", ["kdump_target.path '/var/$HOME' holds '$'"])),
    # accepting a finding that leaves nothing to plan would call the host ready with no reservation
    ("accept-facts-incomplete", "assess", {"kdump_facts_root": NO_IOMEM,
                                           "kdump_accept_findings": ["crashkernel-facts-incomplete"]},
     ("blocking", "crashkernel-facts-incomplete", ["memory.total_bytes is None"])),
]

PLAYBOOK = """
- hosts: all
  gather_facts: false
  check_mode: true
  tasks:
    - block:
        # one include per entry point: ansible-core merges templated includes of the same role across hosts
        - ansible.builtin.include_role:
            name: fleetops.kdump.kdump
            tasks_from: assess
          when: entry == 'assess'
        - ansible.builtin.include_role:
            name: fleetops.kdump.kdump
          when: entry == 'main'
        - ansible.builtin.include_role:
            name: fleetops.kdump.crash_test
          when: entry == 'crash_test'
        - ansible.builtin.copy:
            content: "{{ {'assessment': kdump_assessment | default(none)} | to_json }}"
            dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
            mode: "0644"
          check_mode: false
      rescue:
        - ansible.builtin.copy:
            content: "{{ {'failed': ansible_failed_result.msg | default('') | string} | to_json }}"
            dest: "{{ out_dir }}/{{ inventory_hostname }}.json"
            mode: "0644"
          check_mode: false
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    work = tmp_path_factory.mktemp("roles")
    no_iomem = str(work / "no-iomem")
    shutil.copytree(TREE, no_iomem, symlinks=True)
    os.unlink(os.path.join(no_iomem, "proc", "iomem"))
    hosts = {}
    for name, entry, variables, _expected in CASES:
        host = {"entry": entry, "out_dir": str(work), "kdump_facts_root": TREE if entry == "assess" else "/"}
        host.update(variables)
        if host["kdump_facts_root"] == NO_IOMEM:
            host["kdump_facts_root"] = no_iomem
        hosts[name] = local_host(**host)
    run = run_playbook(work, hosts, PLAYBOOK)
    found = {}
    for name, _entry, _variables, _expected in CASES:
        path = work / (name + ".json")
        assert path.exists(), "no outcome for %s:\n%s" % (name, run.stdout[-4000:])
        found[name] = json.loads(path.read_text())
    found["output"] = " ".join(run.stdout.split())
    return found


@pytest.mark.parametrize("name, entry, variables, expected", CASES, ids=[case[0] for case in CASES])
def test_role_entry_point_input(outcomes, name, entry, variables, expected):
    outcome = outcomes[name]
    if expected[0] == "failed":
        assert "failed" in outcome, outcome
        missing = [word for word in expected[1] if word not in outcome["failed"]]
        assert not missing, (outcome["failed"], missing)
    else:
        assert "failed" not in outcome, outcome
        assessment = outcome["assessment"]
        every = ("blocking", "deferred", "accepted", "warnings", "handled")
        keys = ("blocking",) if expected[0] == "blocking" else every
        findings = [item for key in keys for item in assessment[key]]
        hits = [item for item in findings if item["id"] == expected[1]]
        assert hits, [item["id"] for item in findings]
        assert all(word in hits[0]["message"] for word in expected[2]), hits[0]["message"]


def test_accepting_a_finding_that_cannot_be_accepted_is_warned_about(outcomes):
    assert "kdump_accept_findings lists crashkernel-facts-incomplete, which cannot be accepted" in outcomes["output"]


def test_misspelt_crash_test_variable_names_the_one_meant(outcomes):
    assert "crash_test_confirn is not a variable of the fleetops.kdump roles and is ignored; did you mean " \
           "crash_test_confirm?" in outcomes["output"]
