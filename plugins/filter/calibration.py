# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The calibration search filters of playbooks/calibrate.yml, documented in their .yml files."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.kdump.plugins.module_utils._calibration import (
    CalibrationError,
    record,
    report,
    start,
)


def kdump_calibration_start(plan, settings=None):
    """The search state for one host from its plan."""
    try:
        return start(plan, settings)
    except CalibrationError as exc:
        raise AnsibleFilterError("kdump_calibration_start: %s" % exc)


def kdump_calibration_record(state, passed, seconds, reachable=True, link=None, message=""):
    """The state after one try."""
    try:
        return record(state, passed, seconds, reachable, link, message)
    except CalibrationError as exc:
        raise AnsibleFilterError("kdump_calibration_record: %s" % exc)


def kdump_calibration_report(state, host, group_names=None, group=None):
    """The measured minimum, the margin and the resulting kdump_crashkernel."""
    return report(state, host, group_names, group)


class FilterModule(object):
    """Calibration filters."""

    def filters(self):
        return {
            "kdump_calibration_start": kdump_calibration_start,
            "kdump_calibration_record": kdump_calibration_record,
            "kdump_calibration_report": kdump_calibration_report,
        }
