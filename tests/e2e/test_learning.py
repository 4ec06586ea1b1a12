"""End-to-end: the estimator learns from finished runs. A small Megatron-Bridge sweep on the
local Slurm cluster with the launcher EMULATOR (its own timing model, which the estimator does
not share) freezes a prediction in every run folder; once the runs are indexed, `estimate`
corrects its step time for that system, `estimate --accuracy` shows a smaller error than the raw
model's, and a neighbouring point is predicted closer to what the emulator then measures."""
import json
import subprocess
import tomllib
import unittest

from helpers import BINARY, CONF, summary, tempdir
from slurm_env import SlurmWorkspace, needs_slurm

SYSTEM_NAME = "local-slurm"  # slurm_env.SlurmWorkspace's system


@needs_slurm
class EstimatorLearnsOnSlurm(unittest.TestCase):
    def setUp(self):
        self.ws = SlurmWorkspace(tempdir(self))

    def bp(self, *args):
        proc = subprocess.run([BINARY, "--log-file", "", *map(str, args)], capture_output=True,
                              text=True, env=self.ws.env(), timeout=400)
        self.assertEqual(proc.returncode, 0, f"benchpilot {args}:\n{proc.stdout}{proc.stderr}")
        return proc.stdout

    def estimate(self, scenario, *extra):
        out = self.bp("estimate", "--system-config", self.ws.system, "--tests-dir",
                      CONF / "test" / "h100", "--test-scenario", scenario, "--json", *extra)
        points = json.loads(out)["points"]
        self.assertEqual(len(points), 1)
        return points[0]

    def test_calibration_from_a_sweep_improves_the_estimate_of_a_neighbour(self):
        # vp and ep written: the estimator predicts only where every parallel size is known.
        fixed = "  gb = 64\n  vp = 1\n  ep = 1\n"
        sweep = self.ws.scenario("sweep", self.ws.mb_case(
            "sweep", cmd_args="  tp = [1, 2]\n  mb = [1, 2]\n" + fixed))
        # The neighbour: same model and system, tp one step beyond the sweep's.
        neighbour = self.ws.scenario("neighbour", self.ws.mb_case(
            "neighbour", cmd_args="  tp = 4\n  mb = 1\n" + fixed))

        # No store yet: the raw model, and no error.
        before = self.estimate(neighbour)
        self.assertEqual(before["calibration"], {"factor": 1.0, "runs": 0})
        self.assertEqual(before["step_time_s"], before["raw_step_time_s"])
        self.assertGreater(before["step_time_s"], 0)

        proc = self.ws.run(sweep)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = self.ws.results("sweep")
        runs = summary(root)["runs"]
        self.assertEqual(len(runs), 4)
        for r in runs:  # frozen before submission, with the estimator's version
            frozen = tomllib.loads((root / r["run_dir"] / "estimate.toml").read_text())
            self.assertEqual(frozen["estimator_version"], "megatron_bridge/3")
            self.assertEqual(frozen["step_time_factor"], 1.0)  # nothing to calibrate with yet
            self.assertGreater(frozen["step_time_s"], 0)
            self.assert_predicted_beside_measured(root, r, frozen)
        store = self.ws.root / "results" / "benchpilot.db"
        out = self.bp("index", "--store", store, root)
        self.assertIn("Indexed 4 run(s)", out)
        hist = json.loads(self.bp("history", "--store", store, "--json"))
        self.assertEqual(len(hist), 4)
        for r in hist:  # the prediction beside what the emulator measured (its memory lines too)
            self.assertEqual(r["prediction"]["estimator_version"], "megatron_bridge/3")
            self.assertGreater(r["prediction"]["memory_gib"], 0)
            self.assertAlmostEqual(r["measured"]["step_time_s"], r["metrics"]["step-time"])
            self.assertGreater(r["measured"]["max_allocated_gib"], 0)
            self.assertGreater(r["measured"]["max_reserved_gib"], r["measured"]["max_allocated_gib"])

        after = self.estimate(neighbour)
        self.assertEqual(after["calibration"]["runs"], 4)
        self.assertNotEqual(after["calibration"]["factor"], 1.0)
        self.assertAlmostEqual(after["raw_step_time_s"], before["raw_step_time_s"], places=9)
        self.assertAlmostEqual(after["step_time_s"],
                               after["raw_step_time_s"] * after["calibration"]["factor"], places=9)
        raw = self.estimate(neighbour, "--no-calibration")
        self.assertEqual(raw["calibration"], {"factor": 1.0, "runs": 0})
        self.assertEqual(raw["step_time_s"], before["step_time_s"])

        accuracy = json.loads(self.bp("estimate", "--accuracy", "--json", "--system-config",
                                      self.ws.system))
        rows = [a for a in accuracy["accuracy"] if a["system"] == SYSTEM_NAME]
        self.assertEqual(len(rows), 1, accuracy)
        row = rows[0]
        self.assertEqual((row["model"], row["runs"]), ("llama3_8b", 4))
        self.assertLess(row["median_error"], row["raw_median_error"], row)
        self.assertLess(row["worst_error"], row["raw_worst_error"], row)
        table = self.bp("estimate", "--accuracy", "--system-config", self.ws.system)
        print(table)  # README's example comes from here (ctest -V)
        self.assertIn("leave-one-out", table)
        self.assertIn("llama3_8b", table)

        # The neighbour, measured: the calibrated estimate is the closer one, and the prediction
        # frozen for it carries the factor that was applied.
        proc = self.ws.run(neighbour)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        nroot = self.ws.results("neighbour")
        measured = summary(nroot)["runs"][0]["metrics"]["step-time"]
        self.assertLess(abs(after["step_time_s"] / measured - 1),
                        abs(before["step_time_s"] / measured - 1),
                        f"before {before['step_time_s']}, after {after['step_time_s']}, "
                        f"measured {measured}")
        frozen = tomllib.loads((nroot / "neighbour" / "0" / "estimate.toml").read_text())
        self.assertAlmostEqual(frozen["step_time_factor"], after["calibration"]["factor"], places=9)
        self.assertAlmostEqual(frozen["step_time_s"], after["raw_step_time_s"], places=9)
        # The results table shows the calibrated prediction the run was submitted with.
        self.assert_predicted_beside_measured(nroot, summary(nroot)["runs"][0], frozen)

    def assert_predicted_beside_measured(self, root, run, frozen):
        """summary.txt's row of `run` and summary.json's "prediction" show the frozen prediction
        (calibrated) beside the measured step time, its error, and the memory figures."""
        lines = (root / "summary.txt").read_text().splitlines()
        header = lines[0]
        for column in ("predicted step (s)", "step vs predicted", "predicted mem (GiB)",
                       "max alloc (GiB)", "max reserved (GiB)"):
            self.assertIn(column, header)
        label = f"{run['case']}/{run['iteration']}" + (f"/{run['step']}" if run["step"] else "")
        row = next(line for line in lines if line.split()[:1] == [label])
        predicted = frozen["step_time_s"] * frozen["step_time_factor"]
        measured = run["metrics"]["step-time"]
        cells = row[header.index("predicted step (s)"):].split()
        self.assertEqual(cells[0], f"{predicted:.3f}", row)
        self.assertEqual(cells[1], f"{(measured / predicted - 1) * 100:+.1f}%", row)
        self.assertEqual(cells[2], f"{frozen['memory_gib']['total']:.1f}", row)
        self.assertGreater(float(cells[3]), 0, row)  # the emulator's memory lines
        self.assertGreaterEqual(float(cells[4]), float(cells[3]), row)
        p = run["prediction"]
        self.assertAlmostEqual(p["step_time_s"], predicted, places=9)
        self.assertAlmostEqual(p["measured"]["step_time_s"], measured, places=9)
        self.assertAlmostEqual(p["measured"]["step_time_error"], measured / predicted - 1, places=9)
        self.assertGreater(p["measured"]["max_allocated_gib"], 0)


if __name__ == "__main__":
    unittest.main()
