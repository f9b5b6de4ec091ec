# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time and memory of vmcore_info's check of one generated dump, plain and in each container.

    tools/bench-vmcore [--pages 262144] [--segment 4096]

The dump is tests/fixtures/vmcores/make_vmcores.py's kdump-compressed image with every page dumped
(zlib pages); "flattened" cuts it into segments of --segment bytes (makedumpfile writes one per buffer
flush), "flattened-small" into 64-byte ones (many segments), gzip/xz compress the whole file.
"""

import argparse
import bz2
import gzip
import importlib.util
import lzma
import os
import sys
import tempfile
import time
import tracemalloc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, "build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "fleetops", "kdump")


def ensure_importable():
    if not os.path.islink(LINK):
        os.makedirs(os.path.dirname(LINK), exist_ok=True)
        os.symlink(REPO, LINK)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)


def builders():
    spec = importlib.util.spec_from_file_location(
        "make_vmcores", os.path.join(REPO, "tests", "fixtures", "vmcores", "make_vmcores.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(inspect, path):
    tracemalloc.start()
    start = time.perf_counter()
    found = inspect(path)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=262144, help="pages in the dump (262144 = 1 GiB of 4K pages)")
    parser.add_argument("--segment", type=int, default=4096, help="bytes per flattened segment")
    args = parser.parse_args()
    ensure_importable()
    from ansible_collections.fleetops.kdump.plugins.module_utils import _vmcore as vmcore  # pylint: disable=import-outside-toplevel
    build = builders()
    image = build.build_kdump_compressed(max_mapnr=args.pages, dumpable=range(args.pages))
    variants = [
        ("kdump-compressed", image),
        ("flattened", build.flatten(image, chunk=args.segment)),
        ("flattened-small", build.flatten(image, chunk=64)),
        ("gzip", gzip.compress(image, 6)),
        ("bzip2", bz2.compress(image, 9)),
        ("xz", lzma.compress(image)),
    ]
    print("%d pages, dump %.1f MiB" % (args.pages, len(image) / 1048576.0))
    print("%-18s %10s %10s %10s  %s" % ("container", "file MiB", "seconds", "peak MiB", "checked / problems"))
    with tempfile.TemporaryDirectory() as work:
        for name, data in variants:
            path = os.path.join(work, "vmcore." + name)
            with open(path, "wb") as handle:
                handle.write(data)
            seconds, peak, found = measure(vmcore.inspect_dump_file, path)
            row = (name, len(data) / 1048576.0, seconds, peak / 1048576.0, ",".join(found["checked"]),
                   found["problems"] or "none")
            print("%-18s %10.1f %10.2f %10.1f  %s / %s" % row)
            os.unlink(path)


if __name__ == "__main__":
    main()
