# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The crashkernel engine against every captured host tree: today's reservation and the plan for it."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils import _crashkernel as ck

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HOSTS = os.path.join(REPO, "tests", "fixtures", "hosts")
TREES = sorted(name for name in os.listdir(HOSTS) if os.path.isdir(os.path.join(HOSTS, name))) \
    if os.path.isdir(HOSTS) else []

kdump_facts = pytest.importorskip("ansible_collections.fleetops.kdump.plugins.modules.kdump_facts")
pytestmark = pytest.mark.skipif(not TREES, reason="no fixture trees under tests/fixtures/hosts")

_CACHE = {}


def host_facts(name):
    if name not in _CACHE:
        _CACHE[name] = kdump_facts.gather_facts(os.path.join(HOSTS, name))
    return _CACHE[name]


def _reserve(facts, cmdline):
    return ck.reserve(cmdline, facts["memory"]["total_bytes"], arch=facts["platform"]["arch"],
                      kernel=facts["kernel"]["release"], low_ram=facts["memory"]["low_bytes"],
                      page_size=facts["platform"]["page_size"] or 4096,
                      high_low_supported=(facts.get("capabilities") or {}).get("high_low_reservation", {})
                      .get("supported"))


@pytest.mark.parametrize("name", TREES)
def test_prediction_matches_the_captured_reservation(name):
    facts = host_facts(name)
    predicted = _reserve(facts, facts["kernel"]["cmdline"])
    captured = facts["reservation"]
    assert predicted["size"] + predicted["low_size"] == captured["total_bytes"], predicted["reason"]
    if predicted["region"] == "high":
        assert (captured["high_bytes"], captured["low_bytes"]) == (predicted["size"], predicted["low_size"])
    elif predicted["region"] == "low":
        assert (captured["high_bytes"], captured["low_bytes"]) == (0, predicted["size"])
    else:
        assert captured["regions"] == []


@pytest.mark.parametrize("name", TREES)
def test_plan_fits_every_host(name):
    facts = host_facts(name)
    result = ck.plan(facts)
    errors = [finding for finding in result["findings"] if finding["severity"] == "error"]
    assert not errors, errors
    expected = result["expected"]
    assert expected["region"] in ("low", "high")
    assert expected["size"] + expected["low_size"] < facts["memory"]["total_bytes"]
    low_ram = facts["memory"]["low_bytes"]
    if low_ram is not None:
        in_low = expected["low_size"] + (expected["size"] if expected["region"] == "low" else 0)
        assert in_low <= low_ram - ck.LOW_MARGIN
    assert expected == _reserve(facts, " ".join(
        [word for word in facts["kernel"]["cmdline"].split() if not word.startswith("crashkernel=")] + result["args"]))


@pytest.mark.parametrize("name", TREES)
def test_altra_hosts_get_high_plus_low(name):
    facts = host_facts(name)
    if not facts["platform"]["is_altra"]:
        pytest.skip("not an Altra host")
    result = ck.plan(facts)
    model = ck.kernel_model(facts["platform"]["arch"], facts["kernel"]["release"])
    if model["name"] == ck.MODEL_ARM64_LEGACY:
        assert len(result["args"]) == 1
    else:
        assert [arg.rsplit(",", 1)[-1] for arg in result["args"]] == ["high", "low"]
        assert result["args"][1] == "crashkernel=16M,low"
        memory = facts["memory"]
        if memory["total_bytes"] > memory["low_bytes"]:
            assert result["expected"]["region"] == "high"
            assert result["expected"]["low_size"] == 16 << 20
        else:
            # all RAM below the limit (the QEMU Altra guest): ,high falls back to one low region, no ,low
            assert (result["expected"]["region"], result["expected"]["low_size"]) == ("low", 0)
