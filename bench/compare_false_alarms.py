#!/usr/bin/env python3
"""False alarms and detection of `benchpilot compare`, measured on repeated runs of the
Megatron-Bridge EMULATOR (a test double) on a real local Slurm cluster.

usage: SLURM_CONF=... bench/compare_false_alarms.py [--runs N] [--slow M] [--binary PATH]

Runs the same 5-configuration sweep (llama3_8b, tp x pp, 14 steps: 10 samples after warm-up)
N times with independent per-step noise (MBRIDGE_EMULATOR_NOISE_SEED) and M times with every
step 5 % slower (MBRIDGE_EMULATOR_STEP_TIME_SCALE=1.05), then compares every pair of identical
campaigns (false alarm: any verdict but "no change") and every identical/slow pair (detected:
"slower"). Prints both rates with their counts.
"""
import argparse
import itertools
import json
import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))
os.environ.setdefault("BENCHPILOT_SOURCE_DIR", str(HERE.parent))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--slow", type=int, default=2)
    ap.add_argument("--binary", default=str(HERE.parent / "build" / "benchpilot"))
    args = ap.parse_args()
    os.environ["BENCHPILOT_BINARY"] = args.binary
    os.environ["BENCHPILOT_TEST_SLURM_CONF"] = os.environ.get("SLURM_CONF", "")
    from slurm_env import SlurmWorkspace  # after the environment is set

    with tempfile.TemporaryDirectory(prefix="bp-false-alarms-") as tmp:
        ws = SlurmWorkspace(tmp)
        body = ws.mb_case("fa", extra='  [Tests.agent_config]\n  max_in_flight = 4\n',
                          cmd_args="  tp = [1, 2, 4]\n  pp = [1, 2]\n  gb = 64\n")
        body = body.replace("max_steps = 6", "max_steps = 14")

        def campaign(name, seed, scale):
            env = ws.env()
            env["MBRIDGE_EMULATOR_NOISE_SEED"] = seed
            env["MBRIDGE_EMULATOR_STEP_TIME_SCALE"] = scale
            sc = ws.scenario(name, body.replace('"fa"', f'"{name}"'))
            p = subprocess.run(ws.command(sc), capture_output=True, text=True, env=env, timeout=600)
            if p.returncode != 0:
                sys.exit(f"{name} failed:\n{p.stdout}\n{p.stderr}")
            return next((ws.root / "results").glob(f"{name}_*"))

        same = [campaign(f"same{i}", str(i), "1.0") for i in range(args.runs)]
        slow = [campaign(f"slow{i}", str(100 + i), "1.05") for i in range(args.slow)]

        def verdicts(a, b, *extra):
            p = subprocess.run([args.binary, "--log-file", "", "compare", str(a), str(b), "--json",
                                *extra], capture_output=True, text=True, check=True)
            return [c["verdict"] for c in json.loads(p.stdout)["configurations"]]

        alarms = total = rank_only = 0
        for a, b in itertools.combinations(same, 2):
            v = verdicts(a, b)
            total += len(v)
            alarms += sum(x != "no change" for x in v)
            # The rank test alone (no minimum effect): its own false-alarm rate, about alpha.
            rank_only += sum(x != "no change" for x in verdicts(a, b, "--min-effect", "0"))
        detected = checks = 0
        for a in same:
            for b in slow:
                v = verdicts(a, b)
                checks += len(v)
                detected += sum(x == "slower" for x in v)
        print(f"identical campaigns: {args.runs} ({len(list(itertools.combinations(same, 2)))} pairs)"
              f", {total} configuration comparisons, {alarms} false alarms "
              f"({100.0 * alarms / max(total, 1):.1f} %); rank test alone (--min-effect 0): "
              f"{rank_only} ({100.0 * rank_only / max(total, 1):.1f} %)")
        print(f"5 % slower campaigns: {args.slow}; {checks} comparisons, {detected} flagged slower "
              f"({100.0 * detected / max(checks, 1):.1f} %)")


if __name__ == "__main__":
    main()
