"""End-to-end runs on a real local Slurm cluster (slurmctld/slurmd started by the ctest
fixture) with the Megatron-Bridge launcher EMULATOR standing in for the real launcher."""
import datetime
import os
import signal
import subprocess
import unittest

from helpers import CONF, all_files, read_csv, summary, tempdir, wait_until
from slurm_env import (TOKEN, SlurmWorkspace, cluster_enforces_memory, needs_slurm, slurm_conf, squeue_ids,
                       submitted_job_ids)


def parse_time(s):
    return datetime.datetime.fromisoformat(s)


@needs_slurm
class MegatronBridgeOnSlurm(unittest.TestCase):
    def setUp(self):
        self.ws = SlurmWorkspace(tempdir(self))

    def test_single_run_passes_with_metrics_and_report(self):
        sc = self.ws.scenario("single", self.ws.mb_case("llama", cmd_args="  tp = 2\n"))
        proc = self.ws.run(sc)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = self.ws.results("single")
        run = root / "llama" / "0"
        report = (run / "report.txt").read_text()
        self.assertIn("Step Time (s)", report)
        self.assertIn("TFLOP/s per GPU", report)
        job = (run / "slurm-job.toml").read_text()
        self.assertIn('state = "COMPLETED"', job)
        s = summary(root)
        self.assertEqual((s["passed"], s["failed"]), (1, 0))
        self.assertGreater(s["runs"][0]["metrics"]["step-time"], 0)
        self.assertGreater(s["runs"][0]["metrics"]["tflops-per-gpu"], 0)
        self.assertIn("PASSED", proc.stdout)
        for f in all_files(self.ws.root / "results"):
            self.assertNotIn(TOKEN, f.read_text(errors="replace"), f"token leaked into {f}")

    def test_sweep_runs_points_in_parallel_and_writes_best_config(self):
        body = self.ws.mb_case("sweep", extra='agent_metrics = ["step-time"]\n'
                               '  [Tests.agent_config]\n  max_in_flight = 8\n',
                               cmd_args="  tp = [1, 2, 4]\n  pp = [1, 2]\n  mb = [1, 2]\n"
                                        "  gb = 64\n",
                               step_sleep="0.5")  # ~3 s jobs: overlaps are measurable
        sc = self.ws.scenario("sweep", body)
        proc = self.ws.run(sc)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        case = self.ws.results("sweep") / "sweep" / "0"
        traj = read_csv(case / "trajectory.csv")
        self.assertGreaterEqual(len(traj), 6)
        self.assertTrue((case / "sweep.toml").is_file(), "best configuration")
        # Parallel: some jobs overlapped in time.
        spans = []
        for row in traj:
            job = (case / row["step"] / "slurm-job.toml").read_text()
            start = [l for l in job.splitlines() if l.startswith("start_time")][0].split('"')[1]
            end = [l for l in job.splitlines() if l.startswith("end_time")][0].split('"')[1]
            spans.append((parse_time(start), parse_time(end)))
        overlaps = sum(1 for i, a in enumerate(spans) for b in spans[i + 1:]
                       if a[0] < b[1] and b[0] < a[1])
        self.assertGreater(overlaps, 0, f"no two jobs overlapped: {spans}")

    def test_crash_is_failed_with_reason_and_other_points_finish(self):
        body = self.ws.mb_case("faults", cmd_args="  tp = [1, 2]\n",
                               env_vars='  MBRIDGE_EMULATOR_FAULT = ["none", "crash@2"]\n')
        proc = self.ws.run(self.ws.scenario("faults", body))
        runs = summary(self.ws.results("faults"))["runs"]
        self.assertEqual(len(runs), 4, proc.stdout + proc.stderr)
        by_fault = {}
        for r in runs:
            by_fault.setdefault(r["parameters"]["extra_env_vars.MBRIDGE_EMULATOR_FAULT"], []).append(r)
        self.assertTrue(all(r["status"] == "PASSED" for r in by_fault["none"]))
        for r in by_fault["crash@2"]:
            self.assertEqual(r["status"], "FAILED")
            self.assertEqual(r["job_state"], "FAILED")
            self.assertIn("FAILED", r["message"])
            # The reason includes the end of the training log: the injected crash.
            self.assertIn("injected crash at iteration 2", r["message"])

    def test_hung_job_ends_in_timeout(self):
        body = self.ws.mb_case("hang", env_vars='  MBRIDGE_EMULATOR_FAULT = "hang@2"\n')
        body = body.replace('time_limit = "00:05:00"', 'time_limit = "00:01:00"')
        proc = self.ws.run(self.ws.scenario("hang", body), timeout=300)
        self.assertNotEqual(proc.returncode, 0)
        r = summary(self.ws.results("hang"))["runs"][0]
        self.assertEqual(r["job_state"], "TIMEOUT", proc.stdout + proc.stderr)
        self.assertEqual(r["status"], "FAILED")

    @unittest.skipUnless(cluster_enforces_memory(),
                         "the cluster enforces no memory limits (start.sh --cgroup needs cgroup v1)")
    def test_oom_killed_job_ends_out_of_memory(self):
        body = self.ws.mb_case("oom", env_vars='  MBRIDGE_EMULATOR_FAULT = "oom@2"\n')
        self.ws.run(self.ws.scenario("oom", body))
        r = summary(self.ws.results("oom"))["runs"][0]
        self.assertEqual(r["job_state"], "OUT_OF_MEMORY")
        self.assertEqual(r["status"], "FAILED")
        self.assertIn("OUT_OF_MEMORY", r["message"])

    def test_ctrl_c_cancels_everything_submitted(self):
        body = self.ws.mb_case("stuck", cmd_args="  tp = [1, 2, 4]\n",
                               env_vars='  MBRIDGE_EMULATOR_FAULT = "hang@1"\n')
        sc = self.ws.scenario("stuck", body)
        proc = subprocess.Popen(self.ws.command(sc), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=self.ws.env())
        def ours_now():
            return set(submitted_job_ids(self.ws.root / "results", "stuck_*/stuck/0/*/submit.stdout"))
        wait_until(lambda: len(ours_now()) >= 3, 90, 0.5)
        ours = ours_now()
        self.assertEqual(len(ours), 3, "three sweep jobs should have been submitted")
        self.assertTrue(ours <= squeue_ids(), "the jobs should still be queued or running")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 130, out)
        wait_until(lambda: not squeue_ids() & ours, 30, 0.5)
        self.assertFalse(squeue_ids() & ours, "jobs left behind after Ctrl-C")
        runs = summary(self.ws.results("stuck"))["runs"]
        self.assertEqual(len(runs), 3)
        self.assertTrue(all(r["job_state"] == "CANCELLED" for r in runs), runs)


@needs_slurm
class DependenciesOnSlurm(unittest.TestCase):
    def test_chain_runs_in_order(self):
        ws = SlurmWorkspace(tempdir(self))
        sc = ws.scenario("chain", '''
[[Tests]]
id = "first"
test_name = "sleep"
time_limit = "00:01:00"
  [Tests.cmd_args]
  seconds = 2

[[Tests]]
id = "second"
test_name = "sleep"
time_limit = "00:01:00"
  [Tests.cmd_args]
  seconds = 1
  [[Tests.dependencies]]
  type = "start_post_comp"
  id = "first"

[[Tests]]
id = "third"
test_name = "sleep"
time_limit = "00:01:00"
iterations = 2
  [Tests.cmd_args]
  seconds = 1
  [[Tests.dependencies]]
  type = "start_post_comp"
  id = "second"
''')
        proc = ws.run(sc, tests_dir=CONF / "test")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = ws.results("chain")

        def span(case, it=0):
            text = (root / case / str(it) / "slurm-job.toml").read_text()
            get = lambda k: [l for l in text.splitlines() if l.startswith(k)][0].split('"')[1]
            return parse_time(get("start_time")), parse_time(get("end_time"))

        self.assertLessEqual(span("first")[1], span("second")[0])
        self.assertLessEqual(span("second")[1], span("third", 0)[0])
        self.assertLessEqual(span("third", 0)[1], span("third", 1)[0])


if __name__ == "__main__":
    unittest.main()
