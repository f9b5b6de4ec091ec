# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role variables nobody reads: a typo such as kdump_crashkernal is silently ignored by Ansible."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import difflib
import posixpath
import re

from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import brief

NAME_LIMIT = 200  # the longest role variable is about 40 characters


def option_specs(argument_specs: Any) -> Dict[str, Any]:
    """{option name: its spec} over every entry point of a meta/argument_specs.yml document (parsed); the first
    entry point that declares a name wins."""
    found: Dict[str, Any] = {}
    specs = argument_specs.get("argument_specs", argument_specs) if isinstance(argument_specs, dict) else {}
    for entry in specs.values() if isinstance(specs, dict) else []:
        options = entry.get("options") if isinstance(entry, dict) else None
        for name, spec in (options.items() if isinstance(options, dict) else []):
            found.setdefault(str(name), spec)
    return found


def spec_options(argument_specs: Any) -> List[str]:
    """Every option name of every entry point of a meta/argument_specs.yml document (parsed)."""
    return sorted(option_specs(argument_specs))


ELEMENT_TYPES = {"str": str, "dict": dict}
FINDING_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")


def as_given_problems(argument_specs: Any, values: Dict[str, Any]) -> List[str]:
    """Variables the argument spec accepts only by converting them (a string split at commas into a list, 5 into
    '5', true into 1) while the role reads them as given: a list or dict that is not one, list items of another type, a
    boolean for a number."""
    specs = option_specs(argument_specs)
    problems = []
    for name in sorted(values):
        spec, value = specs.get(name), values[name]
        if not isinstance(spec, dict) or value is None:
            continue
        kind, elements = spec.get("type"), ELEMENT_TYPES.get(str(spec.get("elements")))
        if kind == "list" and not isinstance(value, list):
            problems.append("%s is %s, not a list; write it as a YAML list, e.g. [%s] (with -e, as JSON: -e '{\"%s\": "
                            "[...]}')" % (name, brief(repr(value)), brief(str(value)), name))
        elif kind == "list" and elements is not None:
            wrong = [index for index, item in enumerate(value) if not isinstance(item, elements)]
            if wrong:
                problems.append("%s item %d is %s, not a %s; quote it" % (
                    name, wrong[0] + 1, brief(repr(value[wrong[0]])), spec.get("elements")))
        elif kind == "dict" and not isinstance(value, dict):
            problems.append("%s is %s, not a mapping; write it as a YAML mapping such as {type: local}"
                            % (name, brief(repr(value))))
        elif kind == "int" and isinstance(value, bool):
            # ansible-core's int check takes true as 1; the role would write the word True into the config
            problems.append("%s is %s (a boolean), not a number; give a whole number such as %s"
                            % (name, value, spec.get("default", 1)))
    return problems


def accepted_findings_problems(accepted: Any, unacceptable: Sequence[str]) -> Dict[str, List[str]]:
    """{errors, warnings} about kdump_accept_findings: every item a finding id; ids that cannot be accepted warned."""
    errors: List[str] = []
    warnings: List[str] = []
    for index, item in enumerate(accepted if isinstance(accepted, list) else []):
        if not isinstance(item, str) or not FINDING_ID_RE.match(item):
            errors.append("kdump_accept_findings item %d is %s, not a finding id (lowercase words joined by '-', "
                          "as the audit report prints them, e.g. kexec-no-text-symbol)" % (index + 1, brief(repr(item))))
        elif item in unacceptable:
            warnings.append("kdump_accept_findings lists %s, which cannot be accepted (a finding about the role's "
                            "input, contradictory host data, or a plan with nothing to reserve); it still blocks the "
                            "host: fix its cause instead" % item)
    return {"errors": errors, "warnings": warnings}


def unknown_variables(names: Sequence[Any],
                      known: Sequence[str],
                      prefixes: Sequence[str]) -> List[Dict[str, Optional[str]]]:
    """[{name, closest}] for each defined variable with one of prefixes that no role knows; closest is
    the nearest known name (None when nothing is close)."""
    known_set = set(known)
    found: List[Dict[str, Optional[str]]] = []
    for name in sorted(set(str(name) for name in names)):
        if name in known_set or not name.startswith(tuple(prefixes)):
            continue
        close = difflib.get_close_matches(name, sorted(known_set), n=1, cutoff=0.75) if len(name) <= NAME_LIMIT \
            else []  # difflib is quadratic in the name's length; no known name is this long
        found.append({"name": name, "closest": close[0] if close else None})
    return found


def warning_text(unknown: Dict[str, Optional[str]]) -> str:
    closest = unknown.get("closest")
    return "%s is not a variable of the fleetops.kdump roles and is ignored%s" % (
        brief(str(unknown.get("name"))), "; did you mean %s?" % closest if closest else "")


SHELL_CHARACTERS_RE = re.compile(r"[\s$`\"'\\;|&()<>*?!{}\[\]~#]")
VOLATILE_DIRS = ("/tmp", "/run", "/dev", "/proc", "/sys", "/var/run", "/var/lock")  # tmpfs or kernel views


def persistent_dir_problem(name: str, value: Any, example: str, lost: str) -> Optional[str]:
    """Why the directory variable name cannot keep what is written there across a reboot, or None. lost says
    what a volatile directory would lose; example is a good value."""
    if not isinstance(value, str) or not value:
        return "%s is %s; give an absolute directory that survives a reboot, such as %s" % (
            name, brief(repr(value)), example)
    if re.search(r"[\x00-\x1f\x7f]", value):
        return "%s %s holds a control character; give a plain path such as %s" % (name, brief(repr(value)), example)
    if not value.startswith("/"):
        return "%s %s is relative; give an absolute directory such as %s" % (name, brief(repr(value)), example)
    normal = "/" + posixpath.normpath(value).lstrip("/")
    volatile = [top for top in VOLATILE_DIRS if normal == top or normal.startswith(top + "/")]
    if volatile:
        return "%s %s is under %s, which does not survive the reboot after the crash (tmpfs or a kernel view), so " \
               "%s would be lost; use %s" % (name, brief(repr(value)), volatile[0], lost, example)
    if normal != value.rstrip("/") and value != "/":
        return "%s %s is not a plain path (it reads as %s); write %s" % (
            name, brief(repr(value)), brief(normal), brief(normal))
    return None


def shell_word_problem(name: str, value: Any, example: str) -> Optional[str]:
    """Why a path the role hands to a shell on the host is not one plain word, or None."""
    odd = SHELL_CHARACTERS_RE.search(value) if isinstance(value, str) else None
    if odd:
        return "%s %s holds %s, which a shell on the host would read as syntax; give a plain path of letters, " \
               "digits and ._-/ such as %s" % (name, brief(repr(value)), "a space" if odd.group().isspace()
                                               else repr(odd.group()), example)
    return None


def absolute_word_problem(name: str, value: Any, example: str) -> Optional[str]:
    """Why a file path the role hands to a shell on the host is not one absolute plain word, or None."""
    if isinstance(value, str) and not value.startswith("/"):
        return "%s %s is relative; give an absolute path such as %s" % (name, brief(repr(value)), example)
    return shell_word_problem(name, value, example)


def target_problems(values: Dict[str, Any]) -> List[str]:
    """What is wrong with kdump_path and the paths of kdump_target: where dumps go, and the ssh key."""
    given = values.get("kdump_target")
    target: Dict[str, Any] = given if isinstance(given, dict) else {}
    local = target.get("type", "local") == "local"
    checks = [("kdump_path", values.get("kdump_path"), True, "/var/crash"),
              ("kdump_target.path", target.get("path"), local, "/var/crash"),
              ("kdump_target.ssh_key", target.get("ssh_key"), False, "/root/.ssh/kdump_id_rsa")]
    problems = []
    for name, value, is_dump_dir, example in checks:
        why = None if value is None else (
            dump_dir_problem(name, value) if is_dump_dir else absolute_word_problem(name, value, example))
        if why:
            problems.append(why)
    port = target.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        problems.append("kdump_target.port %s is not a TCP port; give a number from 1 to 65535 (22 unless the "
                        "target's sshd listens elsewhere)" % brief(repr(port)))
    server = target.get("server")
    if server is not None and not (isinstance(server, str) and re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$", server)):
        problems.append("kdump_target.server %s is not an inventory host name; give the dump server's name as the "
                        "inventory spells it, or leave it unset" % brief(repr(server)))
    return problems


def marker_dir_problem(value: Any) -> Optional[str]:
    """Why crash_test_marker_dir cannot hold the crash marker across the crash's reboot, or None."""
    return persistent_dir_problem("crash_test_marker_dir", value, "/var/tmp", "the marker that tells new dumps "
                                  "from old")


def dump_dir_problem(name: str, value: Any) -> Optional[str]:
    """Why kdump_path (or a local target's path) cannot receive dumps, or None: the root directory, a
    directory that does not survive the reboot that follows the capture, or not one plain shell word."""
    if isinstance(value, str) and value.startswith("/") and posixpath.normpath(value) in ("/", "//"):
        return "%s %s is the root directory; dumps fill the file system they land on: use a directory of its " \
               "own such as /var/crash" % (name, brief(repr(value)))
    return persistent_dir_problem(name, value, "/var/crash", "the dump") or shell_word_problem(
        name, value, "/var/crash")


def crash_test_input_problems(marker_dir: Any, formats: Any, dump_path: Any = None) -> List[str]:
    """What is wrong with the crash test's own inputs, before anything on the host is read or changed.
    dump_path None: crash_test_path is unset, and crash_test_dump_dir takes the service's from the facts."""
    problems = [why for why in (
        None if dump_path is None else dump_dir_problem("crash_test_path", dump_path),
        marker_dir_problem(marker_dir) or shell_word_problem("crash_test_marker_dir", marker_dir, "/var/tmp"),
    ) if why]
    if not isinstance(formats, (list, tuple)) or not formats:
        problems.append("crash_test_formats is %s, so no dump could pass; list the formats that count, e.g. "
                        "[kdump_compressed] (or leave the default: all three)" % brief(repr(formats)))
    return problems


def crash_test_dump_dir(given: Any, target: Any, dump_host: Any = None) -> Dict[str, Optional[str]]:
    """{path, source, host, problem}: where the crash test looks for the new dump. crash_test_path when given
    (crash_test_input_problems checked it); else the directory the kdump service writes to, from the facts
    (software.dump_target): on this host, or for an ssh target on dump_host (host: its inventory name)."""
    if given is not None and given != "":
        return {"path": given, "source": "crash_test_path", "host": None, "problem": None}
    target = target if isinstance(target, dict) else {}
    kind, path, location = target.get("type"), target.get("path"), target.get("location")
    fix = "set crash_test_path to the directory where this host can read the new dump"
    if dump_host not in (None, "") and kind != "ssh":
        problem: Optional[str] = "crash_test_dump_host is %s but the kdump service writes dumps to a %s target, not " \
                                 "to an ssh server; leave crash_test_dump_host unset" % (brief(repr(dump_host)), kind)
    elif dump_host not in (None, ""):
        problem = None if isinstance(path, str) and path.startswith("/") else \
            "the ssh target's dump directory is not an absolute path (facts software.dump_target.path is %s); fix " \
            "the kdump service's configuration" % brief(repr(path))
        return {"path": path if problem is None else None, "source": "facts", "host": str(dump_host),
                "problem": problem}
    elif kind is None:
        problem = "crash_test_path is not set and the kdump service's dump directory is unknown (its " \
                  "configuration could not be read: facts software.dump_target.type is null); apply " \
                  "fleetops.kdump.kdump first, or %s" % fix
    elif kind != "local":
        problem = "crash_test_path is not set and the kdump service sends dumps to a %s target (%s, directory %s), " \
                  "which this host does not see; %s%s" % (kind, location, path, fix, (
                      ", or name the dump server's inventory host in crash_test_dump_host" if kind == "ssh" else ""))
    elif not isinstance(path, str):
        problem = "crash_test_path is not set and the kdump service's dump directory is not an absolute path; " \
                  "fix its configuration, or %s" % fix
    else:
        problem = dump_dir_problem("the kdump service's dump directory", path)
    return {"path": path if problem is None else None, "source": "facts", "host": None, "problem": problem}
