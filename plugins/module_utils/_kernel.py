# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The running kernel of a host tree: its release, command line, config and kallsyms (the kernel facts)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from typing import Any, Dict, Iterator, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import (
    MAX_CMDLINE, decimal, kernel_words, quoted, release_version,
)


CONFIG_SYMBOLS = (
    "CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_KEXEC_CORE", "CONFIG_KEXEC_SIG", "CONFIG_CRASH_DUMP",
    "CONFIG_CRASH_CORE", "CONFIG_CRASH_RESERVE", "CONFIG_CRASH_HOTPLUG", "CONFIG_PROC_VMCORE",
    "CONFIG_ZONE_DMA", "CONFIG_ZONE_DMA32", "CONFIG_ARM64_4K_PAGES", "CONFIG_ARM64_16K_PAGES",
    "CONFIG_ARM64_64K_PAGES", "CONFIG_RELOCATABLE", "CONFIG_RANDOMIZE_BASE", "CONFIG_MAGIC_SYSRQ",
    "CONFIG_DEBUG_INFO_BTF", "CONFIG_ACPI_AGDI", "CONFIG_ARM_SDE_INTERFACE", "CONFIG_SWIOTLB",
    "CONFIG_CMA", "CONFIG_IKCONFIG_PROC", "CONFIG_ARM64_VA_BITS", "CONFIG_ARM64_PAGE_SHIFT", "CONFIG_PAGE_SHIFT",
    "CONFIG_PGTABLE_LEVELS", "CONFIG_ARM64_LPA2", "CONFIG_ARM64", "CONFIG_X86_64",
)


UTS_RELEASE_MAX = 64  # __NEW_UTS_LEN: the kernel cannot report a longer release


def kernel_version(release: Optional[str]) -> Optional[List[int]]:
    """[major, minor, patch] of a release string (the `kernel.version` fact, a list in JSON)."""
    version = release_version((release or "").strip())
    return list(version) if version else None


def release_from_uname(text: Optional[str]) -> Optional[str]:
    """Kernel release from `uname -a` output (sosreports keep it in a file named uname)."""
    fields = (text or "").split()
    if len(fields) >= 3 and kernel_version(fields[2]):
        return fields[2]
    return None


def crashkernel_tokens(cmdline: Optional[str]) -> List[str]:
    """crashkernel= arguments of a kernel command line as the kernel reads them, in order (quotes removed):
    it finds 'crashkernel=' by substring search in the whole line (so 'xcrashkernel=16' counts as
    'crashkernel=16', and so do words after '--'), as the crashkernel engine models; only a space ends a
    value (a tab stays in it, and the kernel refuses the value there)."""
    tokens: List[str] = []
    for token in kernel_words(cmdline or ""):
        token = token.strip("'\"")
        found = token.find("crashkernel=")
        if found >= 0:
            tokens.append(token[found:])
    return tokens


def _config_entries(text: str) -> Iterator[Tuple[str, str]]:
    """(symbol, value) of every line of a kernel .config that sets one; "n" for '# CONFIG_X is not set'."""
    for line in text.splitlines():
        if line.startswith("CONFIG_"):
            key, sep, value = line.partition("=")
            if sep:
                yield key, value.strip().strip('"')
        elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
            yield line[2:-len(" is not set")], "n"


def parse_kernel_config(text: Optional[str]) -> Optional[Dict[str, Optional[str]]]:
    """The kdump-relevant symbols of a kernel .config: "y", "m", a value, "n" (is not set) or None (absent)."""
    if not text:
        return None
    wanted = set(CONFIG_SYMBOLS)
    values: Dict[str, str] = {}
    seen = False
    for key, value in _config_entries(text):
        seen = True
        if key in wanted:
            values[key] = value
    if not seen:
        return None
    return {symbol: values.get(symbol) for symbol in CONFIG_SYMBOLS}


def config_enabled(config: Optional[Dict[str, Optional[str]]], symbol: str) -> Optional[bool]:
    """True/False from a known config (absent = not enabled), None when the config is unknown."""
    if config is None:
        return None
    return config.get(symbol) in ("y", "m")


def config_conflicts(text: str) -> List[str]:
    """The kdump-relevant symbols a kernel config sets twice to different values: 'CONFIG_ZONE_DMA to y and n'."""
    wanted = set(CONFIG_SYMBOLS)
    values: Dict[str, List[str]] = {}
    for key, value in _config_entries(text):
        if key in wanted and value not in values.setdefault(key, []):
            values[key].append(value)
    return ["%s to %s" % (key, " and ".join(repr(v[:20]) for v in found[:3]))
            for key, found in sorted(values.items()) if len(found) > 1]


_KALLSYMS_TEXT = re.compile(r"^[ \t]*[0-9a-fA-F]+[ \t]+[A-Za-z?][ \t]+_text(?:[ \t]+\[[^\]\n]*\])?[ \t\r]*$", re.M)


def kallsyms_has_text(text: Optional[str]) -> Optional[bool]:
    """Whether /proc/kallsyms text lists a symbol named exactly _text (its third field); None for no text.

    Lines are "<address> <type> <name>", module symbols followed by a tab and "[module]". kexec-tools reads
    _text on arm64 when it builds the capture kernel's ELF core header itself (kexec_load). The file is
    megabytes, so only the lines holding " _text" are split.
    """
    if not text:
        return None
    # one linear regex pass: a line "<address> <type> _text", a "[module]" after it allowed (kexec-tools' sscanf
    # reads the name only)
    return _KALLSYMS_TEXT.search(text) is not None


def kallsyms_text(tree: Any, arch: Optional[str]) -> Optional[bool]:
    """The `kernel.kallsyms_text` fact: read only on arm64, where it matters; None elsewhere or without the file."""
    if arch != "aarch64":
        return None
    return kallsyms_has_text(tree.read_text("proc/kallsyms"))


RELEASE_TEXT_RE = re.compile(r"^[0-9][A-Za-z0-9._+~-]*$")  # what kernel builds name themselves (no /, space, $)
PROC_VERSION_RE = re.compile(r"^Linux version (\S+)")


def kernel_release(tree: Any) -> Optional[str]:
    """The running kernel's release from proc/sys/kernel/osrelease, a sosreport's uname, or proc/version;
    None (with an input-implausible entry) when one is no release or two name different kernels."""
    raw = tree.read_text("proc/sys/kernel/osrelease") if tree.exists("proc/sys/kernel/osrelease") else None
    release = tree.read_value("proc/sys/kernel/osrelease") if raw is not None else None
    if release is not None and len(release) > UTS_RELEASE_MAX:
        tree.implausible.append(("proc/sys/kernel/osrelease", "it is %d characters long; a kernel release has at most "
                                 "%d (uname)" % (len(release), UTS_RELEASE_MAX)))
        return None
    if release is not None and raw is not None and ("\x00" in raw.rstrip("\x00\n")
                                                    or not RELEASE_TEXT_RE.match(release)):
        tree.implausible.append(("proc/sys/kernel/osrelease", "%s is no kernel release (a release starts with a digit "
                                 "and holds only letters, digits and . _ + ~ -)" % quoted(raw.strip()[:60])))
        return None
    uname = release_from_uname(tree.read_text("uname"))
    version = PROC_VERSION_RE.match(tree.read_text("proc/version") or "")
    named = [(path, value) for path, value in (("proc/sys/kernel/osrelease", release), ("uname", uname),
                                               ("proc/version", version.group(1) if version else None)) if value]
    if named and any(value != named[0][1] for _path, value in named):
        tree.implausible.append((named[0][0], "it names the kernel %s, but %s" % (quoted(named[0][1][:60]), ", ".join(
            "%s names %s" % (path, quoted(value[:60])) for path, value in named[1:] if value != named[0][1]))))
        return None
    return named[0][1] if named else None


def kernel_facts(tree: Any, live_release: Optional[str] = None) -> Dict[str, Any]:
    """The `kernel` facts: release, version, cmdline, crashkernel tokens and kdump config symbols."""
    implausible_before = len(tree.implausible)
    release = kernel_release(tree)
    if release is None and len(tree.implausible) == implausible_before:  # a contradiction stays unresolved
        release = live_release
        if release is None:
            tree.missing.append("proc/sys/kernel/osrelease")
    cmdline_text = tree.read_text("proc/cmdline", record=True)
    if cmdline_text is not None and len(cmdline_text) > MAX_CMDLINE:
        tree.implausible.append(("proc/cmdline", "it is %d bytes long; no kernel takes a command line over %d KiB"
                                 % (len(cmdline_text), MAX_CMDLINE >> 10)))
        cmdline_text = None
    if cmdline_text is not None and cmdline_text.endswith("\r\n") and "\r" not in cmdline_text[:-2]:
        cmdline_text = cmdline_text[:-2] + "\n"  # a CRLF copy of the one line
    if cmdline_text is not None and re.search(r"[\x00-\x08\x0a-\x1f\x7f]", cmdline_text.rstrip("\n")):
        tree.implausible.append(("proc/cmdline", "it holds a control character or more than one line; the kernel "
                                 "writes its command line as one line of text"))
        cmdline_text = None
    cmdline = None if cmdline_text is None else " ".join(kernel_words(cmdline_text))
    config = None
    config_source = None
    candidates = []
    if release:
        candidates = ["boot/config-%s" % release, "usr/lib/modules/%s/config" % release, "lib/modules/%s/config" % release]
    candidates.append("proc/config.gz")
    conflicted = False
    for candidate in candidates:
        text = tree.read_text(candidate)
        config = parse_kernel_config(text)
        if config is not None:
            config_source = "/" + candidate
            conflicts = config_conflicts(text or "")
            if conflicts:
                tree.implausible.append((candidate, "it sets %s: a kernel is built from one value of each (two "
                                         "configs joined?)" % "; ".join(conflicts[:3])))
                config, config_source, conflicted = None, None, True
            break
    running = parse_kernel_config(tree.read_text("proc/config.gz")) \
        if config is not None and config_source != "/proc/config.gz" else None
    if running is not None and config is not None and running != config:
        differ = ["%s (%s vs %s)" % (symbol, config[symbol] or "absent", running[symbol] or "absent")
                  for symbol in CONFIG_SYMBOLS if config[symbol] != running[symbol]]
        tree.implausible.append(("proc/config.gz", "the running kernel's own config disagrees with %s on %s (a kernel "
                                 "replaced under the same release?)" % (config_source, ", ".join(differ[:3]))))
        config, config_source, conflicted = None, None, True
    if config is None and not conflicted:
        tree.missing.append(candidates[0])
    sysrq = tree.read_line("proc/sys/kernel/sysrq")
    return {
        "release": release,
        "version": kernel_version(release),
        "cmdline": cmdline,
        "crashkernel": crashkernel_tokens(cmdline),
        "config": config,
        "config_source": config_source,
        "sysrq": decimal(sysrq, 6),
    }
