"""docs/facts.md lists every finding id the collection can emit: those of kdump_facts, of the plan, and of
the role. The ids are collected from the source, so a new finding without a docs row fails here."""
import os
import re

from ansible_collections.fleetops.kdump.plugins.module_utils._assessment import ROLE_FINDINGS
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel import CAUSE_FIXES
from ansible_collections.fleetops.kdump.plugins.module_utils._readiness import KERNEL_CONFIG_NEEDS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = [os.path.join(REPO, "plugins", "module_utils"), os.path.join(REPO, "roles", "kdump")]
EMITTED_RE = re.compile(r"""(?:out\.add|_finding)\(\s*["']([a-z0-9]+(?:-[a-z0-9]+)+)["']|'id': '([a-z0-9-]+)'""")


def emitted_ids():
    found = set()
    for top in SOURCES:
        for directory, _dirs, files in os.walk(top):
            for name in files:
                if name.endswith((".py", ".yml")):
                    with open(os.path.join(directory, name)) as handle:
                        for match in EMITTED_RE.finditer(handle.read()):
                            found.add(match.group(1) or match.group(2))
    return found | set("crashkernel-" + cause for cause in CAUSE_FIXES) | set(ROLE_FINDINGS) | set(
        need[1] for need in KERNEL_CONFIG_NEEDS)


def documented_ids():
    with open(os.path.join(REPO, "docs", "facts.md")) as handle:
        text = handle.read()
    ids = set(re.findall(r"^\| `([a-z0-9-]+)`", text, re.M))
    ids.update(re.findall(r"`(crashkernel-[a-z0-9-]+)`", text))
    causes = re.search(r"\| `crashkernel-<cause>` \|[^\n]*", text)
    if causes:
        ids.update("crashkernel-" + cause for cause in re.findall(r"`([a-z-]+)`", causes.group(0).split("|")[3]))
    return ids


def test_the_scan_sees_findings_of_all_three_sources():
    ids = emitted_ids()
    assert {"input-implausible", "crashkernel-ranges-overlap", "ssh-key-missing"} <= ids


def test_every_emitted_finding_is_documented_in_facts_md():
    assert emitted_ids() - documented_ids() == set()
