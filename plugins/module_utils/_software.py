# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kdump software of a host tree: distribution, packages, service, configuration, systemd.

Package versions come from files (dpkg status, a sosreport's installed-rpms) so a captured tree can
be audited offline; commands (rpm, systemctl, makedumpfile -v) are only run on the live system, through a
runner the caller passes in."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import posixpath
import re

from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.fleetops.kdump.plugins.module_utils._dump_target import dump_target
from ansible_collections.fleetops.kdump.plugins.module_utils._vocab import shell_assignments, version_tuple
from ansible_collections.fleetops.kdump.plugins.module_utils._kernel import kallsyms_has_text


# runner(argv) -> (rc, stdout, stderr); only given for the live system
Runner = Callable[[List[str]], Tuple[int, str, str]]


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


def parse_os_release(text: Optional[str]) -> Dict[str, str]:
    values: Dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            values[key] = value.strip().strip("'\"")
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


def _distribution(tree: Any, release: Optional[str]) -> Tuple[Dict[str, str], Optional[str], Optional[str], str]:
    """(os-release, ID, VERSION_ID, family), emptied (family unknown) when os-release cannot be believed."""
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
    return os_release, distro, version, family


def _package_versions(tree: Any, family: str,
                      runner: Optional[Runner]) -> Tuple[Dict[str, Optional[str]], Optional[str]]:
    """({package: version or None}, where the versions came from: dpkg, installed-rpms, rpm or None)."""
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
    return versions, package_source


def _service_state(tree: Any, service: str, runner: Optional[Runner]) -> Tuple[Optional[bool], Optional[bool]]:
    """(enabled, active) from systemctl on the live host, else enabled from the tree's unit links."""
    enabled: Optional[bool] = None
    active: Optional[bool] = None
    if _systemd_running(tree) and runner is not None:
        enabled = systemctl_state(runner(["systemctl", "is-enabled", service + ".service"]), ENABLED_STATES)
        active = systemctl_state(runner(["systemctl", "is-active", service + ".service"]), ("active",))
    if enabled is None:
        enabled = _service_enabled_from_tree(tree, service)
    return enabled, active


def _use_kdump(defaults_text: Optional[str]) -> Optional[bool]:
    """Whether kdump-tools' init script goes on: [ "$USE_KDUMP" -ne 0 ] || exit 0 (unset or not a number stops
    it); None without a readable /etc/default/kdump-tools (kdump-config-missing says so)."""
    if defaults_text is None:
        return None
    value = shell_assignments(defaults_text).get("USE_KDUMP", "").strip()
    return bool(re.match(r"^[-+]?[0-9]{1,18}$", value)) and int(value) != 0


def software_facts(tree: Any, runner: Optional[Runner] = None, release: Optional[str] = None) -> Dict[str, Any]:
    """The `software` facts. runner is used only when the tree is the live system; release (the kernel's)
    is checked against the distribution os-release names."""
    os_release, distro, version, family = _distribution(tree, release)
    split = kdump_split_packages(os_release)
    versions, package_source = _package_versions(tree, family, runner)
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

    kdump_package = {"debian": "kdump-tools", "suse": "kdump",
                     "redhat": "kdump-utils" if split else "kexec-tools"}.get(family)
    service, config_file = KDUMP_LAYOUT.get(family, (None, None))
    config = config_text(tree, config_file) if config_file else None  # Debian's is /etc/default/kdump-tools
    enabled, active = _service_state(tree, service, runner) if service else (None, None)

    compressions: Optional[List[str]] = None
    if tree.live and runner is not None and makedumpfile_installed:
        compressions = makedumpfile_compressions(runner(["makedumpfile", "-v"])[1])

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
        "config_file_present": config is not None if config_file else None,
        "use_kdump": _use_kdump(config) if family == "debian" else None,
        "dump_target": dump_target(family, config),
        "systemd_running": _systemd_running(tree) if tree.live else None,
        "makedumpfile_compressions": compressions,
        "kallsyms_copy_has_text": bool(kallsyms_has_text(tree.read_text(KALLSYMS_FIX_COPY)))
        if tree.exists(KALLSYMS_FIX_COPY) else None,
    }
