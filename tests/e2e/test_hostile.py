"""Hostile input: the bad-input corpus (tests/corpus) and generated scripts fed hostile values.

Corpus: every folder under tests/corpus (but _base) is one case: `args` (the command line),
`expect` ("exit N", "has: text", "lacks: text" lines; "runs: <file name>" runs each generated
file of that name under bash with failing stand-ins for Slurm's commands, and "argv: <word>"
says one of them received that exact word), optional `env` (K=V; an empty V unsets K),
`setup.sh` (run in the work folder first) and `files/` (copied over tests/corpus/_base).
Each case runs in a fresh work folder under resource limits and must end with the expected exit
code and text, within 1 s and 100 MB (looser under sanitizers, where BENCHPILOT_SANITIZED=1),
without creating a file named `pwned` anywhere (nor do the scripts it runs), and, when it fails,
without writing results (but for exit 74: the runs were done and kept, an output file named on the
command line was not written). After every case /dev/null and /dev/full are still character
devices.
"""
import json
import os
import pathlib
import re
import resource
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from helpers import BINARY, SOURCE_DIR, check_scripts, scripts_in, tempdir  # noqa: E402

CORPUS = SOURCE_DIR / "tests" / "corpus"
SANITIZED = os.environ.get("BENCHPILOT_SANITIZED") == "1"
MAX_SECONDS = 10.0 if SANITIZED else 1.0
MAX_RSS_MB = 100
HANG_SECONDS = 20
EXIT_OUTPUT_FAILED = 74  # util/error.h kExitOutputFailed


def limit_resources():
    # A backstop against runaway memory (a /dev/zero config grew to 21 GB): ASan reserves far
    # more address space than it uses, so it only applies to plain builds.
    if not SANITIZED:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.setsid()


def run_limited(argv, cwd, env):
    """Runs argv; returns (exit code, output, seconds, max RSS in MB). Kills it on a hang."""
    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=limit_resources)
        deadline = start + HANG_SECONDS
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        return proc.returncode, text, seconds, usage.ru_maxrss / 1024.0


def markers(root):
    """Files a hostile value's `touch .../pwned-<tag>` created. Folders named after hostile
    paths (which may hold "pwned" in their names) are data, not markers."""
    return [p for p in pathlib.Path(root).rglob("pwned*")
            if p.is_file() and re.fullmatch(r"pwned(-[a-z-]+\d?)?", p.name)]


# Stand-ins for Slurm's commands while a generated script runs: each records its name and
# arguments (one per line, then "--") and fails; scontrol names two nodes so that per-node loops
# run their srun lines.
SLURM_STAND_IN = """#!/bin/sh
{ basename "$0"; printf '%s\\n' "$@" --; } >>"$STAND_IN_LOG"
[ "$(basename "$0")" = scontrol ] && printf 'n1\\nn2\\n' && exit 0
exit 1
"""


def load_case(case_dir):
    expect = {"exit": None, "has": [], "lacks": [], "runs": [], "argv": []}
    for line in (case_dir / "expect").read_text().splitlines():
        key, sep, value = line.partition(": ")
        if line.startswith("exit "):
            expect["exit"] = int(line[5:])
        elif sep and key in expect:
            expect[key].append(value)
    env = {}
    if (case_dir / "env").exists():
        for line in (case_dir / "env").read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = value
    return shlex.split((case_dir / "args").read_text()), expect, env


class CorpusTest(unittest.TestCase):
    """One test method per corpus folder (added below), so failures name the case."""

    def run_case(self, case_dir):
        args, expect, extra_env = load_case(case_dir)
        work = tempdir(self) / "work"
        shutil.copytree(CORPUS / "_base", work)
        if (case_dir / "files").exists():
            shutil.copytree(case_dir / "files", work, dirs_exist_ok=True)
        if (case_dir / "setup.sh").exists():
            subprocess.run(["bash", str(case_dir / "setup.sh")], cwd=work, check=True)
        env = {k: v for k, v in os.environ.items()
               if k not in ("HF_TOKEN", "BENCHPILOT_SYSTEM_CONFIG", "CLOUDAI_SYSTEM_CONFIG")}
        for k, v in extra_env.items():
            if v:
                env[k] = v
            else:
                env.pop(k, None)
        rc, out, seconds, rss = run_limited([BINARY, "--log-file", "", *args], work, env)
        where = f"{case_dir.name}: benchpilot {shlex.join(args)}\n{out}"
        self.assertNotIn(rc, (-signal.SIGKILL,), f"hung or was killed\n{where}")
        self.assertGreaterEqual(rc, 0, f"crashed with signal {-rc}\n{where}")
        self.assertEqual(rc, expect["exit"], where)
        for text in expect["has"]:
            self.assertIn(text, out, where)
        for text in expect["lacks"]:
            self.assertNotIn(text, out, where)
        self.assertLessEqual(seconds, MAX_SECONDS, f"took {seconds:.2f} s\n{where}")
        if not SANITIZED:
            self.assertLessEqual(rss, MAX_RSS_MB, f"used {rss:.0f} MB\n{where}")
        pwned = [str(p) for p in markers(work)]
        self.assertEqual(pwned, [], f"a hostile value executed\n{where}")
        for dev in ("/dev/null", "/dev/full"):
            self.assertTrue(stat.S_ISCHR(os.lstat(dev).st_mode), f"{dev} was replaced\n{where}")
        if rc not in (0, EXIT_OUTPUT_FAILED) and args and args[0] in ("run", "dry-run"):
            results = work / "results"
            written = [str(p) for p in results.rglob("*")] if results.exists() else []
            self.assertEqual(written, [], f"failed but wrote results\n{where}")
        for summary in work.rglob("summary.json"):
            json.loads(summary.read_text(encoding="utf-8"))  # valid JSON, valid UTF-8
        if rc == 0 and args and args[0] == "dry-run":
            check_scripts(self, scripts_in(work))
        if expect["runs"]:
            self.run_generated(work, expect, where)

    def run_generated(self, work, expect, where):
        """Runs the generated scripts the case names under bash, Slurm's commands failing."""
        stand_ins = work.parent / "slurm-stand-ins"
        stand_ins.mkdir()
        for name in ("scontrol", "srun", "sbatch", "squeue", "scancel", "sacct"):
            (stand_ins / name).write_text(SLURM_STAND_IN)
            (stand_ins / name).chmod(0o755)
        log = work.parent / "stand-in-calls.txt"
        env = dict(os.environ, PATH=f"{stand_ins}:{os.environ['PATH']}", STAND_IN_LOG=str(log))
        for name in expect["runs"]:
            scripts = list(work.rglob(name))
            self.assertTrue(scripts, f"no {name} was generated\n{where}")
            for script in scripts:
                proc = subprocess.run(["bash", str(script)], cwd=work, env=env,
                                      capture_output=True, text=True, timeout=60)
                text = script.read_text()
                self.assertEqual(markers(work), [], f"{script} executed a hostile value\n{text}")
                self.assertNotEqual(proc.returncode, 0, f"{script} passed with srun failing")
        calls = log.read_text() if log.exists() else ""
        self.assertIn("srun\n", calls, "the scripts ran no srun line")
        for word in expect["argv"]:
            self.assertIn("\n" + word + "\n", calls, f"no command received {word!r}\n{calls}")

    def test_corpus_is_large_enough(self):
        self.assertGreaterEqual(len(CASES), 100)


CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir() and p.name != "_base")
for _case in CASES:
    setattr(CorpusTest, f"test_{_case.name}", lambda self, c=_case: self.run_case(c))


if __name__ == "__main__":
    unittest.main()


FAKE_LAUNCHER = """#!/usr/bin/env python3
# Test double for the Python that runs the Megatron-Bridge launcher. The wrapper calls it as
# `python mbridge-launch.py launch -hf=HF_TOKEN -- setup_experiment.py ARGS` (the helper appends
# the secret flags from the environment inside the launcher's process), and for `relay`/`scrub`.
# It records what the launcher would receive (one JSON list) and reports a submission.
import json, os, sys
args = sys.argv[1:]
if len(args) > 1 and args[1] == "launch":
    sep = args.index("--")
    words = args[sep + 2:]
    for spec in args[2:sep]:
        flag, var = spec.split("=", 1)
        words += [flag, os.environ[var]]
    with open(os.path.join(os.environ["NEMORUN_HOME"], "launcher-argv.json"), "w") as f:
        json.dump(words, f)
    print("Submitted batch job 4242", flush=True)
else:  # the helper's relay and scrub: the real thing
    os.execvp("python3", ["python3"] + args)
"""


class GeneratedScriptTest(unittest.TestCase):
    """The Megatron-Bridge wrapper and command.sh from a dry-run, run for real with every
    user-controlled string set to a value that creates a marker file if a shell evaluates it."""

    def hostile(self, tag):
        m = str(self.work / f"pwned-{tag}")
        return f"x$(touch {m}1)`touch {m}2`;touch {m}3;'\"$(touch {m}4)\"'"

    def toml_str(self, s):
        return json.dumps(s)  # a JSON string is a valid TOML basic string

    def test_megatron_bridge_wrapper_runs_nothing_it_was_given(self):
        self.work = tempdir(self) / "w$(touch pwned-path)"
        self.work.mkdir()
        launcher = self.work / "fake-python"
        launcher.write_text(FAKE_LAUNCHER)
        launcher.chmod(0o755)
        q = self.toml_str
        string_fields = [
            "gpu_type", "log_dir", "container_image", "domain", "task", "compute_dtype",
            "nemo_home", "wandb_project_name", "wandb_entity_name", "wandb_experiment_name",
            "wandb_save_dir", "pretrained_checkpoint", "save_dir", "load_dir",
            "save_config_filepath", "data", "dataset_root", "index_mapping_dir", "dataset_name",
            "tokenizer_type", "tokenizer_model", "config_variant", "recompute_modules",
            "cuda_graph_scope", "nsys_trace", "nsys_extra_args", "fp8_recipe",
        ]
        cmd_args = "".join(f"{f} = {q(self.hostile(f))}\n" for f in string_fields)
        (self.work / "system.toml").write_text(
            'name = "hostile"\nscheduler = "slurm"\n'
            f'install_path = {q(str(self.work / ("inst" + self.hostile("install"))))}\n'
            f'output_path = {q(str(self.work / ("out" + self.hostile("output"))))}\n'
            'default_partition = "p1"\ngpus_per_node = 8\nsupports_gpu_directives = true\n'
            f'launcher_python = {q(str(launcher))}\n'
            f'account = {q(self.hostile("account"))}\n'
            f'extra_srun_args = {q("--comment=" + shlex.quote(self.hostile("sys-srun")))}\n'
            '[[partitions]]\nname = "p1"\n'
            f'[global_env_vars]\nGLOBAL_X = {q(self.hostile("global-env"))}\n')
        (self.work / "tests").mkdir()
        (self.work / "tests" / "mb.toml").write_text(
            'name = "mb"\ndescription = "d"\ntest_template_name = "MegatronBridge"\n'
            f'extra_container_mounts = [{q("/a:/b" + self.hostile("mount"))}]\n'
            '[[git_repos]]\nurl = "https://github.com/NVIDIA-NeMo/Megatron-Bridge.git"\n'
            'commit = "v0.3.0"\n'
            f'mount_as = {q("/opt/Megatron-Bridge" + self.hostile("mount-as"))}\n'
            '[cmd_args]\nmodel_family_name = "llama"\nmodel_recipe_name = "custom_recipe"\n'
            'num_gpus = 8\n' + cmd_args +
            f'[extra_env_vars]\nENV_X = {q(self.hostile("env"))}\n'
            f'[extra_cmd_args]\n{q("k" + self.hostile("hydra-key"))} = {q(self.hostile("hydra"))}\n')
        (self.work / "scenario.toml").write_text(
            'name = "hostile"\n[[Tests]]\nid = "m1"\ntest_name = "mb"\ntime_limit = "00:10:00"\n'
            f'extra_srun_args = {q("--comment=" + shlex.quote(self.hostile("case-srun")))}\n')
        env = dict(os.environ, HF_TOKEN=self.hostile("token"))
        argv = [BINARY, "--log-file", "", "dry-run", "--system-config", "system.toml",
                "--tests-dir", "tests", "--test-scenario", "scenario.toml"]
        proc = subprocess.run(argv, cwd=self.work, env=env, capture_output=True, text=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(markers(self.work.parent), [], "dry-run executed a hostile value")
        commands = list(self.work.rglob("command.sh"))
        self.assertEqual(len(commands), 1, proc.stderr)
        run = subprocess.run(["bash", str(commands[0])], cwd=self.work, env=env,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("Submitted batch job 4242", run.stdout)
        pwned = [str(p.relative_to(self.work.parent)) for p in markers(self.work.parent)]
        self.assertEqual(pwned, [], "a hostile value was executed by a generated script\n" +
                         commands[0].read_text() + "\n" +
                         next(self.work.rglob("mbridge-launcher.sh")).read_text())
        words = json.loads(next(self.work.rglob("launcher-argv.json")).read_text())
        text = "\n".join(words)
        # The values arrive as data, whole (the launcher decides what they mean).
        for field in ("gpu_type", "log_dir", "nemo_home", "wandb_project_name", "save_dir",
                      "data", "dataset_name", "config_variant", "tokenizer_model",
                      "nsys_extra_args"):
            self.assertIn(self.hostile(field), words, field)
        self.assertIn(self.hostile("token"), words)  # -hf "$HF_TOKEN", as one word
        self.assertIn(self.hostile("account"), words)
        self.assertIn("export ENV_X=" + self.hostile("env"), words)
        # extra_srun_args split into words, then into --additional_slurm_params, as text, whole
        # (a word the conversion would drop is refused: sec_gate_srun_args_lose_a_word).
        params = words[words.index("--additional_slurm_params") + 1]
        self.assertIn("comment=" + self.hostile("sys-srun"), params)
        self.assertIn("comment=" + self.hostile("case-srun"), params)
