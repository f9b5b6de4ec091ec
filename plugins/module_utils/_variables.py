# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role variables nobody reads: a typo such as kdump_crashkernal is silently ignored by Ansible."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import difflib

from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import brief

NAME_LIMIT = 200  # the longest role variable is about 40 characters


def spec_options(argument_specs):
    # type: (Any) -> List[str]
    """Every option name of every entry point of a meta/argument_specs.yml document (parsed)."""
    names = set()
    specs = argument_specs.get("argument_specs", argument_specs) if isinstance(argument_specs, dict) else {}
    for entry in specs.values() if isinstance(specs, dict) else []:
        options = entry.get("options") if isinstance(entry, dict) else None
        names.update(str(name) for name in (options or {}))
    return sorted(names)


def unknown_variables(names, known, prefixes):
    # type: (Sequence[Any], Sequence[str], Sequence[str]) -> List[Dict[str, Optional[str]]]
    """[{name, closest}] for each defined variable with one of prefixes that no role knows; closest is
    the nearest known name (None when nothing is close)."""
    known_set = set(known)
    found = []  # type: List[Dict[str, Optional[str]]]
    for name in sorted(set(str(name) for name in names)):
        if name in known_set or not name.startswith(tuple(prefixes)):
            continue
        close = difflib.get_close_matches(name, sorted(known_set), n=1, cutoff=0.75) if len(name) <= NAME_LIMIT \
            else []  # difflib is quadratic in the name's length; no known name is this long
        found.append({"name": name, "closest": close[0] if close else None})
    return found


def warning_text(unknown):
    # type: (Dict[str, Optional[str]]) -> str
    closest = unknown.get("closest")
    return "%s is not a variable of the fleetops.kdump roles and is ignored%s" % (
        brief(str(unknown.get("name"))), "; did you mean %s?" % closest if closest else "")
