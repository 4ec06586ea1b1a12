#!/usr/bin/env python3
"""Tests for mbridge-emulator (a test double of the Megatron-Bridge performance launcher).

Run:  python3 tools/mbridge-emulator/emulator_test.py -v

The offline tests need only python3. The live tests submit real jobs and run when
SLURM_CONF is set and the cluster answers; otherwise they are skipped with a message.
"""

import math
import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the (cloned) repository clean
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PERF = os.path.join(HERE, "scripts", "performance")
LAUNCHER = os.path.join(PERF, "setup_experiment.py")
RUN_SCRIPT = os.path.join(PERF, "run_script.py")
sys.path.insert(0, PERF)

import argument_parser as ap  # noqa: E402
import emulator_model as em  # noqa: E402

STEP_RE = re.compile(r"Step Time\s*:\s*([0-9]+(?:\.[0-9]+)?)\s*s.*?GPU utilization:\s*([0-9]+(?:\.[0-9]+)?)\s*"
                     r"(?:MODEL_)?TFLOP/s/GPU", re.IGNORECASE)
ITER_RE = re.compile(r"iteration\s+(\d+)/\s*(\d+) \| consumed samples:\s+(\d+) \| elapsed time per iteration \(ms\): "
                     r"([\d.]+) \| throughput per GPU \(TFLOP/s/GPU\): ([\d.]+) \| learning rate: [\d.E+-]+ \| "
                     r"global batch size:\s+(\d+) \| lm loss: [\d.E+-]+ \|.* loss scale: 1.0 \| grad norm: [\d.]+ \| "
                     r"number of skipped iterations:\s+0 \| number of nan iterations:\s+0 \|$")
JOBID_RE = re.compile(r"(Submitted batch job[ ]+[0-9]+|Job id[: ]+[0-9]+|-[ ]*Job id[: ]+[0-9]+|Job ID[: ]+[0-9]+)",
                      re.IGNORECASE)

BASE = ["-m", "llama", "-mr", "llama3_8b", "-g", "h100", "-ng", "8"]


def launcher(args, env=None, timeout=60):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([sys.executable, LAUNCHER] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, env=e)


def train(args, env=None, timeout=60):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "MBRIDGE_EMULATOR_"))}
    e["MBRIDGE_EMULATOR_STEP_SLEEP"] = "0"
    e.update(env or {})
    return subprocess.run([sys.executable, RUN_SCRIPT] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, env=e)


def sbatch_lines(text):
    return [ln for ln in text.splitlines() if ln.startswith("#SBATCH")]


# =============================================================================== offline
class ArgumentRejection(unittest.TestCase):
    def assert_rejected(self, args, needle):
        p = launcher(args + ["-d"])
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("usage:", p.stderr)
        self.assertIn(needle, p.stderr)
        self.assertNotIn("sbatch --parsable", p.stdout)

    def test_missing_gpu(self):
        self.assert_rejected(["-m", "llama", "-mr", "llama3_8b", "-ng", "8"], "the following arguments are required: -g/--gpu")

    def test_missing_model_and_gpus(self):
        self.assert_rejected(["-g", "h100"], "-m/--model_family_name, -mr/--model_recipe_name, -ng/--num_gpus")

    def test_bad_choices(self):
        self.assert_rejected(BASE[:4] + ["-g", "a100", "-ng", "8"], "argument -g/--gpu: invalid choice: 'a100'")
        self.assert_rejected(BASE + ["-c", "fp16"], "argument -c/--compute_dtype: invalid choice")
        self.assert_rejected(BASE + ["--task", "train"], "argument --task: invalid choice")
        self.assert_rejected(BASE + ["--domain", "audio"], "argument --domain: invalid choice")
        self.assert_rejected(BASE + ["--data", "c4"], "argument --data: invalid choice")

    def test_bad_types(self):
        self.assert_rejected(BASE + ["--cuda_graph_impl", "foo"], "argument --cuda_graph_impl: invalid")
        self.assert_rejected(BASE + ["--cuda_graph_scope", "attn,bogus"], "argument --cuda_graph_scope: invalid")
        self.assert_rejected(BASE + ["--detach", "maybe"], "argument --detach: invalid bool_arg value: 'maybe'")
        self.assert_rejected(BASE + ["-tp", "two"], "argument -tp/--tensor_model_parallel_size: invalid int value")
        self.assert_rejected(BASE + ["-vp", "none"], "argument -vp/--virtual_pipeline_model_parallel_size: invalid")
        self.assert_rejected(BASE + ["--profiling_ranks", "0,x"], "argument --profiling_ranks")


class ArgumentParsing(unittest.TestCase):
    def parse(self, extra):
        return ap.parse_cli_args(BASE + extra)

    def test_defaults(self):
        a, o, x = self.parse([])
        self.assertEqual((a.detach, a.max_retries, a.gpus_per_node, a.time_limit), (True, 2, 8, "00:30:00"))
        self.assertEqual((a.virtual_pipeline_model_parallel_size, a.expert_tensor_parallel_size), (-1, None))
        self.assertEqual((a.compute_dtype, a.task, a.domain, a.config_variant), ("bf16", "pretrain", "llm", "v2"))
        self.assertIsNone(a.custom_bash_cmds)
        self.assertEqual((o, x), ([], []))

    def test_lowercasing_and_long_forms(self):
        a, _, _ = ap.parse_cli_args(["--model_family_name", "LLaMA", "--model_recipe_name", "Llama3_8B", "--gpu", "gb200",
                                     "--num_gpus", "4", "--gpus_per_node", "4"])
        self.assertEqual((a.model_family_name, a.model_recipe_name, a.gpu, a.num_gpus), ("llama", "llama3_8b", "gb200", 4))

    def test_vp_none_and_bare_et(self):
        a, _, _ = self.parse(["-vp", "None", "-et", "-ep", "2"])
        self.assertIsNone(a.virtual_pipeline_model_parallel_size)
        self.assertIsNone(a.expert_tensor_parallel_size)
        self.assertEqual(a.expert_model_parallel_size, 2)
        a, _, _ = self.parse(["-vp", "4", "-et", "2"])
        self.assertEqual((a.virtual_pipeline_model_parallel_size, a.expert_tensor_parallel_size), (4, 2))

    def test_bool_args(self):
        for v, want in (("true", True), ("T", True), ("yes", True), ("1", True), ("no", False), ("0", False), ("F", False)):
            a, _, _ = self.parse(["--detach", v, "-vb", v])
            self.assertEqual((a.detach, a.enable_vboost), (want, want))

    def test_custom_bash_cmds_append(self):
        a, _, _ = self.parse(["-cb", "export A=1", "-cb", "export", "B=2", "-p", "main"])
        self.assertEqual(a.custom_bash_cmds, [["export A=1"], ["export", "B=2"]])

    def test_list_types(self):
        a, _, _ = self.parse(["--cuda_graph_scope", "attn,moe_router", "--recompute_modules", "core_attn,mlp",
                              "--profiling_ranks", "0,3", "-cm", "/a:/b,/c:/d", "-ce", "X=1,Y=2"])
        self.assertEqual(a.cuda_graph_scope, ["attn", "moe_router"])
        self.assertEqual(a.recompute_modules, ["core_attn", "mlp"])
        self.assertEqual(a.profiling_ranks, [0, 3])
        self.assertEqual(a.custom_mounts, ["/a:/b", "/c:/d"])
        self.assertEqual(a.custom_env_vars, {"X": "1", "Y": "2"})

    def test_additional_slurm_params(self):
        f = ap.parse_additional_slurm_params
        self.assertEqual(f("gpus-per-node=8;gres=gpu:8"), {"gpus-per-node": "8", "gres": "gpu:8"})
        self.assertEqual(f("nodelist=a,b;exclusive"), {"nodelist": "a,b", "exclusive": True})
        self.assertEqual(f("reservation=r constraint=gpu"), {"reservation": "r", "constraint": "gpu"})
        self.assertEqual(f("nodelist=node1,node2"), {"nodelist": "node1,node2"})
        self.assertEqual(f("dependency=afterok:12"), {"dependency": "afterok:12"})
        self.assertIsNone(f(""))

    def test_unknown_tokens(self):
        a, o, x = self.parse(["logger.tensorboard_dir=/nemo_run/tb", "emulator.fault=crash@2", "--bogus", "7"])
        self.assertEqual(o, ["logger.tensorboard_dir=/nemo_run/tb", "emulator.fault=crash@2"])
        self.assertEqual(x, ["--bogus", "7"])


class DryRun(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="mbe-dry-")

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def dry(self, extra):
        p = launcher(BASE[:6] + extra + ["-d"], env={"NEMORUN_HOME": self.home})
        self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def test_node_count(self):
        for ng, gn, nodes in ((8, None, 1), (9, None, 2), (16, None, 2), (16, 4, 4), (1, None, 1), (12, 4, 3), (64, 8, 8)):
            extra = ["-ng", str(ng)] + (["-gn", str(gn)] if gn else [])
            p = self.dry(extra)
            self.assertIn(f"#SBATCH --nodes={nodes}", sbatch_lines(p.stdout), (ng, gn))
            self.assertIn("#SBATCH --ntasks-per-node=1", sbatch_lines(p.stdout))

    def test_sbatch_content(self):
        p = self.dry(["-ng", "16", "-p", "main", "-a", "acct_team", "-t", "00:05:00", "-cb", "export FOO=bar",
                      "-cb", "export MBRIDGE_EMULATOR_FAULT=crash@2", "-ce", "K1=v1",
                      "--additional_slurm_params", "gpus-per-node=8;gres=gpu:8;nodelist=node1,node2;exclusive",
                      "logger.x=1"])
        exp = "pretrain_llama3_8b_bf16_gpus16_tp1_pp1_cp2_vpNone_ep1_etpNone_mbs1_gbs128"
        job = f"acct_team-team.{exp}"
        lines = sbatch_lines(p.stdout)
        self.assertEqual(lines, sorted(lines), "#SBATCH lines are sorted by key like NeMo-Run's")
        for want in ("#SBATCH --account=acct_team", "#SBATCH --partition=main", "#SBATCH --time=00:05:00",
                     "#SBATCH --nodes=2", f"#SBATCH --job-name={job}", "#SBATCH --gpus-per-node=8",
                     "#SBATCH --gres=gpu:8", "#SBATCH --nodelist=node1,node2", "#SBATCH --exclusive"):
            self.assertIn(want, lines)
        out = [ln for ln in lines if ln.startswith("#SBATCH --output=")]
        self.assertEqual(len(out), 1)
        self.assertTrue(out[0].endswith(f"/{exp}/log-{job}_%j_0.out"), out[0])
        self.assertIn(os.path.join(self.home, "experiments", exp, exp + "_"), out[0])
        self.assertIn("export K1=v1", p.stdout)
        self.assertIn("export FOO=bar\nexport MBRIDGE_EMULATOR_FAULT=crash@2\nexec ", p.stdout)
        self.assertIn("run_script.py", p.stdout)
        exec_line = [ln for ln in p.stdout.splitlines() if ln.startswith("exec ")][0]
        self.assertIn(" logger.x=1 ", exec_line)
        self.assertTrue(exec_line.endswith(" train.manual_gc=true train.manual_gc_interval=100"), exec_line)
        self.assertIn("sbatch --parsable $SBATCH_SCRIPT", p.stdout)
        self.assertEqual(os.listdir(self.home), [], "dry run must not create anything")

    def test_optional_lines_absent(self):
        p = self.dry(["-ng", "8"])
        lines = sbatch_lines(p.stdout)
        self.assertFalse([ln for ln in lines if ln.startswith(("#SBATCH --account", "#SBATCH --partition",
                                                              "#SBATCH --gres"))], lines)
        self.assertIn("#SBATCH --time=00:30:00", lines)
        self.assertIn("#SBATCH --job-name=pretrain_llama3_8b_bf16_gpus8_tp1_pp1_cp2_vpNone_ep1_etpNone_mbs1_gbs128",
                      lines)

    def test_experiment_names(self):
        p = self.dry(["-ng", "8", "-tp", "2", "-cp", "1", "-vp", "None", "-mb", "2", "-gb", "256", "-c", "fp8_cs"])
        self.assertIn("pretrain_llama3_8b_fp8_cs_gpus8_tp2_pp1_cp1_vpNone_ep1_etpNone_mbs2_gbs256", p.stdout)
        p = launcher(["-m", "qwen", "-mr", "qwen3_30b_a3b", "-g", "gb200", "-ng", "8", "-gn", "4", "-d"],
                     env={"NEMORUN_HOME": self.home})
        self.assertIn("pretrain_qwen3_30b_a3b_bf16_gpus8_tp1_pp1_cp1_vpNone_ep8_etp1_mbs4_gbs512", p.stdout)
        p = self.dry(["-ng", "8", "-wdj", "myexp"])
        self.assertIn("#SBATCH --job-name=myexp", p.stdout)
        p = self.dry(["-ng", "16", "--use_recipes"])
        self.assertIn("#SBATCH --job-name=llama3_8b_pretrain_16gpu_h100", p.stdout)

    def test_unknown_flag_warns(self):
        p = self.dry(["-ng", "8", "--not_a_flag", "x", "model.seq_length=4096"])
        self.assertIn("unrecognized arguments", p.stderr)
        self.assertIn("--not_a_flag", p.stderr)
        self.assertIn("model.seq_length=4096", p.stdout)

    def test_assertions(self):
        p = launcher(BASE + ["-en", "-pyp", "true", "-d"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("AssertionError", p.stderr)


class Model(unittest.TestCase):
    def cfg(self, extra, base=BASE):
        a, _, _ = ap.parse_cli_args(base + extra)
        return em.resolve(a)

    def test_flops_match_reference(self):
        for recipe, per_token in (("llama3_8b", 5.147e10), ("llama3_70b", 4.492e11), ("qwen3_30b_a3b", 2.3006e10),
                                  ("deepseek_v3", 2.498e11)):
            got = em.flops_per_token(em.SHAPES[recipe])
            self.assertAlmostEqual(got / per_token, 1.0, delta=1e-3, msg=recipe)

    def test_table_and_gbs_scaling(self):
        c = self.cfg([])
        self.assertEqual((c.tp, c.pp, c.cp, c.vp, c.mbs, c.gbs, c.world, c.dp), (1, 1, 2, None, 1, 128, 8, 4))
        c = self.cfg(["-ng", "16"], base=BASE[:6])
        self.assertEqual((c.gbs, c.nodes, c.world), (256, 2, 16))
        c = self.cfg(["-ng", "16", "-gb", "64"], base=BASE[:6])
        self.assertEqual(c.gbs, 64)

    def test_deterministic_and_distinct(self):
        seen = {}
        for extra in ([], ["-cp", "1"], ["-tp", "2", "-cp", "1"], ["-tp", "8", "-cp", "1"], ["-mb", "2", "-cp", "1"],
                      ["-pp", "2", "-cp", "1"], ["-c", "fp8_cs"], ["-cp", "1", "-rl", "4"]):
            t1 = em.step_time_model(self.cfg(extra))[0]
            t2 = em.step_time_model(self.cfg(extra))[0]
            self.assertEqual(t1, t2)
            seen[" ".join(extra)] = t1
        self.assertEqual(len(set(seen.values())), len(seen), seen)
        self.assertLess(seen["-cp 1"], seen[""])
        self.assertLess(seen["-tp 2 -cp 1"], seen["-tp 8 -cp 1"])
        self.assertLess(seen["-c fp8_cs"], seen[""])
        self.assertLess(seen["-cp 1"], seen["-cp 1 -rl 4"])

    def test_validation(self):
        bad = {("-tp", "3"): "not divisible", ("-gb", "100", "-cp", "1"): "global batch size",
               ("-ng", "24", "-pp", "3", "-cp", "1"): "num_layers", ("-pp", "2", "-vp", "3", "-cp", "1"): "virtual",
               ("-vp", "2",): "Virtual pipeline", ("-ep", "2", "-cp", "1"): "num_moe_experts",
               ("-cp", "1", "-pp", "2", "-ol", "4"): "CPU offloading"}
        for extra, needle in bad.items():
            with self.assertRaises(em.ConfigError, msg=extra) as cm:
                em.validate(self.cfg(list(extra)))
            self.assertIn(needle, str(cm.exception), extra)
        for extra in ([], ["-tp", "2", "-cp", "1"], ["-pp", "2", "-vp", "4", "-cp", "1"], ["-tp", "8", "-cp", "1"]):
            em.validate(self.cfg(extra))
        em.validate(self.cfg([], base=["-m", "deepseek", "-mr", "deepseek_v3", "-g", "h100", "-ng", "1024"]))
        em.validate(self.cfg([], base=["-m", "qwen", "-mr", "qwen3_30b_a3b", "-g", "h100", "-ng", "16"]))


class TrainingProcess(unittest.TestCase):
    """run_script.py run directly, without Slurm."""

    def test_log_lines(self):
        p = train(BASE + ["-ms", "4", "-cp", "1"])
        self.assertEqual(p.returncode, 0, p.stderr)
        steps = STEP_RE.findall(p.stdout)
        iters = [ITER_RE.search(ln) for ln in p.stdout.splitlines() if " iteration " in ln]
        self.assertEqual(len(steps), 4)
        self.assertEqual(len(iters), 4)
        self.assertTrue(all(iters))
        self.assertIn("EMULATED", p.stdout)
        self.assertIn("[after training is done]", p.stdout)
        flops = em.step_flops(em.SHAPES["llama3_8b"], 128)
        for (st, tf), m in zip(steps, iters):
            ms = float(m.group(4))
            self.assertAlmostEqual(float(st), ms / 1000.0, delta=0.006)
            self.assertAlmostEqual(float(tf), flops / (ms / 1000.0) / 8 / 1e12, delta=0.2)
            self.assertEqual(float(tf), float(m.group(5)))
            self.assertEqual(m.group(6), "128")
        self.assertGreater(float(steps[0][0]), float(steps[3][0]), "step 1 includes warm-up")
        again = train(BASE + ["-ms", "4", "-cp", "1"])
        self.assertEqual(STEP_RE.findall(again.stdout), steps, "deterministic")
        other = train(BASE + ["-ms", "4", "-cp", "2"])
        self.assertNotEqual(STEP_RE.findall(other.stdout), steps)

    def test_step_line_exact_format(self):
        p = train(BASE + ["-ms", "1"])
        line = [ln for ln in p.stdout.splitlines() if ln.startswith("Step Time")][0]
        self.assertRegex(line, r"^Step Time : \d+\.\d\ds GPU utilization: \d+\.\dMODEL_TFLOP/s/GPU$")
        it = [ln for ln in p.stdout.splitlines() if " iteration " in ln][0]
        self.assertRegex(it, r"^ \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] iteration        1/       1 \| consumed samples: "
                             r"         128 \| ")

    def test_default_steps_and_scale(self):
        p = train(BASE)
        self.assertEqual(len(STEP_RE.findall(p.stdout)), 10)
        q = train(BASE + ["emulator.step_time_scale=2"])
        a = [float(x) for x, _ in STEP_RE.findall(p.stdout)]
        b = [float(x) for x, _ in STEP_RE.findall(q.stdout)]
        for x, y in zip(a, b):
            self.assertAlmostEqual(y, 2 * x, delta=0.011)

    def test_crash_fault(self):
        p = train(BASE + ["-ms", "5"], env={"MBRIDGE_EMULATOR_FAULT": "crash@3"})
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(STEP_RE.findall(p.stdout)), 2)
        self.assertIn("Traceback (most recent call last)", p.stderr)
        self.assertIn("injected crash at iteration 3", p.stderr)

    def test_override_beats_env_and_oom(self):
        p = train(BASE + ["-ms", "5", "emulator.fault=oom@2"], env={"MBRIDGE_EMULATOR_FAULT": "crash@1",
                                                                    "MBRIDGE_EMULATOR_OOM_MODE": "exit"})
        self.assertEqual(p.returncode, 1)
        self.assertEqual(len(STEP_RE.findall(p.stdout)), 1)
        self.assertIn("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate", p.stderr)

    def test_fault_attempt_filter_and_init_fault(self):
        p = train(BASE + ["-ms", "3", "emulator.fault=crash@2:1"], env={"MBRIDGE_EMULATOR_ATTEMPT": "2"})
        self.assertEqual(p.returncode, 0, p.stderr)
        p = train(BASE + ["-ms", "3", "emulator.fault=crash@0"])
        self.assertEqual(p.returncode, 1)
        self.assertEqual(STEP_RE.findall(p.stdout), [])

    def test_bad_fault_spec(self):
        p = train(BASE + ["emulator.fault=explode@2"])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("invalid fault specification", p.stderr)

    def test_invalid_config_fails_before_step_1(self):
        p = train(BASE + ["-tp", "3"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("RuntimeError: world_size (8) is not divisible", p.stderr)
        self.assertEqual(STEP_RE.findall(p.stdout), [])

    def test_enforce_memory(self):
        p = train(BASE + ["-ms", "2", "-cp", "1", "-mb", "4"], env={"MBRIDGE_EMULATOR_ENFORCE_MEMORY": "1",
                                                                  "MBRIDGE_EMULATOR_OOM_MODE": "exit"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("torch.OutOfMemoryError", p.stderr)
        p = train(BASE + ["-ms", "2"], env={"MBRIDGE_EMULATOR_ENFORCE_MEMORY": "1"})
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_moe_and_generic_models(self):
        p = train(["-m", "qwen", "-mr", "qwen3_30b_a3b", "-g", "gb200", "-ng", "8", "-gn", "4", "-ms", "2"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("load_balancing_loss", p.stdout)
        p = train(["-m", "foo", "-mr", "mystery_13b", "-g", "b200", "-ng", "8", "-ms", "2"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("generic dense shape", p.stdout)
        self.assertEqual(len(STEP_RE.findall(p.stdout)), 2)


# =============================================================================== live Slurm


# --------------------------------------------------------------------------- the two launcher versions
import make_tree  # noqa: E402


def run_tree(tree, script, args, env=None, timeout=60):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "MBRIDGE_EMULATOR_"))}
    e["MBRIDGE_EMULATOR_STEP_SLEEP"] = "0"
    e.update(env or {})
    return subprocess.run([sys.executable, os.path.join(tree, "scripts", "performance", script)] + args,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, env=e)


class Versions(unittest.TestCase):
    """make_tree.py lays out v0.3.0 or v0.6.0; the tree's perf_recipes/ folder picks the behaviour."""

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="mbe-versions-")
        cls.v03 = make_tree.make_tree(os.path.join(cls.root, "v03"), "0.3.0")
        cls.v06 = make_tree.make_tree(os.path.join(cls.root, "v06"), "0.6.0")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def dry(self, tree, args):
        return run_tree(tree, "setup_experiment.py", args + ["-d"], env={"NEMORUN_HOME": self.root})

    def test_layouts(self):
        marker = os.path.join("src", "megatron", "bridge", "perf_recipes")
        self.assertFalse(os.path.exists(os.path.join(self.v03, marker)))
        self.assertTrue(os.path.isdir(os.path.join(self.v06, marker)))
        self.assertFalse(os.path.exists(os.path.join(self.v03, "v0.6")), "overlay folder copied")
        self.assertTrue(os.path.isfile(os.path.join(self.v06, "scripts", "performance", "bootstrap.py")))
        with open(os.path.join(self.v03, "scripts", "performance", "argument_parser.py")) as f:
            self.assertNotIn('"--offline"', f.read())
        with open(os.path.join(self.v06, "scripts", "performance", "argument_parser.py")) as f:
            text = f.read()
        self.assertIn('add_argument("--offline"', text)
        self.assertNotIn("dgxc_", text)

    def test_each_version_rejects_what_it_lacks(self):
        cases = [
            (self.v03, BASE + ["--task", "peft"], "invalid choice: 'peft'"),
            (self.v03, ["-m", "llama", "-mr", "llama3_8b", "-g", "vr200", "-ng", "8"], "invalid choice: 'vr200'"),
            (self.v03, ["-m", "llama", "-mr", "llama3_8b", "-ng", "8"], "required: -g/--gpu"),
            (self.v06, BASE + ["--task", "lora"], "invalid choice: 'lora'"),
            (self.v06, ["-m", "llama", "-mr", "llama3_8b", "-ng", "8"], "required: -g/--gpu"),
            (self.v06, BASE + ["--offline", "-hf", "hf_x"], "not allowed with argument"),
            (self.v06, BASE + ["--dgxc_cluster", "c"], None),  # unknown: warned, then fails in the job
        ]
        for tree, args, message in cases:
            p = self.dry(tree, args)
            if message is None:
                self.assertIn("unrecognized arguments", p.stderr, args)
                continue
            self.assertEqual(p.returncode, 2, (tree, args, p.stdout[-500:]))
            self.assertIn(message, p.stderr, args)
        for tree, args in ((self.v03, BASE + ["--task", "lora"]), (self.v06, BASE + ["--task", "peft"]),
                           (self.v06, ["-m", "llama", "-mr", "llama3_8b", "-g", "vr200", "-ng", "8"]),
                           (self.v06, ["-m", "llama", "-mr", "llama3_8b", "-g", "r100", "-ng", "8"]),
                           (self.v06, BASE + ["--offline"])):
            p = self.dry(tree, args)
            self.assertEqual(p.returncode, 0, (args, p.stderr))

    def test_flag_a_version_lacks_fails_the_job(self):
        # v0.3.0 forwards the unknown --offline to the training script, where Hydra rejects it.
        p = run_tree(self.v03, "run_script.py", BASE + ["-ms", "2", "--offline"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("OverrideParseException", p.stderr)
        self.assertEqual(STEP_RE.findall(p.stdout), [])
        p = run_tree(self.v06, "run_script.py", BASE + ["-ms", "2", "--offline", "--task", "peft"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(STEP_RE.findall(p.stdout)), 2)

    def test_v06_names_nodes_and_forwarding(self):
        p = self.dry(self.v06, ["-m", "qwen", "-mr", "qwen3_30b_a3b", "-g", "gb200", "-ng", "8", "-c", "fp8_mx",
                                "-lgc", "1500", "-E", "A=1,2", "-ce", "A=0", "-hf", "hf_emuSecret",
                                "-cv", "large_scale"])
        self.assertEqual(p.returncode, 0, p.stderr)
        name = "pretrain_qwen3_30b_a3b_fp8_mx_gpus8_gb200_large_scale"
        self.assertIn(f"#SBATCH --job-name={name}", sbatch_lines(p.stdout))
        self.assertIn("#SBATCH --nodes=2", sbatch_lines(p.stdout))  # gb200: 4 GPUs per node
        exec_line = [ln for ln in p.stdout.splitlines() if ln.startswith("exec ")][0]
        self.assertIn("bootstrap.py", exec_line)
        self.assertNotIn("-lgc", exec_line)  # launcher-only flags are not forwarded
        self.assertNotIn("hf_emuSecret", exec_line)  # the token goes by environment
        self.assertIn("export A=1,2\n", p.stdout)  # -E wins over -ce
        self.assertIn("export HF_TOKEN=hf_emuSecret", p.stdout)
        p = self.dry(self.v03, ["-m", "llama", "-mr", "llama3_8b", "-g", "gb200", "-ng", "8"])
        self.assertIn("#SBATCH --nodes=1", sbatch_lines(p.stdout))  # v0.3.0: 8 per node whatever -g
        self.assertIn("run_script.py", [ln for ln in p.stdout.splitlines() if ln.startswith("exec ")][0])

    def test_qwen3_needs_a_token_or_offline(self):
        qwen = ["-m", "qwen3", "-mr", "qwen3_30b_a3b", "-g", "h100", "-ng", "8"]
        self.assertIn("HF token is required", self.dry(self.v03, qwen).stderr)
        self.assertIn("requires --hf_token (online) or --offline", self.dry(self.v06, qwen).stderr)
        self.assertEqual(self.dry(self.v06, qwen + ["--offline"]).returncode, 0)
        self.assertEqual(self.dry(self.v03, qwen + ["-hf", "hf_x"]).returncode, 0)

    def test_flaky_fault_fails_only_the_first_attempt(self):
        p = train(BASE + ["-ms", "2", "emulator.fault=flaky"])
        self.assertEqual(p.returncode, 1)
        self.assertIn("Connection reset by peer", p.stderr)
        self.assertEqual(STEP_RE.findall(p.stdout), [])
        p = train(BASE + ["-ms", "2", "emulator.fault=flaky"], env={"MBRIDGE_EMULATOR_ATTEMPT": "2"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(STEP_RE.findall(p.stdout)), 2)


def cluster_problem():
    if not os.environ.get("SLURM_CONF"):
        return "SLURM_CONF is not set (start one: bash scripts/local-slurm/start.sh DIR; source DIR/env.sh)"
    if not shutil.which("sbatch") or not shutil.which("squeue"):
        return "sbatch/squeue not installed"
    try:
        p = subprocess.run(["sinfo", "-h", "-o", "%P %a"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=15)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"sinfo failed: {e}"
    if p.returncode != 0 or not p.stdout.strip():
        return f"cluster at SLURM_CONF={os.environ['SLURM_CONF']} does not answer: {p.stderr.strip()}"
    return None


def default_partition():
    if os.environ.get("MBRIDGE_EMULATOR_TEST_PARTITION"):
        return os.environ["MBRIDGE_EMULATOR_TEST_PARTITION"]
    if os.environ.get("LOCAL_SLURM_PARTITION"):
        return os.environ["LOCAL_SLURM_PARTITION"]
    p = subprocess.run(["sinfo", "-h", "-o", "%P"], stdout=subprocess.PIPE, text=True, timeout=15)
    parts = p.stdout.split()
    for x in parts:
        if x.endswith("*"):
            return x[:-1]
    return parts[0] if parts else "main"


PROBLEM = cluster_problem()


@unittest.skipIf(PROBLEM, f"live Slurm tests skipped: {PROBLEM}")
class LiveSlurm(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="mbe-live-")
        self.part = default_partition()

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def launch(self, extra, steps=4):
        args = ["-p", self.part, "-t", "00:05:00", "-ng", "8", "-gn", "8", "--detach", "false", "-ms", str(steps),
                "-m", "llama", "-mr", "llama3_8b", "-g", "h100", "-hf", "dummy", "-cb", "export EMU_TEST_MARK=1"] + extra
        env = {"NEMORUN_HOME": self.home, "MBRIDGE_EMULATOR_STEP_SLEEP": "0.02"}
        return launcher(args + ["logger.log_timers_to_tensorboard=true"], env=env, timeout=240)

    def job_id(self, out):
        ids = [re.search(r"[0-9]+$", m).group(0) for m in JOBID_RE.findall(out)]
        self.assertTrue(ids, out)
        return ids[-1]

    def log_file(self, exp):
        hits = []
        for root, _dirs, files in os.walk(os.path.join(self.home, "experiments", exp)):
            hits += [os.path.join(root, f) for f in files if f.startswith("log-") and f.endswith("_0.out")]
        self.assertEqual(len(hits), 1, hits)
        with open(hits[0]) as f:
            return hits[0], f.read()

    def test_completed_run(self):
        p = self.launch([])
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-2000:])
        exp = "pretrain_llama3_8b_bf16_gpus8_tp1_pp1_cp2_vpNone_ep1_etpNone_mbs1_gbs128"
        prefix = exp[-10:] + "/0 "
        jid = self.job_id(p.stdout)
        self.assertIn(f"Launched app: slurm_tunnel://nemo_run/{jid}", p.stdout)
        self.assertIn(f"- Job id: {jid}", p.stdout)
        relayed = [ln for ln in p.stdout.splitlines() if STEP_RE.search(ln)]
        self.assertEqual(len(relayed), 4, p.stdout[-3000:])
        self.assertTrue(all(ln.startswith(prefix + "Step Time : ") for ln in relayed), relayed)
        self.assertIn("Slurm state COMPLETED", p.stdout)
        path, text = self.log_file(exp)
        self.assertTrue(path.endswith(f"_{jid}_0.out"), path)
        self.assertEqual(len(STEP_RE.findall(text)), 4)
        exp_dirs = os.listdir(os.path.join(self.home, "experiments", exp))
        self.assertEqual(len(exp_dirs), 1)
        self.assertTrue(re.fullmatch(re.escape(exp) + r"_\d{10}", exp_dirs[0]), exp_dirs)
        self.assertTrue(os.path.isfile(os.path.join(self.home, "experiments", exp, exp_dirs[0], exp + "_sbatch.sh")))

    def test_crash_fails(self):
        p = self.launch(["-cb", "export MBRIDGE_EMULATOR_FAULT=crash@2", "-tp", "2", "-cp", "1"])
        self.assertEqual(p.returncode, 1, p.stdout[-3000:] + p.stderr[-2000:])
        self.assertIn("Slurm state FAILED", p.stdout)
        self.assertEqual(len([ln for ln in p.stdout.splitlines() if STEP_RE.search(ln)]), 1)
        self.assertIn("Traceback (most recent call last)", p.stdout)
        _, text = self.log_file("pretrain_llama3_8b_bf16_gpus8_tp2_pp1_cp1_vpNone_ep1_etpNone_mbs1_gbs128")
        self.assertIn("Traceback (most recent call last)", text)
        self.assertIn("injected crash at iteration 2", text)

    def test_flaky_first_attempt_is_retried_as_a_new_job(self):
        p = self.launch(["-cb", "export MBRIDGE_EMULATOR_FAULT=flaky", "-tp", "2", "-cp", "1"], steps=2)
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-2000:])
        exp = "pretrain_llama3_8b_bf16_gpus8_tp2_pp1_cp1_vpNone_ep1_etpNone_mbs1_gbs128"
        launched = re.findall(r"Launched app: slurm_tunnel://nemo_run/(\d+)", p.stdout)
        listed = re.findall(r"- Job id: (\d+)", p.stdout)
        self.assertEqual(len(launched), 2, p.stdout[-3000:])
        self.assertNotEqual(launched[0], launched[1])
        self.assertEqual(listed, launched)
        self.assertIn(f"Starting attempt 2 of 3 for {exp}", p.stdout)
        self.assertLess(p.stdout.index("Connection reset by peer"), p.stdout.index("Starting attempt 2"))
        self.assertEqual(len(os.listdir(os.path.join(self.home, "experiments", exp))), 2)
        self.assertEqual(len([ln for ln in p.stdout.splitlines() if STEP_RE.search(ln)]), 2)

    def test_detach_returns_after_submission(self):
        p = launcher(["-p", self.part, "-t", "00:05:00", "-ng", "8", "--detach", "true", "-ms", "2", "-m", "llama",
                      "-mr", "llama3_8b", "-g", "h100", "-mb", "2", "-cp", "1"],
                     env={"NEMORUN_HOME": self.home, "MBRIDGE_EMULATOR_STEP_SLEEP": "0"}, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        jid = self.job_id(p.stdout)
        self.assertNotIn("Step Time", p.stdout)
        for _ in range(200):
            q = subprocess.run(["squeue", "-h", "-j", jid, "-o", "%T"], stdout=subprocess.PIPE, text=True)
            if not q.stdout.strip() or q.stdout.strip() not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING"):
                break
            time.sleep(0.2)


if __name__ == "__main__":
    if PROBLEM:
        print(f"NOTE: {PROBLEM}; live Slurm tests will be skipped", file=sys.stderr)
    unittest.main()
