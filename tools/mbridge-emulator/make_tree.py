#!/usr/bin/env python3
"""Lays out mbridge-emulator (a TEST DOUBLE) as a Megatron-Bridge checkout of one version.

    python3 make_tree.py [--version 0.3.0|0.6.0] DEST

0.3.0 (default): scripts/performance/ with the v0.3.0 command line.
0.6.0: the same plus the v0.6.0 argument_parser.py, bootstrap.py and the
src/megatron/bridge/perf_recipes/ package, whose presence is the version marker
the emulator (and callers) read. Both trees can be installed side by side.
DEST must not exist. Nothing else is copied (no tests, no overlay folders).
"""

import argparse
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OVERLAYS = {"0.3.0": None, "0.6.0": "v0.6"}
NOT_COPIED = ("__pycache__", "*.pyc", "v0.6", "emulator_test.py", "make_tree.py", ".gitignore")


def make_tree(dest, version="0.3.0"):
    if version not in OVERLAYS:
        raise ValueError(f"unknown version {version!r}; expected one of {', '.join(OVERLAYS)}")
    shutil.copytree(HERE, dest, ignore=shutil.ignore_patterns(*NOT_COPIED))
    overlay = OVERLAYS[version]
    if overlay:
        shutil.copytree(os.path.join(HERE, overlay), dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default="0.3.0", choices=sorted(OVERLAYS))
    ap.add_argument("dest")
    args = ap.parse_args()
    if os.path.exists(args.dest):
        sys.exit(f"{args.dest} exists already")
    make_tree(args.dest, args.version)
    print(f"mbridge-emulator {args.version} laid out in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
