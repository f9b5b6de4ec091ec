# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the kdump service sends dumps, from its configuration text. The texts follow the files as their
packages ship them (kdump-tools' /etc/default/kdump-tools, kdump.conf(5), SUSE's sysconfig template) and
as the kdump role's templates write them."""

import pytest

from ansible_collections.fleetops.kdump.plugins.module_utils._dump_target import dump_target
from ansible_collections.fleetops.kdump.plugins.module_utils._variables import crash_test_dump_dir


def target(kind, path, location=None):
    return {"type": kind, "path": path, "location": location}


@pytest.mark.parametrize("family, text, expected", [
    # kdump-tools
    ("debian", "USE_KDUMP=1\n# KDUMP_COREDIR=\"/var/crash\"\n", target("local", "/var/crash")),
    ("debian", 'USE_KDUMP=1\nKDUMP_COREDIR="/srv/dumps/"\n', target("local", "/srv/dumps")),
    ("debian", 'KDUMP_COREDIR="/var/crash"\nSSH="kdump@dumps"\nSSH_KEY="/root/.ssh/kdump_id_rsa"\n',
     target("ssh", "/var/crash", "kdump@dumps")),
    ("debian", 'KDUMP_COREDIR="/var/crash"\nNFS="nfs1:/exports/crash"\n', target("nfs", "/var/crash", "nfs1:/exports/crash")),
    ("debian", 'KDUMP_COREDIR="crash"\n', target("local", None)),  # relative: kdump-config would write below its cwd
    ("debian", 'KDUMP_COREDIR=""\n', target("local", "/var/crash")),  # empty takes kdump-config's default
    # kdumpctl
    ("redhat", "path /var/crash\ncore_collector makedumpfile -l --message-level 7 -d 31\n", target("local", "/var/crash")),
    ("redhat", "#path /srv\ncore_collector makedumpfile -d 31\n", target("local", "/var/crash")),
    ("redhat", "ssh kdump@dumps\nsshkey /root/.ssh/kdump_id_rsa\npath /var/crash  # on the server\n",
     target("ssh", "/var/crash", "kdump@dumps")),
    ("redhat", "nfs nfs1:/exports\npath /crash\n", target("nfs", "/crash", "nfs1:/exports")),
    ("redhat", "xfs UUID=0b2a-11\npath /dumps\n", target("device", "/dumps", "UUID=0b2a-11")),
    ("redhat", "raw /dev/sdb1\n", target("raw", "/var/crash", "/dev/sdb1")),
    # SUSE kdump
    ("suse", 'KDUMP_SAVEDIR="/var/crash"\n', target("local", "/var/crash")),
    ("suse", 'KDUMP_SAVEDIR="file:///var/crash"\n', target("local", "/var/crash")),
    ("suse", 'KDUMP_SAVEDIR="ssh://kdump@dumps/var/crash"\n', target("ssh", "/var/crash", "kdump@dumps")),
    ("suse", 'KDUMP_SAVEDIR="nfs://nfs1/exports/crash file:///var/crash"\n', target("nfs", "/exports/crash", "nfs1")),
    ("suse", 'KDUMP_SAVEDIR="ftp://u@ftp1"\n', target("other", None, "u@ftp1")),
    ("suse", "", target("local", "/var/crash")),
    # nothing to read
    ("debian", None, target(None, None)),
    ("unknown", "KDUMP_COREDIR=/x\n", target(None, None)),
])
def test_dump_target(family, text, expected):
    assert dump_target(family, text) == expected


@pytest.mark.parametrize("given, found, expected", [
    ("/srv/dumps", target("ssh", "/var/crash", "k@d"), ("/srv/dumps", "crash_test_path", None)),
    (None, target("local", "/var/crash"), ("/var/crash", "facts", None)),
    ("", target("local", "/srv/crash"), ("/srv/crash", "facts", None)),
    (None, target("ssh", "/var/crash", "kdump@dumps"),
     (None, "facts", ["sends dumps to a ssh target (kdump@dumps, directory /var/crash)", "set crash_test_path"])),
    (None, target(None, None), (None, "facts", ["dump directory is unknown", "apply fleetops.kdump.kdump first"])),
    (None, None, (None, "facts", ["dump directory is unknown"])),
    (None, target("local", None), (None, "facts", ["not an absolute path"])),
    (None, target("local", "/tmp/crash"), (None, "facts", ["is under /tmp"])),
    (None, target("local", "/var/my crash"), (None, "facts", ["holds a space"])),
])
def test_the_crash_test_looks_where_the_service_writes(given, found, expected):
    result = crash_test_dump_dir(given, found)
    path, source, words = expected
    assert (result["path"], result["source"]) == (path, source)
    if words is None:
        assert result["problem"] is None
    else:
        assert all(word in result["problem"] for word in words), result["problem"]


def test_an_ssh_target_is_read_on_the_dump_server():
    result = crash_test_dump_dir(None, target("ssh", "/srv/crash", "kdumper@10.0.2.2"), "dumpsrv")
    assert result == {"path": "/srv/crash", "source": "facts", "host": "dumpsrv", "problem": None}
    assert crash_test_dump_dir(None, target("local", "/var/crash"), None)["host"] is None
    wrong = crash_test_dump_dir(None, target("local", "/var/crash"), "dumpsrv")
    assert wrong["path"] is None and "crash_test_dump_host" in wrong["problem"] and "local" in wrong["problem"]
    relative = crash_test_dump_dir(None, target("ssh", None, "k@d"), "dumpsrv")
    assert relative["path"] is None and "not an absolute path" in relative["problem"]
    assert "crash_test_dump_host" in crash_test_dump_dir(None, target("ssh", "/srv", "k@d"))["problem"]
    # crash_test_path set by hand wins, read on the host
    assert crash_test_dump_dir("/mnt/dumps", target("ssh", "/srv", "k@d"), "dumpsrv")["host"] is None
