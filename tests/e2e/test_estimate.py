"""End-to-end checks of `benchpilot estimate` and of rule E1 (predicted out of memory) in plan."""
import json
import re
import unittest

from helpers import CONF, run_bp, tempdir, write_file

SYSTEM = CONF / "system" / "example_slurm_cluster.toml"

TEST = """name = "llama405"
description = "Llama3.1 405B on one H100 node"
test_template_name = "MegatronBridge"
{extra}
[cmd_args]
gpu_type = "h100"
model_family_name = "llama"
model_recipe_name = "llama31_405b"
num_gpus = 8
tp = {tp}
pp = 1
cp = 1
vp = 1
ep = 1
mb = 1
gb = 64

[[git_repos]]
url = "https://github.com/NVIDIA-NeMo/Megatron-Bridge.git"
commit = "v0.6.0"
"""

SCENARIO = """name = "estimate_e2e"
[[Tests]]
id = "llama405"
test_name = "llama405"
num_nodes = 1
time_limit = "00:30:00"
"""


class Estimate(unittest.TestCase):
    def setup(self, tp="1", extra='[estimate]\noom = "prune"\n'):
        d = tempdir(self)
        write_file(d / "tests" / "llama405.toml", TEST.format(tp=tp, extra=extra))
        write_file(d / "scenario.toml", SCENARIO)
        return d

    def bp(self, command, d, *extra):
        return run_bp(command, "--system-config", SYSTEM, "--tests-dir", d / "tests",
                      "--test-scenario", d / "scenario.toml", *extra,
                      env={"HF_TOKEN": "", "BENCHPILOT_STORE": str(d / "no-store.db")})

    def test_json_has_every_key_for_every_point(self):
        d = self.setup(tp="[1, 8]")
        proc = self.bp("estimate", d, "--json")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        points = json.loads(proc.stdout)["points"]
        self.assertEqual([p["step"] for p in points], [1, 2])
        for p in points:
            self.assertEqual(set(p), {"case", "iteration", "step", "params",
                                      "model_flops_per_token", "step_time_s", "tflops_per_gpu",
                                      "tokens_per_s_per_gpu", "memory_gib", "gpu_memory_gib",
                                      "fits", "near_limit", "pruned", "raw_step_time_s",
                                      "calibration"})
            # No results store: the raw model, and nothing created.
            self.assertEqual(p["calibration"], {"factor": 1.0, "runs": 0})
            self.assertEqual(p["raw_step_time_s"], p["step_time_s"])
            self.assertEqual(p["case"], "llama405")
            self.assertEqual(p["iteration"], 0)
            for key in ("tp", "pp", "cp", "vp", "ep", "et", "mb", "gb", "seq_length", "num_gpus",
                        "gpu_type", "compute_dtype", "recompute_modules"):
                self.assertIn(key, p["params"])
            m = p["memory_gib"]
            parts = ("weights", "gradients", "optimizer", "activations", "other")
            self.assertAlmostEqual(m["total"], sum(m[k] for k in parts), places=6)
            self.assertAlmostEqual(p["gpu_memory_gib"], 79.6, places=3)
        self.assertFalse((d / "no-store.db").exists())
        tp1, tp8 = points
        self.assertEqual(tp1["params"]["tp"], 1)
        self.assertEqual(tp8["params"]["tp"], 8)
        # 405 B parameters on 8 GPUs: out of memory at tp = 1, still at tp = 8 (one node).
        self.assertFalse(tp1["fits"])
        self.assertGreater(tp1["memory_gib"]["total"], 1000)
        self.assertLess(tp8["memory_gib"]["weights"], tp1["memory_gib"]["weights"] / 7)
        self.assertEqual(tp1["pruned"], [])

    def test_plan_prunes_405b_on_one_node_with_the_numbers(self):
        d = self.setup(tp="[1, 2]")
        proc = self.bp("plan", d)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("E1 predicted out of memory", proc.stdout)
        self.assertRegex(proc.stdout, r"needs \d+\.\d GiB of 79\.6 GiB: weights \d+\.\d, "
                                      r"gradients \d+\.\d, optimizer \d+\.\d, activations")

    def test_single_case_out_of_memory_is_refused_before_anything_is_written(self):
        d = self.setup()
        out = d / "results"
        proc = run_bp("dry-run", "--system-config", SYSTEM, "--tests-dir", d / "tests",
                      "--test-scenario", d / "scenario.toml", "--output-dir", out,
                      env={"HF_TOKEN": "hf_e2eSECRETtoken123"})
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("E1 predicted out of memory", proc.stdout + proc.stderr)
        self.assertFalse(out.exists() and any(out.iterdir()), "nothing may be written")

    def test_warn_runs_the_point_and_plan_warns(self):
        d = self.setup(extra='[estimate]\noom = "warn"\n')
        self.check_warns(d)

    def test_by_default_e1_prunes_405b_at_tp_pp_1_with_the_numbers(self):
        """Without [estimate], E1 prunes: no published Megatron-Bridge configuration comes out
        above its margin, so what it prunes is a clear case."""
        d = self.setup(tp="[1, 2]", extra="")
        proc = self.bp("plan", d)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("Pruned in", proc.stdout)
        self.assertIn("E1 predicted out of memory", proc.stdout)
        self.assertRegex(proc.stdout, r"tp=1[^\n]*needs \d+\.\d GiB of 79\.6 GiB: weights "
                                      r"756\.0, gradients 756\.0, optimizer \d+\.\d, activations")

    def test_off_checks_nothing(self):
        d = self.setup(extra='[estimate]\noom = "off"\n')
        proc = self.bp("plan", d)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNotIn("E1", proc.stdout)

    def check_warns(self, d):
        proc = self.bp("plan", d)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertNotIn("Pruned in", proc.stdout)
        self.assertIn("Warnings in llama405", proc.stdout)
        self.assertIn("E1 near the GPU memory limit", proc.stdout)

    def test_table_says_which_step_time_it_shows(self):
        d = self.setup(extra="")
        proc = self.bp("estimate", d)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("step time: the raw model (no finished llama31_405b run on", proc.stdout)
        proc = self.bp("estimate", d, "--no-calibration")
        self.assertIn("step time: the raw model (--no-calibration)", proc.stdout)

    def test_calibrates_by_an_indexed_run_of_the_same_model_and_system(self):
        d = self.setup(extra="")
        raw = json.loads(self.bp("estimate", d, "--json").stdout)["points"][0]
        # A finished run of the same configuration, as a CloudAI-layout folder: its prediction
        # (half the raw step time, frozen by an earlier estimator run of this version) and a log
        # that measured 1.5x the raw step time.
        run = d / "results" / "earlier" / "llama405" / "0"
        write_file(run / "test-run.toml", 'name = "llama405"\nnnodes = 1\ncurrent_iteration = 0\n'
                   'step = 0\n[test_definition]\nname = "llama405"\n'
                   'test_template_name = "MegatronBridge"\n[test_definition.cmd_args]\n'
                   'model_recipe_name = "llama31_405b"\ngpu_type = "h100"\n')
        write_file(run / "job-state.toml", 'job_id = "7"\nstate = "COMPLETED"\nreason = ""\n')
        measured = 1.5 * raw["raw_step_time_s"]
        write_file(run / "launcher.log", f"Step Time : {measured:.2f}s GPU utilization: "
                   "300.0MODEL_TFLOP/s/GPU\n" * 3)
        predicted = raw["raw_step_time_s"] / 2
        write_file(run / "estimate.toml", f'estimator_version = "megatron_bridge/3"\n'
                   f'step_time_factor = 1.0\nstep_time_s = {predicted!r}\n')
        store = d / "no-store.db"  # the store this test's estimate reads
        proc = run_bp("index", "--store", store, "--system", "example-cluster", d / "results")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        hist = json.loads(run_bp("history", "--store", store, "--json").stdout)
        self.assertEqual(hist[0]["prediction"], {"estimator_version": "megatron_bridge/3",
                                                 "step_time_s": predicted,
                                                 "step_time_factor": 1.0, "memory_gib": None})
        self.assertEqual(hist[0]["measured"], {"step_time_s": float(f"{measured:.2f}"),
                                               "max_allocated_gib": None,
                                               "max_reserved_gib": None})  # no memory lines
        p = json.loads(self.bp("estimate", d, "--json").stdout)["points"][0]
        factor = float(f"{measured:.2f}") / predicted
        self.assertEqual(p["calibration"]["runs"], 1)
        self.assertAlmostEqual(p["calibration"]["factor"], factor, places=9)
        self.assertAlmostEqual(p["step_time_s"], raw["raw_step_time_s"] * factor, places=6)
        self.assertAlmostEqual(p["tflops_per_gpu"], raw["tflops_per_gpu"] / factor, places=6)
        self.assertIn("step time: calibrated x", self.bp("estimate", d).stdout)
        # plan calibrates the same way (with oom = "warn": the single point runs, so it is shown).
        write_file(d / "tests" / "llama405.toml", TEST.format(tp="1", extra='[estimate]\noom = "warn"\n'))
        plan = self.bp("plan", d).stdout
        self.assertIn(f"step time: calibrated x{factor:.3f} by up to 1 finished run", plan)
        self.assertRegex(plan, rf"\n  -  +-  +over \(warn\) .* {p['step_time_s']:.2f} +10 +8 ")
        p = json.loads(self.bp("estimate", d, "--json", "--no-calibration").stdout)["points"][0]
        self.assertEqual(p["step_time_s"], raw["step_time_s"])
        accuracy = json.loads(run_bp("estimate", "--accuracy", "--json", "--store", store).stdout)
        self.assertEqual([(a["model"], a["system"], a["runs"]) for a in accuracy["accuracy"]],
                         [("llama31_405b", "example-cluster", 1)])
        # One run alone: nothing else calibrates it, so its error is the raw model's.
        a = accuracy["accuracy"][0]
        self.assertAlmostEqual(a["median_error"], a["raw_median_error"], places=12)
        self.assertAlmostEqual(a["raw_worst_error"], abs(predicted / float(f"{measured:.2f}") - 1),
                               places=9)

    def test_accuracy_reads_only_the_store(self):
        d = tempdir(self)
        proc = run_bp("estimate", "--accuracy", "--store", d / "none.db")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("No finished run in", proc.stdout)
        self.assertFalse((d / "none.db").exists())
        proc = run_bp("estimate", "--accuracy", "--json", "--store", d / "none.db")
        self.assertEqual(json.loads(proc.stdout)["accuracy"], [])
        # Without --accuracy a scenario is needed.
        proc = run_bp("estimate", "--system-config", SYSTEM)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--test-scenario is required", proc.stderr)

    def test_bad_oom_value_names_file_line_and_key(self):
        d = self.setup(extra='[estimate]\noom = "maybe"\n')
        proc = self.bp("estimate", d)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("llama405.toml:5", proc.stdout + proc.stderr)
        self.assertIn("estimate.oom", proc.stdout + proc.stderr)


SWEEP_TEST = """name = "llama70"
description = "Llama3 70B on 64 H100"
test_template_name = "MegatronBridge"
[cmd_args]
gpu_type = "h100"
model_family_name = "llama"
model_recipe_name = "llama3_70b"
num_gpus = 64
gb = 128
tp = [4, 8]
pp = [4, 8]
mb = [1, 2]
max_steps = 50

[[git_repos]]
url = "https://github.com/NVIDIA-NeMo/Megatron-Bridge.git"
commit = "v0.6.0"
"""

SWEEP_SCENARIO = """name = "plan_e2e"
[[Tests]]
id = "llama70"
test_name = "llama70"
num_nodes = 8
time_limit = "01:00:00"

[[Tests]]
id = "sleepy"
test_name = "sleepy"
num_nodes = 1
time_limit = "00:10:00"
"""

SLEEP_TEST = """name = "sleepy"
description = "a plain case of a workload that does not estimate"
test_template_name = "Sleep"
[cmd_args]
seconds = 1
"""


class PlanPredicts(unittest.TestCase):
    """`plan` shows each running point's prediction and the GPU-hours of the predicted run time
    beside the time limits'."""

    def bp(self, command, d, *extra):
        return run_bp(command, "--system-config", SYSTEM, "--tests-dir", d / "tests",
                      "--test-scenario", d / "scenario.toml", *extra,
                      env={"HF_TOKEN": "", "BENCHPILOT_STORE": str(d / "no-store.db")})

    def test_megatron_bridge_sweep_shows_predicted_columns_and_both_totals(self):
        d = tempdir(self)
        write_file(d / "tests" / "llama70.toml", SWEEP_TEST)
        write_file(d / "tests" / "sleepy.toml", SLEEP_TEST)
        write_file(d / "scenario.toml", SWEEP_SCENARIO)
        proc = self.bp("plan", d)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        out = proc.stdout
        self.assertRegex(out, r"time limit +GPU-hours +predicted GPU-hours\n")
        self.assertIn("step time: the raw model (no finished run to calibrate it); "
                      "start-up 300 s per job", out)
        # The estimate of every point that runs (not pruned), as `estimate --json` gives it.
        points = json.loads(self.bp("estimate", d, "--json").stdout)["points"]
        running = {p["step"]: p for p in points if p["fits"] and not p["pruned"]}
        self.assertTrue(running)
        rows = re.findall(r"^  (\d+) +(tp=\d+ pp=\d+ mb=\d+) +(fits|near limit) +([\d.]+) +79\.6 +"
                          r"([\d.]+|-) +50 +64 +([\d.]+|-)$", out, re.M)
        self.assertEqual(sorted(int(r[0]) for r in rows), sorted(running))
        predicted_hours = 0.0
        for step, _, verdict, gib, step_s, hours in rows:
            p = running[int(step)]
            self.assertEqual(verdict, "near limit" if p["near_limit"] else "fits")
            self.assertEqual(gib, f"{p['memory_gib']['total']:.1f}")
            if p["step_time_s"] is None:
                self.assertEqual((step_s, hours), ("-", "-"))
                continue
            self.assertEqual(step_s, f"{p['step_time_s']:.2f}")
            job_hours = (50 * p["step_time_s"] + 300) * 64 / 3600
            self.assertEqual(hours, f"{job_hours:.1f}")
            predicted_hours += job_hours
        limit_hours = len(running) * 64 * 1.0 + 1 * 8 / 6  # the Sleep case: 8 GPUs, 10 min
        unknown = sum(1 for p in running.values() if p["step_time_s"] is None)
        not_estimated = (f"{unknown} point{'s' if unknown > 1 else ''} of llama70, "
                         if unknown else "")
        self.assertIn(f"Total: {len(running) + 1} jobs, {limit_hours:.1f} GPU-hours from time "
                      f"limits, {predicted_hours:.1f} GPU-hours from predicted run times "
                      f"(not estimated, in the time limits only: {not_estimated}every point of "
                      "sleepy)\n", out)
        self.assertIn("step time: the raw model (--no-calibration)",
                      self.bp("plan", d, "--no-calibration").stdout)


if __name__ == "__main__":
    unittest.main()
