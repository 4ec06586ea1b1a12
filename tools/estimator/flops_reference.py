#!/usr/bin/env python3
"""Reference values for benchpilot's port of Megatron-Bridge's FLOPs count.

Runs Megatron-Bridge's own `num_floating_point_operations` (src/megatron/bridge/training/utils/
flop_utils.py) on every model of benchpilot's catalog (and the made-up shapes of
tests/data/estimator/flops_synthetic_models.toml) and prints the FLOPs per token as the rows
that src/workloads/megatron_bridge/model_flops_test.cc pins (to 1e-9 relative).

Usage (needs a Megatron-Bridge git checkout or mirror; neither torch nor Megatron is needed):

    python3 tools/estimator/flops_reference.py /path/to/Megatron-Bridge            # v0.6.0, v0.4.2
    python3 tools/estimator/flops_reference.py /path/to/Megatron-Bridge v0.6.0 v0.4.2

The function is read with `git show <tag>:src/megatron/bridge/training/utils/flop_utils.py` and
executed with its imports replaced by small stand-ins: torch (only names), Megatron-Core's hybrid
pattern helpers (main pattern + one copy of the MTP pattern per depth, as Megatron-Core counts
them) and Megatron-LM's calculate_padded_vocab_size (vocab rounded up to a multiple of
make_vocab_size_divisible_by * tp). Each catalog entry becomes the model config a provider would
build (Megatron-Core's defaults where the catalog leaves a field out). The test suite does not run
this script.
"""

import subprocess
import sys
import tomllib
import types
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "src/workloads/megatron_bridge/model_catalog.toml"
# Made-up shapes for the formula paths no catalog model takes.
SYNTHETIC = ROOT / "tests/data/estimator/flops_synthetic_models.toml"
FLOP_UTILS = "src/megatron/bridge/training/utils/flop_utils.py"
RULES = {"v0.6.0": "kFrom0_5", "v0.4.2": "kBefore0_5"}


# ---- Stand-ins for the modules flop_utils.py imports ------------------------------------------
class _Anything:
    """Any attribute, call or type use: for names the FLOPs function never really uses."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        return _Anything


def _silu(x):
    return x


def _quick_gelu(x):
    return x


class Symbols:
    ATTENTION = "*"
    MAMBA = "M"
    MLP = "-"
    MOE = "E"
    GDN = "G"
    PIPE = "|"
    MTP_SEPARATOR = "/"


def parse_hybrid_pattern(pattern):
    parts = pattern.split(Symbols.MTP_SEPARATOR)
    mtp = parts[1:]
    return SimpleNamespace(
        main_pattern=parts[0], mtp_pattern=mtp[0] if mtp else None, mtp_num_depths=len(mtp)
    )


def get_hybrid_layer_counts(pattern):
    parsed = parse_hybrid_pattern(pattern)
    counts = {c: 0 for c in "*MG-ED+"}
    for c in parsed.main_pattern.replace(Symbols.PIPE, ""):
        counts[c] += 1
    for c in parsed.mtp_pattern or "":
        counts[c] += parsed.mtp_num_depths
    return counts


def calculate_padded_vocab_size(vocab_size, divisible_by, tp, logging_enabled=True):
    multiple = divisible_by * tp
    return (vocab_size + multiple - 1) // multiple * multiple


def _install_stubs():
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__getattr__ = lambda attr: _Anything
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    functional = module("torch.nn.functional", silu=_silu)
    nn = module("torch.nn", Module=_Anything, functional=functional)
    module("torch", nn=nn, Tensor=_Anything)
    for name in ("megatron", "megatron.core", "megatron.core.models", "megatron.core.models.hybrid",
                 "megatron.core.ssm", "megatron.bridge", "megatron.bridge.data",
                 "megatron.bridge.data.packing", "megatron.bridge.data.datasets",
                 "megatron.bridge.peft", "megatron.bridge.training", "megatron.bridge.utils"):
        module(name)
    hybrid = dict(Symbols=Symbols, parse_hybrid_pattern=parse_hybrid_pattern,
                  get_hybrid_layer_counts=get_hybrid_layer_counts)
    module("megatron.core.models.hybrid.hybrid_layer_allocation", **hybrid)
    module("megatron.core.ssm.mamba_hybrid_layer_allocation", **hybrid)
    module("megatron.core.utils", get_attr_wrapped_model=_Anything)
    module("megatron.bridge.data.packing.algorithms", calculate_avg_seqlen=_Anything)
    module("megatron.bridge.data.datasets.packing_utils", calculate_avg_seqlen=_Anything)
    module("megatron.bridge.peft.lora", LoRA=type("LoRA", (), {}))
    module("megatron.bridge.training.config", ConfigContainer=_Anything)
    module("megatron.bridge.utils.vocab_utils", calculate_padded_vocab_size=calculate_padded_vocab_size)


def load_flops_function(repo, tag):
    source = subprocess.run(["git", "-C", str(repo), "show", f"{tag}:{FLOP_UTILS}"],
                            check=True, capture_output=True, text=True).stdout
    namespace = {"__name__": f"flop_utils_{tag}"}
    exec(compile(source, f"{tag}:{FLOP_UTILS}", "exec"), namespace)
    return namespace["num_floating_point_operations"]


# ---- Catalog entry -> the model config a provider builds ---------------------------------------
def model_config(name, e, tp, seq_length, mtp):
    h, heads = e["hidden_size"], e["num_attention_heads"]
    opt = lambda key: e.get(key) or None  # noqa: E731  (omitted or 0: unset)
    hybrid = e.get("kind") == "hybrid"
    pattern = e.get("hybrid_layer_pattern")
    if hybrid and mtp and e.get("mtp_hybrid_layer_pattern"):
        pattern = pattern + "".join("/" + e["mtp_hybrid_layer_pattern"] for _ in range(mtp))
    window = e.get("window_size")
    num_layers = e["num_layers"]
    moe_layer_freq = e.get("moe_layer_freq", 1)
    if e.get("num_moe_experts") and "moe_layer_freq" not in e and e.get("first_k_dense_replace"):
        k = e["first_k_dense_replace"]
        moe_layer_freq = [0] * k + [1] * (num_layers - k)
    model = SimpleNamespace(
        num_layers=num_layers, hidden_size=h, num_attention_heads=heads,
        num_query_groups=opt("num_query_groups"),
        kv_channels=e.get("kv_channels") or h // heads,
        ffn_hidden_size=e.get("ffn_hidden_size") or 4 * h,
        moe_ffn_hidden_size=opt("moe_ffn_hidden_size"),
        moe_shared_expert_intermediate_size=opt("moe_shared_expert_intermediate_size"),
        moe_latent_size=opt("moe_latent_size"),
        num_moe_experts=opt("num_moe_experts"),
        moe_router_topk=e.get("moe_router_topk", 2),
        moe_layer_freq=moe_layer_freq,
        mtp_num_layers=mtp or None,
        gated_linear_unit=bool(e.get("gated_linear_unit")),
        activation_func=_silu if e.get("activation") == "silu" else _quick_gelu,
        multi_latent_attention=bool(e.get("multi_latent_attention")),
        q_lora_rank=opt("q_lora_rank"), kv_lora_rank=e.get("kv_lora_rank"),
        qk_head_dim=e.get("qk_head_dim"), qk_pos_emb_head_dim=e.get("qk_pos_emb_head_dim", 0),
        v_head_dim=e.get("v_head_dim"),
        window_size=(window - 1, 0) if window else None,
        window_attn_skip_freq=opt("window_attn_skip_freq"),
        attention_output_gate=bool(e.get("attention_output_gate")),
        vocab_size=e["vocab_size"],
        make_vocab_size_divisible_by=e.get("make_vocab_size_divisible_by", 128),
        tensor_model_parallel_size=tp, seq_length=seq_length,
    )
    if hybrid:
        model.is_hybrid_model = True
        model.hybrid_layer_pattern = pattern
        model.hybrid_override_pattern = pattern  # the name before v0.4
        for key in ("mamba_state_dim", "mamba_head_dim", "mamba_num_groups"):
            setattr(model, key, e[key])
        model.mamba_num_heads = opt("mamba_num_heads")
    if e.get("linear_attention_freq"):
        model.experimental_attention_variant = "gated_delta_net"
        model.linear_attention_freq = e["linear_attention_freq"]
        for key in ("linear_key_head_dim", "linear_value_head_dim", "linear_num_key_heads",
                    "linear_num_value_heads", "linear_conv_kernel_dim"):
            setattr(model, key, e[key])
    return SimpleNamespace(model=model, peft=None, dataset=None)


def cases(catalog):
    """(model, tp, seq_length or 0 for the catalog's, mtp or None for the catalog's)."""
    for name, e in catalog.items():
        if e.get("vocab_size") and e.get("hidden_size"):
            yield name, 1, 0, None
            yield name, 8, 0, None
    yield "llama3_8b", 2, 16384, None
    yield "deepseek_v3", 4, 0, 0
    yield "gpt_oss_120b", 1, 131072, None
    yield "gpt_oss_120b", 1, 64, None  # window wider than the sequence
    yield "nemotron_3_5_lightning", 1, 0, 1


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    repo, tags = Path(argv[1]), argv[2:] or list(RULES)
    _install_stubs()
    catalog = tomllib.loads(CATALOG.read_text()) | tomllib.loads(SYNTHETIC.read_text())
    print("// Generated by tools/estimator/flops_reference.py; {model, rules, tp, seq_length, "
          "mtp (-1: the catalog's), FLOPs per token}")
    for tag in tags:
        flops = load_flops_function(repo, tag)
        for name, tp, seq, mtp in cases(catalog):
            e = catalog[name]
            seq_length = seq or e["seq_length"]
            depth = e.get("mtp_num_layers", 0) if mtp is None else mtp
            per_token = flops(model_config(name, e, tp, seq_length, depth), 1) / seq_length
            print(f'    {{"{name}", FlopsRules::{RULES.get(tag, tag)}, {tp}, {seq}, '
                  f'{-1 if mtp is None else mtp}, {per_token!r}}},  // {tag}')


if __name__ == "__main__":
    main(sys.argv)
