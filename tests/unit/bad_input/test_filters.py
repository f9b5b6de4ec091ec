"""Bad input to the filters, table-driven: each case names the exact outcome (the error's key words, the
finding id or the value). Facts come from the captured Debian 13 amd64 tree (tests/fixtures/hosts)."""
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.fleetops.kdump.plugins.filter.crashkernel import FilterModule
from ansible_collections.fleetops.kdump.plugins.filter.variables import FilterModule as VariablesFilters
from ansible_collections.fleetops.kdump.plugins.modules.kdump_facts import gather_facts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TREE = os.path.join(REPO, "tests", "fixtures", "hosts", "debian13-amd64-qemu")
M, G = 1 << 20, 1 << 30
F = dict(FilterModule().filters(), **VariablesFilters().filters())


@pytest.fixture(scope="module")
def facts():
    return gather_facts(TREE)


def refused(call, *words):
    with pytest.raises(AnsibleFilterError) as caught:
        call()
    text = str(caught.value)
    missing = [word for word in words if word not in text]
    assert not missing, "%r lacks %r" % (text, missing)


POLICIES = [
    ("512", ["without a unit", "crashkernel=512M?"]),
    ("1G-:256", ["'256'", "crashkernel=1G-:256M?"]),
    ("256M@16", ["'16'", "256M@16M"]),
    ("0-2G:128,2G-:256M", ["'128'", "0-2G:128M,2G-:256M"]),
    ("768M,high 16,low", ["'16'", "16M,low"]),
    ("crashkernel=512", ["without a unit"]),
    ("0", ["crashkernel=0 reserves nothing"]),
    ("0,high 16M,low", ["crashkernel=0,high reserves nothing"]),
    ("768M,high\t16M,low", ["unrecognized char"]),
    (512, ["512 is a bare number", "did you mean '512M'?"]),
    (-512, ["-512 is not usable", "not a bare number"]),
    (1 << 70, ["1180591620717411303424 is not usable"]),
    (12.5, ["not usable"]),
    (True, ["not usable"]),
    ("", ["is empty"]),
    ("   ", ["is empty"]),
    ("bogus", ["neither a preset", "memory value expected"]),
    ("crashkernel=", ["memory value expected"]),
    ("2T", ["asks for 2 TiB", "MiB (M)"]),
    ("16E", ["overflows 64 bits"]),
    ("99999999999999999999999M", ["overflows 64 bits"]),
    ("512M,hihg", ["known suffixes are ,high ,low and ,cma"]),
    ("1G-512M:128M", ["end <= start"]),
    ("1G:128M", ["'-' expected"]),
    ("-1G:128M", ["Memory value expected"]),
    ("1G-:", ["Memory value expected"]),
    ("root=/dev/sda1", ["holds no crashkernel value"]),
    ("512M@", ["nothing usable follows '@'"]),
    ("512M@16M trailing", ["neither a preset"]),
    ("M512", ["no digits"]),
    ("1G-:256M@1G,2G", ["silently ignores"]),
    ({"min": "2G", "size": "256M"}, ["not a mapping"]),
    ([], ["non-empty list"]),
    ([{"min": "2G"}], ["needs 'min' and 'size'"]),
    ([{"min": 2, "size": "256M"}], ["entry 1 min", "'2G'"]),
    ([{"min": "2G", "size": 256}], ["entry 1 size", "'256M'"]),
    ([{"min": "2G", "size": 268435456}], ["entry 1 size", "'256M'"]),
    ([{"min": "2G", "max": 64, "size": "256M"}], ["entry 1 max", "'64G'"]),
    ([{"min": "2G", "size": "0"}], ["size 0 reserves nothing"]),
    ([{"min": "2G", "max": "1G", "size": "256M"}], ["not above min"]),
    ([{"min": "2G", "size": "256M", "sise": 1}], ["unknown key(s) sise"]),
    ([{"min": "0", "max": "4G", "size": "128M"}, {"min": "2G", "size": "256M"}], ["overlap"]),
    ([{"min": "2G", "size": "256M"}, {"min": "2G", "size": "512M"}], ["overlap"]),
    (["2G"], ["expected a mapping"]),
    ([{"min": "2G", "size": "-256M"}], ["not a size"]),
    ([{"min": "2G", "size": 1.5}], ["expected a size"]),
    ([{"min": True, "size": "256M"}], ["expected a size"]),
    ("0x10", ["16 bytes", "less than 1 MiB", "did you mean '16M'"]),
    ("64K", ["65536 bytes", "did you mean '64M'"]),
    ("1G-:0x100", ["256 bytes", "less than 1 MiB"]),
    ("0256", ["leading 0", "octal", "'256M'"]),
    ("0256M", ["leading 0", "octal (0256 is 174)"]),
    ("512M@010", ["leading 0", "octal"]),
    ("512M crashkernel=256M", ["mixes crashkernel= values with '512M'"]),
    ("crashkernel=256M quiet", ["mixes crashkernel= values with 'quiet'"]),
    ([{"min": "2G", "size": "0x100"}], ["less than 1 MiB"]),
    ([{"min": "2G", "size": "2T"}], ["asks for 2 TiB"]),
    ([{"min": "02G", "size": "256M"}], ["octal", "e.g. '2G'"]),
    ("1G-064G:256M", ["octal", "e.g. '64G'"]),
]


@pytest.mark.parametrize("policy, words", POLICIES, ids=[repr(p[0])[:40] for p in POLICIES])
def test_bad_policy_is_refused_naming_the_fix(facts, policy, words):
    refused(lambda: F["crashkernel_plan"](facts, policy), "kdump_crashkernel", *words)


LOWS = [
    (16, ["kdump_crashkernel_low", "did you mean '16M'"]),
    ("16", ["kdump_crashkernel_low", "did you mean '16M'"]),
    ("-16M", ["kdump_crashkernel_low", "not a size"]),
    (-16, ["kdump_crashkernel_low", "negative"]),
    (1.5, ["kdump_crashkernel_low", "expected a size"]),
    (float("nan"), ["kdump_crashkernel_low", "expected a size"]),
    ("16Q", ["kdump_crashkernel_low", "not a size"]),
    ("16E", ["kdump_crashkernel_low", "overflows 64 bits"]),
    (["16M"], ["kdump_crashkernel_low", "expected a size"]),
    (True, ["kdump_crashkernel_low", "expected a size"]),
    ("0x10", ["kdump_crashkernel_low", "less than 1 MiB"]),
    ("15E", ["kdump_crashkernel_low", "asks for"]),
    ("2T", ["kdump_crashkernel_low", "asks for 2 TiB"]),
    ("016", ["kdump_crashkernel_low", "octal (016 is 14)", "'16M'"]),
    ("016M", ["kdump_crashkernel_low", "octal"]),
]


@pytest.mark.parametrize("low, words", LOWS, ids=[repr(p[0]) for p in LOWS])
def test_bad_low_size_is_refused(facts, low, words):
    refused(lambda: F["crashkernel_plan"](facts, "768M,high", low), *words)


@pytest.mark.parametrize("low, expected_low", [("0", 0), (0, 0), ("32M", 32 * M), ("0x2000000", 32 * M),
                                               ("auto", None), ("", None), (None, None)])
def test_good_low_sizes(facts, low, expected_low):
    result = F["crashkernel_plan"](facts, "768M,high", low)
    if expected_low is None:
        assert result["args"] == ["crashkernel=768M,high"]
    elif expected_low == 0:
        assert result["args"] == ["crashkernel=768M,high", "crashkernel=0,low"]
    else:
        assert result["args"][-1] == "crashkernel=32M,low"


@pytest.mark.parametrize("policy, low, finding, severity, words", [
    ("1M", None, "crashkernel-too-small", "error", ["would reserve 1 MiB", "less than 64 MiB"]),
    ("32M", None, "crashkernel-too-small", "error", ["32 MiB"]),
    ("512M-:2M", None, "crashkernel-too-small", "error", ["2 MiB"]),
    ("768M,high", "1M", "crashkernel-low-too-small", "warning", ["The low region is 1 MiB", "swiotlb"]),
    ("altra", None, "crashkernel-policy-mismatch", "error", ["this host is x86_64"]),
    ("Altra", None, "crashkernel-policy-mismatch", "error", ["this host is x86_64"]),
])
def test_a_plan_too_small_or_for_another_platform_is_a_finding(facts, policy, low, finding, severity, words):
    result = F["crashkernel_plan"](facts, policy, low)
    hits = [item for item in result["findings"] if item["id"] == finding]
    assert hits and hits[0]["severity"] == severity, result["findings"]
    assert all(word in hits[0]["message"] for word in words), hits[0]["message"]


def test_overlapping_explicit_ranges_warn_and_name_the_winner(facts):
    result = F["crashkernel_plan"](facts, "0-4G:128M,2G-:256M")
    found = [item for item in result["findings"] if item["id"] == "crashkernel-ranges-overlap"]
    assert found and found[0]["severity"] == "warning"
    assert "so 0-4G:128M wins" in found[0]["message"]
    assert result["expected"]["size"] == 128 * M  # 3 GiB guest: the first match


def test_every_overlapping_pair_is_named(facts):
    result = F["crashkernel_plan"](facts, "1G-4G:128M,4G-8G:256M,2G-6G:512M")
    message = [item for item in result["findings"] if item["id"] == "crashkernel-ranges-overlap"][0]["message"]
    assert "1G-4G:128M and 2G-6G:512M overlap" in message and "4G-8G:256M and 2G-6G:512M overlap" in message


def test_many_overlapping_ranges_name_five_pairs_and_count_the_rest_quickly(facts):
    policy = ",".join("%dM-:%dM" % (16 + index, 1 + index % 4) for index in range(3000))  # 4.5 million pairs
    result = F["crashkernel_plan"](facts, policy)
    message = [item for item in result["findings"] if item["id"] == "crashkernel-ranges-overlap"][0]["message"]
    assert message.count("wins where they overlap") == 5 and "4498495 more pairs of ranges overlap" in message
    assert len(message) < 1000


def test_a_table_too_long_for_the_command_line_is_an_error(facts):
    table = [{"min": "%dM" % (16 + 16 * index), "max": "%dM" % (32 + 16 * index), "size": "1M"} for index in range(200)]
    result = F["crashkernel_plan"](facts, table)
    found = [item for item in result["findings"] if item["id"] == "crashkernel-cmdline-too-long"]
    assert found and found[0]["severity"] == "error" and "keeps the first 2047" in found[0]["message"]


def test_a_long_policy_is_refused_with_a_short_message(facts):
    with pytest.raises(AnsibleFilterError) as caught:
        F["crashkernel_plan"](facts, "1G-2G:64M," * 8000 + "2G-:128M")
    assert "characters long" in str(caught.value) and len(str(caught.value)) < 1000


@pytest.mark.parametrize("key, value, words", [
    ("page_size", "65536", ["platform.page_size is '65536'"]),
    ("page_size", 8192, ["platform.page_size is 8192"]),
    ("page_size", True, ["platform.page_size is True"]),
    ("arm_smmu", "false", ["platform.arm_smmu is 'false'", "true, false or null"]),
    ("mlx5", 1, ["platform.mlx5 is 1"]),
])
def test_malformed_platform_facts_give_no_plan(facts, key, value, words):
    broken = dict(facts, platform=dict(facts["platform"], **{key: value}))
    result = F["crashkernel_plan"](broken)
    assert result["args"] == [] and result["expected"]["cause"] == "facts-incomplete"
    message = result["findings"][-1]["message"]
    assert all(word in message for word in words), message


@pytest.mark.parametrize("low", [-1, "1G", 1.5e9, True, 1 << 40])
def test_contradictory_low_memory_gives_no_plan(facts, low):
    result = F["crashkernel_plan"](dict(facts, memory=dict(facts["memory"], low_bytes=low)))
    assert result["args"] == [] and "memory.low_bytes is %r" % (low,) in result["findings"][-1]["message"]


@pytest.mark.parametrize("key, value", [("page_size", 4096.0), ("is_altra", "true"), ("is_altra", 1)])
def test_platform_facts_of_the_wrong_type_give_no_plan(facts, key, value):
    result = F["crashkernel_plan"](dict(facts, platform=dict(facts["platform"], **{key: value})))
    assert result["args"] == [] and result["expected"]["cause"] == "facts-incomplete"


def test_unknown_page_size_is_assumed_4k(facts):
    result = F["crashkernel_plan"](dict(facts, platform=dict(facts["platform"], page_size=None)))
    assert result["args"] == ["crashkernel=2G-64G:256M,64G-:512M"]


def test_hex_sizes_are_bytes_on_purpose(facts):
    assert F["crashkernel_plan"](facts, "0x10000000")["expected"]["size"] == 256 * M


@pytest.mark.parametrize("facts_in, words", [
    (None, ["expects ansible_facts.kdump"]),
    ("x", ["expects ansible_facts.kdump"]),
    ([], ["expects ansible_facts.kdump"]),
])
def test_plan_refuses_what_is_not_facts(facts_in, words):
    refused(lambda: F["crashkernel_plan"](facts_in), *words)


@pytest.mark.parametrize("total", [None, "lots", -5, 0, 1 << 70, True])
def test_plan_from_unusable_ram_is_no_plan(facts, total):
    broken = dict(facts, memory=dict(facts["memory"], total_bytes=total))
    result = F["crashkernel_plan"](broken)
    assert result["args"] == [] and result["expected"]["region"] == "none"


RESERVE = [
    ({"ram": 8}, ["ram", "less than any machine", "'8G'"]),
    ({"ram": "8"}, ["ram", "no unit", "'8G'"]),
    ({"ram": -1}, ["ram", "outside 0 .. 2^64-1"]),
    ({"ram": None}, ["ram", "expected a size"]),
    ({"ram": 8.5e9}, ["ram", "expected a size"]),
    ({"ram": True}, ["ram", "expected a size"]),
    ({"ram": "8X"}, ["ram", "not a size"]),
    ({"ram": "8G", "arch": "sparc"}, ["arch", "not modelled"]),
    ({"ram": "8G", "kernel": "banana"}, ["kernel", "not a kernel release"]),
    ({"ram": "8G", "page_size": 3}, ["page_size", "4096"]),
    ({"ram": "8G", "page_size": "4K"}, ["page_size", "4096"]),
    ({"ram": "8G", "low_margin": "1"}, ["low_margin", "no unit", "'1M'"]),
    ({"ram": "8G", "low_ram": "9G"}, ["low_ram", "more than ram"]),
    ({"ram": "8G", "low_ram": "3"}, ["low_ram", "no unit"]),
    ({"ram": 1 << 65}, ["ram", "outside 0 .. 2^64-1"]),
    ({"ram": "1E"}, ["ram", "more than any machine"]),
    ({"ram": "16K"}, ["ram", "less than any machine", "'16G'"]),
    ({"ram": "5P"}, ["ram", "more than any machine"]),
    ({"ram": "8G", "low_margin": "1E"}, ["low_margin", "more than all low memory"]),
    ({"ram": "8G", "page_size": 8192}, ["page_size", "4096"]),
    ({"ram": "8G", "page_size": 1 << 40}, ["page_size", "4096"]),
    ({"ram": "8G", "kernel": ""}, ["kernel: '' is not a kernel release", "leave it out"]),
    ({"ram": "8G", "kernel": 6}, ["kernel: 6 is not a kernel release"]),
    ({"ram": "8G", "page_size": 4096.0}, ["page_size", "4096"]),
    # the hint names a RAM size a machine has: GiB, else MiB, never 1048576G
    ({"ram": 1048576}, ["ram: 1048576 bytes is less than any machine", "such as '1T'"]),
    ({"ram": "1048576"}, ["ram: 1048576 has no unit", "did you mean '1T'?"]),
    ({"ram": "0"}, ["ram: 0 bytes is less than any machine", "'64G'"]),
    ({"ram": "0", "low_ram": "0"}, ["ram: 0 bytes"]),
]


@pytest.mark.parametrize("kwargs, words", RESERVE, ids=[str(sorted(c[0].items()))[:50] for c in RESERVE])
def test_bad_reserve_arguments_are_refused(kwargs, words):
    kwargs = dict(kwargs)
    ram = kwargs.pop("ram")
    refused(lambda: F["crashkernel_reserve"]("crashkernel=256M", ram, **kwargs), "crashkernel_reserve", *words)


@pytest.mark.parametrize("cmdline", ["crashkernel=512M\x00crashkernel=1G", "quiet\x1bcrashkernel=1G"])
def test_reserve_refuses_a_command_line_with_a_control_character(cmdline):
    refused(lambda: F["crashkernel_reserve"](cmdline, "8G"), "cmdline", "control character", "one C string")


@pytest.mark.parametrize("cmdline", [5, {"a": 1}, [5], 1.5])
def test_reserve_refuses_a_command_line_that_is_not_text(cmdline):
    refused(lambda: F["crashkernel_reserve"](cmdline, "8G"), "cmdline")


@pytest.mark.parametrize("text, size", [
    ("crashkernel=256", 256),  # a host's command line is read as its kernel reads it
    ("quiet crashkernel=256M", 256 * M),
    ("crashkernel=0x10000000", 256 * M),
    ("quiet\tcrashkernel=256M", 256 * M),  # found by substring, as the kernel's strstr finds it
])
def test_parse_reads_host_command_lines_as_the_kernel(text, size):
    assert F["crashkernel_parse"](text)[0]["size"] == size


@pytest.mark.parametrize("value, words", [
    (5, ["expects text"]),
    (None, ["expects text"]),
    ("crashkernel=1G-:", ["Memory value expected"]),
    ("crashkernel=512M,hihg", ["unrecognized char"]),
    ("crashkernel=256M\tquiet", ["unrecognized char: \t"]),  # a value ends at a space only
    ("crashkernel=512M " * 6000, ["characters long", "64 KiB"]),
])
def test_parse_refuses(value, words):
    refused(lambda: F["crashkernel_parse"](value), "crashkernel_parse", *words)


@pytest.mark.parametrize("structure, words", [
    ("x", ["expects a token dict"]),
    ([{"kind": "simple", "size": -1}], ["outside 0 .. 2^64-1"]),
    ([{"kind": "nope"}], ["kind must be one of"]),
    ([5], ["must be a dict"]),
])
def test_format_refuses(structure, words):
    refused(lambda: F["crashkernel_format"](structure), "crashkernel_format", *words)


@pytest.mark.parametrize("args", [("x", [], 0), ({}, "x", 0), ({}, [], True), ({}, [], "4G")])
def test_check_regions_refuses_wrong_shapes(args):
    refused(lambda: F["crashkernel_check_regions"](*args), "crashkernel_check_regions", "expects")


EXPECTED = {"region": "high", "size": 512 * M, "low_size": 16 * M, "base": None}


@pytest.mark.parametrize("expected, regions, words", [
    (EXPECTED, [{"start": 0}], ["regions must be"]),
    (EXPECTED, [None], ["regions must be"]),
    (EXPECTED, ["abc"], ["regions must be"]),
    (EXPECTED, [{"start": "0", "end": 1, "size": 1}], ["regions must be"]),
    (EXPECTED, [{"start": 5, "end": 1, "size": 1}], ["start < end"]),
    ({"region": "fixed", "size": 5, "base": None}, [], ["base an address"]),
    ({"region": "weird", "size": 5}, [], ["expected must be"]),
    ({"region": "high", "size": "1"}, [], ["expected must be"]),
    ({"region": "high", "size": -1}, [], ["expected must be"]),
    ({"region": "low"}, [], ["expected must be"]),
    ({"region": "high", "size": 0, "low_size": 0}, [], ["size above 0 unless region is none"]),
    ({"region": "none", "size": 0, "low_size": 16 * M, "base": None}, [], ["both 0 when it is"]),
    ({"region": "low", "size": 5}, [], ["expected must be"]),  # no low_size: not a reserve() result
    (EXPECTED, [{"start": 0, "end": 1, "size": 1 << 29}], ["size = end - start"]),
    (EXPECTED, [{"start": 0, "end": 1}] * 50000, ["regions must be", "characters)"]),  # a short message
])
def test_check_regions_refuses_malformed_items(expected, regions, words):
    refused(lambda: F["crashkernel_check_regions"](expected, regions, 4 * G), "crashkernel_check_regions", *words)


REGION = {"start": 0x10000000, "end": 0x30000000, "size": 0x20000000}


@pytest.mark.parametrize("regions, low_limit, words", [
    ([REGION, REGION], 4 * G, ["regions 0x10000000-0x2fffffff and 0x10000000-0x2fffffff repeat"]),
    ([REGION, {"start": 0x20000000, "end": 0x21000000, "size": 0x1000000}], 4 * G, ["overlap", "never lists"]),
    ([REGION], 0, ["low_limit must be an address in bytes of at least 16 MiB", "got 0"]),
    ([REGION], 4096, ["at least 16 MiB"]),
])
def test_check_regions_refuses_regions_no_iomem_holds_and_a_low_limit_no_kernel_has(regions, low_limit, words):
    refused(lambda: F["crashkernel_check_regions"](EXPECTED, regions, low_limit), "crashkernel_check_regions", *words)


@pytest.mark.parametrize("text, words", [
    ("256 M", ["'256 M' splits at whitespace into 2 values", "value 2 'M'", "has no digits"]),
    ("512M 1Q", ["value 2 '1Q'"]),
])
def test_parse_names_the_value_of_a_text_with_spaces(text, words):
    refused(lambda: F["crashkernel_parse"](text), "crashkernel_parse", *words)


SPECS = [{"argument_specs": {"main": {"options": {"kdump_crashkernel": {}, "kdump_crashkernel_low": {}}}}}]


@pytest.mark.parametrize("names, expected", [
    (["kdump_crashkernal"], [{"name": "kdump_crashkernal", "closest": "kdump_crashkernel"}]),
    (["kdump_crashkernel_lo"], [{"name": "kdump_crashkernel_lo", "closest": "kdump_crashkernel_low"}]),
    (["kdump_zzz"], [{"name": "kdump_zzz", "closest": None}]),
    (["kdump_crashkernel", "kdump_crashkernel_low"], []),
    (["crash_test_confirn", "other_var"], []),
    (["kdump_assessment"], []),
    (["kdump_" + "a" * 100000], [{"name": "kdump_" + "a" * 100000, "closest": None}]),  # no quadratic difflib
])
def test_unknown_variables(names, expected):
    assert F["unknown_variables"](names, SPECS, ["kdump_"], ["kdump_assessment"]) == expected


@pytest.mark.parametrize("args", [("kdump_x", SPECS, ["kdump_"]), (["kdump_x"], "x", ["kdump_"]),
                                  (["kdump_x"], SPECS, "kdump_"), (["kdump_x"], SPECS, ["kdump_"], 5),
                                  (["kdump_x"], SPECS, ["kdump_"], "kdump_x"), (["kdump_x"], [None, "x"], ["kdump_"]),
                                  (["kdump_x"], SPECS, [None]), (["kdump_x"], SPECS, []), (["kdump_x"], SPECS, [""])])
def test_unknown_variables_refuses_wrong_shapes(args):
    refused(lambda: F["unknown_variables"](*args), "unknown_variables", "expects")


TYPED_SPECS = [{"argument_specs": {"main": {"options": {
    "kdump_capture_cmdline_append": {"type": "list", "elements": "str"}, "kdump_target": {"type": "dict"},
    "kdump_accept_findings": {"type": "list", "elements": "str"}, "kdump_dump_level": {"type": "int"}}}}}]


@pytest.mark.parametrize("values, errors, warnings", [
    ({"kdump_capture_cmdline_append": "irqpoll"}, ["kdump_capture_cmdline_append is 'irqpoll', not a list"], []),
    ({"kdump_capture_cmdline_append": ["irqpoll", 5]}, ["kdump_capture_cmdline_append item 2 is 5, not a str"], []),
    ({"kdump_capture_cmdline_append": None}, [], []),
    ({"kdump_target": "type=local"}, ["kdump_target is 'type=local', not a mapping"], []),
    ({"kdump_target": ["local"]}, ["kdump_target is ['local'], not a mapping"], []),
    ({"kdump_dump_level": "31"}, [], []),  # -e gives strings; the role reads it through | int
    # probe 12 S5: ansible-core's int check takes true as 1, the role would write "-d True"
    ({"kdump_dump_level": True}, ["kdump_dump_level is True (a boolean), not a number"], []),
    ({"kdump_dump_level": 0}, [], []),
    ({"kdump_accept_findings": ["kexec-no-text-symbol"]}, [], []),
    ({"kdump_accept_findings": [True]}, ["kdump_accept_findings item 1 is True, not a str",
                                         "kdump_accept_findings item 1 is True, not a finding id"], []),
    ({"kdump_accept_findings": ["kexec no text"]}, ["item 1 is 'kexec no text', not a finding id"], []),
    ({"kdump_accept_findings": ["input-implausible"]}, [], ["lists input-implausible, which cannot be accepted"]),
    ({"kdump_unknown": "x"}, [], []),
    # paths the role hands to a shell on the host: one absolute word each (one rule, _variables.shell_word_problem)
    ({"kdump_path": "/var/crash dumps"}, ["kdump_path '/var/crash dumps' holds a space"], []),
    ({"kdump_path": "/var/crash~"}, ["kdump_path '/var/crash~' holds '~'"], []),
    ({"kdump_target": {"type": "ssh", "location": "k@d", "path": "/var/crash", "ssh_key": "/root/.ssh/k"}}, [], []),
    ({"kdump_target": {"type": "ssh", "location": "k@d", "path": "/tmp/x"}}, [], []),  # on the server: not ours
    # kdump_path is a dump directory whatever the target (as before target paths had their own rule)
    ({"kdump_path": "/tmp/crash", "kdump_target": {"type": "ssh", "location": "k@d"}}, ["is under /tmp"], []),
    ({"kdump_target": {"type": "nfs", "location": "s:/e", "path": "crash"}}, ["kdump_target.path 'crash' is relative"],
     []),
    ({"kdump_target": {"type": "ssh", "location": "k@d", "ssh_key": "id_rsa"}},
     ["kdump_target.ssh_key 'id_rsa' is relative; give an absolute path such as /root/.ssh/kdump_id_rsa"], []),
    ({"kdump_target": {"type": "ssh", "location": "k@d", "ssh_key": "/root/a;b"}}, ["holds ';'"], []),
    ({"kdump_path": "/var/crash", "kdump_target": {"type": "local", "path": "/var/crash"}}, [], []),
    ({"kdump_target": {"type": "ssh", "location": "k@10.0.2.2", "port": 40022, "server": "dumpsrv"}}, [], []),
    ({"kdump_target": {"type": "ssh", "location": "k@d", "port": 0}}, ["kdump_target.port 0 is not a TCP port"], []),
    ({"kdump_target": {"type": "ssh", "location": "k@d", "port": 70000}}, ["from 1 to 65535"], []),
    ({"kdump_target": {"type": "ssh", "location": "k@d", "server": "dump srv"}},
     ["kdump_target.server 'dump srv' is not an inventory host name"], []),
])
def test_role_inputs_are_checked_as_the_role_reads_them(values, errors, warnings):
    found = F["role_input_problems"](values, TYPED_SPECS, ["input-implausible"])
    assert len(found["errors"]) == len(errors) and all(
        word in problem for word, problem in zip(errors, found["errors"])), found
    assert len(found["warnings"]) == len(warnings) and all(
        word in problem for word, problem in zip(warnings, found["warnings"])), found


@pytest.mark.parametrize("args", [("x", TYPED_SPECS, []), ({}, "x", []), ({}, TYPED_SPECS, "x")])
def test_role_input_problems_refuses_wrong_shapes(args):
    refused(lambda: F["role_input_problems"](*args), "role_input_problems", "expects")


def test_a_long_unknown_variable_name_is_cut_in_the_warning():
    from ansible_collections.fleetops.kdump.plugins.module_utils._variables import warning_text
    text = warning_text({"name": "kdump_" + "a" * 100000, "closest": None})
    assert len(text) < 250 and "(100006 characters)" in text


def test_reserve_refuses_a_command_line_longer_than_any_kernel_takes():
    refused(lambda: F["crashkernel_reserve"]("crashkernel=" * 6000, "8G"), "cmdline", "longer than any kernel")


@pytest.mark.parametrize("word", ["foo.crashkernel=2G", "xcrashkernel=1G", "rd.crashkernel=256M"])
def test_a_stray_crashkernel_word_on_the_command_line_blocks_the_plan(facts, word):
    broken = dict(facts, kernel=dict(facts["kernel"], cmdline="ro quiet " + word))
    found = [item for item in F["crashkernel_plan"](broken)["findings"] if item["id"] == "crashkernel-stray-argument"]
    assert found and found[0]["severity"] == "error" and word in found[0]["message"]
    assert "with it the kernel reads: The last plain crashkernel= is 'crashkernel=" in found[0]["message"]


@pytest.mark.parametrize("space", ["\xa0", "\x85", "\u2028", "\u3000", "\x1c"])
def test_a_stray_crashkernel_behind_unicode_whitespace_blocks_the_plan(facts, space):
    """The kernel splits at spaces only; Python's str.split() would split at these and hide the word."""
    broken = dict(facts, kernel=dict(facts["kernel"], cmdline="ro quiet%scrashkernel=2G" % space))
    assert "crashkernel-stray-argument" in [item["id"] for item in F["crashkernel_plan"](broken)["findings"]]


def test_a_crashkernel_after_the_init_separator_blocks_the_plan(facts):
    broken = dict(facts, kernel=dict(facts["kernel"], cmdline="root=/dev/sda ro -- crashkernel=64M"))
    found = [item for item in F["crashkernel_plan"](broken)["findings"] if item["id"] == "crashkernel-stray-argument"]
    assert found and "crashkernel=64M" in found[0]["message"]


def test_a_version_of_thousands_of_digits_is_unknown_not_an_error(facts):
    huge = dict(facts, software=dict(facts["software"], kexec_tools_version="2." + "9" * 5000))
    assert F["crashkernel_plan"](huge)["args"]  # planned; the version simply counts as unknown


def test_facts_holding_an_implausible_input_give_no_plan_even_where_the_values_look_whole(facts):
    finding = {"id": "input-implausible", "severity": "error",
               "message": "/sys/kernel/kexec_crash_size cannot be believed: it says 768 MiB, iomem 0"}
    result = F["crashkernel_plan"](dict(facts, findings=list(facts["findings"]) + [finding]))
    assert result["args"] == [] and result["expected"]["cause"] == "facts-incomplete"
    assert "kexec_crash_size cannot be believed" in result["findings"][-1]["message"]


def test_a_rhel9_arm64_release_whose_build_cannot_be_read_is_planned_for_the_older_kernels(facts):
    arm = dict(facts, kernel=dict(facts["kernel"], release="5.14.0-abc.el9.aarch64"),
               platform=dict(facts["platform"], arch="aarch64", is_altra=False), capabilities={})
    result = F["crashkernel_plan"](arm, "kdump-utils")
    assert result["expected"]["model"] == "arm64-legacy" and all(",high" not in arg for arg in result["args"])


def test_an_implausible_cpu_list_warning_still_plans(facts):
    finding = {"id": "input-implausible", "severity": "warning",
               "message": "/sys/devices/system/cpu/online cannot be believed: it counts 80 CPUs, but /proc/cpuinfo lists 2"}
    result = F["crashkernel_plan"](dict(facts, findings=list(facts["findings"]) + [finding]))
    assert result["args"] == ["crashkernel=2G-64G:256M,64G-:512M"]


@pytest.mark.parametrize("finding", [{"id": "input-implausible"}, {"id": "input-implausible", "message": ""}])
def test_an_implausible_finding_without_a_message_still_stops_the_plan(facts, finding):
    result = F["crashkernel_plan"](dict(facts, findings=[finding]))
    assert result["args"] == [] and result["expected"]["cause"] == "facts-incomplete"


@pytest.mark.parametrize("arch, release", [("x86_64", "6.1.94-99.176.amzn2023.aarch64"),
                                           ("aarch64", "5.14.0-427.el9.x86_64")])
def test_an_arch_the_release_contradicts_gives_no_plan(facts, arch, release):
    result = F["crashkernel_plan"](dict(facts, platform=dict(facts["platform"], arch=arch, is_altra=False),
                                        kernel=dict(facts["kernel"], release=release)), "kdump-utils")
    assert result["args"] == [] and "names" in result["findings"][-1]["message"]
