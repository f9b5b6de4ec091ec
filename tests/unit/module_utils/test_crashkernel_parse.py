# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""crashkernel_parse / crashkernel_format: structure, canonical text, and the kernel's complaints."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils import _crashkernel as ck

K, M, G = 1 << 10, 1 << 20, 1 << 30


def simple(size, offset=None):
    return {"kind": "simple", "size": size, "ranges": None, "offset": offset}


def suffix(kind, size):
    return {"kind": kind, "size": size, "ranges": None, "offset": None}


def ranges(entries, offset=None):
    return {"kind": "ranges", "size": None, "offset": offset,
            "ranges": [{"start": start, "end": end, "size": size} for start, end, size in entries]}


@pytest.mark.parametrize("text, want", [
    ("512M", [simple(512 * M)]),
    ("crashkernel=512M", [simple(512 * M)]),
    ("crashkernel=256M@16M", [simple(256 * M, 16 * M)]),
    ("crashkernel=0x20000000", [simple(512 * M)]),
    ("crashkernel=0", [simple(0)]),
    ("crashkernel=1e", [simple(1 << 60)]),
    ("crashkernel=0x1E", [simple(30)]),
    ("768M,high 16M,low", [suffix("high", 768 * M), suffix("low", 16 * M)]),
    ("crashkernel=0,low", [suffix("low", 0)]),
    ("crashkernel=1G,cma", [suffix("cma", G)]),
    ("512M-12G:128M,12G-64G:256M,64G-128G:512M,128G-:768M",
     [ranges([(512 * M, 12 * G, 128 * M), (12 * G, 64 * G, 256 * M), (64 * G, 128 * G, 512 * M),
              (128 * G, None, 768 * M)])]),
    ("crashkernel=1G-:256M@4G", [ranges([(G, None, 256 * M)], 4 * G)]),
    ("BOOT_IMAGE=/vmlinuz-6.1.0-27-arm64 root=UUID=x ro crashkernel=512M quiet crashkernel=16M,low",
     [simple(512 * M), suffix("low", 16 * M)]),
    ("BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet", []),
    ("", []),
])
def test_parse(text, want):
    assert ck.parse(text) == want


@pytest.mark.parametrize("text, complaint", [
    ("crashkernel=", "memory value expected"),
    ("crashkernel=lots", "memory value expected"),
    ("crashkernel=512Mx", "unrecognized char: x"),
    ("crashkernel=512M,foo", "unrecognized char: ,"),
    ("crashkernel=1G-:768M,high", "unrecognized char: -"),
    ("crashkernel=768M@4G,high", "unrecognized char: @"),
    ("crashkernel=,low", "memory value expected"),
    ("crashkernel=1G:256M", "'-' expected"),
    ("crashkernel=1G-2G256M:1G", "':' expected"),
    ("crashkernel=1G-2G256M", "unrecognized char: -"),
    ("crashkernel=2G-1G:256M", "end <= start"),
    ("crashkernel=1G-:", "Memory value expected"),
    ("crashkernel=1G-:256M@", "Memory value expected after '@'"),
])
def test_parse_rejects_with_the_kernel_message(text, complaint):
    with pytest.raises(ck.CrashkernelError) as info:
        ck.parse(text)
    assert 'the kernel rejects this with "crashkernel: %s"' % complaint in str(info.value)


@pytest.mark.parametrize("text, words", [
    ("crashkernel=1G-:256Mjunk", "silently ignores 'junk'"),
    ("crashkernel=256M@16Mjunk", "silently ignores 'junk'"),
    ("crashkernel=256M@", "silently takes offset 0"),
    ("crashkernel=16E", "overflows 64 bits"),
    ("crashkernel=M", "no digits"),
    ("crashkernel=G-:256M", "no digits"),
    ("crashkernel=1G-:20E", "overflows 64 bits"),
])
def test_parse_rejects_what_the_kernel_would_silently_change(text, words):
    with pytest.raises(ck.CrashkernelError, match=words):
        ck.parse(text)


def test_parse_needs_text():
    with pytest.raises(ck.CrashkernelError, match="expects text"):
        ck.parse(["crashkernel=512M"])


@pytest.mark.parametrize("structure, text", [
    (simple(512 * M), "crashkernel=512M"),
    (simple(1536 * M), "crashkernel=1536M"),
    (simple(3 * G + 1), "crashkernel=3221225473"),
    (simple(0), "crashkernel=0"),
    (simple(256 * M, 16 * M), "crashkernel=256M@16M"),
    ([suffix("high", 768 * M), suffix("low", 16 * M)], "crashkernel=768M,high crashkernel=16M,low"),
    (ranges([(2 * G, 64 * G, 256 * M), (64 * G, None, 512 * M)]), "crashkernel=2G-64G:256M,64G-:512M"),
    (ranges([(G, None, 256 * M)], 4 * G), "crashkernel=1G-:256M@4G"),
    ([], ""),
])
def test_format(structure, text):
    assert ck.format_tokens(structure) == text


def test_format_canonicalises():
    assert ck.format_tokens(ck.parse("crashkernel=0x20000000 crashkernel=1024M-:0x10000000")) == \
        "crashkernel=512M crashkernel=1G-:256M"


@pytest.mark.parametrize("structure, words", [
    ("crashkernel=512M", "expects a token dict"),
    ({"kind": "huge", "size": 1}, "kind must be one of"),
    ({"kind": "simple", "size": -1}, "outside 0"),
    ({"kind": "simple", "size": "512M"}, "whole number of bytes"),
    ({"kind": "simple", "size": True}, "whole number of bytes"),
    ({"kind": "simple", "size": 1, "colour": "red"}, "unknown key"),
    ({"kind": "high", "size": 1, "offset": 4096}, "takes no @offset"),
    ({"kind": "ranges", "ranges": []}, "non-empty list"),
    ({"kind": "ranges", "size": 1, "ranges": [{"start": 0, "end": None, "size": 1}]}, "'size' must be null"),
    ({"kind": "ranges", "ranges": [{"start": 2, "end": 1, "size": 1}]}, "not above start"),
    ({"kind": "simple", "size": 1, "ranges": [{"start": 0, "end": None, "size": 1}]}, "'ranges' must be null"),
])
def test_format_rejects_bad_structures(structure, words):
    with pytest.raises(ck.CrashkernelError, match=words):
        ck.format_tokens(structure)


@pytest.mark.parametrize("text, value", [
    ("512M", 512 * M), ("512m", 512 * M), ("0x200", 512), ("0200", 128), ("0", 0), (" 16M ", 16 * M),
    ("1T", 1 << 40), ("2P", 2 << 50), ("3E", 3 << 60), ("1K", K), (4096, 4096),
])
def test_parse_size(text, value):
    assert ck.parse_size(text) == value


@pytest.mark.parametrize("text", ["", "M", "12Q", "1.5G", "-1", "16E", True, None, 2 ** 64])
def test_parse_size_rejects(text):
    with pytest.raises(ck.CrashkernelError):
        ck.parse_size(text, "kdump_crashkernel_low")


@pytest.mark.parametrize("value, text", [(0, "0"), (1, "1"), (K, "1K"), (1536 * M, "1536M"), (3 * G, "3G"),
                                         (5 << 60, "5E"), (K + 1, "1025")])
def test_format_size(value, text):
    assert ck.format_size(value) == text


@pytest.mark.parametrize("value, text", [(256 * M, "256 MiB"), (1536 * M, "1.5 GiB"), (2043 * M, "2043 MiB"),
                                         (4097, "4097 bytes"), (274602393600, "255.74 GiB"),
                                         (None, "unknown")])
def test_human_size(value, text):
    assert ck.human_size(value) == text
