"""Every role entry point's meta/argument_specs.yml declares every public variable that entry point reads,
so ansible-core validates it (a kdump_target of an unknown type must not pass the audit unchecked)."""
import os
import re

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = os.path.join(REPO, "roles")
INCLUDE_RE = re.compile(r"(?:include_tasks|import_tasks):\s*(?:file:\s*)?([\w./-]+\.yml)")
OUTPUTS = {"kdump": {"kdump_assessment", "kdump_reboot_required"}, "crash_test": {"crash_test_result"}}
PREFIX = {"kdump": "kdump_", "crash_test": "crash_test_"}


def reachable_task_files(role, entry):
    """The entry point's task file and every task file it includes or imports, recursively."""
    pending, seen = ["%s.yml" % entry], []
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.append(name)
        with open(os.path.join(ROLES, role, "tasks", name)) as handle:
            pending.extend(INCLUDE_RE.findall(handle.read()))
    return seen


def variables_read(role, entry):
    """Public role variables named in the entry point's tasks, the role's vars files and, for the entry
    points that write configuration, its templates."""
    paths = [os.path.join(ROLES, role, "tasks", name) for name in reachable_task_files(role, entry)]
    for sub in ("vars", "templates"):
        directory = os.path.join(ROLES, role, sub)
        if os.path.isdir(directory) and (sub == "vars" or entry == "main"):
            paths += [os.path.join(directory, name) for name in sorted(os.listdir(directory))]
    pattern = re.compile(r"(?<![\w./-])%s[a-z0-9_]+" % PREFIX[role])
    names = set()
    for path in paths:
        with open(path) as handle:
            text = "".join(line for line in handle if not line.lstrip().startswith("tags:"))
        names.update(pattern.findall(text))
    return names - OUTPUTS[role]


def entry_points():
    for role in sorted(PREFIX):
        with open(os.path.join(ROLES, role, "meta", "argument_specs.yml")) as handle:
            specs = yaml.safe_load(handle)["argument_specs"]
        for entry, spec in sorted(specs.items()):
            yield pytest.param(role, entry, set(spec.get("options") or {}), id="%s:%s" % (role, entry))


@pytest.mark.parametrize("role, entry, declared", list(entry_points()))
def test_entry_point_declares_what_it_reads(role, entry, declared):
    assert variables_read(role, entry) - declared == set()


def test_the_scan_finds_variables():
    """The regex scan itself works: assess reads kdump_crashkernel, main reads kdump_reboot_ok."""
    assert "kdump_crashkernel" in variables_read("kdump", "assess")
    assert "kdump_reboot_ok" in variables_read("kdump", "main")
