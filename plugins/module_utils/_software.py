# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kernel (release, command line, config) and kdump software (distro, packages, service) of a host tree.

Package versions come from files (dpkg status, a sosreport's installed-rpms) so a captured tree can
be audited offline; commands (rpm, systemctl) are only run on the live system, through a runner the
caller passes in.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import posixpath
import re

from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import (
    MAX_CMDLINE, decimal, kernel_words, quoted, release_version, version_tuple,
)

# runner(argv) -> (rc, stdout, stderr); only given for the live system
Runner = Callable[[List[str]], Tuple[int, str, str]]

CONFIG_SYMBOLS = (
    "CONFIG_KEXEC", "CONFIG_KEXEC_FILE", "CONFIG_KEXEC_CORE", "CONFIG_KEXEC_SIG", "CONFIG_CRASH_DUMP",
    "CONFIG_CRASH_CORE", "CONFIG_CRASH_RESERVE", "CONFIG_CRASH_HOTPLUG", "CONFIG_PROC_VMCORE",
    "CONFIG_ZONE_DMA", "CONFIG_ZONE_DMA32", "CONFIG_ARM64_4K_PAGES", "CONFIG_ARM64_16K_PAGES",
    "CONFIG_ARM64_64K_PAGES", "CONFIG_RELOCATABLE", "CONFIG_RANDOMIZE_BASE", "CONFIG_MAGIC_SYSRQ",
    "CONFIG_DEBUG_INFO_BTF", "CONFIG_ACPI_AGDI", "CONFIG_ARM_SDE_INTERFACE", "CONFIG_SWIOTLB",
    "CONFIG_CMA", "CONFIG_IKCONFIG_PROC", "CONFIG_ARM64_VA_BITS", "CONFIG_ARM64_PAGE_SHIFT", "CONFIG_PAGE_SHIFT",
    "CONFIG_PGTABLE_LEVELS", "CONFIG_ARM64_LPA2", "CONFIG_ARM64", "CONFIG_X86_64",
)

FAMILY_IDS = {
    "debian": "debian", "ubuntu": "debian", "linuxmint": "debian", "raspbian": "debian",
    "rhel": "redhat", "centos": "redhat", "fedora": "redhat", "rocky": "redhat", "almalinux": "redhat",
    "ol": "redhat", "amzn": "redhat", "anolis": "redhat", "openEuler": "redhat", "cloudlinux": "redhat",
    "sles": "suse", "sled": "suse", "opensuse": "suse", "opensuse-leap": "suse", "opensuse-tumbleweed": "suse",
}

KDUMP_LAYOUT = {
    # family: (service, config file)
    "debian": ("kdump-tools", "/etc/default/kdump-tools"),
    "redhat": ("kdump", "/etc/kdump.conf"),
    "suse": ("kdump", "/etc/sysconfig/kdump"),
}

RPM_PACKAGES = ("kexec-tools", "makedumpfile", "kdump-utils", "kdump")
DEB_PACKAGES = ("kexec-tools", "makedumpfile", "kdump-tools")

_CONFIG_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_CONFIG_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set")
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
    for token in (cmdline or "").split(" "):
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


def parse_os_release(text: Optional[str]) -> Dict[str, str]:
    values: Dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            values[key] = value.strip().strip("'\"")
    return values


_SHELL_ASSIGN_RE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def shell_assignments(text: Optional[str]) -> Dict[str, str]:
    """NAME=value lines of a sourced shell defaults file (/etc/default/kdump-tools) as sh reads them without
    expansion: a quoted value up to its closing quote, a bare one up to a space or ';' (a comment starts after a space)."""
    values: Dict[str, str] = {}
    for line in (text or "").splitlines():
        match = _SHELL_ASSIGN_RE.match(line)
        if match is None:
            continue
        rest = match.group(2)
        if rest[:1] in ("'", '"'):
            end = rest.find(rest[0], 1)
            values[match.group(1)] = rest[1:end] if end > 0 else rest[1:]
        else:
            values[match.group(1)] = re.split(r"[\s;]", rest, 1)[0]
    return values


def distro_family(os_release: Dict[str, str]) -> str:
    ids = [os_release.get("ID", "")] + os_release.get("ID_LIKE", "").split()
    for ident in ids:
        if ident in FAMILY_IDS:
            return FAMILY_IDS[ident]
        if "suse" in ident:
            return "suse"
    return "unknown"


def upstream_version(debian_version: str) -> str:
    """Upstream part of a Debian version: 1:2.0.25-3+b1 -> 2.0.25."""
    version = debian_version.strip()
    if ":" in version:
        version = version.split(":", 1)[1]
    if "-" in version:
        version = version.rsplit("-", 1)[0]
    return version


def _dpkg_stanzas(text: str, name: str) -> List[str]:
    """Every stanza of a dpkg status file whose Package field is name (one linear split; the file can be
    megabytes)."""
    needle = "Package: %s\n" % name
    return [stanza for stanza in text.split("\n\n") if stanza.lstrip("\n").startswith(needle)]


def dpkg_installed_versions(text: str, name: str) -> List[str]:
    """The Version of every stanza of package name that dpkg marks installed ("" for none or two Versions)."""
    versions = []
    for stanza in _dpkg_stanzas(text, name):
        fields: Dict[str, List[str]] = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and key in ("Status", "Version"):
                fields.setdefault(key, []).append(value.strip())
        if fields.get("Status", [""])[-1].split()[-1:] == ["installed"]:
            found = fields.get("Version", [])
            versions.append(found[0] if len(found) == 1 else "")
    return versions


def parse_dpkg_status(text: Optional[str], names: Tuple[str, ...]) -> Dict[str, Optional[str]]:
    """{package: upstream version or None} for installed packages among names; absent ones are None,
    installed ones of unknown version "" (no Version field, or installed stanzas that disagree)."""
    found: Dict[str, Optional[str]] = {name: None for name in names}
    for name in names if text else ():
        versions = sorted(set(dpkg_installed_versions(text or "", name)))
        if versions:
            found[name] = upstream_version(versions[0]) if len(versions) == 1 and versions[0] else ""
    return found


def config_conflicts(text: str) -> List[str]:
    """The kdump-relevant symbols a kernel config sets twice to different values: 'CONFIG_ZONE_DMA to y and n'."""
    wanted = set(CONFIG_SYMBOLS)
    values: Dict[str, List[str]] = {}
    for key, value in _config_entries(text):
        if key in wanted and value not in values.setdefault(key, []):
            values[key].append(value)
    return ["%s to %s" % (key, " and ".join(repr(v[:20]) for v in found[:3]))
            for key, found in sorted(values.items()) if len(found) > 1]


def installed_rpm_versions(text: str, name: str) -> List[str]:
    """Every version of one package an installed-rpms listing names, in listing order."""
    versions = []
    prefix = name + "-"
    for line in text.splitlines():
        fields = line.split()
        nevra = fields[0] if fields else ""
        if nevra.startswith(prefix) and nevra[len(prefix):len(prefix) + 1].isdigit() and "-" in nevra[len(prefix):]:
            versions.append(nevra[len(prefix):].split("-", 1)[0].split(":", 1)[-1])
    return versions


def installed_twice(versions_of: Callable[[str, str], List[str]], text: str, names: Tuple[str, ...]) -> List[str]:
    """Why a package database cannot say a package's version: 'kexec-tools is installed twice, as ... and ...';
    versions_of(text, name) lists every version it names (dpkg_installed_versions, installed_rpm_versions)."""
    why = []
    for name in names:
        versions = sorted(set(versions_of(text, name)))
        if len(versions) > 1:
            why.append("%s is installed twice, as %s" % (name, " and ".join(repr(v[:40]) for v in versions[:3])))
    return why


def parse_installed_rpms(text: Optional[str], names: Tuple[str, ...]) -> Dict[str, Optional[str]]:
    """{package: version} from a sosreport installed-rpms file (name-version-release.arch per line); "" when
    it names two versions of one package."""
    found: Dict[str, Optional[str]] = {}
    for name in names:
        versions = installed_rpm_versions(text or "", name)
        found[name] = (versions[0] if len(set(versions)) == 1 else "") if versions else None
    return found


def parse_rpm_query(text: Optional[str], names: Tuple[str, ...]) -> Dict[str, Optional[str]]:
    """{package: version} from `rpm -q --qf '%{NAME} %{VERSION}\\n' ...` output."""
    found: Dict[str, Optional[str]] = {name: None for name in names}
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0] in found and version_tuple(fields[1]) is not None:
            found[fields[0]] = fields[1]
    return found


def parse_unit_files(text: Optional[str], unit: str) -> Optional[bool]:
    """Enabled state of unit in `systemctl list-unit-files` output (a sosreport keeps it)."""
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == unit:
            return fields[1] in ("enabled", "enabled-runtime")
    return None


def _major(version: Optional[str]) -> Optional[int]:
    """Major number of an os-release VERSION_ID ("40", "9.4")."""
    match = re.match(r"^([0-9]{1,6})(?:\.|$)", (version or "").strip())
    return int(match.group(1)) if match else None


def kdump_split_packages(os_release: Dict[str, str]) -> bool:
    """True where kdump-utils and makedumpfile are packages of their own (Fedora 40+, EL10+)."""
    ident = os_release.get("ID", "")
    major = _major(os_release.get("VERSION_ID"))
    if major is None:
        return False
    if ident == "fedora":
        return major >= 40
    if ident == "amzn":
        return False
    return major >= 10


BOOT_TARGETS = ("default.target", "multi-user.target", "graphical.target", "basic.target", "sysinit.target")


def unit_masked(tree: Any, rel: str) -> bool:
    """systemd.unit(5): a unit file that is a link to /dev/null (absolute or relative) or is empty is masked."""
    target = tree.readlink(rel)
    if target is not None:
        return posixpath.normpath(posixpath.join("/" + posixpath.dirname(rel), target)) == "/dev/null"
    return tree.read_bytes(rel, max_bytes=1) == b""


def _service_enabled_from_tree(tree: Any, service: str) -> Optional[bool]:
    """Enabled at boot: not masked, and wanted by a target the boot reaches (shutdown.target.wants is not)."""
    unit = service + ".service"
    etc = "etc/systemd/system"
    if unit_masked(tree, "%s/%s" % (etc, unit)):
        return False
    if tree.is_dir(etc):
        for base in (etc, "usr/lib/systemd/system", "lib/systemd/system"):
            for target in BOOT_TARGETS:
                if tree.lexists("%s/%s.wants/%s" % (base, target, unit)):
                    return True
        return False
    listed = parse_unit_files(tree.read_text("sos_commands/systemd/systemctl_list-unit-files"), unit)
    if listed is not None:
        return listed
    for level in ("2", "3", "5"):
        if any(name.startswith("S") and name[3:] == service for name in tree.listdir("etc/rc%s.d" % level)):
            return True
    return None


ENABLED_STATES = ("enabled", "enabled-runtime")


def systemctl_state(result: Tuple[int, str, str], true_states: Tuple[str, ...]) -> Optional[bool]:
    """True/False from `systemctl is-enabled|is-active` output; None when systemctl gave no state at all."""
    _rc, out, err = result
    words = out.split()
    if words:
        return words[0] in true_states
    if "No such file" in err or "not-found" in err or "not loaded" in err:
        return False  # the unit does not exist: not enabled, not active
    return None


def config_text(tree: Any, path: str) -> Optional[str]:
    """A kdump configuration file as its shell or parser reads it: a regular text file (no NUL, valid UTF-8),
    else None. A directory, a FIFO or binary junk configures nothing (dash sources a directory silently)."""
    text = tree.read_text(path.lstrip("/"))
    if text is None or "\x00" in text or "\ufffd" in text:
        return None
    return text


def _systemd_running(tree: Any) -> bool:
    return tree.live and tree.is_dir("run/systemd/system")


MAKEDUMPFILE_OPTIONAL_COMPRESSIONS = ("lzo", "snappy", "zstd")
_COMPRESSION_ENABLED = re.compile(r"^(lzo|snappy|zstd)[ \t]+enabled[ \t]*$", re.M)


def makedumpfile_compressions(version_output: Optional[str]) -> Optional[List[str]]:
    """The optional compressions `makedumpfile -v` says it was built with (zlib is always there); None when
    the output is not makedumpfile's."""
    if not version_output or not version_output.startswith("makedumpfile: version "):
        return None
    return sorted(set(_COMPRESSION_ENABLED.findall(version_output[:4096])))


# The copy of /proc/kallsyms with a _text line that kdump_kallsyms_text_fix writes for the service's kexec.
KALLSYMS_FIX_COPY = "run/fleetops-kdump/kallsyms"


KERNEL_RELEASE_FAMILIES = ((re.compile(r"\.(?:el|fc)\d+"), "redhat"), (re.compile(r"\+deb\d+"), "debian"))
OS_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # os-release(5) says lower case; openEuler writes ID=openEuler
OS_VERSION_RE = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")


def os_release_contradiction(family: str, release: Optional[str], has_dpkg: bool, has_rpms: bool) -> Optional[str]:
    """Why the os-release family cannot be believed next to the kernel release and the package database
    the tree holds, or None. has_dpkg: dpkg status exists; has_rpms: installed-rpms or var/lib/rpm does."""
    if family == "unknown":
        return None
    for pattern, built_by in KERNEL_RELEASE_FAMILIES:
        if release and pattern.search(release) and family != built_by:
            return "it names a %s distribution, but the kernel %r is a %s build" % (family, release[:60], built_by)
    if family == "debian" and has_rpms and not has_dpkg:
        return "it names a debian distribution, but the tree has an rpm package list and no dpkg status"
    if family in ("redhat", "suse") and has_dpkg and not has_rpms:
        return "it names a %s distribution, but the tree has a dpkg status and no rpm package list" % family
    return None


KERNEL_BUILD_MAJOR_RE = re.compile(r"(?:\.(el|fc)|\+(deb))(\d+)")
DEBIAN_CODENAMES = {"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15"}


def os_version_contradiction(os_release: Dict[str, str],
                             release: Optional[str],
                             debian_version: Optional[str]) -> Optional[str]:
    """Why os-release's VERSION_ID cannot be believed, or None: a kernel built for a later release of the
    distribution (.el9, .fc41, +deb13; an older one is a host upgraded but not yet rebooted), or, on Debian,
    a VERSION_CODENAME or /etc/debian_version of another release."""
    major = (os_release.get("VERSION_ID") or "").split(".")[0]
    if not major.isdigit():
        return None
    built = KERNEL_BUILD_MAJOR_RE.search(release or "")
    if built and len(built.group(3)) < 4 and int(built.group(3)) > int(major):
        return "VERSION_ID %s, but the kernel %r was built for release %s" % (
            os_release["VERSION_ID"], (release or "")[:60], built.group(3))
    if distro_family(os_release) != "debian" or os_release.get("ID") not in ("debian", None):
        return None
    codename = DEBIAN_CODENAMES.get(os_release.get("VERSION_CODENAME", ""))
    if codename and codename != major:
        return "VERSION_ID %s, but VERSION_CODENAME %s is Debian %s" % (major, os_release["VERSION_CODENAME"], codename)
    stamp = (debian_version or "").strip().split(".")[0]
    if stamp.isdigit() and stamp != major:
        return "VERSION_ID %s, but /etc/debian_version says %s" % (major, (debian_version or "").strip()[:20])
    return None


def software_facts(tree: Any, runner: Optional[Runner] = None, release: Optional[str] = None) -> Dict[str, Any]:
    """The `software` facts. runner is used only when the tree is the live system; release (the kernel's)
    is checked against the distribution os-release names."""
    os_text = tree.read_text("etc/os-release") or tree.read_text("usr/lib/os-release")
    if os_text is None:
        tree.missing.append("etc/os-release")
    os_release = parse_os_release(os_text)
    distro, version = os_release.get("ID") or None, os_release.get("VERSION_ID") or None
    # the role builds file names from ID and VERSION_ID: identifiers only
    if distro is not None and not OS_ID_RE.match(distro) or ".." in (distro or "") or \
            version is not None and not OS_VERSION_RE.match(version) or ".." in (version or ""):
        tree.implausible.append(("etc/os-release", "ID %r / VERSION_ID %r are not os-release(5) identifiers "
                                 "([a-z0-9._-])" % ((distro or "")[:40], (version or "")[:40])))
        distro = version = None
        os_release = {}
    family = distro_family(os_release)
    why = os_release_contradiction(family, release, tree.exists("var/lib/dpkg/status"),
                                   tree.exists("installed-rpms") or tree.is_dir("var/lib/rpm"))
    why = why or os_version_contradiction(os_release, release, tree.read_line("etc/debian_version")
                                          if family == "debian" else None)
    if why:
        tree.implausible.append(("etc/os-release", why))
        distro = version = None
        os_release = {}
        family = "unknown"
    split = kdump_split_packages(os_release)
    versions: Dict[str, Optional[str]] = {}
    package_source: Optional[str] = None
    if family == "debian" or (family == "unknown" and tree.exists("var/lib/dpkg/status")):
        status = tree.read_text("var/lib/dpkg/status", record=True)
        if status is not None:
            status = status.replace("\r\n", "\n")
            if "\nStatus: install ok installed" not in "\n" + status:
                tree.implausible.append(("var/lib/dpkg/status", "it lists no installed package (%d bytes), so which "
                                         "kdump packages are installed is unknown" % len(status)))
            else:
                versions = parse_dpkg_status(status, DEB_PACKAGES)
                tree.implausible.extend(("var/lib/dpkg/status", "%s (a status file merged from two hosts?): its "
                                         "version is unknown" % why) for why in installed_twice(dpkg_installed_versions, status, DEB_PACKAGES))
                package_source = "dpkg"
    elif family in ("redhat", "suse"):
        listing = tree.read_text("installed-rpms")
        if listing is not None:
            versions = parse_installed_rpms(listing, RPM_PACKAGES)
            tree.implausible.extend(("installed-rpms", "%s (a listing merged from two hosts?): its version is unknown"
                                     % why) for why in installed_twice(installed_rpm_versions, listing, RPM_PACKAGES))
            package_source = "installed-rpms"
        elif tree.live:
            if runner is not None and tree.exists("usr/bin/rpm"):
                _rc, out, _err = runner(["rpm", "-q", "--qf", "%{NAME} %{VERSION}\\n"] + list(RPM_PACKAGES))
                if out:
                    versions = parse_rpm_query(out, RPM_PACKAGES)
                    package_source = "rpm"
        else:
            tree.missing.append("installed-rpms")
    known = package_source is not None

    def installed(name: str) -> Optional[bool]:
        return versions.get(name) is not None if known else None

    kexec_installed = installed("kexec-tools")
    makedumpfile_version = versions.get("makedumpfile")
    makedumpfile_installed = installed("makedumpfile")
    if family == "redhat" and not split and known:
        makedumpfile_installed = kexec_installed  # EL <= 9 and Fedora < 40 ship it inside kexec-tools
    if any(tree.exists(path) for path in ("usr/sbin/makedumpfile", "sbin/makedumpfile", "usr/bin/makedumpfile")):
        makedumpfile_installed = True

    if family == "debian":
        kdump_package = "kdump-tools"
    elif family == "suse":
        kdump_package = "kdump"
    elif family == "redhat":
        kdump_package = "kdump-utils" if split else "kexec-tools"
    else:
        kdump_package = None
    service, config_file = KDUMP_LAYOUT.get(family, (None, None))

    enabled: Optional[bool] = None
    active: Optional[bool] = None
    if service:
        if _systemd_running(tree) and runner is not None:
            enabled = systemctl_state(runner(["systemctl", "is-enabled", service + ".service"]), ENABLED_STATES)
            active = systemctl_state(runner(["systemctl", "is-active", service + ".service"]), ("active",))
        if enabled is None:
            enabled = _service_enabled_from_tree(tree, service)

    compressions: Optional[List[str]] = None
    if tree.live and runner is not None and makedumpfile_installed:
        compressions = makedumpfile_compressions(runner(["makedumpfile", "-v"])[1])

    use_kdump: Optional[bool] = None
    defaults_text = config_text(tree, "etc/default/kdump-tools") if family == "debian" else None
    if defaults_text is not None:
        # kdump-tools' init script: [ "$USE_KDUMP" -ne 0 ] || exit 0 (unset or not a number: no capture kernel)
        value = shell_assignments(defaults_text).get("USE_KDUMP", "").strip()
        use_kdump = bool(re.match(r"^[-+]?[0-9]{1,18}$", value)) and int(value) != 0

    return {
        "family": family,
        "distro": distro,
        "version": version,
        "package_source": package_source,
        "kexec_tools_version": versions.get("kexec-tools"),
        "kexec_tools_installed": kexec_installed,
        "makedumpfile_version": makedumpfile_version,
        "makedumpfile_installed": makedumpfile_installed,
        "kdump_package": kdump_package,
        "kdump_package_installed": installed(kdump_package) if kdump_package else None,
        "service": service,
        "service_enabled": enabled,
        "service_active": active,
        "config_file": config_file,
        "config_file_present": config_text(tree, config_file) is not None if config_file else None,
        "use_kdump": use_kdump,
        "systemd_running": _systemd_running(tree) if tree.live else None,
        "makedumpfile_compressions": compressions,
        "kallsyms_copy_has_text": bool(kallsyms_has_text(tree.read_text(KALLSYMS_FIX_COPY)))
        if tree.exists(KALLSYMS_FIX_COPY) else None,
    }


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
