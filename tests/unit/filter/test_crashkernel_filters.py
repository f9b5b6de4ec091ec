# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The crashkernel_* filters: wiring, error conversion, docs, and use from a real Jinja template."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.kdump.plugins.filter.crashkernel import FilterModule

M, G = 1 << 20, 1 << 30
NAMES = ("crashkernel_parse", "crashkernel_format", "crashkernel_reserve", "crashkernel_plan",
         "crashkernel_check_regions")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
COLLECTIONS = os.path.join(REPO, "build", "collections")
BIN = os.path.dirname(sys.executable)

FACTS = {
    "platform": {"arch": "aarch64", "is_altra": True, "page_size": 4096},
    "memory": {"total_bytes": 256 * G, "low_bytes": 1536 * M},
    "kernel": {"release": "6.1.0-27-arm64", "cmdline": "root=/dev/sda1 ro"},
    "software": {"kexec_tools_version": "2.0.25"},
}


@pytest.fixture(scope="module")
def filters():
    return FilterModule().filters()


def test_all_filters_are_exported(filters):
    assert sorted(filters) == sorted(NAMES)


def test_parse_and_format(filters):
    tokens = filters["crashkernel_parse"]("root=/dev/sda1 crashkernel=0x30000000,high crashkernel=16M,low")
    assert [token["kind"] for token in tokens] == ["high", "low"]
    assert filters["crashkernel_format"](tokens) == "crashkernel=768M,high crashkernel=16M,low"


def test_reserve(filters):
    result = filters["crashkernel_reserve"]("crashkernel=768M", "256G", kernel="6.6.0-14-arm64", low_ram="512M")
    assert (result["region"], result["size"], result["low_size"]) == ("high", 768 * M, 128 * M)


def test_plan(filters):
    result = filters["crashkernel_plan"](FACTS)
    assert result["args"] == ["crashkernel=768M,high", "crashkernel=16M,low"]


@pytest.mark.parametrize("name, args, kwargs, words", [
    ("crashkernel_parse", ("crashkernel=1G-:768M,high",), {}, "crashkernel_parse: crashkernel=1G-:768M,high"),
    ("crashkernel_format", ({"kind": "huge"},), {}, "crashkernel_format: crashkernel_format: kind"),
    ("crashkernel_reserve", ("crashkernel=512M",), {"ram": "lots"}, "crashkernel_reserve: ram: 'lots'"),
    ("crashkernel_plan", (FACTS,), {"policy": "fast"}, "crashkernel_plan: kdump_crashkernel: 'fast'"),
    ("crashkernel_plan", (FACTS,), {"low": "lots"}, "crashkernel_plan: kdump_crashkernel_low: 'lots'"),
])
def test_errors_become_filter_errors(filters, name, args, kwargs, words):
    with pytest.raises(AnsibleFilterError) as info:
        filters[name](*args, **kwargs)
    assert words in str(info.value)


def _env():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_LOCAL_TEMP="/tmp/.ansible-crashkernel-test", ANSIBLE_HOME="/tmp/.ansible-crashkernel-test")
    return env


needs_ansible = pytest.mark.skipif(not os.path.exists(os.path.join(BIN, "ansible-doc")),
                                   reason="ansible CLI not installed next to this Python")


@needs_ansible
def test_ansible_doc_documents_each_filter():
    result = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "filter", "--json"] +
                            ["fleetops.kdump." + name for name in NAMES],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), check=False,
                            universal_newlines=True)
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)
    for name in NAMES:
        doc = docs["fleetops.kdump." + name]
        assert doc["doc"]["name"] == name
        assert doc["examples"] and doc["return"]


@needs_ansible
def test_filters_from_a_template(tmp_path):
    facts_file = tmp_path / "facts.json"
    facts_file.write_text(json.dumps({"host_facts": FACTS}))
    template = ("{{ {'plan': host_facts | fleetops.kdump.crashkernel_plan('altra', '32M'),"
                " 'reserve': 'crashkernel=512M' | fleetops.kdump.crashkernel_reserve(ram='8G', kernel='6.1.0-27-arm64'),"
                " 'parse': 'crashkernel=1G-:256M' | fleetops.kdump.crashkernel_parse} | to_json }}")
    result = subprocess.run([os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-i", "localhost,",
                             "-e", "@%s" % facts_file, "-m", "ansible.builtin.debug", "-a", "msg=%s" % template],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), check=False,
                            universal_newlines=True)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert '"crashkernel=768M,high", "crashkernel=32M,low"' in out.replace('\\"', '"')
    assert '"region": "low"' in out.replace('\\"', '"')


@needs_ansible
def test_template_error_names_the_variable(tmp_path):
    facts_file = tmp_path / "facts.json"
    facts_file.write_text(json.dumps({"host_facts": FACTS, "kdump_crashkernel": {"2G-64G": "256M"}}))
    result = subprocess.run([os.path.join(BIN, "ansible"), "localhost", "-c", "local", "-i", "localhost,",
                             "-e", "@%s" % facts_file, "-m", "ansible.builtin.debug", "-a",
                             "msg={{ host_facts | fleetops.kdump.crashkernel_plan(kdump_crashkernel) }}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), check=False,
                            universal_newlines=True)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "kdump_crashkernel: a table is a list of {min, max, size} entries" in text
    assert "Traceback" not in text


def test_check_regions_filter_refuses_what_is_not_a_prediction(filters):
    with pytest.raises(AnsibleFilterError, match="low_limit in bytes"):
        filters["crashkernel_check_regions"]({"region": "low", "size": 1}, [], "4G")
    check = filters["crashkernel_check_regions"]({"region": "low", "size": 256 << 20, "low_size": 0},
                                                 [{"start": 0x69000000, "end": 0x79000000, "size": 256 << 20}], 4 << 30)
    assert check["ok"] is True
