"""Hostile input: the bad-input corpus (tests/corpus) and generated scripts fed hostile values.

Corpus: every folder under tests/corpus (but _base) is one case: `args` (the command line),
`expect` ("exit N", "has: text", "lacks: text" lines), optional `env` (K=V; an empty V unsets
K), `setup.sh` (run in the work folder first) and `files/` (copied over tests/corpus/_base).
Each case runs in a fresh work folder under resource limits and must end with the expected exit
code and text, within 1 s and 100 MB (looser under sanitizers, where BENCHPILOT_SANITIZED=1),
without creating a file named `pwned` anywhere, and, when it fails, without writing results.
"""
import json
import os
import pathlib
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from helpers import BINARY, SOURCE_DIR, tempdir  # noqa: E402

CORPUS = SOURCE_DIR / "tests" / "corpus"
SANITIZED = os.environ.get("BENCHPILOT_SANITIZED") == "1"
MAX_SECONDS = 10.0 if SANITIZED else 1.0
MAX_RSS_MB = 100
HANG_SECONDS = 20


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


def load_case(case_dir):
    expect = {"exit": None, "has": [], "lacks": []}
    for line in (case_dir / "expect").read_text().splitlines():
        if line.startswith("exit "):
            expect["exit"] = int(line[5:])
        elif line.startswith("has: "):
            expect["has"].append(line[5:])
        elif line.startswith("lacks: "):
            expect["lacks"].append(line[7:])
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
        pwned = [str(p) for p in work.rglob("pwned*")]
        self.assertEqual(pwned, [], f"a hostile value executed\n{where}")
        if rc != 0 and args and args[0] in ("run", "dry-run"):
            results = work / "results"
            written = [str(p) for p in results.rglob("*")] if results.exists() else []
            self.assertEqual(written, [], f"failed but wrote results\n{where}")
        for summary in work.rglob("summary.json"):
            json.loads(summary.read_text(encoding="utf-8"))  # valid JSON, valid UTF-8

    def test_corpus_is_large_enough(self):
        self.assertGreaterEqual(len(CASES), 100)


CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir() and p.name != "_base")
for _case in CASES:
    setattr(CorpusTest, f"test_{_case.name}", lambda self, c=_case: self.run_case(c))


if __name__ == "__main__":
    unittest.main()
