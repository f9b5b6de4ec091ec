# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_storage: free space of the dump directory's filesystem, with an injected statvfs."""
import os
from collections import namedtuple

from ansible_collections.fleetops.kdump.plugins.module_utils import _storage as storage

StatVfs = namedtuple("StatVfs", "f_frsize f_blocks f_bavail")


def test_measures_the_nearest_existing_directory():
    seen = []

    def statvfs(path):
        seen.append(path)
        return StatVfs(4096, 1000, 250)

    facts = storage.storage_facts("/var/crash/new", statvfs=statvfs, exists=lambda path: path in ("/", "/var"))
    assert facts == {"path": "/var/crash/new", "measured_at": "/var", "free_bytes": 250 * 4096,
                     "size_bytes": 1000 * 4096}
    assert seen == ["/var"]


def test_no_path_means_no_storage_facts():
    assert storage.storage_facts(None) is None
    assert storage.storage_facts("") is None


def test_statvfs_failure_leaves_the_numbers_unknown():
    def statvfs(path):
        raise OSError(13, "Permission denied")

    facts = storage.storage_facts("/var/crash", statvfs=statvfs, exists=lambda path: True)
    assert (facts["free_bytes"], facts["size_bytes"], facts["measured_at"]) == (None, None, "/var/crash")


def test_real_statvfs_on_this_machine(tmp_path):
    facts = storage.storage_facts(str(tmp_path / "missing" / "deeper"))
    assert facts["measured_at"] == str(tmp_path)
    assert 0 <= facts["free_bytes"] <= facts["size_bytes"]
    assert os.path.isdir(facts["measured_at"])
