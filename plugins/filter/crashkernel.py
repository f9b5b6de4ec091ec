# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters over the crashkernel engine; each one is documented in the .yml file of the same name."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.kdump.plugins.module_utils._crashkernel import (
    CrashkernelError,
    check_regions,
    format_tokens,
    parse,
    plan,
    reserve,
)


def _call(name, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except CrashkernelError as exc:
        raise AnsibleFilterError("%s: %s" % (name, exc))


def crashkernel_parse(text):
    """Structured form of each crashkernel= token of a command line or of a bare value."""
    return _call("crashkernel_parse", parse, text)


def crashkernel_format(structure):
    """Canonical crashkernel= text for what crashkernel_parse returns."""
    return _call("crashkernel_format", format_tokens, structure)


def crashkernel_reserve(cmdline, ram, arch="aarch64", kernel=None, low_ram=None, low_margin=None, page_size=4096):
    """What a kernel reserves for a command line on a host with this much RAM."""
    return _call("crashkernel_reserve", reserve, cmdline, ram, arch=arch, kernel=kernel, low_ram=low_ram,
                 low_margin=low_margin, page_size=page_size)


def crashkernel_plan(kdump_facts, policy="auto", low=None):
    """The crashkernel= args for a host, the reservation they give, and findings."""
    return _call("crashkernel_plan", plan, kdump_facts, policy=policy, low=low)


def crashkernel_check_regions(expected, regions, low_limit):
    """Region-by-region comparison of a crashkernel_reserve prediction with /proc/iomem's Crash kernel regions."""
    if not isinstance(expected, dict) or not isinstance(regions, list) or isinstance(low_limit, bool) \
            or not isinstance(low_limit, int):
        raise AnsibleFilterError("crashkernel_check_regions: expects a crashkernel_reserve result, a list of "
                                 "{start, end, size} regions and low_limit in bytes (memory.low_limit_bytes)")
    return _call("crashkernel_check_regions", check_regions, expected, regions, low_limit)


class FilterModule(object):
    """crashkernel= filters."""

    def filters(self):
        return {
            "crashkernel_parse": crashkernel_parse,
            "crashkernel_format": crashkernel_format,
            "crashkernel_reserve": crashkernel_reserve,
            "crashkernel_plan": crashkernel_plan,
            "crashkernel_check_regions": crashkernel_check_regions,
        }
