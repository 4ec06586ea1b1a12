"""End-to-end runs on the real local Slurm cluster with the Megatron-Bridge launcher EMULATOR
(a test double): launcher retries, both launcher versions, and secrets kept out of `ps` and
of every results file."""
import os
import re
import signal
import subprocess
import time
import unittest
import uuid

from helpers import CONF, all_files, summary, tempdir, wait_until
from slurm_env import SlurmWorkspace, needs_slurm, squeue_ids, submitted_job_ids


def unique_token():
    # Other engineers' runs on this machine may use the shared test token: ours is unique.
    return "hf_retries" + uuid.uuid4().hex


@needs_slurm
class LauncherRetries(unittest.TestCase):
    def test_flaky_first_attempt_ends_passed_with_two_attempts(self):
        ws = SlurmWorkspace(tempdir(self))
        body = ws.mb_case("flaky", env_vars='  MBRIDGE_EMULATOR_FAULT = "flaky"\n')
        proc = ws.run(ws.scenario("flaky", body))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = ws.results("flaky")
        run = summary(root)["runs"][0]
        self.assertEqual(run["status"], "PASSED", run)
        self.assertEqual(run["job_state"], "COMPLETED")
        attempts = run["attempts"]
        self.assertEqual(len(attempts), 2, attempts)
        self.assertEqual((attempts[0]["state"], attempts[0]["exit_code"]), ("FAILED", 1))
        self.assertEqual((attempts[1]["state"], attempts[1]["exit_code"]), ("COMPLETED", 0))
        self.assertNotEqual(attempts[0]["job_id"], attempts[1]["job_id"])
        self.assertEqual(run["job_id"], attempts[1]["job_id"], "the verdict is the last attempt's")
        run_dir = root / "flaky" / "0"
        self.assertIn(f'job_id = {attempts[1]["job_id"]}\n', (run_dir / "slurm-job.toml").read_text())
        log = (run_dir / "launcher.log").read_text()
        # CloudAI sends --max_retries 1, so the launcher allows one retry.
        self.assertIn("Starting attempt 2 of 2", log)
        self.assertIn("Connection reset by peer", log)
        stdout = (run_dir / "submit.stdout").read_text()
        self.assertEqual(re.findall(r"Submitted batch job (\d+)", stdout),
                         [a["job_id"] for a in attempts])
        self.assertGreater(run["metrics"]["step-time"], 0)
        # generate-report rebuilds summary.json from the folder: the attempts survive.
        subprocess.run(ws.command(ws.root / "flaky.toml")[:3] +
                       ["generate-report", "--system-config", str(ws.system), "--tests-dir",
                        str(CONF / "test" / "h100"), "--test-scenario", str(ws.root / "flaky.toml"),
                        "--result-dir", str(root)], check=True, capture_output=True, env=ws.env())
        rebuilt = summary(root)["runs"][0]["attempts"]
        self.assertEqual([(a["job_id"], a["state"], a["exit_code"]) for a in rebuilt],
                         [(a["job_id"], a["state"], a["exit_code"]) for a in attempts])

    def test_ctrl_c_cancels_the_retry(self):
        ws = SlurmWorkspace(tempdir(self))
        # Attempt 1 fails flakily, attempt 2 hangs until it is cancelled.
        body = ws.mb_case("retry", env_vars='  MBRIDGE_EMULATOR_FAULT = "flaky,hang@1:2"\n')
        proc = subprocess.Popen(ws.command(ws.scenario("retry", body)), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=ws.env())
        def ids_now():
            return submitted_job_ids(ws.root / "results", "retry_*/retry/0/submit.stdout")
        wait_until(lambda: len(ids_now()) >= 2, 120)
        ids = ids_now()
        self.assertEqual(len(ids), 2, "the launcher should have retried")
        wait_until(lambda: ids[1] in squeue_ids(), 60)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 130, out)
        wait_until(lambda: not set(ids) & squeue_ids(), 30, 0.5)
        self.assertFalse(set(ids) & squeue_ids(), "an attempt was left behind")
        run = summary(ws.results("retry"))["runs"][0]
        self.assertEqual([a["job_id"] for a in run["attempts"]], ids)
        self.assertEqual(run["attempts"][0]["state"], "FAILED")
        self.assertEqual(run["job_state"], "CANCELLED")

    def test_non_flaky_failure_is_not_retried(self):
        ws = SlurmWorkspace(tempdir(self))
        body = ws.mb_case("crash", env_vars='  MBRIDGE_EMULATOR_FAULT = "crash@1"\n')
        ws.run(ws.scenario("crash", body))
        run = summary(ws.results("crash"))["runs"][0]
        self.assertEqual(run["status"], "FAILED")
        self.assertEqual([a["state"] for a in run["attempts"]], ["FAILED"])


@needs_slurm
class SecretsOnSlurm(unittest.TestCase):
    def watch_ps(self, ws, scenario, token):
        """Runs benchpilot while sampling every process's command line; returns the results
        root and how many samples saw the launcher running."""
        proc = subprocess.Popen(ws.command(scenario), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                env={**ws.env(), "HF_TOKEN": token})
        launcher_seen = 0
        try:
            while proc.poll() is None:
                ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
                leaked = [line for line in ps.splitlines() if token in line]
                self.assertEqual(leaked, [], "the token is on a command line")
                launcher_seen += any("setup_experiment.py" in line and str(ws.root) in line
                                     for line in ps.splitlines())
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
            out, _ = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, out)
        return out, launcher_seen

    def test_token_in_no_command_line_and_no_results_file(self):
        ws = SlurmWorkspace(tempdir(self))
        token = unique_token()
        body = ws.mb_case("secret", step_sleep="0.3")
        out, launcher_seen = self.watch_ps(ws, ws.scenario("secret", body), token)
        self.assertGreater(launcher_seen, 5, "ps never saw the launcher running")
        root = ws.results("secret")
        self.assertEqual(summary(root)["runs"][0]["status"], "PASSED", out)
        files = all_files(root)
        self.assertTrue(any(f.name.endswith("_sbatch.sh") for f in files))
        for f in files:
            self.assertNotIn(token.encode(), f.read_bytes(), f"token in {f}")
        run_dir = root / "secret" / "0"
        # The launcher did get the token: it printed it, and wrote it into its batch script.
        self.assertIn("-hf [hidden]", (run_dir / "launcher.log").read_text())
        sbatch = [f for f in files if f.name.endswith("_sbatch.sh")][0]
        self.assertIn("export HF_TOKEN=[hidden]", sbatch.read_text())

    def test_token_that_is_a_word_of_the_scripts_breaks_nothing(self):
        ws = SlurmWorkspace(tempdir(self))
        body = ws.mb_case("word")
        proc = subprocess.run(ws.command(ws.scenario("word", body)), capture_output=True,
                              text=True, env={**ws.env(), "HF_TOKEN": "secret"}, timeout=400)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = ws.results("word")
        self.assertEqual(summary(root)["runs"][0]["status"], "PASSED")
        run_dir = root / "word" / "0"
        helper = (run_dir / "mbridge-launch.py").read_text()
        self.assertIn("secret_values = secrets()", helper, "the helper was rewritten")
        wrapper = run_dir / "mbridge-launcher.sh"
        self.assertEqual(subprocess.run(["bash", "-n", str(wrapper)]).returncode, 0)
        self.assertNotIn("[hidden]", wrapper.read_text())
        sbatch = [f for f in all_files(run_dir / "experiments") if f.name.endswith("_sbatch.sh")]
        self.assertIn("export HF_TOKEN=[hidden]", sbatch[0].read_text())


@needs_slurm
class BothLauncherVersions(unittest.TestCase):
    """The same sweep against the emulator laid out as Megatron-Bridge v0.3.0 and v0.6.0."""

    def sweep(self, version):
        ws = SlurmWorkspace(tempdir(self), version=version)
        body = ws.mb_case("sweep", cmd_args="  tp = [1, 2]\n  mb = [1, 2]\n")
        proc = ws.run(ws.scenario("sweep", body))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = ws.results("sweep")
        runs = sorted(summary(root)["runs"], key=lambda r: r["step"])
        return root, runs

    def test_same_sweep_same_results_on_v03_and_v06(self):
        root03, runs03 = self.sweep("0.3.0")
        root06, runs06 = self.sweep("0.6.0")
        self.assertEqual(len(runs03), 4)
        self.assertEqual([r["parameters"] for r in runs03], [r["parameters"] for r in runs06])
        for r03, r06 in zip(runs03, runs06):
            self.assertEqual((r03["status"], r06["status"]), ("PASSED", "PASSED"), (r03, r06))
            # Same configuration, same emulated numbers, whichever launcher ran it.
            self.assertAlmostEqual(r03["metrics"]["step-time"], r06["metrics"]["step-time"])
        log03 = (root03 / "sweep" / "0" / "1" / "launcher.log").read_text()
        log06 = (root06 / "sweep" / "0" / "1" / "launcher.log").read_text()
        self.assertIn("v0.3.0 launcher", log03)
        self.assertIn("run_script.py", log03)
        self.assertIn("v0.6.0 launcher", log06)
        self.assertIn("bootstrap.py", log06)
        self.assertIn("experiment pretrain_llama3_8b_bf16_gpus8_h100,", log06)


if __name__ == "__main__":
    unittest.main()
