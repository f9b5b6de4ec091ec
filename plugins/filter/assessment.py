# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's assessment filters: kdump_assess and kdump_findings_left, documented in their .yml files."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.kdump.plugins.module_utils._assessment import (
    AssessmentError,
    assess,
    findings_left,
)


def kdump_assess(kdump_facts, inputs):
    """Plan, role findings and every finding sorted for one host."""
    try:
        return assess(kdump_facts, inputs)
    except AssessmentError as exc:
        raise AnsibleFilterError(str(exc))


def kdump_findings_left(kdump_facts, inputs):
    """Set-up findings and errors still there after the rollout."""
    try:
        return findings_left(kdump_facts, inputs)
    except AssessmentError as exc:
        raise AnsibleFilterError(str(exc).replace("kdump_assess", "kdump_findings_left"))


class FilterModule(object):
    """Assessment filters."""

    def filters(self):
        return {
            "kdump_assess": kdump_assess,
            "kdump_findings_left": kdump_findings_left,
        }
