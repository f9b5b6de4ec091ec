# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role input filters: unknown_variables, crash_test_input_problems, crash_test_dump_dir and role_input_problems,
documented in their .yml files."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.fleetops.kdump.plugins.module_utils._assessment import UNACCEPTABLE_FINDINGS
from ansible_collections.fleetops.kdump.plugins.module_utils._variables import (
    accepted_findings_problems,
    as_given_problems,
    crash_test_dump_dir,
    crash_test_input_problems,
    spec_options,
    target_problems,
    unknown_variables as _unknown_variables,
    warning_text,
)


def unknown_variables(names, argument_specs, prefixes, extra=None):
    """Defined role-prefixed variables that no argument spec declares, each warned about once."""
    extra = [] if extra is None else extra
    if not isinstance(names, (list, tuple)) or not isinstance(argument_specs, (list, tuple)) or \
            not all(isinstance(spec, dict) for spec in argument_specs) or \
            not isinstance(prefixes, (list, tuple)) or not prefixes or \
            not all(isinstance(prefix, str) and prefix for prefix in prefixes) or \
            not isinstance(extra, (list, tuple)) or not all(isinstance(name, str) for name in extra):
        raise AnsibleFilterError("unknown_variables: expects a list of variable names, a list of parsed "
                                 "meta/argument_specs.yml documents (mappings), a non-empty list of prefixes "
                                 "(strings) and, optionally, extra: a list of known names")
    known = set(extra)
    for spec in argument_specs:
        known.update(spec_options(spec))
    found = _unknown_variables(names, sorted(known), [str(prefix) for prefix in prefixes])
    display = Display()
    for item in found:
        display.warning(warning_text(item))
    return found


def role_input_problems(values, argument_specs, unacceptable=UNACCEPTABLE_FINDINGS):
    """{errors, warnings} about role variables as the role reads them (not as the argument spec converted them)."""
    if not isinstance(values, dict) or not isinstance(argument_specs, (list, tuple)) or \
            not isinstance(unacceptable, (list, tuple)):
        raise AnsibleFilterError("role_input_problems: expects a mapping of variable values, a list of parsed "
                                 "meta/argument_specs.yml documents and a list of finding ids that cannot be accepted")
    errors = []
    for spec in argument_specs:
        errors.extend(problem for problem in as_given_problems(spec, values) if problem not in errors)
    errors.extend(problem for problem in target_problems(values) if problem not in errors)
    accepted = accepted_findings_problems(values.get("kdump_accept_findings"), [str(item) for item in unacceptable])
    display = Display()
    for warning in accepted["warnings"]:
        display.warning(warning)
    return {"errors": errors + accepted["errors"], "warnings": accepted["warnings"]}


class FilterModule(object):
    """Role input filters."""

    def filters(self):
        return {"unknown_variables": unknown_variables, "crash_test_input_problems": crash_test_input_problems,
                "crash_test_dump_dir": crash_test_dump_dir, "role_input_problems": role_input_problems}
