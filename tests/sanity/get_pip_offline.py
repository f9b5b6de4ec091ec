"""Offline stand-in for the get-pip.py script that ansible-test downloads for its sanity virtualenvs.

ansible-test runs the cached script inside a fresh, pip-less venv with `pip install` style arguments
(the pinned pip version plus options). Here pip comes from the interpreter's bundled ensurepip wheel and is
then asked to install those arguments from the configured package index, so no other download host is needed.
`make sanity` copies this file to ~/.ansible/test/cache/get_pip_<version>.py.
"""
import ensurepip
import os
import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap(upgrade=True)
os.environ.pop("PIP_CONFIG_FILE", None)  # ensurepip hides pip.conf (index, certificates) from later runs
arguments = [arg for arg in sys.argv[1:] if arg not in IGNORED]
if arguments:
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + arguments))
