"""Fixtures for end-to-end runs on the real local Slurm cluster with the Megatron-Bridge
emulator (a test double: GPUs and the real Megatron-Bridge cannot run here)."""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import unittest

from helpers import BINARY, CONF, SOURCE_DIR, commit_and_tag

TOKEN = "hf_e2eSLURMsecret987"


def slurm_conf():
    conf = os.environ.get("BENCHPILOT_TEST_SLURM_CONF", "")
    return conf if conf and pathlib.Path(conf).is_file() else ""


def cluster_setting(name, default=""):
    """A LOCAL_SLURM_<name> value start.sh wrote to <cluster dir>/env.sh."""
    env_sh = pathlib.Path(slurm_conf()).parent.parent / "env.sh"
    if slurm_conf() and env_sh.is_file():
        for line in env_sh.read_text().splitlines():
            if line.startswith(f"export LOCAL_SLURM_{name}="):
                return line.split("=", 1)[1]
    return default


def cluster_enforces_memory():
    """start.sh records --cgroup as LOCAL_SLURM_CGROUP=1."""
    return cluster_setting("CGROUP") == "1"


def node(i):
    """The name of the local cluster's node i: each cluster has its own node names
    (start.sh --node-prefix), so two clusters on one machine do not share cgroups."""
    return f"{cluster_setting('NODE_PREFIX', 'node')}{i}"


def nodes(first, last):
    """A Slurm host list of the local cluster's nodes first..last."""
    return f"{cluster_setting('NODE_PREFIX', 'node')}[{first}-{last}]"


def needs_slurm(cls):
    if not slurm_conf():
        return unittest.skip("no local Slurm cluster: BENCHPILOT_TEST_SLURM_CONF is not set "
                             "(ctest starts one through the slurm fixture)")(cls)
    return cls


def make_emulator_repo(dest, version="0.3.0"):
    """The emulator laid out as Megatron-Bridge `version` (tools/mbridge-emulator/make_tree.py),
    in a git repo tagged v<version>-emulated."""
    if dest.exists():
        shutil.rmtree(dest)
    subprocess.run([sys.executable, str(SOURCE_DIR / "tools" / "mbridge-emulator" / "make_tree.py"),
                    "--version", version, str(dest)], check=True, capture_output=True)
    return commit_and_tag(dest, f"v{version}-emulated")


class SlurmWorkspace:
    """A system TOML for the local cluster, an emulator repo and helpers to run scenarios."""

    def __init__(self, root, version="0.3.0"):
        self.root = pathlib.Path(root)
        self.tag = f"v{version}-emulated"
        self.repo = make_emulator_repo(self.root / "Megatron-Bridge", version)
        self.image = self.root / "nemo.sqsh"
        self.image.write_text("stand-in image\n")
        self.system = self.root / "system.toml"
        self.system.write_text(f'''
name = "local-slurm"
scheduler = "slurm"
install_path = "{self.root / 'install'}"
output_path = "{self.root / 'results'}"
default_partition = "main"
mpi = "none"
gpus_per_node = 8
monitor_interval = 1
launcher_python = "{sys.executable}"

[[partitions]]
name = "main"
  [[partitions.groups]]
  name = "all"
  nodes = ["{nodes(1, 4)}"]
''')

    def env(self):
        e = dict(os.environ)
        e["SLURM_CONF"] = slurm_conf()
        e["HF_TOKEN"] = TOKEN
        e["MBRIDGE_EMULATOR_STEP_SLEEP"] = "0.02"
        return e

    def mb_case(self, case_id, cmd_args="", extra="", env_vars="", step_sleep="0.02"):
        """A [[Tests]] entry on the conf llama3_8b H100 test, pointed at the emulator."""
        return f'''
[[Tests]]
id = "{case_id}"
test_name = "megatron_bridge_llama3_8b_h100"
num_nodes = 1
time_limit = "00:05:00"
{extra}
  [Tests.cmd_args]
  container_image = "{self.image}"
  num_gpus = 8
  max_steps = 6
{cmd_args}
  [Tests.extra_env_vars]
  MBRIDGE_EMULATOR_STEP_SLEEP = "{step_sleep}"
{env_vars}
  [[Tests.git_repos]]
  url = "file://{self.repo}"
  commit = "{self.tag}"
  mount_as = "/opt/Megatron-Bridge"
'''

    def scenario(self, name, body):
        path = self.root / f"{name}.toml"
        path.write_text(f'name = "{name}"\n' + body)
        return path

    def command(self, scenario, tests_dir=CONF / "test" / "h100"):
        return [BINARY, "--log-file", str(self.root / "debug.log"), "run", "--system-config",
                str(self.system), "--tests-dir", str(tests_dir), "--test-scenario", str(scenario)]

    def run(self, scenario, tests_dir=CONF / "test" / "h100", timeout=400):
        return subprocess.run(self.command(scenario, tests_dir), capture_output=True, text=True,
                              env=self.env(), timeout=timeout)

    def results(self, name):
        roots = sorted((self.root / "results").glob(f"{name}_*"))
        assert roots, f"no results for {name}"
        return roots[-1]


def submitted_job_ids(root, pattern):
    """The job ids the submit.stdout files under `root` matching `pattern` (a glob) announce, in
    file order."""
    return [job for f in sorted(pathlib.Path(root).glob(pattern))
            for job in re.findall(r"Submitted batch job (\d+)", f.read_text())]


def squeue_ids():
    out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True,
                         env={**os.environ, "SLURM_CONF": slurm_conf()})
    return set(out.stdout.split())
