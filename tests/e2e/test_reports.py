"""Reports people look at: report.html opened in a real browser (headless Chromium), results.xml
read back with xml.etree, training_report.json, and the live progress line on a pseudo-terminal.

The Slurm part runs a small sweep on the local cluster with the Megatron-Bridge EMULATOR (a test
double); the other part builds results folders by hand, hostile names included."""
import fcntl
import json
import os
import pathlib
import pty
import re
import select
import shutil
import struct
import subprocess
import tempfile
import termios
import time
import unittest
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from helpers import BINARY, CONF, run_bp, summary, tempdir, write_file
from slurm_env import SlurmWorkspace, needs_slurm

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = unittest.skipUnless(
    CHROMIUM, "chromium is not installed (scripts/setup-deps.sh installs Debian's chromium)")

HOSTILE = "<script>alert('x')</script>&\"q\""


class Dom(HTMLParser):
    """What the browser built: tables by id with their body rows, SVG charts by id with their
    series and cells, and every element name seen."""

    def __init__(self, text):
        super().__init__()
        self.tags = []
        self.rows = {}     # table id -> [[cell text, ...], ...]
        self.charts = {}   # svg id -> {"class": ..., "series": [...], "cells": n}
        self._table = None
        self._in_body = False
        self._row = None
        self._cell = None
        self._svg = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "table":
            self._table = a.get("id")
            self.rows.setdefault(self._table, [])
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = ""
        elif tag == "svg":
            self._svg = a.get("id")
            self.charts[self._svg] = {"class": a.get("class", ""), "series": [], "cells": 0}
        elif tag == "g" and self._svg:
            if "series" in a.get("class", ""):
                self.charts[self._svg]["series"].append(a.get("data-series"))
            if a.get("class") == "cell":
                self.charts[self._svg]["cells"] += 1

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None
        elif tag == "svg":
            self._svg = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def chromium(page, *args):
    """Runs headless Chromium on a file; returns (stdout, console messages)."""
    with tempfile.TemporaryDirectory(prefix="bp-chromium-") as profile:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}", *args,
             pathlib.Path(page).resolve().as_uri()],
            capture_output=True, text=True, timeout=180)
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc, console


class BrowserChecks:
    """Screenshot, console and DOM checks shared by the tests."""

    def render(self, page, out_dir):
        shot = pathlib.Path(out_dir) / "report.png"
        proc, console = chromium(page, f"--screenshot={shot}", "--window-size=1280,2400",
                                 "--hide-scrollbars")
        self.assertTrue(shot.is_file(), proc.stderr[-3000:])
        self.assertEqual(shot.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(shot.stat().st_size, 20000, "a blank page would be tiny")
        self.assertEqual(console, [], "console messages while rendering the report")
        proc, console = chromium(page, "--dump-dom")
        self.assertEqual(console, [], "console messages while rendering the report")
        self.assertIn("</html>", proc.stdout)
        dom = Dom(proc.stdout)
        # Nothing executable, nothing loaded from anywhere.
        for tag in ("script", "img", "iframe", "link", "object", "embed"):
            self.assertNotIn(tag, dom.tags)
        return dom


def step_lines(n, step_time=2.0):
    out = ""
    for i in range(1, n + 1):
        out += f"Step Time : {step_time + 0.01 * i:.2f}s GPU utilization: 400.{i}MODEL_TFLOP/s/GPU\n"
        out += (f" [2026-11-24 19:46:14] iteration {i:8d}/{n:8d} | consumed samples: {i * 128:12d} | "
                f"elapsed time per iteration (ms): {(step_time + 0.01 * i) * 1000:.1f} | "
                f"learning rate: 1.5E-04 | global batch size:   128 | lm loss: {10 - i * 0.1:.6E} | "
                f"loss scale: 1.0 | grad norm: {1 + 1 / i:.3f} | number of skipped iterations:   0 | "
                f"number of nan iterations:   0 |\n")
    return out


class ReportsFromAFolder(BrowserChecks, unittest.TestCase):
    """generate-report on a hand-made results folder with hostile names and log text."""

    def make_folder(self, root):
        good = root / "llama" / "0"
        write_file(good / "test-run.toml",
              'name = "llama"\nnnodes = 1\ncurrent_iteration = 0\nstep = 0\n'
              '[test_definition]\ntest_template_name = "MegatronBridge"\n'
              '[test_definition.cmd_args]\nnum_gpus = 8\n')
        write_file(good / "launcher.log", step_lines(12))
        write_file(good / "slurm-job.toml", 'state = "COMPLETED"\njob_id = 11\nelapsed_time_sec = 1800\n')
        bad = root / "evil" / "0"
        write_file(bad / "test-run.toml",
              'name = "' + HOSTILE.replace('"', '\\"') + '"\nnnodes = 1\ncurrent_iteration = 0\n'
              'step = 0\n[test_definition]\ntest_template_name = "MegatronBridge"\n')
        write_file(bad / "launcher.log", "Traceback (most recent call last):\n" + HOSTILE + "\n\x1b[31mred\n")
        write_file(bad / "slurm-job.toml", 'state = "FAILED"\njob_id = 12\nelapsed_time_sec = 60\n')

    def generate(self, root, *extra):
        return run_bp("generate-report", "--system-config", CONF / "system" / "example_slurm_cluster.toml",
                      "--tests-dir", CONF / "test" / "h100", "--test-scenario",
                      CONF / "test_scenario" / "megatron_bridge_llama3_8b_sweep.toml",
                      "--result-dir", root, *extra, check=True)

    def test_junit_round_trips_hostile_text_and_goes_where_asked(self):
        root = tempdir(self) / "results"
        self.make_folder(root)
        elsewhere = tempdir(self) / "ci" / "junit.xml"
        self.generate(root, "--junit", elsewhere)
        self.assertFalse((root / "results.xml").exists(), "--junit moves results.xml")
        suites = ET.parse(elsewhere).getroot()
        self.assertEqual(suites.tag, "testsuites")
        self.assertEqual((suites.get("tests"), suites.get("failures")), ("2", "1"))
        cases = suites.findall("testsuite/testcase")
        self.assertEqual(len(cases), 2)
        failed = [c for c in cases if c.find("failure") is not None]
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0].get("name"), HOSTILE + "/0")
        text = failed[0].find("failure").text
        self.assertIn(HOSTILE, text)  # the log tail, exactly, after XML unescaping
        self.assertIn("Traceback", failed[0].find("failure").get("message") + text)
        self.assertEqual(float(failed[0].get("time")), 60.0)

    def test_each_launcher_log_is_read_once_per_command(self):
        # Verdict, metrics, samples, report.txt, training_report.json and the charts all come
        # from one read of the launcher log (the reader logs each read at DEBUG).
        root = tempdir(self) / "results"
        self.make_folder(root)
        rep = run_bp("--log-level", "DEBUG", "generate-report", "--system-config",
                     CONF / "system" / "example_slurm_cluster.toml", "--tests-dir", CONF / "test" / "h100",
                     "--test-scenario", CONF / "test_scenario" / "megatron_bridge_llama3_8b_sweep.toml",
                     "--result-dir", root, check=True)
        idx = run_bp("--log-level", "DEBUG", "index", "--store", tempdir(self) / "bp.db", root, check=True)
        for name, proc in (("generate-report", rep), ("index", idx)):
            reads = re.findall(r"Read launcher log (.*?): \d+ bytes", proc.stdout + proc.stderr)
            self.assertEqual(sorted(reads), sorted([str(root / "evil" / "0" / "launcher.log"),
                                                    str(root / "llama" / "0" / "launcher.log")]),
                             name + ":\n" + proc.stderr[-3000:])

    @needs_chromium
    def test_report_renders_in_chromium_with_hostile_names_escaped(self):
        root = tempdir(self) / "results"
        self.make_folder(root)
        self.generate(root)
        page = root / "report.html"
        html = page.read_text()
        self.assertNotIn("<script>alert", html)
        self.assertTrue((root / "llama" / "0" / "training_report.json").is_file())
        dom = self.render(page, tempdir(self))
        runs = dom.rows["runs-table"]
        self.assertEqual(len(runs), 2)
        by_run = {r[0]: r for r in runs}
        self.assertIn(HOSTILE + "/0", by_run, "the hostile name shows as text")
        self.assertEqual(by_run[HOSTILE + "/0"][2], "FAILED")
        self.assertIn(HOSTILE, by_run[HOSTILE + "/0"][-2], "the reason (log tail) shows as text")
        self.assertEqual(by_run["llama/0"][2], "PASSED")
        chart = dom.charts["steps-runs-step-time"]
        self.assertEqual(chart["series"], ["llama/0"])
        self.assertIn("line-chart", chart["class"])
        self.assertIn("gpu-hours-chart", dom.charts)

    @needs_chromium
    def test_report_shows_the_frozen_prediction_beside_what_the_run_measured(self):
        root = tempdir(self) / "results"
        self.make_folder(root)
        good = root / "llama" / "0"
        write_file(good / "launcher.log", step_lines(12) +
                   "[Rank 0] (after 2 iterations) memory (GB) | mem-allocated-gigabytes: 41.377 | "
                   "mem-reserved-gigabytes: 61.843 | mem-max-allocated-gigabytes: 55.902 | "
                   "mem-max-reserved-gigabytes: 61.843 | mem-alloc-retires: 0\n")
        # Raw 1.7 s x 1.25 calibrated = 2.125 s; 50 GiB per GPU.
        write_file(good / "estimate.toml",
                   'estimator_version = "megatron_bridge/2"\nstep_time_factor = 1.25\n'
                   "step_time_s = 1.7\n[memory_gib]\nweights = 10.0\ngradients = 5.0\n"
                   "optimizer = 20.0\nactivations = 13.0\nother = 2.0\ntotal = 50.0\n")
        self.generate(root)
        dom = self.render(root / "report.html", tempdir(self))
        by_run = {r[0]: r for r in dom.rows["runs-table"]}
        # Measured: the mean of the last 10 step times, 2.075 s: 2.4 % faster than predicted;
        # the allocator's peaks in GiB (10^9-byte gigabytes in the log).
        self.assertEqual(by_run["llama/0"][-7:-2], ["2.125", "-2.4%", "50.0", "52.1", "57.6"])
        self.assertEqual(by_run[HOSTILE + "/0"][-7:-2], ["-"] * 5, "no estimate.toml: dashes")
        lines = (root / "summary.txt").read_text().splitlines()
        self.assertIn("predicted step (s)", lines[0])
        self.assertIn("2.125", next(line for line in lines if line.startswith("llama/0")))
        runs = {r["case"]: r for r in summary(root)["runs"]}
        self.assertAlmostEqual(runs["llama"]["prediction"]["measured"]["step_time_error"],
                               2.075 / 2.125 - 1, places=9)
        self.assertNotIn("prediction", runs[HOSTILE])

    def test_dry_run_quiet_prints_no_plan_and_no_info(self):
        out = tempdir(self)
        proc = run_bp("dry-run", "--quiet", "--system-config", CONF / "system" / "example_slurm_cluster.toml",
                      "--tests-dir", CONF / "test" / "h100", "--test-scenario",
                      CONF / "test_scenario" / "megatron_bridge_llama3_8b_sweep.toml",
                      "--output-dir", out, env={"HF_TOKEN": "hf_quietTOKEN123"}, check=True)
        self.assertNotIn("GPU-hours", proc.stdout)
        self.assertNotIn("[INFO]", proc.stderr)
        self.assertIn("Results:", proc.stdout)
        root = next(out.iterdir())
        self.assertTrue((root / "report.html").is_file())
        suites = ET.parse(root / "results.xml").getroot()
        self.assertEqual(suites.get("skipped"), suites.get("tests"), "dry-run points are skipped")


def run_in_pty(cmd, env, timeout):
    """Runs cmd with stdout and stderr on a pseudo-terminal; returns (exit code, output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(cmd[0], cmd, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if fd in ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            out += data
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@needs_slurm
class ReportsOfARealSweep(BrowserChecks, unittest.TestCase):
    """One sweep on the local cluster: 8 points, 4 pruned (pp=3 does not divide 32 layers),
    4 run, 2 of them crash at iteration 2. Run on a pseudo-terminal."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="bp-e2e-reports-")
        cls.ws = SlurmWorkspace(pathlib.Path(cls.tmp.name))
        body = cls.ws.mb_case("sweep", extra='agent_metrics = ["step-time"]\n',
                              cmd_args="  tp = [1, 2]\n  pp = [1, 3]\n",
                              env_vars='  MBRIDGE_EMULATOR_FAULT = ["none", "crash@2"]\n',
                              step_sleep="0.4")  # ~3 s jobs: the poller sees them running
        scenario = cls.ws.scenario("reports", body)
        env = cls.ws.env()
        env["TERM"] = "xterm"
        cls.rc, cls.out = run_in_pty(cls.ws.command(scenario), env, timeout=400)
        cls.root = cls.ws.results("reports")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_live_progress_line_on_a_terminal(self):
        # Failed sweep points do not fail the run (the sweep ran); the report says which failed.
        self.assertEqual(self.rc, 0, self.out[-3000:])
        lines = re.findall(r"\r\x1b\[K(done [^\r\n\x1b]*)", self.out)
        self.assertTrue(lines, self.out[-3000:])
        self.assertTrue(any(re.search(r"running [1-9]", l) for l in lines), lines)
        self.assertTrue(any("ETA" in l for l in lines), lines)
        self.assertIn("done 4/4 | running 0 | queued 0 | pruned 4 | failed 2", lines[-1])
        self.assertTrue(any(re.search(r"best sweep/0/\d+ step time \(s\) [0-9.]+", l) for l in lines), lines)
        # Log lines never end up glued to the status line.
        self.assertIsNone(re.search(r"\| elapsed [0-9:]+[^\r\n]*\[(INFO|WARNING|ERROR)\]", self.out))
        self.assertNotIn("progress: done", self.out, "plain lines are for pipes, not terminals")

    def test_results_xml(self):
        suites = ET.parse(self.root / "results.xml").getroot()
        self.assertEqual((suites.get("tests"), suites.get("failures"), suites.get("skipped")),
                         ("8", "2", "4"))
        cases = suites.findall("testsuite/testcase")
        failures = [c for c in cases if c.find("failure") is not None]
        self.assertEqual(len(failures), 2)
        for c in failures:
            self.assertIn("crash@2", c.get("name"))
            self.assertIn("injected crash at iteration 2", c.find("failure").text)
        skipped = [c.find("skipped").get("message") for c in cases if c.find("skipped") is not None]
        self.assertEqual(len(skipped), 4)
        # pp=3 breaks M4 (32 layers), and more rules with the test's cp=2.
        self.assertTrue(all(m.startswith("pruned by ") and "M4" in m for m in skipped), skipped)

    def test_run_reads_each_launcher_log_once(self):
        # At each job's end the verdict, metrics, samples and reports share one read of its
        # launcher log (the reader logs each read at DEBUG into debug.log).
        text = (self.ws.root / "debug.log").read_text(errors="replace")
        reads = re.findall(r"Read launcher log (.*?): \d+ bytes", text)
        runs = [str(self.root / r["run_dir"] / "launcher.log") for r in summary(self.root)["runs"]]
        self.assertEqual(len(runs), 4)
        self.assertEqual(sorted(reads), sorted(runs), text[-3000:])

    def test_training_report_per_run(self):
        runs = summary(self.root)["runs"]
        self.assertEqual(len(runs), 4)
        for r in runs:
            report = json.loads((self.root / r["run_dir"] / "training_report.json").read_text())
            self.assertEqual(list(report), ["config", "steps", "aggregation"])
            cfg = report["config"]
            self.assertEqual(cfg["tensor_parallel_size"], r["parameters"]["tp"])
            self.assertEqual(cfg["num_layers"], 32)
            self.assertEqual(cfg["world_size"], 8)
            model_parallel = (cfg["tensor_parallel_size"] * cfg["pipeline_parallel_size"] *
                              cfg["context_parallel_size"])
            self.assertEqual(cfg["data_parallel_size"], 8 // model_parallel)
            self.assertEqual(cfg["context_parallel_size"], 2)  # the test TOML's cp
            steps = report["steps"]
            if r["status"] == "PASSED":
                self.assertEqual([s["iteration"] for s in steps], list(range(1, 7)))
                agg = report["aggregation"]["step_time_sec"]
                kept = [s["step_time_sec"] for s in steps[5:]]  # exclude_start_steps = 5
                self.assertAlmostEqual(agg["mean"], sum(kept) / len(kept))
                self.assertGreater(report["aggregation"]["memory_reserved_bytes"]["mean"], 1e9)
                self.assertIsNotNone(steps[0]["loss"])
                self.assertIsNotNone(steps[0]["grad_norm"])
            else:  # crashed at iteration 2: one step, nothing left after the warm-up
                self.assertEqual([s["iteration"] for s in steps], [1])
                self.assertIsNone(report["aggregation"])

    @needs_chromium
    def test_report_html_in_chromium(self):
        dom = self.render(self.root / "report.html", tempdir(self))
        board = dom.rows["leaderboard-1"]
        self.assertEqual(len(board), 4)
        self.assertEqual([r[-1] for r in board], ["PASSED", "PASSED", "FAILED", "FAILED"],
                         "failures rank last by reward")
        self.assertEqual(len(dom.rows["runs-table"]), 4)
        pruned = {r[0]: r for r in dom.rows["pruned-1"]}
        self.assertEqual(pruned["M4"][2], "4")  # all four pp=3 points
        self.assertIn("pp=3", pruned["M4"][3])
        heat = dom.charts["heatmap-1-step-time"]
        self.assertEqual(heat["cells"], 4, "tp x pp = 2 x 2 cells, pp=3 grey")
        steps = dom.charts["steps-1-step-time"]
        self.assertEqual(len(steps["series"]), 2)
        self.assertTrue(steps["series"][0].startswith("best: sweep/0/"), steps)
        self.assertTrue(steps["series"][1].startswith("worst: sweep/0/"), steps)
        self.assertIn("steps-1-tflops-per-gpu", dom.charts)
        self.assertIn("gpu-hours-chart", dom.charts)


@needs_slurm
class ProgressInCi(unittest.TestCase):
    def test_plain_progress_lines_when_stdout_is_a_pipe(self):
        ws = SlurmWorkspace(tempdir(self))
        proc = ws.run(ws.scenario("piped", ws.mb_case("one")))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("progress: done 1/1 | running 0 | queued 0 | pruned 0 | failed 0",
                      proc.stdout)
        self.assertNotIn("\x1b[K", proc.stdout)


if __name__ == "__main__":
    unittest.main()
