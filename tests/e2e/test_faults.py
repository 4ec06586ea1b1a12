"""Faults on the real local Slurm cluster of the ctest fixture: slurmctld stopped and restarted,
a node set DOWN under a running job, transient command failures, a full disk, two runs
installing at once, kill -9 against the sweep CSVs. Jobs are the Sleep workload (a real
`sleep` under Slurm) or the Megatron-Bridge launcher EMULATOR (a test double).

These tests stop slurmctld and take nodes down, so ctest runs them alone (RUN_SERIAL)."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import unittest
import zlib

from helpers import BINARY, CONF, read_csv, summary, tempdir, wait_for
from slurm_env import SlurmWorkspace, needs_slurm, nodes, slurm_conf


def cluster_dir():
    return pathlib.Path(slurm_conf()).parent.parent


def slurm_env():
    return {**os.environ, "SLURM_CONF": slurm_conf()}


def journal_lines(root):
    """(valid records, number of lines): a record is valid when its checksum matches."""
    path = pathlib.Path(root) / "journal.bpj"
    lines = [l for l in path.read_bytes().split(b"\n") if l]
    good = [json.loads(l[9:]) for l in lines
            if len(l) > 9 and l[8:9] == b" " and int(l[:8], 16) == zlib.crc32(l[9:])]
    return good, len(lines)


def our_jobs(results):
    """{job id: state} of the Slurm jobs submitted from below `results`."""
    out = subprocess.run(["squeue", "-h", "--states=all", "-O", "JobID:|,State:|,WorkDir:|"],
                         capture_output=True, text=True, env=slurm_env())
    jobs = {}
    for line in out.stdout.splitlines():
        f = [x.strip() for x in line.split("|")]
        if len(f) >= 3 and f[2].startswith(str(results) + "/"):
            jobs[f[0]] = f[1]
    return jobs


# ---------------------------------------------------------------------------- slurmctld

def _stat_starttime(pid):
    stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(") ", 1)[1].split()[19]


def stop_slurmctld():
    pid = int((cluster_dir() / "run" / "slurmctld.pid").read_text().split()[0])
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pathlib.Path(f"/proc/{pid}").exists() or
             pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] in "ZX",
             30, "slurmctld to stop")


def start_slurmctld():
    """Starts slurmctld as scripts/local-slurm/start.sh does (its saved state is kept) and
    records it in run/daemons so that stop.sh stops this one."""
    d = cluster_dir()
    subprocess.run(["bash", "-c", 'setsid slurmctld -D -i </dev/null >>"$0" 2>&1 &',
                    str(d / "log" / "slurmctld.stdout")], env=slurm_env(), cwd=d, check=True)

    def up():
        r = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, env=slurm_env())
        return "UP" in r.stdout
    wait_for(up, 30, "slurmctld to answer")
    pid = (d / "run" / "slurmctld.pid").read_text().split()[0]
    daemons = d / "run" / "daemons"
    lines = [l for l in daemons.read_text().splitlines() if l.split()[:1] != ["slurmctld"]]
    lines.append(f"slurmctld {pid} slurmctld {_stat_starttime(pid)}")
    daemons.write_text("\n".join(lines) + "\n")
    # Nodes register again within a few seconds; jobs start once they are idle.
    wait_for(lambda: "unk" not in subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True,
                                                  text=True, env=slurm_env()).stdout,
             30, "nodes to register")


def ensure_slurmctld(test):
    """Cleanup: whatever happened, leave the controller running for the next test."""
    def restart_if_down():
        r = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, env=slurm_env())
        if "UP" not in r.stdout:
            start_slurmctld()
    test.addCleanup(restart_if_down)


class SleepWorkspace:
    """Sleep-workload cases on the local cluster, with quick retries (status_retry_pause 1 s)."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.tests = self.root / "tests"
        self.tests.mkdir(parents=True, exist_ok=True)
        (self.tests / "sleep.toml").write_text(
            'name = "sleep"\ndescription = "a real sleep under Slurm"\n'
            'test_template_name = "Sleep"\n[cmd_args]\nseconds = 1\n')
        self.results = self.root / "results"
        self.system = self.root / "system.toml"
        self.write_system()
        self.path_prefix = ""

    def write_system(self, output_path=None):
        self.system.write_text(f'''
name = "local-slurm"
scheduler = "slurm"
install_path = "{self.root / 'install'}"
output_path = "{output_path or self.results}"
default_partition = "main"
mpi = "none"
gpus_per_node = 8
monitor_interval = 1
status_retry_pause_seconds = 1

[[partitions]]
name = "main"
  [[partitions.groups]]
  name = "all"
  nodes = ["{nodes(1, 4)}"]
''')

    def scenario(self, name, cases, extra=""):
        """cases: [(id, seconds)]"""
        body = f'name = "{name}"\njob_status_check = false\n{extra}'
        for case_id, seconds in cases:
            body += (f'[[Tests]]\nid = "{case_id}"\ntest_name = "sleep"\n'
                     f'time_limit = "00:02:00"\n  [Tests.cmd_args]\n  seconds = {seconds}\n')
        path = self.root / f"{name}.toml"
        path.write_text(body)
        return path

    def env(self):
        e = slurm_env()
        if self.path_prefix:
            e["PATH"] = self.path_prefix + os.pathsep + e["PATH"]
        return e

    def command(self, scenario):
        return [BINARY, "--log-file", str(self.root / "debug.log"), "run", "--system-config",
                str(self.system), "--tests-dir", str(self.tests), "--test-scenario",
                str(scenario)]

    def start(self, scenario):
        proc = subprocess.Popen(self.command(scenario), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env())
        return proc

    def run(self, scenario, timeout=180):
        return subprocess.run(self.command(scenario), capture_output=True, text=True,
                              env=self.env(), timeout=timeout)

    def resume(self, root, timeout=180):
        return subprocess.run([BINARY, "--log-file", "", "resume", str(root)],
                              capture_output=True, text=True, env=self.env(), timeout=timeout)

    def results_root(self, name):
        roots = sorted(self.results.glob(f"{name}_*"))
        return roots[-1] if roots else None

    def shim(self, name, script):
        """An executable `name` in a folder put first on PATH (a fault injector)."""
        d = self.root / "shims"
        d.mkdir(exist_ok=True)
        (d / name).write_text("#!/bin/bash\n" + script)
        (d / name).chmod(0o755)
        self.path_prefix = str(d)
        return d


def real(cmd):
    return shutil.which(cmd, path=os.environ["PATH"])


@needs_slurm
class ControllerOutage(unittest.TestCase):
    def setUp(self):
        self.ws = SleepWorkspace(tempdir(self))
        ensure_slurmctld(self)

    def start_and_wait_running(self, scenario, jobs):
        """Starts the run and waits until each job's step (the srun in sbatch.sh) runs: a step
        cannot start while slurmctld is down, a running one goes on."""
        proc = self.ws.start(scenario)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def steps_running():
            ids = [j for j, st in our_jobs(self.ws.results).items() if st == "RUNNING"]
            if len(ids) != jobs:
                return False
            out = subprocess.run(["squeue", "-h", "-s", "-o", "%i"], capture_output=True,
                                 text=True, env=slurm_env()).stdout.split()
            return all(f"{j}.0" in out for j in ids)
        wait_for(steps_running, 60, f"{jobs} running job step(s)")
        return proc

    def test_slurmctld_restart_mid_run_is_ridden_out(self):
        sc = self.ws.scenario("ctld", [("a", 8), ("b", 8)])
        proc = self.start_and_wait_running(sc, 2)
        stop_slurmctld()
        time.sleep(12)  # longer than one squeue attempt (the client retries ~9 s)
        start_slurmctld()
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertIn("failed transiently", err, "the outage was seen and retried")
        runs = summary(self.ws.results_root("ctld"))["runs"]
        # `runs` lists runs in the order they were seen to end: both jobs end during the outage
        # and are seen in one poll round or in two, so the order is not part of what is tested.
        self.assertEqual(sorted((r["case"], r["status"], r["job_state"]) for r in runs),
                         [("a", "PASSED", "COMPLETED"), ("b", "PASSED", "COMPLETED")])

    def test_slurmctld_down_past_the_bound_stops_resumable(self):
        # With slurmctld down a real squeue fails only after ~9 s of connection retries; this
        # shim gives the same answer at once while the controller is down (flag file), so the
        # bound (3 rounds of 3 calls) passes in seconds. slurmctld is really stopped.
        down = self.ws.root / "controller-down"
        self.ws.shim("squeue", f'''
if [ -e {down} ]; then
  echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2
  exit 1
fi
exec {real("squeue")} "$@"
''')
        sc = self.ws.scenario("down", [("a", 25)])  # still running when the controller is back
        proc = self.start_and_wait_running(sc, 1)
        down.touch()
        stop_slurmctld()
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 75, out + err)
        self.assertIn("Slurm did not answer", err)
        self.assertIn("Unable to contact slurm controller", err, "the real cause is named")
        self.assertIn("benchpilot resume", err)
        root = self.ws.results_root("down")
        good, lines = journal_lines(root)
        self.assertEqual(len(good), lines, "every journal record is intact")
        self.assertNotEqual(good[-1]["t"], "done")
        self.assertFalse([r for r in good if r["t"] == "finished"], "no verdict was invented")

        start_slurmctld()
        down.unlink()
        resumed = self.ws.resume(root)
        self.assertEqual(resumed.returncode, 0, resumed.stdout + resumed.stderr)
        run = summary(root)["runs"][0]
        self.assertEqual((run["status"], run["job_state"]), ("PASSED", "COMPLETED"), run)
        self.assertEqual(journal_lines(root)[0][-1]["t"], "done")


@needs_slurm
class NodeDown(unittest.TestCase):
    def test_node_set_down_mid_run_records_the_requeue(self):
        ws = SleepWorkspace(tempdir(self))
        sc = ws.scenario("nodedown", [("a", 4)])
        proc = ws.start(sc)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        wait_for(lambda: "RUNNING" in our_jobs(ws.results).values(), 60, "the job to run")
        job = next(iter(our_jobs(ws.results)))
        node = subprocess.run(["squeue", "-h", "-j", job, "-o", "%N"], capture_output=True,
                              text=True, env=slurm_env()).stdout.strip()

        def resume_node():
            subprocess.run(["scontrol", "update", f"nodename={node}", "state=resume"],
                           capture_output=True, env=slurm_env())
        self.addCleanup(resume_node)
        subprocess.run(["scontrol", "update", f"nodename={node}", "state=down",
                        "reason=faults-test"], check=True, env=slurm_env())
        # Slurm requeues the job (same id) with a begin time ~2 minutes ahead; an admin may
        # release it at once, as here, to keep the test short. (Slurm 22.05 sometimes lets the
        # killed batch script's exit code end the requeued job FAILED at once instead.)
        # Slurm may also hold it ("launch failed requeued held"), even more than once: each
        # time it is released, until the run ends.
        def ended():
            if proc.poll() is not None:
                return True
            if our_jobs(ws.results).get(job) == "PENDING":
                for args in (["release", job], ["update", f"jobid={job}", "StartTime=now"]):
                    subprocess.run(["scontrol"] + args, capture_output=True, env=slurm_env())
            return False
        wait_for(ended, 90, "the run to end")
        out, err = proc.communicate(timeout=120)
        root = ws.results_root("nodedown")
        run = summary(root)["runs"][0]
        attempts = [(a["job_id"], a["state"]) for a in run["attempts"]]
        # NODE_FAIL, [REQUEUED when a relaunch failed and was held, ...], the last run.
        self.assertGreaterEqual(len(attempts), 2, run)
        self.assertEqual(attempts[0], (job, "NODE_FAIL"), "the run the node took down is kept")
        self.assertEqual({a[0] for a in attempts}, {job}, "a requeue keeps the job id")
        self.assertEqual(run["job_state"], attempts[-1][1], "the verdict is the last run's")
        self.assertEqual(run["status"], "PASSED" if attempts[-1][1] == "COMPLETED" else "FAILED")
        self.assertEqual(proc.returncode, 0 if run["status"] == "PASSED" else 1, out + err)
        meta = (root / "a" / "0" / "slurm-job.toml").read_text()
        self.assertIn("[[earlier_attempts]]", meta)
        self.assertIn('state = "NODE_FAIL"', meta)
        self.assertIn("requeued", err)
        good, _ = journal_lines(root)
        finished = [r for r in good if r["t"] == "finished"]
        self.assertEqual(len(finished), 1)
        self.assertIn("NODE_FAIL", json.dumps(finished[0]), "the journal has the requeue too")


@needs_slurm
class TransientCommandFailures(unittest.TestCase):
    def setUp(self):
        self.ws = SleepWorkspace(tempdir(self))

    def flaky_sbatch(self, failures):
        count = self.ws.root / "sbatch-calls"
        self.ws.shim("sbatch", f'''
n=$(( $(cat {count} 2>/dev/null || echo 0) + 1 )); echo $n > {count}
if [ $n -le {failures} ]; then
  echo "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation" >&2
  exit 1
fi
exec {real("sbatch")} "$@"
''')
        return count

    def test_socket_timeouts_are_retried_with_backoff(self):
        count = self.flaky_sbatch(2)
        proc = self.ws.run(self.ws.scenario("flaky", [("a", 1)]))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(count.read_text().strip(), "3")
        self.assertIn("retrying in 1000 ms", proc.stderr)
        self.assertIn("retrying in 2000 ms", proc.stderr)
        run = summary(self.ws.results_root("flaky"))["runs"][0]
        self.assertEqual((run["status"], run["job_state"]), ("PASSED", "COMPLETED"))

    def test_past_the_bound_the_message_names_the_cause(self):
        count = self.flaky_sbatch(100)
        proc = self.ws.run(self.ws.scenario("dead", [("a", 1)]))
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertEqual(count.read_text().strip(), "3", "bounded: 3 attempts")
        run = summary(self.ws.results_root("dead"))["runs"][0]
        self.assertEqual(run["status"], "FAILED")
        self.assertIn("Socket timed out on send/recv operation", run["message"])
        self.assertIn("after 3 attempts", run["message"])

    def test_squeue_and_sacct_hiccups_are_retried(self):
        state = self.ws.root / "calls"
        state.mkdir()
        for cmd in ("squeue", "sacct"):
            self.ws.shim(cmd, f'''
n=$(( $(cat {state}/{cmd} 2>/dev/null || echo 0) + 1 )); echo $n > {state}/{cmd}
if [ $((n % 3)) -eq 1 ]; then
  echo "{cmd}: error: Socket timed out on send/recv operation" >&2
  exit 1
fi
exec {real(cmd)} "$@"
''')
        proc = self.ws.run(self.ws.scenario("hiccup", [("a", 2), ("b", 2)]))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("squeue failed transiently", proc.stderr)
        self.assertIn("sacct failed transiently", proc.stderr)
        runs = summary(self.ws.results_root("hiccup"))["runs"]
        self.assertEqual([(r["status"], r["job_state"]) for r in runs],
                         [("PASSED", "COMPLETED")] * 2)


@needs_slurm
class DiskFull(unittest.TestCase):
    def test_full_disk_is_named_keeps_the_journal_and_resumes(self):
        ws = SleepWorkspace(tempdir(self))
        mnt = ws.root / "small"
        mnt.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): " +
                          r.stderr.strip())
        self.addCleanup(lambda: subprocess.run(["umount", "-l", str(mnt)]))
        ws.write_system(output_path=mnt / "results")
        ws.results = mnt / "results"
        sc = ws.scenario("full", [("a", 1), ("b", 6)])
        proc = ws.start(sc)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        # Fill the disk while b runs: a's results are written, b's cannot be.
        wait_for(lambda: ws.results_root("full") is not None and
                 (ws.results_root("full") / "a" / "0" / "slurm-job.toml").exists() and
                 "RUNNING" in our_jobs(ws.results).values(), 60, "a done, b running")
        filler = mnt / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        out, err = proc.communicate(timeout=120)
        self.assertNotEqual(proc.returncode, 0, out + err)
        self.assertIn("No space left on device", err)
        root = ws.results_root("full")
        good, lines = journal_lines(root)
        self.assertEqual(len(good), lines, "every journal record is intact")
        for p in root.rglob("*"):
            if p.name in ("report.txt", "slurm-job.toml", "summary.json", "test-run.toml"):
                self.assertGreater(p.stat().st_size, 0, f"{p} is empty")
        filler.unlink()
        resumed = ws.resume(root)
        self.assertEqual(resumed.returncode, 0, resumed.stdout + resumed.stderr)
        runs = summary(root)["runs"]
        self.assertEqual(sorted((r["case"], r["status"]) for r in runs),
                         [("a", "PASSED"), ("b", "PASSED")])
        for case in ("a", "b"):  # the point the full disk interrupted got its files on resume
            for name in ("slurm-job.toml", "job-state.toml"):
                p = root / case / "0" / name
                self.assertTrue(p.exists() and p.stat().st_size > 0, f"{p} missing or empty")
        self.assertEqual(journal_lines(root)[0][-1]["t"], "done")


@needs_slurm
class ConcurrentInstall(unittest.TestCase):
    def test_two_installs_on_an_empty_install_path_both_succeed(self):
        ws = SlurmWorkspace(tempdir(self))
        sc = ws.scenario("inst", ws.mb_case("a"))
        cmd = [BINARY, "--log-file", "", "install", "--system-config", str(ws.system),
               "--tests-dir", str(CONF / "test" / "h100"), "--test-scenario", str(sc)]
        procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, env=ws.env()) for _ in range(2)]
        outs = [p.communicate(timeout=120)[0] for p in procs]
        for p, out in zip(procs, outs):
            self.assertEqual(p.returncode, 0, out)
        install = ws.root / "install"
        clones = [p for p in install.iterdir() if (p / ".git").exists()]
        self.assertEqual(len(clones), 1, list(install.iterdir()))
        self.assertFalse([p for p in install.iterdir() if ".partial" in p.name])


@needs_slurm
class KilledSweepCsvs(unittest.TestCase):
    def test_kill_9_leaves_the_csvs_consistent_with_the_journal(self):
        ws = SlurmWorkspace(tempdir(self))
        # 9 points; tp=4 with pp=2 or 4 is pruned (16 or 32 GPUs), tp*pp=8 cp=2 too.
        body = ws.mb_case("csv", extra='agent_metrics = ["step-time"]\n'
                          '  [Tests.agent_config]\n  max_in_flight = 1\n',
                          cmd_args="  tp = [4, 1, 2]\n  pp = [4, 2, 1]\n  gb = 64\n",
                          step_sleep="0.2")
        sc = ws.scenario("csv", body)
        proc = subprocess.Popen(ws.command(sc), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=ws.env())
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        results = ws.root / "results"

        def two_finished():
            r = next(results.glob("csv_*"), None)
            if r is None or not (r / "journal.bpj").exists():
                return False
            return len([x for x in journal_lines(r)[0] if x["t"] == "finished"]) >= 2
        wait_for(two_finished, 180, "two finished points")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        root = next(results.glob("csv_*"))
        case = root / "csv" / "0"
        records = journal_lines(root)[0]
        finished = {x["s"] for x in records if x["t"] == "finished"}
        started = {x["s"] for x in records if x["t"] in ("planned", "submitting", "submitted")}
        for name in ("trajectory.csv", "pruned.csv"):
            text = (case / name).read_bytes()
            self.assertTrue(text.endswith(b"\n"), f"{name} ends on a whole line")
        traj_steps = {int(r["step"]) for r in read_csv(case / "trajectory.csv")}
        self.assertTrue(traj_steps <= finished, (traj_steps, finished))
        pruned_before_kill = {int(r["step"]) for r in read_csv(case / "pruned.csv")}

        resumed = subprocess.run([BINARY, "--log-file", "", "resume", str(root)],
                                 capture_output=True, text=True, env=ws.env(), timeout=300)
        self.assertEqual(resumed.returncode, 0, resumed.stdout + resumed.stderr)
        pruned_all = {int(r["step"]) for r in read_csv(case / "pruned.csv")}
        self.assertTrue(pruned_all, "the sweep prunes something")
        # Every point pruned before the last point the journal knows was on disk at the kill.
        must = {p for p in pruned_all if p < max(started)}
        self.assertTrue(must, "some point was pruned before a started one (the test bites)")
        self.assertTrue(must <= pruned_before_kill, (must, pruned_before_kill))
        traj = read_csv(case / "trajectory.csv")
        self.assertEqual(sorted(int(r["step"]) for r in traj),
                         sorted({x["s"] for x in journal_lines(root)[0] if x["t"] == "finished"}))


if __name__ == "__main__":
    unittest.main()
