"""roles/kdump/files/fleetops-kdump-kallsyms: _text from /proc/kcore for kexec-tools (kdump_kallsyms_text_fix).

Fed with a real Debian 12 arm64 kcore header and kallsyms excerpt (tests/fixtures/kallsyms/README.md).
"""
import importlib.machinery
import importlib.util
import os
import struct

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(REPO, "roles", "kdump", "files", "fleetops-kdump-kallsyms")
FIXTURE = os.path.join(REPO, "tests", "fixtures", "kallsyms", "debian12-arm64-6.1")
TEXT = 0xffffdce186330000  # the captured boot's _text: 64 KiB below _stext


def load_script():
    loader = importlib.machinery.SourceFileLoader("fleetops_kdump_kallsyms", SCRIPT)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


kallsyms_text = load_script()


@pytest.fixture(scope="module")
def captured():
    with open(os.path.join(FIXTURE, "kallsyms")) as handle:
        kallsyms = handle.read()
    with open(os.path.join(FIXTURE, "kcore-head.bin"), "rb") as handle:
        header = handle.read()
    return kallsyms, header


def elf_header(segments):
    """A 64-bit little-endian ELF header followed by one PT_LOAD per (vaddr, memsz)."""
    ident = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    header = ident + struct.pack("<HHIQQQIHHHHHH", 4, 183, 1, 0, 64, 0, 0, 64, 56, len(segments), 0, 0, 0)
    for vaddr, memsz in segments:
        header += struct.pack("<IIQQQQQQ", 1, 7, 0, vaddr, 0, memsz, memsz, 4096)
    return header


def test_captured_arm64_kcore_gives_text_below_stext(captured):
    kallsyms, header = captured
    assert kallsyms_text.symbol_address(kallsyms, "_text") is None
    assert kallsyms_text.text_address(kallsyms, header) == TEXT
    assert kallsyms_text.symbol_address(kallsyms, "_stext") - TEXT == 0x10000


def test_text_line_is_added_once_and_the_rest_kept(captured):
    kallsyms, header = captured
    fixed = kallsyms_text.kallsyms_with_text(kallsyms, header)
    assert fixed.splitlines()[0] == "%016x T _text" % TEXT
    assert fixed.endswith(kallsyms)
    assert kallsyms_text.kallsyms_with_text(fixed, header) == fixed


def test_the_smallest_segment_holding_stext_wins():
    kallsyms = "ffff800008010000 T _stext\n"
    vmalloc, text = (0xffff800000000000, 1 << 40), (0xffff800008000000, 0x2000000)
    assert kallsyms_text.text_address(kallsyms, elf_header([vmalloc, text])) == text[0]
    assert kallsyms_text.text_address(kallsyms, elf_header([text, vmalloc])) == text[0]


@pytest.mark.parametrize("kallsyms, header, error", [
    ("0000000000000000 T _stext\n", elf_header([(0, 1 << 60)]), r"no \(readable\) _stext"),
    ("ffff800008010000 T _stext\n", elf_header([(0xffff000000000000, 0x1000)]), "no /proc/kcore segment"),
    ("ffff800008010000 T _stext\n", b"not an elf file" + b"\0" * 64, "not a 64-bit little-endian ELF"),
    ("ffff800008010000 T _stext\n", elf_header([(0, 1)] * 3)[:100], "beyond the 100 bytes"),
])
def test_unusable_input_is_an_error_not_a_guess(kallsyms, header, error):
    with pytest.raises(ValueError, match=error):
        kallsyms_text.kallsyms_with_text(kallsyms, header)


def test_main_reports_and_writes_nothing_when_it_cannot_find_text(tmp_path, monkeypatch, capsys):
    real_open = open

    def fake_open(path, *args, **kwargs):
        if path == "/proc/kallsyms":
            path = str(tmp_path / "kallsyms")
        elif path == "/proc/kcore":
            path = str(tmp_path / "kcore")
        return real_open(path, *args, **kwargs)

    (tmp_path / "kallsyms").write_text("0000000000000000 T _stext\n")
    (tmp_path / "kcore").write_bytes(elf_header([]))
    monkeypatch.setattr(kallsyms_text, "open", fake_open, raising=False)
    output = tmp_path / "run" / "kallsyms"
    assert kallsyms_text.main(["fleetops-kdump-kallsyms", str(output)]) == 1
    assert "cannot find _text" in capsys.readouterr().err
    assert not output.exists()


def test_main_writes_the_file_read_only(tmp_path, monkeypatch, captured):
    kallsyms, header = captured
    real_open = open

    def fake_open(path, *args, **kwargs):
        replacement = {"/proc/kallsyms": tmp_path / "kallsyms", "/proc/kcore": tmp_path / "kcore"}.get(path)
        return real_open(str(replacement) if replacement else path, *args, **kwargs)

    (tmp_path / "kallsyms").write_text(kallsyms)
    (tmp_path / "kcore").write_bytes(header)
    monkeypatch.setattr(kallsyms_text, "open", fake_open, raising=False)
    output = tmp_path / "run" / "kallsyms"
    assert kallsyms_text.main(["fleetops-kdump-kallsyms", str(output)]) == 0
    assert output.read_text().startswith("%016x T _text\n" % TEXT)
    assert oct(output.stat().st_mode & 0o777) == "0o400"
