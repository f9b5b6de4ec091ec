# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests: parse/format round trip, memparse arithmetic, reserve() and plan() invariants."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.fleetops.kdump.plugins.module_utils import _crashkernel as ck

M, G = 1 << 20, 1 << 30
U64 = (1 << 64) - 1
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RELEASES = {
    "aarch64": ["4.18.0-240.el8.aarch64", "5.10.0-30-arm64", "5.14.0-70.el9.aarch64", "5.14.0-427.el9.aarch64",
                "6.1.0-27-arm64", "6.6.0-14-arm64", "6.12.0-31-arm64", "6.17.0-1-arm64"],
    "x86_64": ["4.19.0-27-amd64", "4.18.0-513.el8.x86_64", "5.15.0-1033-aws", "6.1.0-27-amd64", "6.12.0-31-amd64",
               "6.17.0-1-amd64"],
}

u64 = st.integers(min_value=0, max_value=U64)
offsets = st.one_of(st.none(), u64)


@st.composite
def range_lists(draw):
    count = draw(st.integers(min_value=1, max_value=5))
    entries = []
    for _index in range(count):
        start = draw(st.integers(min_value=0, max_value=U64 - 1))
        end = draw(st.one_of(st.none(), st.integers(min_value=start + 1, max_value=U64)))
        entries.append({"start": start, "end": end, "size": draw(u64)})
    return entries


tokens = st.one_of(
    st.builds(lambda size, offset: {"kind": "simple", "size": size, "ranges": None, "offset": offset}, u64, offsets),
    st.builds(lambda kind, size: {"kind": kind, "size": size, "ranges": None, "offset": None},
              st.sampled_from(["high", "low", "cma"]), u64),
    st.builds(lambda entries, offset: {"kind": "ranges", "size": None, "ranges": entries, "offset": offset},
              range_lists(), offsets),
)
token_lists = st.lists(tokens, max_size=4)


@SETTINGS
@given(token_lists)
def test_parse_format_round_trip(structure):
    text = ck.format_tokens(structure)
    assert ck.parse(text) == structure
    assert ck.format_tokens(ck.parse(text)) == text


@SETTINGS
@given(st.integers(min_value=0, max_value=(1 << 20) - 1), st.sampled_from(["", "K", "M", "G", "T", "P", "E"]),
       st.sampled_from(["dec", "hex", "oct"]), st.booleans())
def test_memparse_is_number_times_suffix(number, suffix, radix, lower):
    text = {"dec": "%d" % number, "hex": "0x%x" % number, "oct": "0%o" % number}[radix]
    letter = suffix.lower() if lower else suffix
    if radix == "hex" and letter.lower() == "e":
        assume(False)  # 'E' is a hex digit: 0x1E is thirty bytes, not one exabyte
    shift = dict(ck.SIZE_SUFFIXES).get(suffix, 0)
    value, end = ck._memparse(text + letter + " rest", 0)
    assert (value, end) == (number << shift, len(text) + len(letter))


@SETTINGS
@given(st.text(alphabet="0123456789abcdefxXKMGTPE@:-,hilowcm =", max_size=40))
def test_parse_never_fails_other_than_with_crashkernel_error(text):
    try:
        result = ck.parse("crashkernel=" + text)
    except ck.CrashkernelError:
        return
    assert ck.parse(ck.format_tokens(result)) == result


@SETTINGS
@given(st.text(max_size=60), st.sampled_from(["aarch64", "x86_64"]), st.data())
def test_reserve_reads_any_text_command_line_and_refuses_control_characters(text, arch, data):
    kernel = data.draw(st.sampled_from(RELEASES[arch]))
    if re.search(r"[\x00-\x08\x0e-\x1f\x7f]", text):  # no kernel command line holds one
        with pytest.raises(ck.CrashkernelError, match="control character"):
            ck.reserve(text, 64 * G, arch=arch, kernel=kernel)
        return
    result = ck.reserve(text, 64 * G, arch=arch, kernel=kernel)
    assert result["region"] in ("low", "high", "fixed", "none")


@SETTINGS
@given(token_lists, st.sampled_from(["aarch64", "x86_64"]), st.integers(min_value=128 * M, max_value=1 << 43),
       st.data())
def test_reserve_invariants(structure, arch, ram, data):
    kernel = data.draw(st.sampled_from(RELEASES[arch]))
    low_ram = data.draw(st.one_of(st.none(), st.integers(min_value=0, max_value=min(ram, 4 * G))))
    cmdline = "root=/dev/vda1 " + ck.format_tokens(structure)
    result = ck.reserve(cmdline, ram, arch=arch, kernel=kernel, low_ram=low_ram)
    if result["region"] == "none":
        assert (result["size"], result["low_size"], result["base"], result["cma_size"]) == (0, 0, None, 0)
        assert result["cause"] in ck.CAUSE_FIXES
    else:
        assert result["cause"] is None
        assert 0 < result["size"] < ram
        assert result["low_size"] == 0 or result["region"] in ("high", "fixed")
        if low_ram is not None:
            usable = low_ram - ck.LOW_MARGIN
            if result["region"] == "low":
                assert result["size"] <= usable
            if result["region"] == "high":
                assert result["size"] <= ram - low_ram
            assert result["low_size"] <= max(usable, 0)
        if result["region"] == "fixed":
            assert result["base"]
    if not structure:
        assert result["cause"] == "no-crashkernel"


@SETTINGS
@given(range_lists(), st.integers(min_value=128 * M, max_value=1 << 43), st.sampled_from(RELEASES["aarch64"]))
def test_ranges_pick_an_entry_or_nothing(entries, ram, kernel):
    token = {"kind": "ranges", "size": None, "ranges": entries, "offset": None}
    result = ck.reserve(ck.format_tokens(token), ram, kernel=kernel)
    model = ck.kernel_model("aarch64", kernel)
    table = [(entry["start"], entry["end"], entry["size"]) for entry in entries]
    picked, _why = ck.select_range(table, ram, model["roundup"])
    if picked is None or picked == 0:
        assert result["region"] == "none"
    elif result["region"] != "none":
        aligned = -(-picked // 4096) * 4096 if model["name"] != ck.MODEL_GENERIC else picked
        assert result["size"] == aligned


@SETTINGS
@given(token_lists)
def test_kernel_reads_the_last_plain_token_like_parse(structure):
    plain = [token for token in structure if token["kind"] == "simple"]
    assume(plain and structure[-1]["kind"] == "simple")
    model = ck.kernel_model("x86_64", "6.17.0-1-amd64")
    status, size, base, _message, _token = ck._k_parse(ck.format_tokens(structure), 1 << 62, None, model)
    assert (status, size, base) == ("ok", plain[-1]["size"], plain[-1]["offset"] or 0)


@st.composite
def host_facts(draw):
    arch = draw(st.sampled_from(["aarch64", "x86_64"]))
    total = draw(st.integers(min_value=512 * M, max_value=1 << 42))
    low = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=min(total, 4 * G))))
    return {
        "platform": {"arch": arch, "is_altra": arch == "aarch64" and draw(st.booleans()),
                     "page_size": draw(st.sampled_from([4096, 65536])) if arch == "aarch64" else 4096},
        "memory": {"total_bytes": total, "low_bytes": low},
        "kernel": {"release": draw(st.sampled_from(RELEASES[arch])),
                   "cmdline": draw(st.sampled_from(["root=/dev/sda1", "root=/dev/sda1 crashkernel=256M",
                                                    "swiotlb=131072 crashkernel=1G,high"]))},
        "software": {"kexec_tools_version": "2.0.25"},
    }


@SETTINGS
@given(host_facts(), st.sampled_from(["auto", "altra", "kdump-utils", "debian", "512M", "1G-:256M",
                                      "768M,high 16M,low"]),
       st.sampled_from([None, "0", "16M", "128M"]))
def test_plan_invariants(facts, policy, low):
    result = ck.plan(facts, policy, low)
    expected = result["expected"]
    errors = [finding for finding in result["findings"] if finding["severity"] == "error"]
    assert all(arg.startswith("crashkernel=") for arg in result["args"])
    assert ck.parse(" ".join(result["args"])) is not None
    kept = [word for word in facts["kernel"]["cmdline"].split() if not word.startswith("crashkernel=")]
    again = ck.reserve(kept + result["args"], facts["memory"]["total_bytes"],
                       arch=facts["platform"]["arch"], kernel=facts["kernel"]["release"],
                       low_ram=facts["memory"]["low_bytes"], page_size=facts["platform"]["page_size"])
    assert again == expected
    # nothing reserved is an error; otherwise only a size no capture kernel boots in or the altra policy off Altra
    if expected["region"] == "none":
        assert errors
    else:
        assert {finding["id"] for finding in errors} <= {"crashkernel-too-small", "crashkernel-policy-mismatch"}
    if not errors:
        assert expected["size"] + expected["low_size"] < facts["memory"]["total_bytes"]
    model = ck.kernel_model(facts["platform"]["arch"], facts["kernel"]["release"])
    wants_high_low = facts["platform"]["is_altra"] and policy in ("auto", "altra") or \
        low is not None and policy in ("auto", "altra", "kdump-utils", "debian")
    if wants_high_low and model["name"] != ck.MODEL_ARM64_LEGACY and len(result["args"]) == 2:
        assert result["args"][0].endswith(",high") and result["args"][1].endswith(",low")
