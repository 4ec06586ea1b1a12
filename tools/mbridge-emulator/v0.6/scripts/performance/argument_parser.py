"""Command-line interface of the Megatron-Bridge v0.6.0 performance launcher.

PART OF mbridge-emulator, A TEST DOUBLE. This module re-creates the *interface*
of ``scripts/performance/argument_parser.py`` from Megatron-Bridge v0.6.0 (flag
names, short and long forms, types, defaults, choices, required flags, the
``-hf``/``--offline`` exclusive group) so that callers such as benchpilot can be
tested without GPUs, containers or NeMo-Run. It is an independent
implementation written from the public documentation of that interface;
nothing here trains a model. ``make_tree.py --version 0.6.0`` puts it in place
of the v0.3.0 file.

Differences from v0.3.0 that matter to callers: ``--task`` is
``pretrain|sft|peft`` (``lora`` is rejected), ``-g`` accepts ``vr200`` and
``r100``, ``-gn`` defaults to None (GPUs per node then come from
NUM_GPUS_PER_NODE_MAP), ``-cv`` defaults to None, ``--offline`` exists and
excludes ``-hf``, the DGX Cloud flags are gone, Kubeflow and GPU-clock flags are
new.
"""

import argparse
import os
import re
from pathlib import Path

NUM_GPUS_PER_NODE_MAP = {"h100": 8, "b200": 8, "b300": 8, "gb200": 4, "gb300": 4, "vr200": 4, "r100": 1}
VALID_GPUS = list(NUM_GPUS_PER_NODE_MAP)
VALID_DTYPES = ["bf16", "fp8_cs", "fp8_mx", "fp8_sc", "nvfp4"]
VALID_CUDA_GRAPH_IMPLS = ["none", "local", "transformer_engine"]
VALID_CUDA_GRAPH_SCOPES = ["full_iteration", "attn", "mlp", "moe", "moe_router", "moe_preprocess", "mamba"]
# Flags only the launcher reads; they are not forwarded to bootstrap.py (_filter_run_script_args).
LAUNCHER_ONLY_FLAGS = ["-lgc", "-lmc", "-vb", "--additional_slurm_params", "--csp", "--enable_vboost",
                       "--lock_gpu_freq", "--peak_mem_clk"]
LAUNCHER_ONLY_PREFIXES = ["--kubeflow_"]

DEFAULT_NEMO_HOME = os.environ.get("NEMO_HOME", str(Path.home() / ".cache" / "nemo"))


# --------------------------------------------------------------------------- value types
# The function names matter: argparse quotes them in its error messages
# ("invalid bool_arg value: 'maybe'").

def lower_str(value):
    """Lower-case a string argument."""
    return str(value).lower()


def bool_arg(value):
    """true/1/t/yes/y -> True, false/0/f/no/n -> False, anything else is an error."""
    v = str(value).lower()
    if v in ("true", "1", "t", "yes", "y"):
        return True
    if v in ("false", "0", "f", "no", "n"):
        return False
    raise ValueError(f"Invalid value for boolean argument: {value}")


def list_of_strings(value):
    """'a,b,c' -> ['a', 'b', 'c']."""
    return value.split(",")


def list_of_ints(value):
    """'0,1,2' -> [0, 1, 2]."""
    try:
        return [int(part, 10) for part in value.split(",")]
    except Exception:
        raise argparse.ArgumentTypeError(f"invalid comma-separated integer list: {value!r}") from None


def to_dict(value):
    """'K1=V1,K2=V2' -> {'K1': 'V1', 'K2': 'V2'} (values must not contain ',' or '=')."""
    return dict(item.split("=") for item in value.split(","))


def vp_size(value):
    """Virtual pipeline size: the literal string None disables it, otherwise an int."""
    return None if value == "None" else int(value)


def optional_int(value):
    return int(value) if value is not None else None


def cuda_graph_impl(value):
    if value in VALID_CUDA_GRAPH_IMPLS:
        return value
    raise ValueError(f"Invalid value for cuda_graph_impl: {value}. Valid options are: {VALID_CUDA_GRAPH_IMPLS}")


def cuda_graph_scope(value):
    scopes = value.split(",")
    if all(s in VALID_CUDA_GRAPH_SCOPES for s in scopes):
        return scopes
    raise ValueError(
        f"Invalid value for cuda_graph_scope: {value}. Valid options are: {VALID_CUDA_GRAPH_SCOPES}. "
        "Comma separated list of scopes is allowed."
    )


def parse_additional_slurm_params(value):
    """'k1=v1;k2=v2' (or space separated, or a single item) -> dict; a bare 'k' -> {'k': True}."""
    if not value:
        return None
    if ";" in value:
        parts = value.split(";")
    elif " " in value:
        parts = value.split()
    else:
        parts = [value]
    params = {}
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            key, val = part.split("=", 1)
            params[key.strip()] = val.strip()
        else:
            params[part] = True
    return params or None



def parse_kv(value):
    """One KEY=VALUE (the value may contain ',' and '='); KEY must be an identifier."""
    if "=" not in value:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    key, val = value.split("=", 1)
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
        raise argparse.ArgumentTypeError(f"invalid environment variable name {key!r}")
    return key, val


def flex_dispatcher_backend(value):
    """deepep, hybridep, or the literal None (alltoall dispatcher); -1 (default) keeps the recipe's."""
    if value == "None":
        return None
    if value in ("deepep", "hybridep"):
        return value
    raise ValueError(f"Invalid value for moe_flex_dispatcher_backend: {value}")


# --------------------------------------------------------------------------- parser
def build_parser():
    p = argparse.ArgumentParser(
        description="Megatron-Bridge Pretraining and Fine-Tuning (mbridge-emulator: a test double, no real training)",
        argument_default=None,
    )
    p.add_argument("--domain", type=lower_str, choices=["llm", "vlm", "qwen3vl", "diffusion"], default="llm",
                   help="Domain of the experiment")
    p.add_argument("-m", "--model_family_name", type=lower_str, required=True, help="Model family, e.g. llama")
    p.add_argument("-mr", "--model_recipe_name", type=lower_str, required=True, help="Model recipe, e.g. llama3_8b")
    p.add_argument("--use_recipes", action="store_true", default=False, help="Use library recipes")
    p.add_argument("-nh", "--nemo_home", type=str, default=DEFAULT_NEMO_HOME, help="NEMO_HOME for the job")
    p.add_argument("--detach", type=bool_arg, default=True, help="Return right after submission (default true)")
    p.add_argument("--max_retries", type=int, default=2, help="Launcher-level retries of flaky failures")
    p.add_argument("-ng", "--num_gpus", type=int, required=True, help="Number of GPUs")
    p.add_argument("--hidden_size", type=int, default=None)
    p.add_argument("--num_layers", type=int, default=None)
    p.add_argument("--num_moe_experts", type=int, default=None)
    p.add_argument("--pipeline_model_parallel_layout", type=str, default=None)
    p.add_argument("--first_k_dense_replace", type=int, default=None)
    p.add_argument("-d", "--dryrun", action="store_true", help="Print the sbatch script, submit nothing")

    g = p.add_argument_group("Training arguments")
    g.add_argument("--task", choices=["pretrain", "sft", "peft"], default="pretrain")
    g.add_argument("-ms", "--max_steps", type=int, help="Training steps (emulator default: 10)")
    g.add_argument("-gb", "--global_batch_size", type=int)
    g.add_argument("-mb", "--micro_batch_size", type=int)
    g.add_argument("-sl", "--seq_length", type=int)
    g.add_argument("--distributed_timeout_minutes", type=int)

    g = p.add_argument_group("Optimizer arguments")
    g.add_argument("--lr", type=float)
    g.add_argument("--min_lr", type=float)
    g.add_argument("--warmup_iters", type=int, default=10)

    g = p.add_argument_group("Checkpointing arguments")
    g.add_argument("--pretrained_checkpoint", type=str)
    g.add_argument("--save_dir", type=str)
    g.add_argument("--load_dir", type=str)
    g.add_argument("--save_interval", type=int)
    g.add_argument("--most_recent_k", type=int)

    g = p.add_argument_group("Data arguments")
    g.add_argument("--data", type=str, default="mock", choices=["mock", "rp2", "squad", "squad_packed", "c4"])
    g.add_argument("--c4_root", type=str)
    g.add_argument("--c4_train_shards", type=int, nargs="+", default=[6])
    g.add_argument("--dataset_paths", nargs="*")
    g.add_argument("--dataset_root", type=str)
    g.add_argument("--index_mapping_dir", type=str)
    g.add_argument("--dataset_name", type=str)
    g.add_argument("--packed_sequence", action="store_true")
    g.add_argument("--head_only", action="store_true")
    g.add_argument("--diffusion_dataset_path", type=str)

    g = p.add_argument_group("Tokenizer arguments")
    g.add_argument("--tokenizer_type", type=str, choices=["NullTokenizer", "HuggingFaceTokenizer", "SentencePieceTokenizer"])
    g.add_argument("--tokenizer_model", type=str)
    g.add_argument("--vocab_size", type=int, default=32000)
    hub = g.add_mutually_exclusive_group()
    hub.add_argument("-hf", "--hf_token", type=str)
    hub.add_argument("--offline", action="store_true", help="Use the local HF cache only (HF_HUB_OFFLINE=1)")

    g = p.add_argument_group("Parallelism arguments")
    g.add_argument("-tp", "--tensor_model_parallel_size", type=int)
    g.add_argument("-pp", "--pipeline_model_parallel_size", type=int)
    g.add_argument("-cp", "--context_parallel_size", type=int)
    g.add_argument("-vp", "--virtual_pipeline_model_parallel_size", type=vp_size, default=-1,
                   help="-1 (default): use the recipe; 'None': no virtual pipeline")
    g.add_argument("-ep", "--expert_model_parallel_size", type=int)
    g.add_argument("-et", "--expert_tensor_parallel_size", type=optional_int, nargs="?", const=None)

    g = p.add_argument_group("Slurm arguments")
    g.add_argument("-a", "--account", type=str)
    g.add_argument("-p", "--partition", type=str)
    g.add_argument("-t", "--time_limit", type=str, default="00:30:00")
    g.add_argument("--preempt_time", type=int, default=60)
    g.add_argument("-gn", "--gpus_per_node", type=int, default=None,
                   help="Default: from the GPU type (NUM_GPUS_PER_NODE_MAP)")
    g.add_argument("-i", "--container_image", type=str, default="nvcr.io/nvidia/nemo:dev")
    g.add_argument("-cm", "--custom_mounts", type=list_of_strings, default=[])
    g.add_argument("-ce", "--custom_env_vars", type=to_dict, default={})
    g.add_argument("-E", "--env", type=parse_kv, action="append", default=None,
                   help="KEY=VALUE for the job environment; repeatable; wins over -ce")
    g.add_argument("-cs", "--custom_srun_args", type=list_of_strings, default=[])
    g.add_argument("-cb", "--custom_bash_cmds", nargs="*", action="append", default=None,
                   help="Bash command run before training; repeatable")
    g.add_argument("--gres", type=str, default=None)
    g.add_argument("--additional_slurm_params", type=parse_additional_slurm_params, default=None,
                   help="Extra #SBATCH parameters: 'k=v;k=v' or bare 'k'")
    g.add_argument("--packager", type=str, default="git", choices=["git", "none"])
    g.add_argument("--enable_pct_binding", type=bool_arg, default=True)

    g = p.add_argument_group("Kubeflow arguments")
    g.add_argument("--kubeflow_namespace", type=str)
    g.add_argument("--csp", type=str, choices=["aws", "gcp"])
    g.add_argument("--kubeflow_workdir_pvc", type=str)
    g.add_argument("--kubeflow_workdir_pvc_path", type=str, default="/nemo_run")
    g.add_argument("--kubeflow_workdir_local_path", type=str)
    g.add_argument("--kubeflow_image_pull_secrets", type=list_of_strings, default=[])
    g.add_argument("--kubeflow_volumes_json", type=str)
    g.add_argument("--kubeflow_volume_mounts_json", type=str)
    g.add_argument("--kubeflow_tolerations_json", type=str)
    g.add_argument("--kubeflow_affinity_json", type=str)
    g.add_argument("--kubeflow_env_list_json", type=str)
    g.add_argument("--kubeflow_extra_resource_requests_json", type=str)
    g.add_argument("--kubeflow_extra_resource_limits_json", type=str)
    g.add_argument("--kubeflow_pod_spec_overrides_json", type=str)
    g.add_argument("--kubeflow_pod_annotations_json", type=str)
    g.add_argument("--kubeflow_container_kwargs_json", type=str)
    g.add_argument("--kubeflow_labels_json", type=str)

    g = p.add_argument_group("Performance arguments")
    g.add_argument("-g", "--gpu", type=str, choices=VALID_GPUS, required=True)
    g.add_argument("-c", "--compute_dtype", type=str, choices=VALID_DTYPES, default="bf16")
    g.add_argument("--optimizer_type", type=str, choices=["adam", "muon"], default="muon")
    g.add_argument("-vb", "--enable_vboost", type=bool_arg)
    g.add_argument("-lgc", "--lock_gpu_freq", type=int)
    g.add_argument("-lmc", "--peak_mem_clk", type=int)
    g.add_argument("-en", "--enable_nsys", action="store_true")
    g.add_argument("--export_nsys_sqlite", action="store_true")
    g.add_argument("-pyp", "--pytorch_profiler", type=bool_arg, default=False)
    g.add_argument("--profiling_start_step", type=int, default=10)
    g.add_argument("--profiling_stop_step", type=int, default=11)
    g.add_argument("-mh", "--record_memory_history", type=bool_arg, default=True)
    g.add_argument("--profiling_gpu_metrics", action="store_true")
    g.add_argument("--profiling_ranks", type=list_of_ints)
    g.add_argument("--nsys_trace", type=list_of_strings)
    g.add_argument("--nsys_extra_args", type=list_of_strings)
    g.add_argument("--use_tokendrop", type=bool_arg)
    g.add_argument("--use_megatron_fsdp", type=bool_arg)
    g.add_argument("--nccl_ub", type=bool_arg)
    g.add_argument("--cuda_graph_impl", type=cuda_graph_impl)
    g.add_argument("--cuda_graph_scope", type=cuda_graph_scope)
    g.add_argument("--moe_a2a_overlap", type=bool_arg)
    g.add_argument("-rl", "--recompute_num_layers", type=int)
    g.add_argument("-ol", "--activation_offload_layers", type=int)
    g.add_argument("--recompute_modules", type=list_of_strings)
    g.add_argument("--moe_flex_dispatcher_backend", type=flex_dispatcher_backend, default=-1)
    g.add_argument("--deterministic", action="store_true")

    g = p.add_argument_group("Logging arguments")
    g.add_argument("-wdk", "--wandb_key", type=str)
    g.add_argument("-wdp", "--wandb_project_name", type=str)
    g.add_argument("-wde", "--wandb_entity_name", type=str)
    g.add_argument("-wdj", "--wandb_experiment_name", type=str)
    g.add_argument("-wds", "--wandb_save_dir", type=str)
    g.add_argument("-l", "--log_dir", type=str, default=None)
    g.add_argument("--save_config_filepath", type=str)
    g.add_argument("--dump_env", action="store_true")

    g = p.add_argument_group("Config variant arguments")
    g.add_argument("-cv", "--config_variant", type=str, default=None)
    g.add_argument("--list_config_variants", action="store_true")

    g = p.add_argument_group("Testing arguments")
    g.add_argument("--is_long_convergence_run", action="store_true")
    g.add_argument("--retry_on_testing_failure", action="store_true")
    g.add_argument("--golden_values_path", type=str)
    g.add_argument("--timing_threshold", type=float, default=0.05)
    g.add_argument("--skip_first_percent_time", type=float, default=0.70)
    g.add_argument("--correlation_threshold", type=float, default=0.95)
    g.add_argument("--high_loss_tolerance", type=float, default=0.10)
    g.add_argument("--medium_loss_tolerance", type=float, default=0.05)
    g.add_argument("--low_loss_tolerance", type=float, default=0.02)
    g.add_argument("--final_loss_tolerance", type=float, default=0.05)
    g.add_argument("--max_outlier_ratio", type=float, default=0.1)
    g.add_argument("--outlier_threshold", type=float, default=3.0)
    g.add_argument("--skip_first_percent_loss", type=float, default=0.20)
    g.add_argument("--memory_threshold", type=float, default=0.05)
    g.add_argument("--eval_time_start_step", type=int)
    g.add_argument("--eval_time_end_step", type=int)
    return p


def filter_run_script_args(argv):
    """argv without the launcher-only flags (both '--flag value' and '--flag=value' forms)."""
    out, skip = [], False
    for tok in argv:
        if skip:
            skip = False
            continue
        name = tok.split("=", 1)[0]
        if name in LAUNCHER_ONLY_FLAGS or any(name.startswith(p) for p in LAUNCHER_ONLY_PREFIXES):
            skip = "=" not in tok
            continue
        out.append(tok)
    return out


def split_unknown(unknown):
    """Split parse_known_args() leftovers into (hydra_overrides, other_tokens)."""
    overrides, other = [], []
    for tok in unknown:
        if not tok.startswith("-") and "=" in tok and not tok.startswith("="):
            overrides.append(tok)
        else:
            other.append(tok)
    return overrides, other


def parse_cli_args(argv=None):
    """Return (args, hydra_overrides, ignored_tokens)."""
    args, unknown = build_parser().parse_known_args(argv)
    overrides, other = split_unknown(unknown)
    return args, overrides, other
