"""Shared by unit tests: the dump builders of tests/fixtures/vmcores, and one ansible-playbook run against
an inventory of local-connection hosts with the collection from this checkout."""
import importlib.util
import os
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, "build", "collections")  # created by tests/conftest.py


def vmcore_builders():
    """tests/fixtures/vmcores/make_vmcores.py as a module."""
    spec = importlib.util.spec_from_file_location(
        "make_vmcores", os.path.join(REPO, "tests", "fixtures", "vmcores", "make_vmcores.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def local_host(**variables):
    """Inventory variables of a host reached with connection local and this Python."""
    return dict({"ansible_connection": "local", "ansible_python_interpreter": sys.executable}, **variables)


def run_playbook(work, hosts, playbook, forks=8):
    """Write inventory.yml and play.yml into work and run ansible-playbook there; returns the process."""
    (work / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    (work / "play.yml").write_text(playbook)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS=str(forks),
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                           str(work / "inventory.yml"), str(work / "play.yml")], env=env, cwd=str(work),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
