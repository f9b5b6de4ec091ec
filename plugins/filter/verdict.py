# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The crash test's verdict filter, crash_test_verdict, documented in its .yml file."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.kdump.plugins.module_utils._crash_verdict import VerdictError, verdict


def crash_test_verdict(evidence, settings):
    """crash_test_result from what the crash test read on the host."""
    try:
        return verdict(evidence, settings)
    except VerdictError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """Crash test filters."""

    def filters(self):
        return {"crash_test_verdict": crash_test_verdict}
