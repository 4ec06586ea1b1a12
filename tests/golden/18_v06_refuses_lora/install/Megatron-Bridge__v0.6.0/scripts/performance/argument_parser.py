"""TEST DOUBLE for benchpilot's golden tests: an excerpt in the form of Megatron-Bridge's
scripts/performance/argument_parser.py (v0.6.0 interface), holding only the flags these cases use.
benchpilot reads its add_argument calls; nothing runs it."""
import argparse

NUM_GPUS_PER_NODE_MAP = {
    "h100": 8,
    "b200": 8,
    "b300": 8,
    "gb200": 4,
    "gb300": 4,
    "vr200": 4,
    "r100": 1,
}


def parse_cli_args():
    parser = argparse.ArgumentParser(description="Megatron-Bridge", argument_default=None)
    parser.add_argument("-m", "--model_family_name", type=str, required=True)
    parser.add_argument("-mr", "--model_recipe_name", type=str, required=True)
    parser.add_argument("--max_retries", type=int, default=2)
    parser.add_argument("-ng", "--num_gpus", type=int, required=True)
    training = parser.add_argument_group("Training arguments")
    training.add_argument("--task", choices=["pretrain", "sft", "peft"], default="pretrain")
    training.add_argument("-ms", "--max_steps", type=int)
    tokenizer = parser.add_argument_group("Tokenizer arguments")
    hf_mode = tokenizer.add_mutually_exclusive_group()
    hf_mode.add_argument("-hf", "--hf_token", type=str, help="HuggingFace token.")
    hf_mode.add_argument("--offline", action="store_true", help="HF_HUB_OFFLINE=1 (no token).")
    perf = parser.add_argument_group("Performance arguments")
    perf.add_argument("-g", "--gpu", type=str, choices=NUM_GPUS_PER_NODE_MAP.keys(), required=True)
    perf.add_argument("-c", "--compute_dtype", choices=["bf16", "fp8_cs", "fp8_mx", "fp8_sc", "nvfp4"])
    perf.add_argument("-vb", "--enable_vboost", required=False)
    perf.add_argument("--moe_a2a_overlap", required=False)
    logging_args = parser.add_argument_group("Logging arguments")
    logging_args.add_argument("--save_config_filepath", type=str)
    return parser
