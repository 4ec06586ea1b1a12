"""Shared helpers for the end-to-end tests: run the benchpilot binary, make temp configs."""
import os
import pathlib
import subprocess
import tempfile

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
    d = tempfile.TemporaryDirectory(prefix="bp-e2e-")
    test.addCleanup(d.cleanup)
    return pathlib.Path(d.name)


def all_files(root):
    return [p for p in pathlib.Path(root).rglob("*") if p.is_file()]


def results_root(output_dir):
    roots = sorted(p for p in pathlib.Path(output_dir).iterdir() if p.is_dir())
    assert len(roots) == 1, f"expected one results folder in {output_dir}, got {roots}"
    return roots[0]
