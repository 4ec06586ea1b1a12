"""End-to-end checks of the CLI without a scheduler: verify-configs, dry-run, secrets."""
import os
import pathlib
import shutil
import unittest

from helpers import CONF, SOURCE_DIR, all_files, commit_and_tag, results_root, run_bp, summary, tempdir

TOKEN = "hf_e2eSECRETtoken123"


class VerifyConfigs(unittest.TestCase):
    def test_shipped_configs_pass(self):
        proc = run_bp("verify-configs", CONF)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertRegex(proc.stdout, r"\d+ passed, 0 unsupported, 0 failed")

    def test_cloudai_conf_has_no_errors(self):
        """CloudAI's own conf/ (pinned copy): tests sharing a name in sibling folders are no
        duplicates, and files for workloads or schedulers benchpilot lacks are counted apart."""
        conf = SOURCE_DIR / "tests" / "data" / "cloudai_conf"
        proc = run_bp("verify-configs", conf)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("verified 119 files: 39 passed, 80 unsupported, 0 failed", proc.stdout)
        self.assertNotIn("duplicate test name", proc.stdout)
        self.assertIn(f"SKIP {conf}/common/test/nemo_run_llama3_8b.toml: unsupported workload NeMoRun: "
                      "not an error in the file", proc.stdout)
        self.assertIn(f"OK   {conf}/hook/test/nccl_test_all_gather.toml (test)", proc.stdout)
        strict = run_bp("verify-configs", "--strict", conf)
        self.assertEqual(strict.returncode, 1, strict.stdout + strict.stderr)
        # One tests folder at a time, as CloudAI's --tests-dir.
        common = run_bp("verify-configs", conf / "common", "--tests-dir", conf / "common" / "test")
        self.assertEqual(common.returncode, 0, common.stdout + common.stderr)
        self.assertRegex(common.stdout, r"\d+ passed, \d+ unsupported, 0 failed")

    def test_broken_file_fails_with_file_line_and_key(self):
        d = tempdir(self)
        (d / "bad_test.toml").write_text(
            'name = "x"\ndescription = "d"\ntest_template_name = "Sleep"\n'
            '[cmd_args]\nseconds = "five"\n')
        (d / "typo_system.toml").write_text(
            'name = "s"\nscheduler = "standalone"\ninstall_path = "i"\noutput_path = "o"\n'
            'monitor_intervall = 3\n')
        proc = run_bp("verify-configs", d)
        self.assertNotEqual(proc.returncode, 0)
        out = proc.stdout + proc.stderr
        self.assertIn("bad_test.toml:5", out)
        self.assertIn("cmd_args.seconds", out)
        self.assertIn("typo_system.toml:5", out)
        self.assertIn("monitor_intervall", out)


class DryRun(unittest.TestCase):
    def dry_run(self, scenario, out, tests="h100", system="example_slurm_cluster.toml", env=None):
        return run_bp("dry-run", "--system-config", CONF / "system" / system,
                      "--tests-dir", CONF / "test" / tests, "--test-scenario",
                      CONF / "test_scenario" / scenario, "--output-dir", out, env=env)

    def test_missing_hf_token_stops_before_anything_is_written(self):
        out = tempdir(self) / "results"
        proc = self.dry_run("megatron_bridge_qwen_30b.toml", out)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("HF_TOKEN", proc.stdout + proc.stderr)
        self.assertFalse(out.exists() and any(out.iterdir()), "nothing may be written")

    def test_single_run_generates_wrapper_without_the_token(self):
        out = tempdir(self) / "results"
        proc = self.dry_run("megatron_bridge_qwen_30b.toml", out, env={"HF_TOKEN": TOKEN})
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = results_root(out)
        self.assertTrue(root.name.startswith("megatron_bridge_qwen_30b_"))
        run_dir = root / "megatron_bridge_qwen_30b" / "0"
        for name in ("mbridge-launcher.sh", "command.sh", "test-run.toml"):
            self.assertTrue((run_dir / name).is_file(), name)
        wrapper = (run_dir / "mbridge-launcher.sh").read_text()
        self.assertIn("setup_experiment.py", wrapper)
        self.assertIn("-mr qwen3_30b_a3b", wrapper)
        self.assertIn("--detach false", wrapper)
        self.assertIn('launch -hf=HF_TOKEN -- ', wrapper)  # named, never expanded on a command line
        for f in all_files(out):
            self.assertNotIn(TOKEN, f.read_text(errors="replace"), f"token leaked into {f}")
        self.assertIn("megatron_bridge_qwen_30b", proc.stdout)  # the table of what would run

    def test_sweep_creates_only_valid_step_dirs_and_pruned_csv(self):
        out = tempdir(self) / "results"
        proc = self.dry_run("megatron_bridge_llama3_8b_sweep.toml", out, env={"HF_TOKEN": TOKEN})
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        case_dir = results_root(out) / "llama3_8b_sweep" / "0"
        pruned = (case_dir / "pruned.csv").read_text().splitlines()
        pruned_steps = {int(line.split(",")[0]) for line in pruned[1:]}
        step_dirs = {int(p.name) for p in case_dir.iterdir() if p.is_dir()}
        # tp [1,2,4] x pp [1,2,3] x cp [1,2] x mb [1,2] = 36 points.
        self.assertEqual(step_dirs | pruned_steps, set(range(1, 37)))
        self.assertFalse(step_dirs & pruned_steps)
        self.assertTrue(step_dirs)
        for step in step_dirs:
            self.assertTrue((case_dir / str(step) / "mbridge-launcher.sh").is_file())
        self.assertIn("pruned", proc.stdout)

    def test_deepseek_gb300_pp2_vp8_follows_the_pinned_release(self):
        # Megatron-Bridge's published GB300 DeepSeek-V3 configuration: its v0.6.0
        # recipes build a layout for (pp, vp) = (2, 8); CloudAI's C18 list (v0.3.0) lacks it.
        # No clone is installed: the pin's tag alone decides.
        for commit, accepted in (("v0.6.0", True), ("v0.3.0", False), ("my-branch", False)):
            with self.subTest(commit=commit):
                d = tempdir(self)
                (d / "tests").mkdir()
                (d / "tests" / "ds.toml").write_text(
                    'name = "ds_gb300"\ndescription = "d"\ntest_template_name = "MegatronBridge"\n'
                    '[[git_repos]]\nurl = "https://github.com/NVIDIA-NeMo/Megatron-Bridge.git"\n'
                    f'commit = "{commit}"\nmount_as = "/opt/Megatron-Bridge"\n'
                    '[cmd_args]\ngpu_type = "gb300"\ncontainer_image = "nvcr.io#nvidia/nemo:26.02.00"\n'
                    'model_family_name = "deepseek"\nmodel_recipe_name = "deepseek_v3"\n'
                    'num_gpus = 32\ntask = "pretrain"\ncompute_dtype = "fp8_mx"\n'
                    'pp = 2\nvp = 8\nep = 8\nmb = 1\ngb = 4096\n'
                    # 32 GPUs do not hold DeepSeek-V3 (rule E1 would prune it); C18 is tested.
                    '[estimate]\noom = "warn"\n')
                scenario = d / "scenario.toml"
                scenario.write_text('name = "ds"\n[[Tests]]\nid = "ds"\ntest_name = "ds_gb300"\n'
                                    'num_nodes = "4"\n')
                out = d / "results"
                proc = run_bp("dry-run", "--system-config",
                              CONF / "system" / "example_slurm_cluster.toml", "--tests-dir",
                              d / "tests", "--test-scenario", scenario, "--output-dir", out,
                              env={"HF_TOKEN": TOKEN})
                text = proc.stdout + proc.stderr
                if accepted:
                    self.assertEqual(proc.returncode, 0, text)
                    self.assertTrue((results_root(out) / "ds" / "0" / "mbridge-launcher.sh").is_file())
                else:
                    self.assertNotEqual(proc.returncode, 0, text)
                    self.assertIn("C18", text)
                    self.assertIn("got (2,8)", text)
                    self.assertFalse(out.exists() and any(out.iterdir()), "nothing may be written")

    def test_dependency_scenario_generates_every_case(self):
        out = tempdir(self) / "results"
        proc = self.dry_run("sleep.toml", out, tests=".", system="standalone.toml")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = results_root(out)
        for case in ("Tests.sleep1", "Tests.sleep2", "Tests.sleep_watch", "Tests.sleep_side"):
            self.assertTrue((root / case / "0" / "test-run.toml").is_file(), case)
        self.assertTrue((root / "Tests.sleep_side" / "1" / "test-run.toml").is_file())

    def test_dry_run_calls_no_scheduler_command(self):
        # Every Slurm command on PATH is a recorder that fails: a dry-run on a Slurm system
        # (a batch sweep and a self-submitting launcher) must call none of them.
        d = tempdir(self)
        bin_dir, calls = d / "bin", d / "calls.txt"
        bin_dir.mkdir()
        for cmd in ("sbatch", "squeue", "sacct", "scontrol", "scancel", "sinfo", "srun"):
            fake = bin_dir / cmd
            fake.write_text(f"#!/bin/sh\necho {cmd} \"$@\" >> '{calls}'\nexit 1\n")
            fake.chmod(0o755)
        env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HF_TOKEN": TOKEN}
        for scenario, tests in (("nccl_test.toml", "."), ("megatron_bridge_qwen_30b.toml", "h100")):
            out = d / ("results_" + scenario)
            proc = self.dry_run(scenario, out, tests=tests, env=env)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertTrue(any(p.name == "test-run.toml" for p in all_files(out)), scenario)
            self.assertNotIn("submitted", proc.stderr)
        self.assertFalse(calls.exists(), calls.read_text() if calls.exists() else "")



class InstallAndStandaloneRun(unittest.TestCase):
    def make_repo(self, root):
        repo = root / "Megatron-Bridge"
        (repo / "scripts" / "performance").mkdir(parents=True)
        (repo / "scripts" / "performance" / "setup_experiment.py").write_text("print('hi')\n")
        return commit_and_tag(repo, "r1")

    def test_install_clones_file_url_and_uninstall_removes_it(self):
        d = tempdir(self)
        repo = self.make_repo(d)
        (d / "system.toml").write_text(
            f'name = "s"\nscheduler = "standalone"\ninstall_path = "{d}/install"\n'
            f'output_path = "{d}/results"\nlauncher_python = "/usr/bin/python3"\n')
        (d / "scenario.toml").write_text(f'''name = "inst"
[[Tests]]
id = "mb"
test_name = "megatron_bridge_llama3_8b_h100"
  [[Tests.git_repos]]
  url = "file://{repo}"
  commit = "r1"
''')
        args = ["--system-config", d / "system.toml", "--tests-dir", CONF / "test" / "h100",
                "--test-scenario", d / "scenario.toml"]
        run_bp("install", *args, check=True)
        clone = d / "install" / "Megatron-Bridge__r1"
        self.assertTrue((clone / "scripts" / "performance" / "setup_experiment.py").is_file())
        run_bp("install", *args, check=True)  # idempotent
        run_bp("uninstall", *args, check=True)
        self.assertFalse(clone.exists())
        self.assertTrue(repo.exists(), "the source repository is never touched")

    def test_install_refuses_a_flag_the_pinned_launcher_lacks(self):
        d = tempdir(self)
        repo = d / "Megatron-Bridge"
        (repo / "scripts" / "performance").mkdir(parents=True)
        # The emulator's v0.3.0 argument parser (a test double): it has no --offline.
        shutil.copy(SOURCE_DIR / "tools" / "mbridge-emulator" / "scripts" / "performance" /
                    "argument_parser.py", repo / "scripts" / "performance")
        commit_and_tag(repo, "v0.3.0")
        (d / "system.toml").write_text(
            f'name = "s"\nscheduler = "standalone"\ninstall_path = "{d}/install"\n'
            f'output_path = "{d}/results"\nlauncher_python = "/usr/bin/python3"\n')
        (d / "scenario.toml").write_text(f'''name = "inst"
[[Tests]]
id = "mb"
test_name = "megatron_bridge_llama3_8b_h100"
  [Tests.cmd_args]
  offline = true
  [[Tests.git_repos]]
  url = "file://{repo}"
  commit = "v0.3.0"
''')
        proc = run_bp("install", "--system-config", d / "system.toml", "--tests-dir",
                      CONF / "test" / "h100", "--test-scenario", d / "scenario.toml")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn('cmd_args.offline: the Megatron-Bridge launcher pinned at commit "v0.3.0" '
                      'has no --offline flag', proc.stderr)

    def test_run_on_standalone_executes_locally(self):
        d = tempdir(self)
        (d / "system.toml").write_text(
            f'name = "s"\nscheduler = "standalone"\ninstall_path = "{d}/install"\n'
            f'output_path = "{d}/results"\n')
        (d / "scenario.toml").write_text('''name = "local"
[[Tests]]
id = "nap"
test_name = "sleep"
iterations = 2
  [Tests.cmd_args]
  seconds = 0
''')
        proc = run_bp("run", "--system-config", d / "system.toml", "--tests-dir", CONF / "test",
                      "--test-scenario", d / "scenario.toml", check=True)
        root = results_root(d / "results")
        self.assertIn("PASSED", proc.stdout)
        s = summary(root)
        self.assertEqual((s["passed"], s["failed"]), (2, 0))
        self.assertTrue((root / "nap" / "1" / "test-run.toml").is_file())


class GenerateReport(unittest.TestCase):
    def test_reads_cloudai_results_directory(self):
        d = tempdir(self)
        run = d / "results" / "megatron_bridge_qwen_30b_2026-01-01_00-00-00" / "qwen" / "0"
        run.mkdir(parents=True)
        lines = []
        for i, (t, f) in enumerate([(9.0, 660.0), (9.5, 650.0), (10.0, 640.0)]):
            lines.append(f"ain_fp8_mx/0 Step Time : {t}s GPU utilization: {f}MODEL_TFLOP/s/GPU")
            lines.append(f"ain_fp8_mx/0  [2025-12-22 15:18:33] iteration {i + 1:8d}/      50 | "
                         f"elapsed time per iteration (ms): 1.0 | throughput per GPU "
                         f"(TFLOP/s/GPU): 1.0 |")
        (run / "cloudai_megatron_bridge_launcher.log").write_text("\n".join(lines) + "\n")
        proc = run_bp("generate-report", "--system-config", CONF / "system" / "standalone.toml",
                      "--test-scenario", CONF / "test_scenario" / "sleep.toml", "--tests-dir",
                      CONF / "test", "--result-dir", d / "results", check=True)
        report = (run / "report.txt").read_text()
        self.assertIn("Step Time (s)\n  avg: 9.5\n  median: 9.5\n  min: 9.0\n  max: 10.0", report)
        self.assertIn("TFLOP/s per GPU\n  avg: 650.0", report)
        self.assertIn("9.500", proc.stdout)


class Help(unittest.TestCase):
    def test_help_lists_cloudai_subcommands(self):
        proc = run_bp("--help")
        for sub in ("run", "dry-run", "install", "uninstall", "generate-report", "verify-configs",
                    "list", "plan"):
            self.assertIn(sub, proc.stdout)

    def test_system_config_from_cloudai_environment_variable(self):
        out = tempdir(self) / "results"
        proc = run_bp("dry-run", "--tests-dir", CONF / "test", "--test-scenario",
                      CONF / "test_scenario" / "sleep.toml", "--output-dir", out,
                      env={"CLOUDAI_SYSTEM_CONFIG": str(CONF / "system" / "standalone.toml")})
        self.assertEqual(proc.returncode, 0, proc.stderr)


if __name__ == "__main__":
    unittest.main()
