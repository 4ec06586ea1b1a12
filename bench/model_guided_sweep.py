#!/usr/bin/env python3
"""How many trials each sweep agent needs to reach the best point of the full grid.

On the local Slurm cluster with the Megatron-Bridge launcher EMULATOR (tools/mbridge-emulator, a
test double: its step times and memory come from its own synthetic model, emulator_model.py,
which benchpilot's estimator does not use or copy). The grid (Llama3 8B on 8 H100s, gb 128):
tp [1, 2, 4, 8] x pp [1, 2, 4] x cp [1, 2] x mb [1, 2, 4] = 72 points; the emulator fails a
point whose memory exceeds the GPU's, as a real GPU would (MBRIDGE_EMULATOR_ENFORCE_MEMORY).

  1. grid_search runs every valid point (8 at a time); the best point is the one with the
     lowest measured step time. Grid search reaches it after as many trials as there are valid
     points up to its number.
  2. model_guided runs one point at a time (so it re-ranks after every result), with
     agent_steps = every valid point; its trials are the position of the best point in its
     trajectory.
  3. random_search ignores results, so its order is that of a dry run with the same seed (the
     same agent code; nothing is submitted); its trials are the position of the best point.
  4. For comparison, the model's order alone (no re-ranking): `estimate --json` with E1
     pruning, points sorted by predicted step time.

usage: BENCHPILOT_TEST_SLURM_CONF=<cluster>/etc/slurm.conf \\
         python3 bench/model_guided_sweep.py [--binary build/benchpilot] [--seeds 5]
The cluster: scripts/local-slurm/start.sh, or `ctest -R slurm_cluster_start` in the build
folder (its slurm.conf is BP_TEST_SLURM_CONF in CMakeCache.txt).
"""
import argparse
import ast
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

SOURCE = pathlib.Path(__file__).resolve().parents[1]

GRID = ("  tp = [1, 2, 4, 8]\n  pp = [1, 2, 4]\n  cp = [1, 2]\n  vp = 1\n  ep = 1\n"
        "  mb = [1, 2, 4]\n")
ENFORCE_MEMORY = '  MBRIDGE_EMULATOR_ENFORCE_MEMORY = "1"\n'
METRIC = 'agent_metrics = ["step-time"]\n'


def options():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary", default=str(SOURCE / "build" / "benchpilot"))
    p.add_argument("--seeds", type=int, default=5, help="random_search seeds 1..N")
    p.add_argument("--keep", help="work folder to keep (default: a temporary one)")
    return p.parse_args()


def trajectory(ws, name, agent_lines, dry=False):
    """Runs (or dry-runs) the grid under `agent_lines`; returns the trajectory rows in order."""
    from helpers import read_csv  # tests/e2e, put on sys.path by main
    body = ws.mb_case(name, extra=agent_lines, cmd_args=GRID, env_vars=ENFORCE_MEMORY)
    command = ws.command(ws.scenario(name, body))
    if dry:
        command[command.index("run")] = "dry-run"
    proc = subprocess.run(command, capture_output=True, text=True, env=ws.env(),
                                  timeout=3600)
    path = ws.results(name) / name / "0" / "trajectory.csv"
    if not path.is_file():
        sys.exit(f"{name}: no trajectory.csv (exit {proc.returncode})\n{proc.stdout}\n{proc.stderr}")
    return read_csv(path)


def model_order(ws, name):
    """Step numbers of the points E1 keeps, by predicted step time (`estimate --json`)."""
    body = ws.mb_case(name, extra='  [Tests.estimate]\n  oom = "prune"\n', cmd_args=GRID)
    command = ws.command(ws.scenario(name, body))
    command[command.index("run")] = "estimate"
    proc = subprocess.run(command + ["--json"], capture_output=True, text=True, env=ws.env(),
                          timeout=600, check=True)
    points = [p for p in json.loads(proc.stdout)["points"]
              if p["fits"] and not p["pruned"] and p["step_time_s"] is not None]
    return [p["step"] for p in sorted(points, key=lambda p: (p["step_time_s"], p["step"]))]


def describe(row):
    action = ast.literal_eval(row["action"])
    return " ".join(f"{k}={v}" for k, v in action.items())


def main():
    args = options()
    if not os.environ.get("BENCHPILOT_TEST_SLURM_CONF"):
        sys.exit("BENCHPILOT_TEST_SLURM_CONF: set it to the slurm.conf of a running local cluster")
    os.environ["BENCHPILOT_BINARY"] = args.binary
    os.environ.setdefault("BENCHPILOT_SOURCE_DIR", str(SOURCE))
    sys.path.insert(0, str(SOURCE / "tests" / "e2e"))
    from slurm_env import SlurmWorkspace  # noqa: E402

    work = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="bp-model-guided-"))
    work.mkdir(parents=True, exist_ok=True)
    ws = SlurmWorkspace(work)

    grid = trajectory(ws, "grid", METRIC + "  [Tests.agent_config]\n  max_in_flight = 8\n")
    valid = sorted(int(r["step"]) for r in grid)
    ran = {int(r["step"]): ast.literal_eval(r["observation"])[0]
           for r in grid if float(r["reward"]) > 0}
    best = min(ran, key=ran.get)
    best_row = [r for r in grid if int(r["step"]) == best][0]
    print(f"grid: 72 points, {len(valid)} valid, {len(ran)} ran to the end "
          f"({len(valid) - len(ran)} out of memory on the emulator)")
    print(f"best: step {best} ({describe(best_row)}), {ran[best]:.3f} s per step")

    guided = trajectory(ws, "guided", f'agent = "model_guided"\nagent_steps = {len(valid)}\n' +
                        METRIC + "  [Tests.agent_config]\n  max_in_flight = 1\n")
    guided_order = [int(r["step"]) for r in guided]
    random_trials = []
    for seed in range(1, args.seeds + 1):
        rows = trajectory(ws, f"random{seed}",
                          f'agent = "random_search"\nagent_steps = {len(valid)}\n' + METRIC +
                          f"  [Tests.agent_config]\n  max_in_flight = 1\n  random_seed = {seed}\n",
                          dry=True)
        random_trials.append([int(r["step"]) for r in rows].index(best) + 1)

    def share(n):
        return f"{n / len(valid):.0%} of {len(valid)} valid, {n / 72:.0%} of 72"

    alone = model_order(ws, "estimate")
    print(f"\n{'agent':<14} {'trials to the best point':<44} share of the grid")
    grid_trials = valid.index(best) + 1
    print(f"{'grid_search':<14} {grid_trials:<44} {share(grid_trials)}")
    mean = statistics.mean(random_trials)
    text = f"mean {mean:.1f} (seeds 1-{args.seeds}: {', '.join(map(str, random_trials))})"
    print(f"{'random_search':<14} {text:<44} {share(mean)}")
    if best in guided_order:
        n = guided_order.index(best) + 1
        print(f"{'model_guided':<14} {n:<44} {share(n)}")
    else:
        print(f"{'model_guided':<14} not reached in {len(guided_order)} runs")
    if best in alone:
        n = alone.index(best) + 1
        print(f"{'(model alone)':<14} {n:<44} {share(n)}")
    print("\nmodel_guided's order (measured step time; - = out of memory):")
    for i, r in enumerate(guided, 1):
        t = ast.literal_eval(r["observation"])[0] if float(r["reward"]) > 0 else None
        mark = "  <- the grid's best" if int(r["step"]) == best else ""
        print(f"  {i:>2}. step {r['step']:>2} {describe(r):<28} "
              f"{f'{t:.3f} s' if t is not None else '-':>9}{mark}")
    print(f"\nwork folder: {work}")


if __name__ == "__main__":
    main()
