# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's verdict on one host: plan its reservation, add the findings about the role's own variables,
and sort every finding into blocking, deferred (the rollout fixes it), accepted, handled and warnings.

Fed by ansible_facts.kdump and a dict of role inputs (docs/interfaces.md, `kdump_assess`); the role's
assess.yml, verify.yml and the audit report read what it returns.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
from typing import Any, Dict, List, Optional

from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.common import CrashkernelError
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.reserve import (
    check_regions, predicted_regions,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel.plan import (
    PLAN_EMPTY_FINDINGS, plan as crashkernel_plan,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._readiness import (
    COPY_FALLBACK_FINDING, CURRENT_CMDLINE_FINDINGS, KALLSYMS_FIX_FINDING, SETUP_FINDINGS,
)
from ansible_collections.fleetops.kdump.plugins.module_utils._software import MAKEDUMPFILE_OPTIONAL_COMPRESSIONS

Finding = Dict[str, Any]

# The role's findings about its variables against this host.
POLICY_INVALID = "crashkernel-policy-invalid"
UNSUPPORTED_DISTRIBUTION = "unsupported-distribution"
FAILURE_ACTION_UNSUPPORTED = "failure-action-unsupported"
COMPRESSION_UNSUPPORTED = "compression-unsupported"
SSH_KEY_MISSING = "ssh-key-missing"
DUMP_TARGET_UNREACHABLE = "dump-target-unreachable"
ROLE_FINDINGS = (UNSUPPORTED_DISTRIBUTION, POLICY_INVALID, FAILURE_ACTION_UNSUPPORTED, COMPRESSION_UNSUPPORTED,
                 SSH_KEY_MISSING, DUMP_TARGET_UNREACHABLE)
# kdump_accept_findings cannot waive these: the role's findings about its input, contradictory host data,
# and the plan refusals (accepting one would call the host ready with nothing reserved).
UNACCEPTABLE_FINDINGS = ("input-implausible",) + ROLE_FINDINGS + PLAN_EMPTY_FINDINGS

INPUT_DEFAULTS = {
    "enabled": True,
    "crashkernel": "auto",
    "crashkernel_low": None,
    "accept_findings": [],
    "families": [],
    "service": "",
    "target_type": "local",
    "target_location": "",
    "ssh_key": "",
    "ssh_key_exists": None,
    "failure_action": "reboot",
    "failure_actions": [],
    "failure_actions_local_only": [],
    "compression": "zlib",
    "kallsyms_text_fix": False,
    "copy_fallback": False,
    "capture_unit": "",
    "copy_fallback_in_place": None,
    "target_server": "",
    "target_probe": None,  # {rc, command, output} of the role's login to the ssh target, None: not tried
}


class AssessmentError(ValueError):
    """The arguments are not what the role passes (a programming error, not a host problem)."""


def _with_source(items: List[Finding], source: str) -> List[Finding]:
    return [dict(item, source=source) for item in items]


def _ids(items: List[Finding]) -> List[str]:
    return [item["id"] for item in items]


def _role_finding(ident: str, message: str, fix: str) -> Finding:
    return {"id": ident, "severity": "error", "message": message, "fix": fix}


def _ssh_target_findings(inputs: Dict[str, Any]) -> List[Finding]:
    key, location, server = inputs["ssh_key"], inputs["target_location"], inputs["target_server"]
    how = ("authorizes it on the dump server %s (kdump_target.server)" % server if server else
           "sends it with the distribution's propagate command (kdump-config / kdumpctl propagate), which needs root "
           "to be able to log in to %s already" % location)
    out: List[Finding] = []
    if inputs["ssh_key_exists"] is False:
        out.append({"id": SSH_KEY_MISSING, "severity": "warning",
                    "message": "kdump_target.ssh_key %s does not exist on the host yet; the rollout creates it and %s."
                               % (key, how),
                    "fix": "Nothing to do, or create and authorize the key yourself (ssh-keygen -t ed25519 -N \"\" "
                           "-f %s; ssh-copy-id)." % key})
    probe = inputs["target_probe"]
    if isinstance(probe, dict) and probe.get("rc") != 0:
        out.append(_role_finding(
            DUMP_TARGET_UNREACHABLE, "The host cannot log in to its dump target %s as the capture kernel will (%s: "
            "exit %s, %s)." % (location, probe.get("command"), probe.get("rc"), probe.get("output") or "no output"),
            "Make the target reachable from the host: the server up and listening on kdump_target.port, the key "
            "%s authorized for %s there (kdump_target.server lets the role do it), the server's host key in root's "
            "known_hosts, and the directory writable; then run the rollout again." % (key, location.split("@")[0])))
    return out


def role_findings(facts: Dict[str, Any], inputs: Dict[str, Any], plan_error: Optional[str] = None) -> List[Finding]:
    """Errors in the role's variables for this host; plan_error is why the policy could not be planned."""
    software = facts.get("software") or {}
    family = software.get("family")
    out: List[Finding] = []
    if family not in inputs["families"]:
        out.append(_role_finding(UNSUPPORTED_DISTRIBUTION, "The role has no settings for distribution family %s "
                                 "(%s %s)." % (family, software.get("distro"), software.get("version")),
                                 "Run the role on Debian/Ubuntu, RHEL-family or SUSE hosts."))
    if not inputs["enabled"]:
        return out
    if plan_error:
        out.append(_role_finding(POLICY_INVALID, plan_error,
                                 "Correct kdump_crashkernel / kdump_crashkernel_low as the message says."))
    action, target = inputs["failure_action"], inputs["target_type"]
    if family in inputs["families"] and (action not in inputs["failure_actions"] or (
            target != "local" and action in inputs["failure_actions_local_only"])):
        out.append(_role_finding(FAILURE_ACTION_UNSUPPORTED, "kdump_failure_action %s is not available with %s and "
                                 "a %s target." % (action, inputs["service"] or "this kdump service", target),
                                 "Set kdump_failure_action to one of: %s." % ", ".join(inputs["failure_actions"])))
    compressions = software.get("makedumpfile_compressions")
    compression = inputs["compression"]
    if compression in MAKEDUMPFILE_OPTIONAL_COMPRESSIONS and compressions is not None and compression not in compressions:
        out.append(_role_finding(COMPRESSION_UNSUPPORTED, "kdump_compression %s: makedumpfile on this host was built "
                                 "without it." % compression,
                                 "Set kdump_compression to lzo (if enabled), zlib or none; makedumpfile -v lists "
                                 "what it supports."))
    if target == "ssh":
        out += _ssh_target_findings(inputs)
    return out


def _checked_inputs(facts: Any, inputs: Any) -> Dict[str, Any]:
    if not isinstance(facts, dict) or not isinstance(facts.get("findings", []), list):
        raise AssessmentError("kdump_assess expects ansible_facts.kdump first, got %r" % (type(facts).__name__,))
    if not isinstance(inputs, dict):
        raise AssessmentError("kdump_assess expects a dict of role inputs second, got %r" % (type(inputs).__name__,))
    unknown = sorted(set(inputs) - set(INPUT_DEFAULTS))
    if unknown:
        raise AssessmentError("kdump_assess: unknown input(s) %s; known: %s"
                              % (", ".join(unknown), ", ".join(sorted(INPUT_DEFAULTS))))
    merged = dict(INPUT_DEFAULTS, **inputs)
    for name in ("accept_findings", "families", "failure_actions", "failure_actions_local_only"):
        if not isinstance(merged[name], (list, tuple)):
            raise AssessmentError("kdump_assess: %s must be a list, got %r" % (name, merged[name]))
    return merged


def _fixes(facts: Dict[str, Any], inputs: Dict[str, Any]) -> Dict[str, Dict[str, bool]]:
    """Whether each of the role's own fixes applies here and is already in place."""
    software = facts.get("software") or {}
    ids = _ids(facts.get("findings") or [])
    systemd = software.get("systemd_running") is not False  # unknown in a captured tree: the rollout checks it
    kallsyms_applies = inputs["enabled"] and inputs["kallsyms_text_fix"] and systemd
    copy_applies = inputs["enabled"] and inputs["copy_fallback"] and bool(inputs["capture_unit"]) and systemd
    return {
        KALLSYMS_FIX_FINDING: {"needed": KALLSYMS_FIX_FINDING in ids, "applies": bool(kallsyms_applies),
                               "done": bool(kallsyms_applies and software.get("kallsyms_copy_has_text"))},
        COPY_FALLBACK_FINDING: {"needed": COPY_FALLBACK_FINDING in ids, "applies": bool(copy_applies),
                                "done": bool(copy_applies and inputs["copy_fallback_in_place"])},
    }


def _planned_bytes(plan: Dict[str, Any]) -> Optional[int]:
    expected = plan.get("expected")
    if not isinstance(expected, dict) or not isinstance(expected.get("size"), int):
        return None
    return expected["size"] + (expected.get("low_size") or 0)


def regions_as_planned(facts: Dict[str, Any], plan: Dict[str, Any]) -> bool:
    """The running reservation is the planned one region by region (placement and size), not only in total."""
    regions = (facts.get("reservation") or {}).get("regions")
    low_limit = (facts.get("memory") or {}).get("low_limit_bytes")
    if not isinstance(plan.get("expected"), dict) or not isinstance(regions, list) or \
            isinstance(low_limit, bool) or not isinstance(low_limit, int):
        return False
    try:
        return bool(check_regions(plan["expected"], regions, low_limit)["ok"])
    except CrashkernelError:
        return False


def assess(facts: Any, inputs: Any) -> Dict[str, Any]:
    """The role's verdict for one host (kdump_assessment, docs/interfaces.md)."""
    inputs = _checked_inputs(facts, inputs)
    facts_findings = list(facts.get("findings") or [])
    plan: Dict[str, Any] = {}
    plan_error = None
    if inputs["enabled"]:
        try:
            plan = crashkernel_plan(facts, policy=inputs["crashkernel"], low=inputs["crashkernel_low"])
        except CrashkernelError as exc:
            plan_error = "crashkernel_plan: %s" % exc
    fixes = _fixes(facts, inputs)
    handled = [item for item in facts_findings if fixes.get(item["id"], {}).get("done")]
    handled_ids = _ids(handled)
    facts_ids = _ids(facts_findings)
    policy_text = "kdump_crashkernel=%s" % json.dumps(inputs["crashkernel"])
    if inputs["crashkernel_low"] is not None:
        policy_text += " kdump_crashkernel_low=%s" % json.dumps(inputs["crashkernel_low"])
    # a problem the facts already report is reported once, under the facts' id
    plan_findings = [item for item in plan.get("findings") or [] if item["id"] not in facts_ids]
    every = (_with_source([item for item in facts_findings if item["id"] not in handled_ids], "facts")
             + _with_source(plan_findings, policy_text)
             + _with_source(role_findings(facts, inputs, plan_error), "role variables"))
    errors = [item for item in every if item["severity"] == "error"]
    accepted = [item for item in errors if item["id"] in inputs["accept_findings"]
                and item["id"] not in UNACCEPTABLE_FINDINGS]
    deferrable = list(SETUP_FINDINGS) + [ident for ident, fix in fixes.items() if fix["applies"]]
    current_args = (facts.get("kernel") or {}).get("crashkernel")
    if "args" in plan and plan["args"] != current_args:
        deferrable += CURRENT_CMDLINE_FINDINGS
    accepted_ids = _ids(accepted)
    deferred = [item for item in every if item["source"] == "facts" and item["severity"] in ("error", "warning")
                and item["id"] in deferrable and item["id"] not in accepted_ids]
    deferred_ids = _ids(deferred)
    blocking = [item for item in errors if item["id"] not in accepted_ids + deferred_ids]
    planned = _planned_bytes(plan) if "args" in plan else None
    reserved = (facts.get("reservation") or {}).get("total_bytes")
    return {
        "ready": not blocking,
        "up_to_date": bool(inputs["enabled"] and not blocking and "args" in plan and plan["args"] == current_args
                           and reserved == planned and regions_as_planned(facts, plan) and not deferred
                           and (facts.get("reservation") or {}).get("kexec_crash_loaded") is True),
        "blocking": blocking,
        "deferred": deferred,
        "accepted": accepted,
        "warnings": [item for item in every if item["severity"] == "warning" and item["id"] not in deferred_ids],
        "handled": handled,
        "plan": plan,
        "planned_bytes": planned,
        "planned_regions": predicted_regions(plan["expected"]) if planned is not None else None,
        "reserved_bytes": reserved,
        "fixes": {KALLSYMS_FIX_FINDING: fixes[KALLSYMS_FIX_FINDING]["applies"]
                  and fixes[KALLSYMS_FIX_FINDING]["needed"],
                  COPY_FALLBACK_FINDING: fixes[COPY_FALLBACK_FINDING]["applies"]
                  and fixes[COPY_FALLBACK_FINDING]["needed"]},
    }


def findings_left(facts: Any, inputs: Any) -> List[Finding]:
    """After the rollout: set-up findings and errors that remain, except those accepted, the kallsyms finding
    once the service's kexec has its copy with _text, and the finding the unfiltered-copy fallback takes."""
    inputs = _checked_inputs(facts, inputs)
    fixes = _fixes(facts, inputs)
    waived = set(inputs["accept_findings"])
    if fixes[KALLSYMS_FIX_FINDING]["done"]:
        waived.add(KALLSYMS_FIX_FINDING)
    if fixes[COPY_FALLBACK_FINDING]["applies"]:
        waived.add(COPY_FALLBACK_FINDING)
    return [item for item in facts.get("findings") or []
            if (item["id"] in SETUP_FINDINGS or item["severity"] == "error") and item["id"] not in waived]
