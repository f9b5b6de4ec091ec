"""The collection's metadata promises: installable offline, no Galaxy dependencies, ansible-core >= 2.16."""
import os

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(relative):
    with open(os.path.join(REPO, relative)) as handle:
        return yaml.safe_load(handle)


def test_galaxy_names_the_collection_without_dependencies():
    galaxy = load("galaxy.yml")
    assert (galaxy["namespace"], galaxy["name"]) == ("fleetops", "kdump")
    assert not galaxy.get("dependencies")


def test_runtime_requires_ansible_2_16_or_later():
    assert load("meta/runtime.yml")["requires_ansible"] == ">=2.16.0"


def test_ci_runs_exactly_the_readme_test_command():
    with open(os.path.join(REPO, "README.md")) as handle:
        readme = handle.read()
    with open(os.path.join(REPO, ".ci", "run")) as handle:
        ci_commands = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    assert ci_commands[-1] == "make test"
    assert "\n    make test\n" in readme or "\nmake test\n" in readme
