"""Campaigns that survive benchpilot's death: the journal, resume, the folder lock. Runs on the
real local Slurm cluster of the ctest fixture, with the Megatron-Bridge launcher EMULATOR (a
test double) submitting the jobs."""
import json
import os
import pathlib
import signal
import subprocess
import unittest
import zlib

from helpers import BINARY, all_files, read_csv, summary, tempdir, wait_for
from slurm_env import SlurmWorkspace, needs_slurm, slurm_conf


def journal(root):
    """The journal's valid records (checksum verified), in order."""
    out = []
    path = pathlib.Path(root) / "journal.bpj"
    if not path.exists():
        return out
    for line in path.read_bytes().split(b"\n"):
        if len(line) > 9 and line[8:9] == b" " and int(line[:8], 16) == zlib.crc32(line[9:]):
            out.append(json.loads(line[9:]))
    return out


def jobs_of(root):
    """Every Slurm job (queued, running or recently ended) of the campaign in results folder
    `root`, by point ("case/iteration/step"): each job, the launcher's included, carries the
    comment "benchpilot:<campaign id>:<point>"."""
    prefix = f"benchpilot:{journal(root)[0]['id']}:"
    out = subprocess.run(["squeue", "-h", "--states=all", "-O", "JobID:|,Comment:|"],
                         capture_output=True, text=True,
                         env={**os.environ, "SLURM_CONF": slurm_conf()}, check=True)
    jobs = {}
    for line in out.stdout.splitlines():
        job, comment = (f.strip() for f in line.split("|")[:2])
        if comment.startswith(prefix):
            jobs.setdefault(comment[len(prefix):], []).append(job)
    return jobs


def comparable_runs(root):
    """summary.json rows without what differs between two campaigns (job ids, and the step-time
    calibration of the frozen prediction: a later campaign learns from the runs an earlier one
    stored; the raw prediction and the measured figures must still agree)."""
    runs = summary(root)["runs"]
    for r in runs:
        r.pop("job_id")
        for a in r.get("attempts", []):
            a.pop("job_id")
        if "prediction" in r:
            for key in ("step_time_factor", "step_time_s"):
                r["prediction"].pop(key)
            r["prediction"]["measured"].pop("step_time_error")
    return sorted(runs, key=lambda r: (r["case"], r["iteration"], r["step"]))


@needs_slurm
class ResumeAfterKill(unittest.TestCase):
    maxDiff = None
    def setUp(self):
        self.ws = SlurmWorkspace(tempdir(self))

    # 6 points; tp=4 pp=2 is pruned (the recipe's cp=2 makes it 16 GPUs), so 5 run.
    def sweep(self, name, extra_args=""):
        body = self.ws.mb_case(name, extra='agent_metrics = ["step-time"]\n'
                               '  [Tests.agent_config]\n  max_in_flight = 2\n',
                               cmd_args="  tp = [1, 2, 4]\n  pp = [1, 2]\n  gb = 64\n" + extra_args,
                               step_sleep="0.4")
        return self.ws.scenario(name, body)

    def resume(self, root, timeout=300):
        return subprocess.run([BINARY, "--log-file", "", "resume", str(root)], capture_output=True,
                              text=True, env=self.ws.env(), timeout=timeout)

    def assert_each_point_ran_once(self, root, points):
        records = journal(root)
        jobs = jobs_of(root)
        self.assertEqual(len(jobs), points, jobs)
        for point, ids in jobs.items():
            self.assertEqual(len(ids), 1, f"{point} was submitted {len(ids)} times: {ids}")
        finished = sorted(r["s"] for r in records if r["t"] == "finished")
        self.assertEqual(finished, sorted(int(p.rsplit("/", 1)[1]) for p in jobs),
                         "every point finished exactly once in the journal")
        self.assertEqual(records[-1]["t"], "done")
        return jobs

    def test_sigkill_mid_sweep_then_resume_equals_an_uninterrupted_run(self):
        scenario = self.sweep("camp")
        proc = subprocess.Popen(self.ws.command(scenario), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=self.ws.env())
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        results = self.ws.root / "results"
        root = lambda: next(results.glob("camp_*"), None)
        # Kill when some points finished and others are submitted but not finished.
        def mid_run():
            r = root()
            if r is None:
                return False
            recs = journal(r)
            done = {x["s"] for x in recs if x["t"] == "finished"}
            live = {x["s"] for x in recs if x["t"] == "submitted" and x.get("job")} - done
            return len(done) >= 2 and live
        wait_for(mid_run, 180, "two finished points and one in flight")
        # A second benchpilot on the same folder is refused while the first works.
        second = self.resume(root(), timeout=60)
        self.assertEqual(second.returncode, 1, second.stdout + second.stderr)
        self.assertIn("another benchpilot", second.stderr)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        before = journal(root())
        self.assertNotEqual(before[-1]["t"], "done")
        in_flight = {x["job"] for x in before if x["t"] == "submitted" and x.get("job")} - \
                    {x["rec"]["job"] for x in before if x["t"] == "finished"}

        resumed = self.resume(root())
        out = resumed.stdout + resumed.stderr
        self.assertEqual(resumed.returncode, 0, out)
        for job in in_flight:
            self.assertIn(f"to job {job}", out, "jobs in flight are re-attached, not resubmitted")
        self.assert_each_point_ran_once(root(), 5)

        # The same sweep, uninterrupted, in its own folder.
        base = subprocess.run(self.ws.command(self.sweep("base")), capture_output=True, text=True,
                              env=self.ws.env(), timeout=400)
        self.assertEqual(base.returncode, 0, base.stdout + base.stderr)
        base_root = next(results.glob("base_*"))
        mine, theirs = comparable_runs(root()), comparable_runs(base_root)
        for r in mine + theirs:
            r["case"] = "x"
            r["run_dir"] = r["run_dir"].split("/", 1)[1]
        self.assertEqual(mine, theirs)
        # Points the journal restored as finished keep their frozen prediction too.
        self.assertTrue(all("prediction" in r for r in mine), mine)
        key = lambda rows: sorted(tuple(sorted(r.items())) for r in rows)
        self.assertEqual(key(read_csv(root() / "camp" / "0" / "trajectory.csv")),
                         key(read_csv(base_root / "base" / "0" / "trajectory.csv")))
        best = (root() / "camp" / "0" / "camp.toml").read_text()
        self.assertEqual(best, (base_root / "base" / "0" / "base.toml").read_text())
        # Resuming a finished campaign does nothing.
        again = self.resume(root())
        self.assertEqual(again.returncode, 0)
        self.assertIn("nothing to resume", again.stdout)

    def test_kill_between_launcher_submit_and_job_id_capture(self):
        # An sbatch in PATH that submits for real, then kills benchpilot before the launcher
        # can print the job id: the id reaches no journal, only Slurm (through the comment).
        shim = self.ws.root / "shim"
        shim.mkdir()
        marker = self.ws.root / "killed"
        pidfile = self.ws.root / "benchpilot.pid"
        (shim / "sbatch").write_text(f'''#!/bin/bash
out=$(/usr/bin/sbatch "$@"); rc=$?
if [ ! -e {marker} ]; then touch {marker}; kill -9 "$(cat {pidfile})"; sleep 2; fi
echo "$out"; exit $rc
''')
        (shim / "sbatch").chmod(0o755)
        env = self.ws.env()
        env["PATH"] = f"{shim}:{env['PATH']}"
        body = self.ws.mb_case("lost", extra='  [Tests.agent_config]\n  max_in_flight = 1\n',
                               cmd_args="  tp = [1, 2]\n  gb = 64\n")
        scenario = self.ws.scenario("lost", body)
        proc = subprocess.Popen(self.ws.command(scenario), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=env)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        pidfile.write_text(str(proc.pid))
        proc.communicate(timeout=180)
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        root = next((self.ws.root / "results").glob("lost_*"))
        before = journal(root)
        self.assertFalse([r for r in before if r["t"] == "submitted" and r.get("job")],
                         "benchpilot died before it learned any job id")
        lost = jobs_of(root)
        self.assertEqual(list(lost), ["lost/0/1"],
                         "the launcher's job carries the campaign's comment for its point")

        # Changed inputs are refused before anything is submitted.
        changed = self.ws.scenario("lost", body.replace("tp = [1, 2]", "tp = [1, 4]"))
        refused = subprocess.run(self.ws.command(changed) + ["--resume"], capture_output=True,
                                 text=True, env=self.ws.env(), timeout=120)
        self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
        self.assertIn("case 'lost' changed", refused.stderr)
        self.ws.scenario("lost", body)

        resumed = subprocess.run(self.ws.command(scenario) + ["--resume"], capture_output=True,
                                 text=True, env=self.ws.env(), timeout=300)
        out = resumed.stdout + resumed.stderr
        self.assertEqual(resumed.returncode, 0, out)
        (job,) = lost["lost/0/1"]
        self.assertIn(f"lost/0/1: found job {job} in Slurm", out)
        self.assert_each_point_ran_once(root, 2)
        runs = summary(root)["runs"]
        self.assertEqual([r["status"] for r in runs], ["PASSED", "PASSED"], runs)
        self.assertEqual({r["job_id"] for r in runs if r["step"] == 1}, {job})

    def test_resume_follows_the_launcher_retry_of_a_surviving_wrapper(self):
        # Attempt 1 fails flakily at iteration 5; benchpilot is killed while it runs. The
        # wrapper survives, its launcher retries, and the resumed session must follow the retry.
        body = self.ws.mb_case("flk", env_vars='  MBRIDGE_EMULATOR_FAULT = "flaky@5"\n',
                               step_sleep="0.4")
        scenario = self.ws.scenario("flk", body)
        proc = subprocess.Popen(self.ws.command(scenario), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=self.ws.env())
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        results = self.ws.root / "results"
        def first_id():
            r = next(results.glob("flk_*"), None)
            return r and [x["job"] for x in journal(r) if x["t"] == "submitted" and x.get("job")]
        wait_for(first_id, 180, "the first attempt's job id in the journal")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        root = next(results.glob("flk_*"))
        (first,) = first_id()
        run_dir = root / "flk" / "0"
        def retried():
            return "Submitted batch job" in (run_dir / "submit.stdout").read_text().split(first, 1)[1]
        self.assertFalse(retried(), "benchpilot was killed before the launcher retried")

        resumed = self.resume(root)
        out = resumed.stdout + resumed.stderr
        self.assertEqual(resumed.returncode, 0, out)
        self.assertIn(f"re-attached flk/0 to job {first}", out)
        self.assertTrue(retried())
        run = summary(root)["runs"][0]
        self.assertEqual(run["status"], "PASSED", run)
        attempts = run["attempts"]
        self.assertEqual([(a["state"], a["exit_code"]) for a in attempts],
                         [("FAILED", 1), ("COMPLETED", 0)], attempts)
        self.assertEqual(attempts[0]["job_id"], first)
        self.assertEqual(run["job_id"], attempts[1]["job_id"], "the verdict is the last attempt's")
        self.assertIn(f'job_id = {attempts[1]["job_id"]}\n', (run_dir / "slurm-job.toml").read_text())
        records = journal(root)
        self.assertEqual(len([r for r in records if r["t"] == "submitting"]), 1,
                         "the resumed session submitted nothing")
        self.assertEqual(sorted(jobs_of(root)["flk/0"]), sorted(a["job_id"] for a in attempts),
                         "both attempts are the launcher's, with the campaign's comment")
        (done,) = [r for r in records if r["t"] == "finished"]
        self.assertEqual(done["rec"]["job"], attempts[1]["job_id"])
        self.assertEqual(records[-1]["t"], "done")

    def test_sighup_keeps_jobs_and_resume_collects_them(self):
        scenario = self.sweep("hup")
        proc = subprocess.Popen(self.ws.command(scenario), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=self.ws.env())
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        results = self.ws.root / "results"
        def submitted():
            r = next(results.glob("hup_*"), None)
            return r and any(x["t"] == "submitted" and x.get("job") for x in journal(r))
        wait_for(submitted, 180, "a submitted job")
        proc.send_signal(signal.SIGHUP)
        out, _ = proc.communicate(timeout=60)
        root = next(results.glob("hup_*"))
        self.assertIn(f"benchpilot resume {root}", out)
        recs = journal(root)
        self.assertFalse([r for r in recs if r["t"] == "cancelled"], "SIGHUP cancels nothing")
        resumed = self.resume(root)
        self.assertEqual(resumed.returncode, 0, resumed.stdout + resumed.stderr)
        self.assert_each_point_ran_once(root, 5)
        runs = summary(root)["runs"]
        self.assertTrue(all(r["status"] == "PASSED" for r in runs), runs)
        self.assertEqual(len(runs), 5)


@needs_slurm
class StoreCompareAndRegressions(unittest.TestCase):
    """The results store, history, compare and --fail-on-regression on real runs."""

    def test_compare_flags_a_five_percent_slowdown_and_stays_quiet_on_identical_runs(self):
        ws = SlurmWorkspace(tempdir(self))
        body = ws.mb_case("cmp", extra='  [Tests.agent_config]\n  max_in_flight = 2\n',
                          cmd_args="  tp = [1, 2]\n  gb = 64\n")
        body = body.replace("max_steps = 6", "max_steps = 14")  # 10 samples after warm-up

        def campaign(name, seed, scale="1.0", extra=()):
            env = ws.env()
            env["MBRIDGE_EMULATOR_NOISE_SEED"] = seed  # independent jitter, as on hardware
            env["MBRIDGE_EMULATOR_STEP_TIME_SCALE"] = scale  # the injected slowdown
            proc = subprocess.run(ws.command(ws.scenario(name, body.replace('"cmp"', f'"{name}"')))
                                  + list(extra), capture_output=True, text=True, env=env,
                                  timeout=300)
            return proc, next((ws.root / "results").glob(f"{name}_*"))

        base_proc, base = campaign("base", "1")
        self.assertEqual(base_proc.returncode, 0, base_proc.stdout + base_proc.stderr)
        same_proc, same = campaign("same", "2")
        self.assertEqual(same_proc.returncode, 0, same_proc.stdout + same_proc.stderr)
        # Judged against the last passing run of each configuration on this system: none slower.
        slow_proc, slow = campaign("slow", "3", "1.05", ["--fail-on-regression"])
        out = slow_proc.stdout + slow_proc.stderr
        self.assertEqual(slow_proc.returncode, 1, out)
        self.assertIn("REGRESSION", out)
        runs = summary(slow)["runs"]
        self.assertTrue(all(r["perf_verdict"].startswith("REGRESSION") for r in runs), runs)

        def compare(a, b, *extra):
            return subprocess.run([BINARY, "--log-file", "", "compare", str(a), str(b), *extra],
                                  capture_output=True, text=True, timeout=60)

        quiet = compare(base, same, "--json", "--fail-on-regression")
        self.assertEqual(quiet.returncode, 0, quiet.stdout + quiet.stderr)
        verdicts = [c["verdict"] for c in json.loads(quiet.stdout)["configurations"]]
        self.assertEqual(verdicts, ["no change", "no change"])
        flagged = compare(base, slow, "--json")
        self.assertEqual(flagged.returncode, 0)
        configs = json.loads(flagged.stdout)["configurations"]
        self.assertEqual([c["verdict"] for c in configs], ["slower", "slower"])
        for c in configs:
            self.assertAlmostEqual(c["b_step_time"] / c["a_step_time"], 1.05, delta=0.015)
            self.assertLess(c["p_value"], 0.05)
        gate = compare(base, slow, "--fail-on-regression")
        self.assertEqual(gate.returncode, 1)
        self.assertIn("regression: tp=", gate.stderr)

        # The store holds all six runs with their samples; history filters them.
        store = ws.root / "results" / "benchpilot.db"
        hist = subprocess.run([BINARY, "--log-file", "", "history", "--store", str(store),
                               "--param", "tp=2", "--json"], capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(hist.returncode, 0, hist.stderr)
        rows = json.loads(hist.stdout)
        self.assertEqual(len(rows), 3)
        for r in rows:
            self.assertEqual(r["parameters"]["cmd_args.tp"], "2")
            self.assertEqual(r["model"], "llama3_8b")
            self.assertEqual(r["system"], "local-slurm")
            self.assertEqual(r["mbridge_commit"], "v0.3.0-emulated")
            self.assertEqual(len(r["samples"]["step-time"]), 10)
            self.assertEqual(r["job_state"], "COMPLETED")
        # The store is an index: rebuilt from the folders it says the same.
        rebuilt = ws.root / "rebuilt.db"
        idx = subprocess.run([BINARY, "--log-file", "", "index", "--store", str(rebuilt),
                              str(ws.root / "results")], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(idx.returncode, 0, idx.stderr)
        self.assertIn("Indexed 6 run(s) from 3 results folder(s)", idx.stdout)
        csv_out = subprocess.run([BINARY, "--log-file", "", "history", "--store", str(rebuilt),
                                  "--csv", "--limit", "0"], capture_output=True, text=True,
                                 timeout=60)
        self.assertEqual(len(csv_out.stdout.strip().splitlines()), 7)


@needs_slurm
class ReferenceValuesInTheScenario(unittest.TestCase):
    def test_case_reference_values_judge_each_point(self):
        ws = SlurmWorkspace(tempdir(self))
        # tp=1 must be at most 1000 s a step (it is far faster); tp=2 at most 1 ms (it is not).
        refs = ("  [[Tests.reference]]\n  params = { tp = 1 }\n  step_time = 1000.0\n"
                "  [[Tests.reference]]\n  params = { tp = 2 }\n  step_time = 0.001\n"
                "  tolerance = 0.1\n")
        body = ws.mb_case("ref", extra=refs, cmd_args="  tp = [1, 2]\n  gb = 64\n")
        proc = subprocess.run(ws.command(ws.scenario("ref", body)) + ["--fail-on-regression"],
                              capture_output=True, text=True, env=ws.env(), timeout=300)
        out = proc.stdout + proc.stderr
        self.assertEqual(proc.returncode, 1, out)
        self.assertRegex(proc.stderr, r"regression: ref/0/2: REGRESSION: \+\d+\.\d% vs 0\.001 s ±10%")
        self.assertNotIn("regression: ref/0/1", proc.stderr)
        runs = {r["step"]: r for r in summary(ws.results("ref"))["runs"]}
        self.assertEqual({s: r["status"] for s, r in runs.items()}, {1: "PASSED", 2: "PASSED"})
        self.assertTrue(runs[1]["perf_verdict"].startswith("faster: "), runs[1])
        self.assertTrue(runs[2]["perf_verdict"].startswith("REGRESSION: "), runs[2])
        table = proc.stdout.split("Results:")[0]
        self.assertIn("REGRESSION", table)
        self.assertIn("faster", table)


def cloudai_folder(root, step_time, image, end):
    """A results folder laid out as CloudAI writes it (reference/cloudai.md section 6): one
    Megatron-Bridge run with test-run.toml, slurm-job.toml and the launcher log."""
    run = pathlib.Path(root) / "llama8b" / "0"
    run.mkdir(parents=True)
    (run / "test-run.toml").write_text(f"""name = "llama8b"
nnodes = 1
iterations = 1
current_iteration = 0
step = 0
[test_definition]
name = "mb"
test_template_name = "MegatronBridge"
[test_definition.cmd_args]
model_recipe_name = "llama3_8b"
gpu_type = "h100"
num_gpus = 8
tp = 2
container_image = "{image}"
""")
    (run / "slurm-job.toml").write_text(f'job_id = 7\nstate = "COMPLETED"\nend_time = "{end}"\n')
    jitter = [0.004, -0.002, 0.001, -0.004, 0.003, 0.0, -0.001, 0.002, -0.003, 0.001]
    (run / "cloudai_megatron_bridge_launcher.log").write_text("".join(
        f"Step Time : {step_time * (1 + j):.4f}s GPU utilization: 400.0MODEL_TFLOP/s/GPU\n"
        for j in jitter))
    return pathlib.Path(root)


class StoreCommandsOnFolders(unittest.TestCase):
    """index, history and compare on CloudAI results folders; no cluster needed."""

    def bp(self, *args):
        return subprocess.run([BINARY, "--log-file", "", *map(str, args)], capture_output=True,
                              text=True, timeout=60)

    def test_compare_and_index_cloudai_folders(self):
        tmp = tempdir(self)
        old = cloudai_folder(tmp / "cloudai" / "old_2026-11-20_10-00-00", 9.0, "nemo:25.11",
                             "2026-11-20T10:20:00")
        new = cloudai_folder(tmp / "cloudai" / "new_2026-11-21_10-00-00", 9.45, "nemo:26.02",
                             "2026-11-21T10:20:00")
        same = cloudai_folder(tmp / "cloudai" / "again_2026-11-22_10-00-00", 9.0, "nemo:26.02",
                              "2026-11-22T10:20:00")
        flagged = self.bp("compare", old, new, "--fail-on-regression")
        self.assertEqual(flagged.returncode, 1, flagged.stdout + flagged.stderr)
        self.assertIn("slower", flagged.stdout)
        self.assertIn("+5.0%", flagged.stdout)
        self.assertIn("regression: llama3_8b: step time (s) +5.0%", flagged.stderr)
        quiet = self.bp("compare", old, same, "--fail-on-regression")
        self.assertEqual(quiet.returncode, 0, quiet.stdout + quiet.stderr)
        self.assertIn("no change", quiet.stdout)
        # A smaller minimum effect does not turn identical samples into a change.
        self.assertIn("no change", self.bp("compare", old, same, "--min-effect", "0").stdout)

        store = tmp / "bp.db"
        missing = self.bp("history", "--store", store)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("benchpilot index", missing.stderr)
        idx = self.bp("index", "--store", store, "--system", "eos", tmp / "cloudai")
        self.assertEqual(idx.returncode, 0, idx.stderr)
        self.assertIn("Indexed 3 run(s) from 3 results folder(s)", idx.stdout)
        hist = json.loads(self.bp("history", "--store", store, "--system", "eos", "--json").stdout)
        self.assertEqual([r["container_image"] for r in hist],
                         ["nemo:26.02", "nemo:26.02", "nemo:25.11"])
        self.assertTrue(all(len(r["samples"]["step-time"]) == 10 for r in hist))
        # Stored campaigns compare like folders.
        by_id = self.bp("compare", "--store", store, "old_2026-11-20_10-00-00",
                        "new_2026-11-21_10-00-00", "--json")
        self.assertEqual(by_id.returncode, 0, by_id.stderr)
        self.assertEqual([c["verdict"] for c in json.loads(by_id.stdout)["configurations"]],
                         ["slower"])
        unknown = self.bp("compare", "--store", store, "nope", old)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("'nope' is neither a results folder nor a campaign", unknown.stderr)


if __name__ == "__main__":
    unittest.main()
