"""Role fleetops.kdump.kdump: argument spec completeness, per-family vars and template rendering.

Templates are rendered with ansible-core's own Templar on the role's defaults + vars files (as the
template module would), then read back the way the consumer reads them: the Debian and SUSE files are
sourced by /bin/sh, kdump.conf is split into "key value" lines.
"""
import os
import subprocess

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(REPO, "roles", "kdump")
MANAGED = "Ansible managed: do not edit"
FAMILY_FILES = {"debian": ["Debian.yml"], "redhat": ["RedHat.yml"], "suse": ["Suse.yml"]}
PLAN_ARGS = ["crashkernel=768M,high", "crashkernel=16M,low"]


def _load(path):
    return DataLoader().load_from_file(path, trusted_as_template=True) or {}


def _role_vars(family, arch, overrides=None, extra_files=()):
    variables = {}
    variables.update(_load(os.path.join(ROLE, "defaults", "main.yml")))
    variables.update(overrides or {})
    variables.update(_load(os.path.join(ROLE, "vars", "main.yml")))
    for name in FAMILY_FILES[family] + list(extra_files):
        variables.update(_load(os.path.join(ROLE, "vars", name)))
    variables["ansible_facts"] = {"kdump": {"platform": {"arch": arch}, "software": {"family": family}}}
    variables["kdump_assessment"] = {"plan": {"args": PLAN_ARGS}}
    variables["ansible_managed"] = MANAGED
    variables["inventory_hostname"] = "host1"
    return variables


def render(template, family, arch="aarch64", overrides=None, extra_files=()):
    with open(os.path.join(ROLE, "templates", template)) as handle:
        text = handle.read()
    templar = Templar(loader=DataLoader(), variables=_role_vars(family, arch, overrides, extra_files))
    return templar.template(trust_as_template(text))


def resolve(name, family, arch="aarch64", overrides=None, extra_files=()):
    templar = Templar(loader=DataLoader(), variables=_role_vars(family, arch, overrides, extra_files))
    return templar.template(trust_as_template("{{ %s }}" % name))


def source_shell(text, tmp_path, names):
    """Values of `names` after sourcing `text` with /bin/sh, as kdump-config and kdumptool do."""
    path = tmp_path / "config"
    path.write_text(text)
    script = '. "$1"; shift; for n in "$@"; do eval "printf \'%s=%s\\n\' \\"$n\\" \\"\\${$n-<unset>}\\""; done'
    out = subprocess.run(["sh", "-c", script, "sh", str(path)] + names, check=True, capture_output=True, text=True)
    return dict(line.split("=", 1) for line in out.stdout.splitlines())


def conf_lines(text):
    """kdump.conf: non-comment lines as (key, rest)."""
    pairs = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, dummy, rest = line.strip().partition(" ")
            pairs.append((key, rest))
    return pairs


# --- argument specs ---------------------------------------------------------------------------------

def _specs():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]


def test_every_default_has_an_argument_spec_and_back():
    with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
        defaults = yaml.safe_load(handle)
    options = _specs()["main"]["options"]
    assert set(defaults) - set(options) == set(), "defaults without argument spec"
    assert set(options) - set(defaults) == set(), "argument specs without a default in defaults/main.yml"
    for name, spec in options.items():
        assert spec.get("description"), "%s has no description" % name
        # an option without a spec default is one whose default is "unset" (null)
        assert defaults[name] == spec.get("default"), "%s: defaults/main.yml and argument_specs differ" % name


def test_sub_options_and_other_entry_points_are_described():
    specs = _specs()
    for entry, spec in specs.items():
        assert spec.get("short_description"), entry
        for name, option in spec["options"].items():
            assert option.get("description"), "%s.%s" % (entry, name)
            assert name in specs["main"]["options"], "%s.%s is not a main option" % (entry, name)
            for sub, sub_spec in option.get("options", {}).items():
                assert sub_spec.get("description"), "%s.%s.%s" % (entry, name, sub)


def test_role_variables_are_prefixed():
    with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
        assert all(name.startswith("kdump_") for name in yaml.safe_load(handle))
    for name in os.listdir(os.path.join(ROLE, "vars")):
        with open(os.path.join(ROLE, "vars", name)) as handle:
            assert all(key.startswith("__kdump_") for key in yaml.safe_load(handle)), name


def test_each_family_defines_the_same_settings():
    def keys(name):
        with open(os.path.join(ROLE, "vars", name)) as handle:
            return set(yaml.safe_load(handle))

    common = {"__kdump_packages", "__kdump_target_packages", "__kdump_service", "__kdump_config_files",
              "__kdump_capture_cmdline_required", "__kdump_capture_cmdline_family", "__kdump_failure_actions",
              "__kdump_failure_actions_local_only", "__kdump_kexec_reboot_guard"}
    for family in ("Debian.yml", "RedHat.yml", "Suse.yml"):
        assert common <= keys(family), family
    # version files only override what their base file defines
    for name in os.listdir(os.path.join(ROLE, "vars")):
        if "_" in name:
            assert keys(name) <= keys("RedHat.yml"), name
    for name in ("RedHat.yml", "Suse.yml", "Debian.yml"):
        for config in _load(os.path.join(ROLE, "vars", name))["__kdump_config_files"]:
            assert os.path.isfile(os.path.join(ROLE, "templates", config["template"]))


def test_el10_and_fedora_use_kdump_utils_and_el9_kexec_tools():
    assert resolve("__kdump_packages", "redhat") == ["kexec-tools"]
    assert "kdump-utils" in resolve("__kdump_packages", "redhat", extra_files=["RedHat_10.yml"])
    assert "makedumpfile" in resolve("__kdump_packages", "redhat", extra_files=["Fedora.yml"])


# --- Debian -----------------------------------------------------------------------------------------

DEBIAN_KEYS = ["USE_KDUMP", "KDUMP_COREDIR", "KDUMP_FAIL_CMD", "MAKEDUMP_ARGS", "KDUMP_CMDLINE_APPEND", "SSH",
               "SSH_KEY", "NFS", "KDUMP_KERNEL", "KDUMP_INITRD", "KDUMP_DUMP_DMESG", "HOSTTAG"]


def test_debian_defaults_on_arm64(tmp_path):
    text = render("kdump-tools.j2", "debian", "aarch64")
    assert text.splitlines()[0].startswith("#") and MANAGED in text
    env = source_shell(text, tmp_path, DEBIAN_KEYS)
    assert env["USE_KDUMP"] == "1"
    assert env["KDUMP_COREDIR"] == "/var/crash"
    assert env["MAKEDUMP_ARGS"] == "-l -d 31"
    assert env["KDUMP_FAIL_CMD"] == "reboot -f"
    assert env["SSH"] == "<unset>" and env["NFS"] == "<unset>"
    append = env["KDUMP_CMDLINE_APPEND"].split()
    for token in ["irqpoll", "nr_cpus=1", "reset_devices", "cgroup_disable=memory", "udev.children-max=2",
                  "panic=10", "swiotlb=noforce", "cma=0"]:
        assert token in append
    assert append[-1] == "systemd.unit=kdump-tools-dump.service"
    assert "nokaslr" not in append
    assert len(append) == len(set(append))


def test_debian_x86_capture_arguments_differ_from_arm64(tmp_path):
    append = source_shell(render("kdump-tools.j2", "debian", "x86_64"), tmp_path, DEBIAN_KEYS)[
        "KDUMP_CMDLINE_APPEND"].split()
    assert "nokaslr" in append and "mce=off" in append and "swiotlb=noforce" not in append
    assert "systemd.unit=kdump-tools-dump.service" in append


@pytest.mark.parametrize("compression, expected", [
    ("lzo", "-l -d 7"), ("zlib", "-c -d 7"), ("zstd", "-z -d 7"), ("snappy", "-p -d 7"), ("none", "-d 7")])
def test_debian_makedumpfile_arguments(tmp_path, compression, expected):
    text = render("kdump-tools.j2", "debian", overrides={"kdump_compression": compression, "kdump_dump_level": 7})
    assert source_shell(text, tmp_path, DEBIAN_KEYS)["MAKEDUMP_ARGS"] == expected


def test_debian_capture_arguments_can_be_replaced_and_removed(tmp_path):
    text = render("kdump-tools.j2", "debian", overrides={
        "kdump_capture_cmdline_append": ["nr_cpus=4", "crash_kexec_post_notifiers"],
        "kdump_capture_cmdline_remove": ["cgroup_disable", "irqpoll"]})
    append = source_shell(text, tmp_path, DEBIAN_KEYS)["KDUMP_CMDLINE_APPEND"].split()
    assert "nr_cpus=4" in append and "nr_cpus=1" not in append
    assert "crash_kexec_post_notifiers" in append
    assert not any(token.startswith(("cgroup_disable", "irqpoll")) for token in append)
    assert "reset_devices" in append
    # the unit that takes the dump stays even when the operator removes everything else
    assert append[-1] == "systemd.unit=kdump-tools-dump.service"


def test_debian_ssh_and_nfs_targets(tmp_path):
    ssh = source_shell(render("kdump-tools.j2", "debian", overrides={"kdump_target": {
        "type": "ssh", "location": "dump@collector.example", "ssh_key": "/root/.ssh/kdump_ed25519"}}),
        tmp_path, DEBIAN_KEYS)
    assert ssh["SSH"] == "dump@collector.example"
    assert ssh["SSH_KEY"] == "/root/.ssh/kdump_ed25519"
    assert ssh["KDUMP_COREDIR"] == "/var/crash" and ssh["NFS"] == "<unset>"
    # remote crash directories are <hostname>-<stamp>: hosts behind one NAT address (10.0.2.15) never collide
    assert ssh["HOSTTAG"] == "hostname"
    assert source_shell(render("kdump-tools.j2", "debian"), tmp_path, DEBIAN_KEYS)["HOSTTAG"] == "<unset>"
    nfs = source_shell(render("kdump-tools.j2", "debian", overrides={
        "kdump_path": "/dumps", "kdump_target": {"type": "nfs", "location": "filer:/export/"}}), tmp_path, DEBIAN_KEYS)
    assert nfs["NFS"] == "filer:/export/dumps"
    assert nfs["KDUMP_COREDIR"] == "/dumps" and nfs["SSH"] == "<unset>"


@pytest.mark.parametrize("action, command", [("halt", "halt -f"), ("shell", "systemctl --no-block emergency")])
def test_debian_failure_action(tmp_path, action, command):
    text = render("kdump-tools.j2", "debian", overrides={"kdump_failure_action": action})
    assert source_shell(text, tmp_path, DEBIAN_KEYS)["KDUMP_FAIL_CMD"] == command


def test_debian_file_is_a_valid_systemd_environment_file():
    # kdump-tools.service reads the same file with EnvironmentFile=: KEY="value" lines and comments only
    for line in render("kdump-tools.j2", "debian").splitlines():
        if line and not line.startswith("#"):
            key, dummy, value = line.partition("=")
            assert key.isupper() and (value.isdigit() or (value.startswith('"') and value.endswith('"'))), line
            assert '"' not in value[1:-1], line


@pytest.mark.parametrize("family, argv", [
    ("debian", ["kdump-config", "propagate"]), ("redhat", ["kdumpctl", "propagate"]), ("suse", [])])
def test_each_family_names_its_propagate_command(family, argv):
    assert resolve("__kdump_propagate_argv", family) == argv


@pytest.mark.parametrize("port, known_name", [(None, "10.0.2.2"), (22, "10.0.2.2"), (40022, "[10.0.2.2]:40022")])
def test_ssh_target_login_is_made_as_the_capture_kernel_makes_it(port, known_name):
    target = {"type": "ssh", "location": "kdumper@10.0.2.2", "path": "/srv/crash", "ssh_key": "/root/.ssh/k"}
    if port is not None:
        target["port"] = port
    overrides = {"kdump_target": target, "ansible_check_mode": False}
    assert resolve("__kdump_ssh_known_name", "debian", overrides=overrides) == known_name
    assert resolve("__kdump_ssh_probe_argv", "debian", overrides=overrides) == [
        "ssh", "-i", "/root/.ssh/k", "-p", str(port or 22), "-o", "BatchMode=yes", "-o", "ConnectTimeout=15",
        "kdumper@10.0.2.2", "mkdir -p /srv/crash"]
    # check mode logs in without creating the directory
    assert resolve("__kdump_ssh_probe_argv", "debian", overrides=dict(overrides, ansible_check_mode=True))[-1] == "true"
    assert resolve("__kdump_ssh_user", "debian", overrides=overrides) == "kdumper"


# --- RHEL family ------------------------------------------------------------------------------------

def test_redhat_kdump_conf_local():
    pairs = conf_lines(render("kdump.conf.j2", "redhat", "x86_64"))
    assert render("kdump.conf.j2", "redhat").startswith("#")
    assert ("path", "/var/crash") in pairs
    assert ("core_collector", "makedumpfile -l --message-level 7 -d 31") in pairs
    assert ("failure_action", "reboot") in pairs
    assert ("auto_reset_crashkernel", "no") in pairs
    assert not any(key in ("ssh", "nfs", "sshkey") for key, dummy in pairs)


def test_redhat_kdump_conf_ssh_needs_flattened_dumps():
    pairs = dict(conf_lines(render("kdump.conf.j2", "redhat", overrides={
        "kdump_compression": "zlib", "kdump_failure_action": "dump_to_rootfs",
        "kdump_target": {"type": "ssh", "location": "dump@collector.example"}})))
    assert pairs["ssh"] == "dump@collector.example"
    assert pairs["sshkey"] == "/root/.ssh/kdump_id_rsa"
    assert pairs["core_collector"] == "makedumpfile -F -c --message-level 7 -d 31"
    assert pairs["failure_action"] == "dump_to_rootfs"


def test_redhat_nfs_target_and_older_releases():
    pairs = dict(conf_lines(render("kdump.conf.j2", "redhat", overrides={
        "kdump_target": {"type": "nfs", "location": "filer:/export", "path": "/dumps"}})))
    assert pairs["nfs"] == "filer:/export" and pairs["path"] == "/dumps"
    el8 = dict(conf_lines(render("kdump.conf.j2", "redhat", extra_files=["RedHat_8.yml"])))
    assert "auto_reset_crashkernel" not in el8 and el8["failure_action"] == "reboot"
    el7 = dict(conf_lines(render("kdump.conf.j2", "redhat", extra_files=["RedHat_7.yml"])))
    assert el7["default"] == "reboot" and "failure_action" not in el7


def test_redhat_sysconfig(tmp_path):
    keys = ["KDUMP_COMMANDLINE", "KDUMP_COMMANDLINE_REMOVE", "KDUMP_COMMANDLINE_APPEND", "KEXEC_ARGS"]
    arm = source_shell(render("sysconfig-kdump-redhat.j2", "redhat", "aarch64"), tmp_path, keys)
    assert arm["KDUMP_COMMANDLINE"] == ""
    assert arm["KEXEC_ARGS"] == "-s"
    assert "swiotlb=noforce" in arm["KDUMP_COMMANDLINE_APPEND"].split()
    assert "systemd.unit=kdump-tools-dump.service" not in arm["KDUMP_COMMANDLINE_APPEND"]
    assert "hugepages" in arm["KDUMP_COMMANDLINE_REMOVE"].split()
    other = source_shell(render("sysconfig-kdump-redhat.j2", "redhat", "ppc64"), tmp_path, keys)
    assert other["KEXEC_ARGS"] == "" and "maxcpus=1" in other["KDUMP_COMMANDLINE_APPEND"].split()


# --- SUSE -------------------------------------------------------------------------------------------

SUSE_KEYS = ["KDUMP_CRASHKERNEL", "KDUMP_UPDATE_BOOTLOADER", "KDUMP_SAVEDIR", "KDUMP_SSH_IDENTITY",
             "KDUMP_DUMPLEVEL", "KDUMP_DUMPFORMAT", "KDUMP_CONTINUE_ON_ERROR", "KDUMP_COMMANDLINE_APPEND"]


def test_suse_local(tmp_path):
    env = source_shell(render("sysconfig-kdump-suse.j2", "suse", "x86_64"), tmp_path, SUSE_KEYS)
    assert env["KDUMP_CRASHKERNEL"] == " ".join(PLAN_ARGS)
    assert env["KDUMP_UPDATE_BOOTLOADER"] == "false"
    assert env["KDUMP_SAVEDIR"] == "file:///var/crash"
    assert env["KDUMP_SSH_IDENTITY"] == "<unset>"
    assert env["KDUMP_DUMPFORMAT"] == "lzo" and env["KDUMP_DUMPLEVEL"] == "31"
    assert env["KDUMP_CONTINUE_ON_ERROR"] == "true"


@pytest.mark.parametrize("target, savedir", [
    ({"type": "ssh", "location": "dump@collector"}, "ssh://dump@collector/var/crash"),
    ({"type": "nfs", "location": "filer:/export", "path": "/dumps"}, "nfs://filer/export/dumps"),
])
def test_suse_remote_targets(tmp_path, target, savedir):
    env = source_shell(render("sysconfig-kdump-suse.j2", "suse", overrides={
        "kdump_target": target, "kdump_compression": "none", "kdump_failure_action": "shell"}), tmp_path, SUSE_KEYS)
    assert env["KDUMP_SAVEDIR"] == savedir
    assert env["KDUMP_DUMPFORMAT"] == "ELF"
    assert env["KDUMP_CONTINUE_ON_ERROR"] == "false"


def test_suse_offers_only_the_failure_actions_it_has():
    assert sorted(resolve("__kdump_failure_actions", "suse")) == ["reboot", "shell"]


def test_a_dump_target_that_fails_the_login_leaves_roots_ssh_config_alone():
    """root's ssh config (the target's port) is written only after the login probe passed, except before
    propagate (no kdump_target.server), which cannot be given a port any other way."""
    with open(os.path.join(ROLE, "tasks", "ssh_target.yml")) as handle:
        tasks = yaml.safe_load(handle)
    names = [task["name"] for task in tasks]
    stop = names.index("Stop when the host cannot log in to its dump target")
    port_writes = [i for i, task in enumerate(tasks) if task.get("ansible.builtin.include_tasks") == "ssh_port.yml"]
    before = [tasks[i] for i in port_writes if i < stop]
    assert port_writes[-1] > stop and "when" not in tasks[port_writes[-1]]
    assert all("__kdump_ssh_server | length == 0" in task["when"] for task in before), before
    assert not any("blockinfile" in str(task) for task in tasks), "port writes go through ssh_port.yml"
