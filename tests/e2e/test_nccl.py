"""End-to-end runs of the NcclTest workload and of scenario hooks, on the real local Slurm
cluster, with tools/nccl-tests-double (a TEST DOUBLE of nccl-tests: no GPU, real output format)
and the Megatron-Bridge launcher EMULATOR standing in for the real programs."""
import json
import os
import pathlib
import re
import subprocess
import sys
import unittest

from helpers import CONF, SOURCE_DIR, run_bp, summary, tempdir
from test_reports import Dom
from slurm_env import SlurmWorkspace, needs_slurm, node, nodes, slurm_conf

DOUBLE = SOURCE_DIR / "tools" / "nccl-tests-double" / "nccl_tests_double.py"


def make_double_links(root):
    """A folder of nccl-tests program names (all_reduce_perf_mpi, ...) that run the double."""
    bin_dir = root / "nccl-bin"
    subprocess.run([sys.executable, str(DOUBLE), "--make-links", str(bin_dir)], check=True)
    return bin_dir


class NcclWorkspace(SlurmWorkspace):
    """The Slurm workspace plus the double on PATH (jobs inherit the environment: no container
    on the local cluster, so the program is found on PATH as inside an nccl-tests image)."""

    def __init__(self, root):
        super().__init__(root)
        self.bin_dir = make_double_links(self.root)
        self.tests_dir = self.root / "tests"
        self.tests_dir.mkdir()
        self.hook_dir = self.root / "hooks"
        (self.hook_dir / "test").mkdir(parents=True)
        self.extra_env = {}

    def env(self):
        e = super().env()
        e["PATH"] = f"{self.bin_dir}:{e.get('PATH', '')}"
        e.update(self.extra_env)
        return e

    def command(self, scenario, tests_dir=None):
        return super().command(scenario, tests_dir or self.tests_dir) + ["--hook-dir",
                                                                          str(self.hook_dir)]

    def run(self, scenario, tests_dir=None, timeout=400):
        return subprocess.run(self.command(scenario, tests_dir), capture_output=True, text=True,
                              env=self.env(), timeout=timeout)

    def gate_hook(self, min_busbw):
        (self.hook_dir / "gate.toml").write_text(
            'name = "a2a_gate"\n[[Tests]]\nid = "a2a"\ntest_name = "a2a_per_node"\n'
            'time_limit = "00:02:00"\n')
        (self.hook_dir / "test" / "a2a.toml").write_text(f'''
name = "a2a_per_node"
description = "all-to-all on one node"
test_template_name = "NcclTest"
[cmd_args]
subtest_name = "alltoall_perf"
ngpus = 8
minbytes = "1M"
maxbytes = "64M"
stepfactor = 8
min_busbw = {min_busbw}
''')

    def gated_mb_scenario(self, name):
        """A Megatron-Bridge case on nodes 1 and 2 behind the all-to-all gate."""
        return self.scenario(name, f'''pre_test = "a2a_gate"
[[Tests]]
id = "train"
test_name = "megatron_bridge_llama3_8b_h100"
num_nodes = 2
nodes = ["{nodes(1, 2)}"]
time_limit = "00:05:00"
  [Tests.cmd_args]
  container_image = "{self.image}"
  num_gpus = 16
  max_steps = 4
  [Tests.extra_env_vars]
  MBRIDGE_EMULATOR_STEP_SLEEP = "0.02"
  [[Tests.git_repos]]
  url = "file://{self.repo}"
  commit = "v0.3.0-emulated"
  mount_as = "/opt/Megatron-Bridge"
''')


def campaign_id(root):
    """The campaign id from the journal's first record ("<crc> <json>")."""
    first = (root / "journal.bpj").read_text().split("\n", 1)[0]
    return json.loads(first.split(" ", 1)[1])["id"]


def slurm_comment(job_id):
    out = subprocess.run(["squeue", "-h", "--states=all", "-j", job_id, "-O", "Comment:|"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "SLURM_CONF": slurm_conf()})
    return out.stdout.strip().rstrip("|").strip()


def run_of(s, case):
    runs = [r for r in s["runs"] if r["case"] == case]
    assert runs, f"no run of {case} in {s['runs']}"
    return runs[0]


@needs_slurm
class NcclTestOnSlurm(unittest.TestCase):
    def setUp(self):
        self.ws = NcclWorkspace(tempdir(self))

    def test_sweep_reports_bus_bandwidth_in_the_results_table(self):
        (self.ws.tests_dir / "a2a.toml").write_text('''
name = "all_reduce"
description = "all-reduce"
test_template_name = "NcclTest"
[cmd_args]
subtest_name = "all_reduce_perf_mpi"
ngpus = 8
minbytes = "1M"
maxbytes = "256M"
stepfactor = 4
''')
        sc = self.ws.scenario("ncclsweep", '''
[[Tests]]
id = "ar"
test_name = "all_reduce"
num_nodes = [1, 2]
time_limit = "00:02:00"
agent_metrics = ["busbw-avg"]
agent_reward_function = "identity"
  [Tests.cmd_args]
  maxbytes = ["4M", "256M"]
''')
        proc = self.ws.run(sc)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("busbw peak (GB/s)", proc.stdout)
        self.assertIn("busbw avg (GB/s)", proc.stdout)
        root = self.ws.results("ncclsweep")
        runs = summary(root)["runs"]
        self.assertEqual(len(runs), 4, runs)
        for r in runs:
            self.assertEqual(r["status"], "PASSED", r)
            self.assertGreater(r["metrics"]["busbw-peak"], 0)
            sizes = [row["size"] for row in r["details"]["busbw_per_size"]]
            self.assertEqual(sizes[0], 1048576)
        # Bandwidth depends on size and node count: the larger sweep on one node is best.
        best = max(runs, key=lambda r: r["metrics"]["busbw-avg"])
        self.assertEqual(best["parameters"], {"maxbytes": "256M", "NUM_NODES": 1})
        best_line = [l for l in proc.stdout.splitlines() if l.startswith(f"ar/0/{best['step']} *")]
        self.assertEqual(len(best_line), 1, proc.stdout)
        two_nodes = [r for r in runs if r["parameters"]["NUM_NODES"] == 2]
        self.assertEqual(len(two_nodes[0]["details"]["nodes"]), 2)
        report = (root / best["run_dir"] / "report.txt").read_text()
        self.assertIn("Peak bus bandwidth:", report)
        self.assertIn("all_reduce_perf_mpi, 8 ranks on 1 node(s)", report)
        # report.html charts bus bandwidth per message size of the best and worst points.
        dom = Dom((root / "report.html").read_text())
        for placement in ("out-of-place", "in-place"):
            chart = dom.charts[f"steps-1-nccl-busbw-{placement}"]
            self.assertEqual(chart["class"], "chart line-chart")
            self.assertEqual(len(chart["series"]), 2, chart)
            self.assertTrue(chart["series"][0].startswith("best: ar/0/"), chart)
        # The sbatch script runs the program without a container on this cluster.
        sbatch = (root / best["run_dir"] / "sbatch.sh").read_text()
        self.assertNotIn("--container-image", sbatch)
        self.assertIn("all_reduce_perf_mpi --nthreads 1 --ngpus 8", sbatch)

    def test_wrong_results_fail_the_run(self):
        (self.ws.tests_dir / "ag.toml").write_text(
            'name = "ag"\ndescription = "d"\ntest_template_name = "NcclTest"\n[cmd_args]\n'
            'subtest_name = "all_gather_perf"\nngpus = 4\nmaxbytes = "4M"\nminbytes = "1M"\n'
            'stepfactor = 2\n[extra_env_vars]\nNCCL_TESTS_DOUBLE_WRONG = "12"\n')
        sc = self.ws.scenario("ncclwrong", '[[Tests]]\nid = "ag"\ntest_name = "ag"\n'
                              'time_limit = "00:02:00"\n')
        proc = self.ws.run(sc)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        r = run_of(summary(self.ws.results("ncclwrong")), "ag")
        self.assertEqual(r["status"], "FAILED")
        self.assertIn("wrong results", r["message"])


@needs_slurm
class MegatronBridgeNcclGate(unittest.TestCase):
    def setUp(self):
        self.ws = NcclWorkspace(tempdir(self))

    def test_slow_node_keeps_the_training_job_from_starting(self):
        self.ws.gate_hook(min_busbw=100)
        self.ws.extra_env = {"NCCL_TESTS_DOUBLE_SLOW_NODES": node(2),
                             # the gate runs long enough for the training job to be submitted
                             # and wait on it (afterok) before the gate fails
                             "NCCL_TESTS_DOUBLE_SLEEP": "4"}
        proc = self.ws.run(self.ws.gated_mb_scenario("gatefail"), tests_dir=CONF / "test" / "h100")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        root = self.ws.results("gatefail")
        r = run_of(summary(root), "train")
        self.assertEqual(r["status"], "SKIPPED", r)
        self.assertIn(f"pre-test gate failed on node {node(2)}", r["message"])
        self.assertRegex(r["message"], node(2) + r" \(a2a\): \d+(\.\d+)? \[a2a: Avg bus bandwidth")
        self.assertIn("requires Avg bus bandwidth >= 100", r["message"])
        self.assertNotIn(node(1), r["message"])
        self.assertIn("SKIPPED", proc.stdout)
        run_dir = root / "train" / "0"
        results = (run_dir / "pre_hook" / "results.txt").read_text()
        self.assertRegex(results, f"a2a {node(1)} PASSED " + r"\d+")
        self.assertRegex(results, f"a2a {node(2)} FAILED " + r"\d+")
        # The training job was chained afterok on the gate and never ran a step.
        gate_id = re.search(r"Submitted pre-hook batch job (\d+)",
                            (run_dir / "wrapper.stdout").read_text()).group(1)
        scripts = [p.read_text() for p in run_dir.rglob("*.sbatch")] + \
                  [p.read_text() for p in (run_dir / "experiments").rglob("*.sh")]
        self.assertTrue(any(f"--dependency=afterok:{gate_id}" in s for s in scripts), scripts)
        self.assertNotIn("Step Time", (run_dir / "launcher.log").read_text())
        self.assertEqual(r["job_state"], "CANCELLED", r)
        # generate-report judges the same way from the files alone.
        rep = run_bp("generate-report", "--system-config", self.ws.system, "--tests-dir",
                     CONF / "test" / "h100", "--hook-dir", self.ws.hook_dir, "--test-scenario",
                     root.parent.parent / "gatefail.toml", "--result-dir", root,
                     env={"HF_TOKEN": "x"})
        self.assertEqual(rep.returncode, 0, rep.stdout + rep.stderr)
        self.assertEqual(run_of(summary(root), "train")["status"], "SKIPPED")

    def test_passing_gate_lets_the_training_run(self):
        self.ws.gate_hook(min_busbw=100)
        proc = self.ws.run(self.ws.gated_mb_scenario("gatepass"), tests_dir=CONF / "test" / "h100")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = self.ws.results("gatepass")
        r = run_of(summary(root), "train")
        self.assertEqual(r["status"], "PASSED", r)
        self.assertGreater(r["metrics"]["step-time"], 0)
        run_dir = root / "train" / "0"
        results = (run_dir / "pre_hook" / "results.txt").read_text()
        self.assertRegex(results, f"a2a {node(1)} PASSED " + r"\d+")
        self.assertRegex(results, f"a2a {node(2)} PASSED " + r"\d+")
        self.assertEqual((run_dir / "pre_hook" / "result").read_text().strip(), "PASSED")
        # Both jobs carry the campaign's comment; the gate's is marked, so a resume looking for
        # the training job by comment, folder or log path never takes the gate's.
        gate_id = re.search(r"Submitted pre-hook batch job (\d+)",
                            (run_dir / "wrapper.stdout").read_text()).group(1)
        point = f"benchpilot:{campaign_id(root)}:train/0"
        self.assertEqual(slurm_comment(gate_id), point + ":pre_test")
        self.assertEqual(slurm_comment(r["job_id"]), point)


@needs_slurm
class GenericHooks(unittest.TestCase):
    def setUp(self):
        self.ws = NcclWorkspace(tempdir(self))

    def test_failed_pre_test_skips_a_batch_case_and_post_tests_run_after(self):
        self.ws.gate_hook(min_busbw=100)
        (self.ws.hook_dir / "after.toml").write_text(
            'name = "after"\n[[Tests]]\nid = "a2a"\ntest_name = "a2a_per_node"\n')
        (self.ws.tests_dir / "sleep.toml").write_text(
            'name = "sleep"\ndescription = "d"\ntest_template_name = "Sleep"\n[cmd_args]\nseconds = 1\n')
        sc = self.ws.scenario("hooks", 'pre_test = "a2a_gate"\npost_test = "after"\n'
                              'job_status_check = false\n'
                              '[[Tests]]\nid = "nap"\ntest_name = "sleep"\n'
                              'time_limit = "00:01:00"\n')
        proc = self.ws.run(sc)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        runs = summary(self.ws.results("hooks"))["runs"]
        self.assertEqual([r["case"] for r in runs],
                         ["nap.pre_test.a2a", "nap", "nap.post_test.a2a"])
        self.assertTrue(all(r["status"] == "PASSED" for r in runs), runs)

        self.ws.extra_env = {"NCCL_TESTS_DOUBLE_SLOW_NODES": ",".join(node(i) for i in range(1, 5))}
        proc = self.ws.run(sc)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        runs = summary(self.ws.results("hooks"))["runs"]
        nap = run_of({"runs": runs}, "nap")
        self.assertEqual(nap["status"], "SKIPPED")
        self.assertIn("pre-test 'a2a_gate' failed", nap["message"])
        self.assertIn("below min_busbw 100.00", nap["message"])
        self.assertNotIn("nap.post_test.a2a", [r["case"] for r in runs])


class HooksWithoutCluster(unittest.TestCase):
    def test_unknown_hook_is_an_error_naming_the_hook_folder(self):
        d = tempdir(self)
        (d / "scenario.toml").write_text(
            'name = "s"\npre_test = "nccl"\n[[Tests]]\nid = "a"\ntest_name = "sleep"\n')
        proc = run_bp("dry-run", "--system-config", CONF / "system" / "standalone.toml",
                      "--tests-dir", CONF / "test", "--test-scenario", d / "scenario.toml",
                      "--hook-dir", CONF / "hook", "--output-dir", d / "results")
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("Pre-test hook 'nccl' not found", proc.stderr)
        self.assertIn("nccl_test", proc.stderr)  # the hooks that exist
        self.assertFalse((d / "results").exists())

    def test_dry_run_writes_the_gate_and_chains_the_training(self):
        d = tempdir(self)
        (d / "scenario.toml").write_text(
            'name = "g"\npre_test = "nccl_alltoall_gate"\n[[Tests]]\nid = "t"\n'
            'test_name = "megatron_bridge_llama3_8b_h100"\nnum_nodes = 2\n'
            'time_limit = "00:30:00"\n')
        proc = run_bp("dry-run", "--system-config", CONF / "system" / "example_slurm_cluster.toml",
                      "--tests-dir", CONF / "test" / "h100", "--test-scenario", d / "scenario.toml",
                      "--hook-dir", CONF / "hook", "--output-dir", d / "results",
                      env={"HF_TOKEN": "hf_x"})
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        run_dir = next((d / "results").glob("g_*")) / "t" / "0"
        gate = (run_dir / "pre_hook_sbatch_script.sh").read_text()
        self.assertIn("#SBATCH -N 2", gate)
        self.assertIn("#SBATCH --time=00:40:00", gate)  # case limit + the hook's 10 minutes
        self.assertIn("alltoall_perf --nthreads 1 -g 8", gate)
        self.assertIn("--ntasks=1", gate)
        self.assertIn("--container-image=", gate)
        wrapper = (run_dir / "mbridge-launcher.sh").read_text()
        self.assertIn('dependency=afterok:${PRE_HOOK_JOB_ID};nodelist=${PRE_HOOK_NODES}"', wrapper)


if __name__ == "__main__":
    unittest.main()
