#!/usr/bin/env python3
"""Issue 17's accuracy figures for the step-time model on Megatron-Bridge's published
pre-training rows (tests/data/mbridge_published_pretrain.csv, catalog models, every release,
GPU type and precision), checked against the issue's thresholds:
  - per model, FLOPs per token within 1.5 % of the table's newest release (worst model shown);
  - predicted tokens/s/GPU within 25 % of the table on at least 80 % of the rows;
  - median error |predicted/table - 1| at most 12 %.
It runs the estimate_accuracy program (bench/estimate_accuracy.cc, built by CMake); the lead
switches it to `benchpilot estimate --json` once that command exists.
Usage: estimate_accuracy.py [ESTIMATE_ACCURACY_BINARY] [-v]   (default build/estimate_accuracy)
Exit status 1 when a threshold is missed.
"""
import pathlib
import subprocess
import sys

THRESHOLDS = {  # figure: (limit, "max" or "min")
    "worst_flops_error_pct": (1.5, "max"),
    "within_25_pct": (80.0, "min"),
    "median_error_pct": (12.0, "max"),
}


def main(argv):
    verbose = "-v" in argv
    args = [a for a in argv if a != "-v"]
    root = pathlib.Path(__file__).resolve().parent.parent
    binary = args[0] if args else str(root / "build" / "estimate_accuracy")
    out = subprocess.run([binary], check=True, capture_output=True, text=True).stdout
    figures = {}
    for line in out.splitlines():
        if verbose or line.startswith(("flops ", "rows:")):
            print(line)
        key, _, value = line.partition(" ")
        if key in THRESHOLDS:
            figures[key] = float(value)
    failed = False
    for key, (limit, kind) in THRESHOLDS.items():
        if key not in figures:
            print(f"{key}: missing from {binary}'s output")
            failed = True
            continue
        ok = figures[key] <= limit if kind == "max" else figures[key] >= limit
        failed |= not ok
        bound = "<=" if kind == "max" else ">="
        print(f"{key} {figures[key]:.1f} ({'ok' if ok else 'FAILS'}: {bound} {limit})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
