# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time fleetops.kdump.kdump_facts on this machine (root=/) and on a generated 192-CPU AmpereOne tree.

    tools/bench-facts [--runs N] [--cpus 192]     (a wrapper that runs this file with the repo's .venv python)

Two numbers per target: the in-process gathering (gather_facts, median and min of N runs) and a whole
module process (python plugins/modules/kdump_facts.py ARGS.json: interpreter start, imports, gathering,
JSON output), which is what a managed host pays per task apart from Ansible's transport.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, "build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "fleetops", "kdump")
MODULE = os.path.join(REPO, "plugins", "modules", "kdump_facts.py")


def ensure_importable():
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(REPO, LINK)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)


def time_in_process(gather, root, runs):
    samples = []
    facts = None
    for _run in range(runs):
        start = time.perf_counter()
        facts = gather(root)
        samples.append(time.perf_counter() - start)
    return samples, facts


def time_module_process(root, runs):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": {"root": root}}, handle)
        args_file = handle.name
    env = dict(os.environ, PYTHONPATH=COLLECTIONS + os.pathsep + os.environ.get("PYTHONPATH", ""))
    samples = []
    try:
        for _run in range(runs):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, MODULE, args_file], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, universal_newlines=True, check=False)
            samples.append(time.perf_counter() - start)
            if done.returncode != 0 or '"ansible_facts"' not in done.stdout:
                raise SystemExit("module process failed for root=%s:\n%s%s" % (root, done.stdout, done.stderr))
    finally:
        os.unlink(args_file)
    return samples


def ms(samples):
    return "median %7.1f ms   min %7.1f ms" % (statistics.median(samples) * 1000, min(samples) * 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="in-process runs per target (module process: runs/4)")
    parser.add_argument("--cpus", type=int, default=192, help="CPUs in the generated AmpereOne tree")
    args = parser.parse_args()
    ensure_importable()
    from ansible_collections.fleetops.kdump.plugins.modules.kdump_facts import gather_facts

    sys.path.insert(0, os.path.join(REPO, "tests", "fixtures"))
    import make_host_trees

    try:
        import ansible  # noqa: F401  (the module process needs ansible-core)
        can_run_module = True
    except ImportError:
        can_run_module = False

    with tempfile.TemporaryDirectory() as scratch:
        tree = make_host_trees.write_tree("ampereone", os.path.join(scratch, "ampereone-%d" % args.cpus),
                                          cpus=args.cpus, per_cpu_sysfs=True)
        targets = [("this machine (root=/)", "/"), ("AmpereOne, %d CPUs (generated)" % args.cpus, tree)]
        print("kdump_facts timing, %d in-process runs, %s, Python %s" % (
            args.runs, os.uname().machine, sys.version.split()[0]))
        for label, root in targets:
            samples, facts = time_in_process(gather_facts, root, args.runs)
            platform = facts["platform"]
            print("%-34s gather_facts    %s   (soc=%s, cpus=%s, findings=%d)" % (
                label, ms(samples), platform["soc"], platform["cpu_count"], len(facts["findings"])))
            if can_run_module:
                print("%-34s module process  %s" % ("", ms(time_module_process(root, max(3, args.runs // 4)))))
        if not can_run_module:
            print("(module-process timing skipped: ansible-core is not importable by %s)" % sys.executable)
    return 0


if __name__ == "__main__":
    sys.exit(main())
