#!/usr/bin/env python3
"""Runs Megatron-Bridge's own theoretical-memory function on the configurations that
src/workloads/megatron_bridge/memory_model_test.cc pins, and prints the values.

Usage: memory_reference.py THEORETICAL_MEMORY_UTILS_PY
  e.g. git -C Megatron-Bridge show v0.6.0:src/megatron/bridge/training/utils/theoretical_memory_utils.py > t.py

The file's functions are extracted with ast and executed with stub imports (no torch, no
Megatron): torch.nn.functional.silu is a sentinel and calculate_padded_vocab_size is Megatron's
rounding. The tests do not run this script; it documents where their numbers come from.
"""
import ast
import sys
from types import SimpleNamespace

SILU = object()


def calculate_padded_vocab_size(vocab, divisible_by, tp, logging_enabled=False):
    multiple = divisible_by * tp
    return (vocab + multiple - 1) // multiple * multiple


def load(path):
    tree = ast.parse(open(path).read())
    body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    module = ast.Module(body=body, type_ignores=[])
    env = {
        "F": SimpleNamespace(silu=SILU),
        "ConfigContainer": object,
        "calculate_padded_vocab_size": calculate_padded_vocab_size,
        "math": __import__("math"),
        "dataclass": __import__("dataclasses").dataclass,
        "__name__": "theoretical_memory_utils",
    }
    exec(compile(module, path, "exec"), env)
    return env


# Shapes (Megatron-Bridge providers / the Hugging Face configs their recipes name).
LLAMA3_70B = dict(num_layers=80, hidden_size=8192, num_attention_heads=64, num_query_groups=8,
                  ffn_hidden_size=28672, kv_channels=128, vocab_size=128256, gated_linear_unit=True,
                  share_embeddings_and_output_weights=False, seq_length=8192)
LLAMA31_405B = dict(num_layers=126, hidden_size=16384, num_attention_heads=128, num_query_groups=8,
                    ffn_hidden_size=53248, kv_channels=128, vocab_size=128256,
                    gated_linear_unit=True, share_embeddings_and_output_weights=False,
                    seq_length=8192)
LLAMA3_8B = dict(num_layers=32, hidden_size=4096, num_attention_heads=32, num_query_groups=8,
                 ffn_hidden_size=14336, kv_channels=128, vocab_size=128256, gated_linear_unit=True,
                 share_embeddings_and_output_weights=False, seq_length=8192)
DEEPSEEK_V3 = dict(num_layers=61, hidden_size=7168, num_attention_heads=128, num_query_groups=None,
                   ffn_hidden_size=18432, kv_channels=56, vocab_size=129280,
                   gated_linear_unit=True, share_embeddings_and_output_weights=False,
                   seq_length=4096, num_moe_experts=256, moe_router_topk=8,
                   moe_ffn_hidden_size=2048, moe_shared_expert_intermediate_size=2048,
                   moe_layer_freq=[0] * 3 + [1] * 58, mtp_num_layers=1)
QWEN3_30B_A3B = dict(num_layers=48, hidden_size=2048, num_attention_heads=32, num_query_groups=4,
                     ffn_hidden_size=6144, kv_channels=128, vocab_size=151936,
                     gated_linear_unit=True, share_embeddings_and_output_weights=False,
                     seq_length=4096, num_moe_experts=128, moe_router_topk=8,
                     moe_ffn_hidden_size=768)

# name, shape, gpus, tp, pp, cp, vp, ep, etp, mb, gb, distributed optimizer
CASES = [
    ("llama3_70b_tp4_pp4_vp5", LLAMA3_70B, 32, 4, 4, 1, 5, 1, None, 1, 64, True),
    ("llama3_70b_tp4_pp4_m2", LLAMA3_70B, 32, 4, 4, 1, None, 1, None, 1, 4, True),
    ("llama31_405b_tp1_pp1", LLAMA31_405B, 8, 1, 1, 1, None, 1, None, 1, 64, True),
    ("llama31_405b_tp8_pp8_cp2_vp8", LLAMA31_405B, 512, 8, 8, 2, 8, 1, None, 1, 256, True),
    ("llama3_8b_tp1_pp2_no_distopt", LLAMA3_8B, 8, 1, 2, 1, None, 1, None, 2, 128, False),
    ("deepseek_v3_tp2_pp8_vp4_ep32", DEEPSEEK_V3, 256, 2, 8, 1, 4, 32, 1, 1, 2048, True),
    ("qwen3_30b_a3b_ep8", QWEN3_30B_A3B, 8, 1, 1, 1, None, 8, 1, 1, 512, True),
]


def main():
    env = load(sys.argv[1])
    for name, shape, gpus, tp, pp, cp, vp, ep, etp, mb, gb, distopt in CASES:
        model = SimpleNamespace(**shape)
        model.make_vocab_size_divisible_by = 128
        model.activation_func = SILU
        model.tensor_model_parallel_size = tp
        model.pipeline_model_parallel_size = pp
        model.context_parallel_size = cp
        model.virtual_pipeline_model_parallel_size = vp
        model.expert_model_parallel_size = ep
        model.expert_tensor_parallel_size = etp if etp is not None else tp
        dp = gpus // (tp * pp * cp)
        config = SimpleNamespace(model=model, train=SimpleNamespace(micro_batch_size=mb),
                                 optimizer=SimpleNamespace(use_distributed_optimizer=distopt),
                                 data_parallel_size=dp)
        est = env["estimate_training_memory"](config, num_microbatches=gb // (mb * dp))
        print(f"{name}: weight_and_optimizer={est.weight_and_optimizer_bytes!r} "
              f"activation={est.activation.memory_bytes!r}")


if __name__ == "__main__":
    main()
