"""`compare`, `history` and `--fail-on-regression` work for a workload other than Megatron-Bridge:
two CloudAI-layout results folders of an NcclTest run, whose stdout.txt the nccl-tests test
double printed (tools/nccl-tests-double, real output format), the second with an injected
bandwidth drop (its 'slow node' knob at 0.85). No cluster needed."""
import json
import os
import subprocess
import sys
import unittest

from helpers import SOURCE_DIR, run_bp, tempdir

DOUBLE = SOURCE_DIR / "tools" / "nccl-tests-double" / "nccl_tests_double.py"


def nccl_folder(root, slow_factor=None):
    """<root>/nccl/0/ with test-run.toml and the double's all_reduce_perf output."""
    run = root / "nccl" / "0"
    run.mkdir(parents=True)
    (run / "test-run.toml").write_text(
        'name = "nccl"\ncurrent_iteration = 0\nstep = 0\nnnodes = 1\n'
        '[test_definition]\nname = "nccl"\ndescription = "d"\ntest_template_name = "NcclTest"\n'
        '[test_definition.cmd_args]\nsubtest_name = "all_reduce_perf"\nngpus = 8\n'
        'minbytes = "1M"\nmaxbytes = "1G"\nstepfactor = 4\n')
    # CloudAI records the finished job; a folder without a job record is a killed run's
    # (UNKNOWN in generate-report and index alike, so never compared).
    (run / "slurm-job.toml").write_text('job_id = 41\nstate = "COMPLETED"\n')
    bindir = root / "bin"
    subprocess.run([sys.executable, str(DOUBLE), "--make-links", str(bindir)], check=True)
    env = dict(os.environ, SLURMD_NODENAME="node1")
    env.pop("SLURM_STEP_NODELIST", None)
    if slow_factor:
        env.update(NCCL_TESTS_DOUBLE_SLOW_NODES="node1",
                   NCCL_TESTS_DOUBLE_SLOW_FACTOR=str(slow_factor))
    with open(run / "stdout.txt", "w") as out:
        subprocess.run([str(bindir / "all_reduce_perf"), "-b", "1M", "-e", "1G", "-f", "4",
                        "-g", "8"], stdout=out, env=env, check=True)
    return root


class CompareNcclResults(unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir(self)
        self.a = nccl_folder(self.tmp / "a")
        self.b = nccl_folder(self.tmp / "b", slow_factor=0.85)

    def test_a_bandwidth_drop_is_a_regression(self):
        proc = run_bp("compare", self.a, self.b, "--json")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        [config] = json.loads(proc.stdout)["configurations"]
        self.assertEqual(config["workload"], "NcclTest")
        self.assertEqual(config["metric"], "busbw-avg")
        self.assertLess(config["b_busbw_avg"], config["a_busbw_avg"] * 0.9)
        self.assertEqual(config["verdict"], "slower")

        table = run_bp("compare", self.a, self.b)
        self.assertIn("A busbw avg (GB/s)", table.stdout)
        self.assertIn("slower", table.stdout)

        gate = run_bp("compare", self.a, self.b, "--fail-on-regression")
        self.assertEqual(gate.returncode, 1, gate.stdout + gate.stderr)
        self.assertIn("busbw avg (GB/s)", gate.stderr)
        # The other way round the bandwidth rose: faster, and the gate passes.
        back = run_bp("compare", self.b, self.a, "--fail-on-regression")
        self.assertEqual(back.returncode, 0, back.stdout + back.stderr)
        self.assertIn("faster", back.stdout)

    def test_history_shows_the_workloads_columns(self):
        store = self.tmp / "bp.db"
        run_bp("index", "--store", store, self.a, self.b, check=True)
        csv = run_bp("history", "--store", store, "--workload", "NcclTest", "--csv", check=True)
        header = csv.stdout.splitlines()[0].split(",")
        self.assertIn("busbw_avg", header)
        self.assertNotIn("step_time", header)
        self.assertEqual(len(csv.stdout.strip().splitlines()), 3)


if __name__ == "__main__":
    unittest.main()
