"""Shared helpers for the end-to-end tests (the Python side of the test kit, see
tests/README.md): run the benchpilot binary, temp dirs, files, results, polling."""
import csv
import json
import os
import pathlib
import py_compile
import subprocess
import tempfile
import time

SOURCE_DIR = pathlib.Path(os.environ.get("BENCHPILOT_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
BINARY = os.environ.get("BENCHPILOT_BINARY", str(SOURCE_DIR / "build" / "benchpilot"))
CONF = SOURCE_DIR / "conf"


def run_bp(*args, env=None, cwd=None, timeout=300, check=False):
    """Runs benchpilot; returns CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    full_env.pop("HF_TOKEN", None)
    if env:
        full_env.update(env)
    proc = subprocess.run([BINARY, "--log-file", "", *map(str, args)], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"benchpilot {args} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def commit_and_tag(repo, tag):
    """Turns a folder into a git repository with one commit, tagged `tag`."""
    git = ["git", "-C", str(repo), "-c", "user.email=e2e@bp", "-c", "user.name=e2e"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "test repository"], check=True)
    subprocess.run(git + ["tag", tag], check=True)
    return repo


def tempdir(test):
    """A fresh directory removed when `test` ends."""
    d = tempfile.TemporaryDirectory(prefix="bp-e2e-")
    test.addCleanup(d.cleanup)
    return pathlib.Path(d.name)


def write_file(path, text):
    """Writes `text` to `path`, creating missing parent folders; returns `path`."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def all_files(root):
    return [p for p in pathlib.Path(root).rglob("*") if p.is_file()]


def scripts_in(root):
    """The shell and Python scripts under root: *.sh, *.py and files starting with a bash or
    Python #! line."""
    found = []
    for f in all_files(root):
        if f.suffix in (".sh", ".py"):
            found.append(f)
            continue
        with open(f, "rb") as fh:
            first = fh.readline(200)
        if first.startswith(b"#!") and (b"bash" in first or b"python" in first):
            found.append(f)
    return found


def check_scripts(test, scripts):
    """bash -n and `shellcheck -S warning` on each shell script, py_compile on each Python one;
    the test fails naming the script and what was found."""
    for script in scripts:
        script = pathlib.Path(script)
        with open(script, "rb") as fh:
            first = fh.readline(200)
        if script.suffix == ".py" or b"python" in first:
            with tempfile.TemporaryDirectory() as d:
                try:
                    py_compile.compile(str(script), cfile=os.path.join(d, "x.pyc"), doraise=True)
                except py_compile.PyCompileError as e:
                    test.fail(f"{script}: {e.msg}")
            continue
        # A command file without a #! line (command.sh) is run by bash.
        shell = [] if first.startswith(b"#!") else ["--shell=bash"]
        for argv in (["bash", "-n"], ["shellcheck", "-S", "warning", *shell]):
            proc = subprocess.run(argv + [str(script)], capture_output=True, text=True,
                                  timeout=120)
            test.assertEqual(proc.returncode, 0, f"{' '.join(argv)} {script}:\n"
                             f"{proc.stdout}{proc.stderr}\n--- the script:\n{script.read_text()}")


def results_root(output_dir):
    roots = sorted(p for p in pathlib.Path(output_dir).iterdir() if p.is_dir())
    assert len(roots) == 1, f"expected one results folder in {output_dir}, got {roots}"
    return roots[0]


def summary(root):
    """A results folder's summary.json."""
    return json.loads((pathlib.Path(root) / "summary.json").read_text())


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def wait_until(predicate, timeout, interval=0.3):
    """Polls `predicate` until it is true or `timeout` seconds passed; returns its last value."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() >= deadline:
            return value
        time.sleep(interval)


def wait_for(predicate, timeout, what, interval=0.2):
    """wait_until, failing the test with `what` when the time runs out."""
    if not wait_until(predicate, timeout, interval):
        raise AssertionError(f"timed out waiting for {what}")
