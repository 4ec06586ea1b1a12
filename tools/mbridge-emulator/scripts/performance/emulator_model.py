"""Model shapes, recipe tables, FLOPs and the synthetic performance model.

PART OF mbridge-emulator, A TEST DOUBLE of the Megatron-Bridge performance
scripts. Nothing in here measures anything: step times are computed by a
deterministic formula from the configuration so that different sweep points
produce different, repeatable and plausibly ordered results. The model FLOPs
follow Megatron-Bridge's ``num_floating_point_operations`` formula, so the
reported MODEL_TFLOP/s/GPU is consistent with the reported step time exactly as
in real Megatron-Bridge logs.
"""

import hashlib
import math
import os
import re
from dataclasses import dataclass, field, replace
from typing import List, Optional


# =========================================================================== model shapes
@dataclass(frozen=True)
class ModelShape:
    name: str
    num_layers: int
    hidden: int
    heads: int
    query_groups: int
    kv_channels: int
    ffn: int
    vocab: int
    vocab_divisible_by: int = 128
    seq_length: int = 4096
    glu: bool = True                       # SwiGLU
    num_experts: int = 0                   # 0 = dense model
    topk: int = 0
    moe_ffn: int = 0
    shared_expert_ffn: int = 0
    first_k_dense: int = 0                 # leading dense layers of a MoE model
    mla: bool = False                      # multi-latent attention (DeepSeek)
    q_lora_rank: Optional[int] = None
    kv_lora_rank: int = 0
    qk_head_dim: int = 0
    qk_pos_emb_head_dim: int = 0
    v_head_dim: int = 0
    mtp_layers: int = 0
    generic: bool = False                  # synthesized fallback shape

    @property
    def is_moe(self):
        return self.num_experts > 0


SHAPES = {
    "llama3_8b": ModelShape("llama3_8b", 32, 4096, 32, 8, 128, 14336, 128256, 128, 8192),
    "llama3_70b": ModelShape("llama3_70b", 80, 8192, 64, 8, 128, 28672, 128256, 128, 8192),
    "llama31_405b": ModelShape("llama31_405b", 126, 16384, 128, 8, 128, 53248, 128256, 128, 8192),
    "qwen3_30b_a3b": ModelShape("qwen3_30b_a3b", 48, 2048, 32, 4, 128, 6144, 151936, 128, 4096,
                                num_experts=128, topk=8, moe_ffn=768),
    "qwen3_235b_a22b": ModelShape("qwen3_235b_a22b", 94, 4096, 64, 4, 128, 12288, 151936, 128, 4096,
                                  num_experts=128, topk=8, moe_ffn=1536),
    "deepseek_v3": ModelShape("deepseek_v3", 61, 7168, 128, 128, 128, 18432, 129280, 1280, 4096,
                              num_experts=256, topk=8, moe_ffn=2048, shared_expert_ffn=2048, first_k_dense=3,
                              mla=True, q_lora_rank=1536, kv_lora_rank=512, qk_head_dim=128,
                              qk_pos_emb_head_dim=64, v_head_dim=128),
    "gpt_oss_120b": ModelShape("gpt_oss_120b", 36, 2880, 64, 8, 64, 2880, 201088, 128, 4096,
                               num_experts=128, topk=4, moe_ffn=2880),
}
SHAPES["llama31_8b"] = replace(SHAPES["llama3_8b"], name="llama31_8b")
SHAPES["llama31_70b"] = replace(SHAPES["llama3_70b"], name="llama31_70b")


def generic_shape(recipe):
    """A dense Llama-like shape whose size follows the '<N>b' in the recipe name (8B if none)."""
    m = re.search(r"(\d+(?:\.\d+)?)b", recipe)
    billions = float(m.group(1)) if m else 8.0
    billions = min(max(billions, 0.1), 2000.0)
    layers = max(4, int(round(32 * (billions / 8.0) ** 0.35 / 4.0)) * 4)
    raw = math.sqrt(billions * 1e9 / (12.5 * layers))
    unit = 1024 if raw >= 3072 else 512
    hidden = max(int(raw / unit + 0.5) * unit, 512)
    heads = max(hidden // 128, 4)
    groups = 8 if heads % 8 == 0 else 4
    ffn = int(hidden * 3.5 / 128 + 0.5) * 128
    return ModelShape(recipe or "generic", layers, hidden, heads, groups, 128, ffn, 128256, 128, 4096, generic=True)


def shape_for(recipe, hidden_size=None, num_layers=None, first_k_dense_replace=None, seq_length=None):
    shape = SHAPES.get(recipe) or generic_shape(recipe)
    if hidden_size:
        heads = shape.heads
        shape = replace(shape, hidden=hidden_size, kv_channels=max(hidden_size // heads, 1))
    if num_layers:
        shape = replace(shape, num_layers=num_layers, first_k_dense=min(shape.first_k_dense, num_layers))
    if first_k_dense_replace is not None and shape.is_moe:
        shape = replace(shape, first_k_dense=min(first_k_dense_replace, shape.num_layers))
    if seq_length:
        shape = replace(shape, seq_length=seq_length)
    return shape


def padded_vocab(shape, tp):
    mult = shape.vocab_divisible_by * max(tp, 1)
    return int(math.ceil(shape.vocab / mult) * mult)


def flops_per_token(shape, tp=1):
    """Model FLOPs per token for one training step (fwd + bwd), Megatron-Bridge formula."""
    h, s = shape.hidden, shape.seq_length
    L = shape.num_layers
    glu = 1.5 if shape.glu else 1.0
    if shape.is_moe:
        n_moe = L - shape.first_k_dense
        n_dense = shape.first_k_dense
        k = shape.topk
        last_moe = 1
    else:
        n_moe, n_dense, k, last_moe = 0, L, 0, 0
    m = shape.mtp_layers
    if m:
        n_moe += last_moe * m
        n_dense += (1 - last_moe) * m
    Lt = L + m
    ffn_moe = shape.moe_ffn or shape.ffn
    ffn_sh = shape.shared_expert_ffn
    E = 12
    mlp = E * Lt * h * (shape.ffn * glu * (n_dense / Lt) + ffn_moe * k * glu * (n_moe / Lt) + ffn_sh * glu * (n_moe / Lt))
    n = shape.heads
    if shape.mla:
        qk, rope, v = shape.qk_head_dim, shape.qk_pos_emb_head_dim, shape.v_head_dim
        if shape.q_lora_rank is None:
            q_term = h * n * (qk + rope)
        else:
            q_term = shape.q_lora_rank * (h + n * (qk + rope) + 1)
        attn = 6 * Lt * (q_term + shape.kv_lora_rank * (h + n * (qk + v) + 1) + h * rope
                         + n * v * h + s * n * (qk + rope) / 2 + s * n * v / 2)
    else:
        q_ratio = shape.kv_channels * n / h
        g = shape.query_groups or n
        attn = E * Lt * h * h * ((1 + g / n + s / h / 2) * q_ratio)
    mtp_extra = 6 * m * (3 * h + 2 * h * h)
    logits = 6 * h * padded_vocab(shape, tp) * (m + 1)
    return mlp + attn + mtp_extra + logits


def step_flops(shape, gbs, tp=1):
    return gbs * shape.seq_length * flops_per_token(shape, tp)


def parameter_counts(shape):
    """(dense_params, expert_params): rough parameter counts for memory estimates and logs."""
    h, L = shape.hidden, shape.num_layers
    emb = 2 * shape.vocab * h
    if shape.mla:
        n = shape.heads
        qr = shape.q_lora_rank or 0
        q = (h * qr + qr * n * (shape.qk_head_dim + shape.qk_pos_emb_head_dim)) if qr else h * n * (shape.qk_head_dim + shape.qk_pos_emb_head_dim)
        kv = h * (shape.kv_lora_rank + shape.qk_pos_emb_head_dim) + shape.kv_lora_rank * n * (shape.qk_head_dim + shape.v_head_dim)
        attn = q + kv + n * shape.v_head_dim * h
    else:
        attn = h * shape.heads * shape.kv_channels * 2 + 2 * h * shape.query_groups * shape.kv_channels
    mult = 3 if shape.glu else 2
    if shape.is_moe:
        n_moe = L - shape.first_k_dense
        dense = emb + L * (attn + 2 * h) + shape.first_k_dense * mult * h * shape.ffn
        dense += n_moe * (mult * h * shape.shared_expert_ffn + shape.num_experts * h)
        expert = n_moe * shape.num_experts * mult * h * shape.moe_ffn
    else:
        dense = emb + L * (attn + 2 * h + mult * h * shape.ffn)
        expert = 0
    return int(dense), int(expert)


# =========================================================================== recipe tables
@dataclass(frozen=True)
class WorkloadConfig:
    num_gpus: int = 8
    tp: int = 1
    pp: int = 1
    cp: int = 1
    vp: Optional[int] = None
    ep: int = 1
    etp: Optional[int] = None
    gbs: int = 128
    mbs: int = 1
    use_megatron_fsdp: Optional[bool] = None
    nccl_ub: Optional[bool] = None
    cuda_graph_impl: Optional[str] = None
    cuda_graph_scope: Optional[tuple] = None
    cpu_offloading_num_layers: Optional[int] = None
    recompute_num_layers: Optional[int] = None
    recompute_modules: Optional[tuple] = None
    moe_a2a_overlap: bool = False
    pp_layout: Optional[str] = None


_L8 = WorkloadConfig(num_gpus=8, gbs=128)
_L8_BW = replace(_L8, mbs=2, cuda_graph_impl="local", cuda_graph_scope=("full_iteration",))
_L70 = WorkloadConfig(num_gpus=64, gbs=128)
_L70_MX = replace(_L70, tp=2, pp=4, vp=5)
_L405 = WorkloadConfig(num_gpus=128, gbs=64, tp=4, pp=8, cp=2, vp=8)
_Q30 = WorkloadConfig(num_gpus=8, ep=8, etp=1, gbs=512, mbs=4, cuda_graph_impl="transformer_engine",
                      cuda_graph_scope=("attn", "moe_router", "moe_preprocess"))
_Q30_H100 = WorkloadConfig(num_gpus=16, ep=8, etp=1, gbs=1024, pp=2, vp=12, moe_a2a_overlap=True,
                           cuda_graph_impl="transformer_engine", cuda_graph_scope=("moe_router", "moe_preprocess"))
_Q235 = WorkloadConfig(num_gpus=64, pp=8, ep=8, etp=1, gbs=1024, cuda_graph_impl="transformer_engine",
                       cuda_graph_scope=("attn", "moe_router", "moe_preprocess"))
_Q235_H100 = WorkloadConfig(num_gpus=256, tp=2, pp=8, vp=4, ep=32, etp=1, gbs=2048, moe_a2a_overlap=True)
_DS = WorkloadConfig(num_gpus=256, gbs=2048, pp=4, vp=4, ep=64, etp=1, recompute_modules=("mla_up_proj",),
                     cuda_graph_impl="transformer_engine", cuda_graph_scope=("attn", "moe_router", "moe_preprocess"))
_DS_H100 = WorkloadConfig(num_gpus=1024, tp=2, pp=8, vp=4, ep=64, etp=1, gbs=8192,
                          recompute_modules=("mla_up_proj", "mlp"), pp_layout="Et|(tt|)*30mL")
_DS_GB300 = WorkloadConfig(num_gpus=256, gbs=2048, mbs=2, pp=2, vp=8, ep=32, etp=1, cuda_graph_scope=(),
                           recompute_modules=("mla_up_proj",), pp_layout="Et*4|(t*4|)*14tmL")
_DS_B200 = WorkloadConfig(num_gpus=256, gbs=2048, pp=16, ep=8, etp=1, recompute_modules=("mla_up_proj",))
_GPT = WorkloadConfig(num_gpus=64, gbs=512, ep=64, etp=1)

BLACKWELL = ("b200", "b300", "gb200", "gb300")

# (recipe, gpu) -> {dtype: config}; "*" matches any dtype; v2 overrides in _V2.
TABLES = {}
for _g in BLACKWELL:
    TABLES[("llama3_8b", _g)] = {"*": _L8_BW, "nvfp4": replace(_L8, mbs=4, cuda_graph_impl="none",
                                                              cuda_graph_scope=("full_iteration",))}
    TABLES[("llama3_70b", _g)] = {"*": _L70_MX}
    TABLES[("llama31_405b", _g)] = {"*": _L405}
    TABLES[("qwen3_30b_a3b", _g)] = {"*": _Q30, "fp8_mx": replace(_Q30, cuda_graph_scope=("moe_router", "moe_preprocess"))}
    TABLES[("qwen3_235b_a22b", _g)] = {"*": _Q235}
    TABLES[("deepseek_v3", _g)] = {"*": _DS}
    TABLES[("gpt_oss_120b", _g)] = {"*": _GPT}
for _g in ("gb200", "gb300"):
    TABLES[("llama3_70b", _g)] = {
        "bf16": replace(_L70, use_megatron_fsdp=True, cpu_offloading_num_layers=20),
        "fp8_cs": replace(_L70, mbs=2, use_megatron_fsdp=True, cpu_offloading_num_layers=40),
        "*": _L70_MX,
    }
TABLES[("deepseek_v3", "gb300")] = {"*": _DS_GB300}
TABLES[("deepseek_v3", "b200")] = {"*": _DS_B200}
TABLES[("llama3_8b", "h100")] = {"bf16": replace(_L8, cp=2), "fp8_cs": replace(_L8, recompute_num_layers=5)}
TABLES[("llama3_70b", "h100")] = {"bf16": replace(_L70, tp=4, pp=4, cp=2, vp=5), "fp8_cs": replace(_L70, tp=4, pp=8, vp=5)}
TABLES[("llama31_405b", "h100")] = {"bf16": replace(_L405, num_gpus=1024, tp=8, gbs=1536),
                                    "fp8_cs": replace(_L405, num_gpus=1024, tp=8, gbs=1536)}
TABLES[("qwen3_30b_a3b", "h100")] = {"bf16": _Q30_H100,
                                     "fp8_cs": replace(_Q30_H100, cuda_graph_impl=None, cuda_graph_scope=None)}
TABLES[("qwen3_235b_a22b", "h100")] = {"bf16": _Q235_H100, "fp8_cs": _Q235_H100}
TABLES[("deepseek_v3", "h100")] = {"*": _DS_H100}
TABLES[("gpt_oss_120b", "h100")] = {"bf16": _GPT}

# v2 variants that differ from v1 (global batch size doubled as in the real tables)
_V2_GBS = {"llama3_70b": 256, "llama31_405b": None, "deepseek_v3": "x2", "qwen3_235b_a22b": 8192, "gpt_oss_120b": 1280}

GENERIC_CONFIG = WorkloadConfig(num_gpus=8, gbs=128)


def lookup_workload(recipe, task, gpu, dtype, variant="v2"):
    """Return (config, table_name, found). table_name mirrors the real attribute name."""
    base = f"{recipe}_{task}_config_{gpu}_{dtype}".upper()
    per_gpu = TABLES.get((recipe, gpu))
    cfg = None
    if per_gpu is not None and task == "pretrain":
        cfg = per_gpu.get(dtype, per_gpu.get("*"))
    if cfg is None:
        return GENERIC_CONFIG, f"{base}_{(variant or 'v1').upper()}", False
    name = f"{base}_V1"
    if (variant or "v2").lower() == "v2" and recipe in _V2_GBS and _V2_GBS[recipe]:
        v2 = _V2_GBS[recipe]
        cfg = replace(cfg, gbs=cfg.gbs * 2 if v2 == "x2" else v2)
        name = f"{base}_V2"
    return cfg, name, True


# =========================================================================== effective config
@dataclass
class RunConfig:
    recipe: str
    task: str
    gpu: str
    dtype: str
    num_gpus: int
    gpus_per_node: int
    nodes: int
    world: int
    tp: int
    pp: int
    cp: int
    vp: Optional[int]
    ep: int
    etp: Optional[int]
    mbs: int
    gbs: int
    gbs_table: int
    table_num_gpus: int
    max_steps: int
    shape: ModelShape
    table_name: str
    table_found: bool
    use_megatron_fsdp: bool = False
    nccl_ub: bool = False
    moe_a2a_overlap: bool = False
    use_tokendrop: Optional[bool] = None
    cuda_graph_impl: Optional[str] = None
    cuda_graph_scope: List[str] = field(default_factory=list)
    recompute_num_layers: Optional[int] = None
    recompute_modules: List[str] = field(default_factory=list)
    cpu_offloading_num_layers: Optional[int] = None
    pp_layout: Optional[str] = None
    vboost: bool = False
    lr: float = 3e-4
    min_lr: float = 3e-5
    warmup_iters: int = 10

    @property
    def dp(self):
        d = self.tp * self.pp * self.cp
        return self.world // d if d and self.world % d == 0 else 0

    @property
    def etp_eff(self):
        return self.etp if self.etp is not None else self.tp

    @property
    def num_microbatches(self):
        denom = self.mbs * self.dp
        return self.gbs // denom if denom else 0

    def exp_config_name(self, vp_name, etp_name, gbs_name):
        return (f"gpus{self.num_gpus}_tp{self.tp}_pp{self.pp}_cp{self.cp}_vp{vp_name}_ep{self.ep}"
                f"_etp{etp_name}_mbs{self.mbs}_gbs{gbs_name}")

    def identity(self):
        """Everything that influences performance, as a stable string (the noise seed)."""
        return "|".join(str(x) for x in (
            self.recipe, self.task, self.gpu, self.dtype, self.num_gpus, self.gpus_per_node, self.tp, self.pp,
            self.cp, self.vp, self.ep, self.etp, self.mbs, self.gbs, self.shape.seq_length, self.shape.hidden,
            self.shape.num_layers, self.use_megatron_fsdp, self.nccl_ub, self.moe_a2a_overlap, self.use_tokendrop,
            self.cuda_graph_impl, ",".join(self.cuda_graph_scope), self.recompute_num_layers,
            ",".join(self.recompute_modules), self.cpu_offloading_num_layers, self.vboost))


def _pick(cli, table):
    return cli if cli is not None else table


def resolve(args, default_gpus_per_node=8):
    """Combine CLI arguments with the recipe table like Megatron-Bridge's run_script does."""
    table, table_name, found = lookup_workload(args.model_recipe_name, args.task, args.gpu, args.compute_dtype,
                                               args.config_variant)
    gpn = args.gpus_per_node or default_gpus_per_node
    nodes = max(1, -(-args.num_gpus // gpn))
    vp = table.vp if args.virtual_pipeline_model_parallel_size == -1 else args.virtual_pipeline_model_parallel_size
    gbs = args.global_batch_size
    if gbs is None:
        gbs = table.gbs
        if args.num_gpus != table.num_gpus:
            gbs = max(1, int(table.gbs / table.num_gpus * args.num_gpus))
    shape = shape_for(args.model_recipe_name, args.hidden_size, args.num_layers, args.first_k_dense_replace,
                      args.seq_length)
    scope = args.cuda_graph_scope if args.cuda_graph_scope is not None else list(table.cuda_graph_scope or [])
    rmods = args.recompute_modules if args.recompute_modules is not None else list(table.recompute_modules or [])
    lr = args.lr if args.lr is not None else 3e-4
    cfg = RunConfig(
        recipe=args.model_recipe_name, task=args.task, gpu=args.gpu, dtype=args.compute_dtype,
        num_gpus=args.num_gpus, gpus_per_node=gpn, nodes=nodes, world=nodes * gpn,
        tp=_pick(args.tensor_model_parallel_size, table.tp), pp=_pick(args.pipeline_model_parallel_size, table.pp),
        cp=_pick(args.context_parallel_size, table.cp), vp=vp,
        ep=_pick(args.expert_model_parallel_size, table.ep), etp=_pick(args.expert_tensor_parallel_size, table.etp),
        mbs=_pick(args.micro_batch_size, table.mbs), gbs=gbs, gbs_table=table.gbs, table_num_gpus=table.num_gpus,
        max_steps=args.max_steps if args.max_steps is not None else 10,
        shape=shape, table_name=table_name, table_found=found,
        use_megatron_fsdp=bool(_pick(args.use_megatron_fsdp, table.use_megatron_fsdp)),
        nccl_ub=bool(_pick(args.nccl_ub, table.nccl_ub)),
        moe_a2a_overlap=bool(_pick(args.moe_a2a_overlap, table.moe_a2a_overlap)),
        use_tokendrop=args.use_tokendrop,
        cuda_graph_impl=_pick(args.cuda_graph_impl, table.cuda_graph_impl),
        cuda_graph_scope=[s for s in scope if s],
        recompute_num_layers=_pick(args.recompute_num_layers, table.recompute_num_layers),
        recompute_modules=[m for m in rmods if m],
        cpu_offloading_num_layers=_pick(args.activation_offload_layers, table.cpu_offloading_num_layers),
        pp_layout=_pick(args.pipeline_model_parallel_layout, table.pp_layout),
        vboost=bool(args.enable_vboost),
        lr=lr, min_lr=args.min_lr if args.min_lr is not None else lr / 10, warmup_iters=args.warmup_iters or 10,
    )
    return cfg


def experiment_name(args, v06=False):
    """Experiment name as built by setup_experiment.py: v0.3.0 with CLI values, else table
    values; v0.6.0 `<task>_<recipe>_<dtype>_gpus<N>_<gpu>[_<variant>]` (no recipe lookup)."""
    if args.wandb_experiment_name:
        return args.wandb_experiment_name
    if args.use_recipes:
        return f"{args.model_recipe_name}_{args.task}_{args.num_gpus}gpu_{args.gpu}"
    if v06:
        parts = [args.task, args.model_recipe_name, args.compute_dtype, f"gpus{args.num_gpus}", args.gpu]
        if args.config_variant and args.config_variant.lower() not in ("v1", "v2"):
            parts.append(args.config_variant.lower())
        return "_".join(parts)
    table, _, _ = lookup_workload(args.model_recipe_name, args.task, args.gpu, args.compute_dtype, args.config_variant)
    tp = _pick(args.tensor_model_parallel_size, table.tp)
    pp = _pick(args.pipeline_model_parallel_size, table.pp)
    cp = _pick(args.context_parallel_size, table.cp)
    vp = table.vp if args.virtual_pipeline_model_parallel_size == -1 else args.virtual_pipeline_model_parallel_size
    ep = _pick(args.expert_model_parallel_size, table.ep)
    etp = _pick(args.expert_tensor_parallel_size, table.etp)
    mbs = _pick(args.micro_batch_size, table.mbs)
    gbs = _pick(args.global_batch_size, table.gbs)
    cfg = f"gpus{args.num_gpus}_tp{tp}_pp{pp}_cp{cp}_vp{vp}_ep{ep}_etp{etp}_mbs{mbs}_gbs{gbs}"
    return f"{args.task}_{args.model_recipe_name}_{args.compute_dtype}_{cfg}"


# =========================================================================== validation
class ConfigError(Exception):
    """A configuration Megatron-Core/Megatron-Bridge would reject. exc_type/where mimic the real error."""

    def __init__(self, exc_type, message, where):
        super().__init__(message)
        self.exc_type = exc_type
        self.where = where


VALID_RECOMPUTE_MODULES = {"core_attn", "moe_act", "layernorm", "mla_up_proj", "mlp", "moe", "shared_experts"}
DEEPSEEK_LAYOUT_PAIRS = {(1, 1), (4, 1), (8, 1), (4, 2), (16, 1), (8, 2), (4, 4)}


def layout_stages(layout):
    """Number of pipeline stages described by a layout string like 'Et|(tt|)*30mL'."""
    text = layout
    for _ in range(10):
        new = re.sub(r"\(([^()]*)\)\*(\d+)", lambda m: m.group(1) * int(m.group(2)), text)
        new = re.sub(r"([EtmL])\*(\d+)", lambda m: m.group(1) * int(m.group(2)), new)
        if new == text:
            break
        text = new
    return text.count("|") + 1, text.count("t")


def validate(cfg):
    """Raise ConfigError for configurations the real software rejects (a representative subset)."""
    W, tp, pp, cp, ep = cfg.world, cfg.tp, cfg.pp, cfg.cp, cfg.ep
    sh = cfg.shape
    for name, v in (("tensor_model_parallel_size", tp), ("pipeline_model_parallel_size", pp),
                    ("context_parallel_size", cp), ("expert_model_parallel_size", ep), ("micro_batch_size", cfg.mbs),
                    ("global_batch_size", cfg.gbs)):
        if v is None or v < 1:
            raise ConfigError("ValueError", f"{name} must be a positive integer, got {v}", "config")
    if W % (tp * pp * cp):
        raise ConfigError("RuntimeError",
                          f"world_size ({W}) is not divisible by tensor_model_parallel_size ({tp}) x "
                          f"pipeline_model_parallel_size ({pp}) x context_parallel_size ({cp})", "parallel_state")
    if sh.heads % tp:
        raise ConfigError("ValueError", f"num_attention_heads ({sh.heads}) must be a multiple of "
                          f"tensor_model_parallel_size ({tp}).", "transformer_config")
    if not sh.mla and sh.query_groups % tp and tp % sh.query_groups:
        raise ConfigError("ValueError", f"num_query_groups ({sh.query_groups}) must be a multiple of "
                          f"tensor_model_parallel_size ({tp}).", "transformer_config")
    if ep > 1 and not sh.is_moe:
        raise ConfigError("ValueError", "num_moe_experts must be non None to use expert-parallel.", "transformer_config")
    if sh.is_moe:
        etp = cfg.etp_eff
        if W % (etp * ep * pp):
            raise ConfigError("RuntimeError",
                              f"world_size ({W}) is not divisible by expert_tensor_model_pipeline size "
                              f"({etp * ep * pp})", "parallel_state")
        if sh.num_experts % ep:
            raise ConfigError("AssertionError", f"num_moe_experts ({sh.num_experts}) must be divisible by "
                              f"expert_model_parallel_size ({ep})", "moe_layer")
    dp = cfg.dp
    if cfg.gbs % (cfg.mbs * dp):
        raise ConfigError("AssertionError",
                          f"global batch size ({cfg.gbs}) is not divisible by micro batch size ({cfg.mbs}) "
                          f"times data parallel size ({dp})", "num_microbatches_calculator")
    vp = cfg.vp
    if cp > 1 and sh.seq_length % (2 * cp):
        raise ConfigError("AssertionError", f"Sequence length ({sh.seq_length}) must be divisible by 2 * "
                          f"context_parallel_size ({2 * cp})", "config")
    if vp is not None and vp > 1 and pp == 1:
        raise ConfigError("ValueError", "Virtual pipeline parallelism requires pipeline_model_parallel_size > 1",
                          "transformer_config")
    if cfg.pp_layout:
        stages, decoders = layout_stages(cfg.pp_layout)
        if stages % pp:
            raise ConfigError("ValueError", f"pipeline_model_parallel_layout has {stages} stages, not divisible by "
                              f"pipeline_model_parallel_size ({pp})", "pipeline_parallel_layout")
        if decoders != sh.num_layers:
            raise ConfigError("ValueError", f"pipeline_model_parallel_layout places {decoders} decoder layers, "
                              f"the model has {sh.num_layers}", "pipeline_parallel_layout")
        lvp = stages // pp
        if vp is not None and vp != lvp and not (vp == 1 and lvp == 1):
            raise ConfigError("ValueError", f"virtual_pipeline_model_parallel_size ({vp}) does not match the "
                              f"{lvp} virtual stages of the layout", "pipeline_parallel_layout")
    elif sh.name == "deepseek_v3" and not sh.generic:
        if (pp, vp or 1) not in DEEPSEEK_LAYOUT_PAIRS and (sh.num_layers % pp or
                                                           (vp and (sh.num_layers // pp) % vp)):
            raise ConfigError("ValueError", f"No pipeline layout for DeepSeek-V3 with pp={pp}, vp={vp}: "
                              f"num_layers ({sh.num_layers}) must be divisible by pipeline size", "deepseek_v3")
    else:
        if sh.num_layers % pp:
            raise ConfigError("AssertionError", f"num_layers ({sh.num_layers}) should be divisible by "
                              f"pipeline_model_parallel_size ({pp})", "transformer_block")
        if vp and vp > 1 and (sh.num_layers // pp) % vp:
            raise ConfigError("AssertionError", f"num_layers_per_pipeline_rank ({sh.num_layers // pp}) should be "
                              f"divisible by virtual_pipeline_model_parallel_size ({vp})", "transformer_block")
    if vp and vp > 1 and pp > 1:
        m = cfg.num_microbatches
        if m % pp and m < pp:
            raise ConfigError("RuntimeError", f"The number of microbatches ({m}) must be a multiple of (or at least) "
                              f"the pipeline parallel size ({pp}) for the interleaved schedule", "schedules")
    off = cfg.cpu_offloading_num_layers
    if off is not None:
        if not 0 <= off < sh.num_layers:
            raise ConfigError("ValueError", f"CPU offloading can be done only for layers less than {sh.num_layers}",
                              "transformer_config")
        if off > 0 and pp > 1:
            raise ConfigError("ValueError", "Currently there is no support for Pipeline parallelism with CPU offloading",
                              "transformer_config")
        if off > 0 and (cfg.recompute_num_layers or cfg.recompute_modules):
            raise ConfigError("ValueError", "CPU offloading does not work when activation recomputation is enabled",
                              "transformer_config")
        if off > 0 and cfg.cuda_graph_impl not in (None, "none"):
            raise ConfigError("ValueError", "CUDA graphs not supported with CPU offloading.", "transformer_config")
    bad = [m for m in cfg.recompute_modules if m not in VALID_RECOMPUTE_MODULES]
    if bad:
        raise ConfigError("ValueError", f"Invalid recompute module(s) {bad}; valid: {sorted(VALID_RECOMPUTE_MODULES)}",
                          "transformer_config")
    if "mla_up_proj" in cfg.recompute_modules and not sh.mla:
        raise ConfigError("ValueError", "mla_up_proj recompute requires multi-latent attention", "transformer_config")
    if cfg.recompute_num_layers is not None and cfg.recompute_num_layers > math.ceil(sh.num_layers / pp):
        raise ConfigError("ValueError", f"recompute_num_layers ({cfg.recompute_num_layers}) exceeds the "
                          f"{math.ceil(sh.num_layers / pp)} layers per pipeline stage", "transformer_config")
    impl, scope = cfg.cuda_graph_impl, cfg.cuda_graph_scope
    if impl not in (None, "none"):
        if impl == "transformer_engine" and "full_iteration" in scope:
            raise ConfigError("AssertionError", "full_iteration CUDA graph scope is not supported with "
                              "cuda_graph_impl=transformer_engine", "transformer_config")
        if "moe" in scope and "moe_router" in scope:
            raise ConfigError("AssertionError", "cuda_graph_scope must not contain both moe and moe_router",
                              "transformer_config")
        if "moe_preprocess" in scope and "moe_router" not in scope:
            raise ConfigError("AssertionError", "moe_preprocess CUDA graph scope requires moe_router",
                              "transformer_config")
        if ("moe" in scope or "moe_router" in scope) and not sh.is_moe:
            raise ConfigError("AssertionError", "moe/moe_router CUDA graph scopes require an MoE model",
                              "transformer_config")
        if cfg.recompute_num_layers and scope != ["full_iteration"]:
            raise ConfigError("AssertionError", "full recompute requires cuda_graph_scope == [full_iteration]",
                              "transformer_config")


# =========================================================================== performance model
PEAK_BF16_TFLOPS = {"h100": 989.0, "b200": 2250.0, "b300": 2250.0, "gb200": 2450.0, "gb300": 2450.0,
                    "vr200": 4000.0, "r100": 4000.0}  # Rubin: a synthetic guess
GPU_MEMORY_GB = {"h100": 80.0, "b200": 180.0, "b300": 270.0, "gb200": 186.0, "gb300": 279.0, "vr200": 288.0,
                 "r100": 288.0}
NVLINK_DOMAIN = {"h100": 8, "b200": 8, "b300": 8, "gb200": 72, "gb300": 72, "vr200": 72, "r100": 1}


def dtype_speed(gpu, dtype):
    """(peak multiplier over bf16, achievable fraction of that peak)."""
    if dtype == "bf16":
        return 1.0, 1.0
    if dtype == "nvfp4":
        if gpu == "h100":
            return 2.0, 0.62
        return (6.0 if gpu in ("b300", "gb300") else 4.0), 0.36
    # FP8 flavours; MXFP8 only exists on Blackwell, emulate as slow-path FP8 on Hopper
    if dtype == "fp8_mx" and gpu == "h100":
        return 2.0, 0.55
    return 2.0, {"fp8_cs": 0.68, "fp8_mx": 0.66, "fp8_sc": 0.64}.get(dtype, 0.66)


def unit_noise(*parts):
    """Deterministic value in [-1, 1) from the given parts."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2.0 ** 63 - 1.0


def efficiency_breakdown(cfg):
    """Multiplicative factors on the achievable throughput (1.0 = ideal)."""
    sh = cfg.shape
    gpn = cfg.gpus_per_node
    domain = max(NVLINK_DOMAIN.get(cfg.gpu, 8), gpn)
    f = {}
    f["base"] = 0.56 if not sh.is_moe else 0.38
    _, dfrac = dtype_speed(cfg.gpu, cfg.dtype)
    f["dtype"] = dfrac
    tokens = cfg.mbs * sh.seq_length / cfg.cp
    f["gemm_size"] = tokens / (tokens + 900.0) * (1.0 - 0.015 * math.log2(max(cfg.tp, 1)))
    tp_pen = 0.055 * (cfg.tp - 1) ** 0.9
    if cfg.tp > domain:
        tp_pen *= 6.0
    f["tp_comm"] = 1.0 / (1.0 + tp_pen)
    cp_pen = 0.045 * (cfg.cp - 1)
    if cfg.tp * cfg.cp > domain:
        cp_pen *= 3.0
    f["cp_comm"] = 1.0 / (1.0 + cp_pen)
    m = max(cfg.num_microbatches, 1)
    v = cfg.vp or 1
    bubble = (cfg.pp - 1) / (m * v)
    f["pp_bubble"] = 1.0 / (1.0 + bubble)
    f["pp_comm"] = 1.0 / (1.0 + 0.012 * (cfg.pp - 1) + 0.004 * (v - 1) * (cfg.pp > 1))
    dp = max(cfg.dp, 1)
    dense_params, expert_params = parameter_counts(sh)
    grad_gb = 2.0 * (dense_params / (cfg.tp * cfg.pp)) / 1e9
    dp_cross = cfg.tp * cfg.pp * cfg.cp * dp > domain
    dp_pen = 0.004 * math.log2(dp) * (1.0 + grad_gb / 4.0) * (2.5 if dp_cross else 1.0) / max(m, 1) ** 0.3
    if cfg.use_megatron_fsdp:
        dp_pen += 0.035
    f["dp_comm"] = 1.0 / (1.0 + dp_pen)
    if sh.is_moe:
        ep = cfg.ep
        a2a = 0.06 * math.log2(ep) if ep > 1 else 0.0
        if ep * cfg.etp_eff > domain:
            a2a *= 2.2
        if cfg.moe_a2a_overlap:
            a2a *= 0.55
        imbalance = 0.10 if cfg.use_tokendrop is False or cfg.use_tokendrop is None else 0.03
        experts_per_rank = sh.num_experts / ep
        f["moe_dispatch"] = 1.0 / (1.0 + a2a + imbalance)
        f["moe_grouped_gemm"] = 1.0 - 0.10 / (1.0 + experts_per_rank / 8.0) - 0.04 * math.log2(ep) / 8.0
        f["moe_etp"] = 1.0 / (1.0 + 0.05 * (cfg.etp_eff - 1))
    impl, scope = cfg.cuda_graph_impl, cfg.cuda_graph_scope
    if impl in ("local", "transformer_engine"):
        if "full_iteration" in scope:
            gain = 0.07
        else:
            gain = 0.012 * len(scope) + (0.02 if not scope else 0.0)
        f["cuda_graphs"] = 1.0 + gain * (1.0 if cfg.mbs <= 2 else 0.6)
    recompute = 0.0
    if cfg.recompute_num_layers:
        per_stage = math.ceil(sh.num_layers / cfg.pp)
        recompute += 0.33 * cfg.recompute_num_layers / per_stage
    costs = {"core_attn": 0.025, "mlp": 0.11, "mla_up_proj": 0.03, "moe_act": 0.03, "layernorm": 0.01,
             "moe": 0.13, "shared_experts": 0.04}
    recompute += sum(costs.get(x, 0.02) for x in cfg.recompute_modules)
    f["recompute"] = 1.0 / (1.0 + recompute)
    if cfg.cpu_offloading_num_layers:
        f["offload"] = 1.0 / (1.0 + 0.0025 * cfg.cpu_offloading_num_layers)
    if cfg.nccl_ub:
        f["nccl_ub"] = 1.02
    if cfg.vboost:
        f["vboost"] = 1.01
    if cfg.nodes > 1 and not dp_cross:
        f["multi_node"] = 1.0 / (1.0 + 0.01 * math.log2(cfg.nodes))
    return f


def memory_estimate_gb(cfg):
    """Rough per-GPU memory (GB) after one iteration: (allocated, max_allocated)."""
    sh = cfg.shape
    dense, expert = parameter_counts(sh)
    dp = max(cfg.dp, 1)
    dense_rank = dense / (cfg.tp * cfg.pp)
    expert_dp = max(cfg.world // max(cfg.etp_eff * cfg.ep * cfg.pp, 1), 1)
    expert_rank = expert / (cfg.etp_eff * cfg.ep * cfg.pp) if expert else 0.0
    weights = 2.0 * (dense_rank + expert_rank)
    grads = 2.0 * (dense_rank + expert_rank)
    optim = 12.0 * dense_rank / dp + (12.0 * expert_rank / expert_dp if expert else 0.0)
    if cfg.use_megatron_fsdp:
        weights /= dp
        grads /= dp
    static = (weights + grads + optim) / 1e9
    per_layer = 34.0 * cfg.mbs * sh.seq_length * sh.hidden / (cfg.tp * cfg.cp)
    if sh.is_moe:
        per_layer += 4.0 * cfg.mbs * sh.seq_length * sh.hidden * sh.topk / (cfg.tp * cfg.cp) * 0.5
    if cfg.dtype != "bf16":
        per_layer *= 0.85
    layers = math.ceil(sh.num_layers / cfg.pp)
    saved = 0
    if cfg.recompute_num_layers:
        saved += min(cfg.recompute_num_layers, layers)
    if cfg.cpu_offloading_num_layers:
        saved += min(cfg.cpu_offloading_num_layers, layers)
    frac_mod = min(0.6, sum({"core_attn": 0.15, "mlp": 0.3, "mla_up_proj": 0.1, "moe_act": 0.1, "layernorm": 0.05,
                             "moe": 0.35, "shared_experts": 0.05}.get(x, 0.05) for x in cfg.recompute_modules))
    act_layers = (layers - saved) * (1.0 - frac_mod) + saved * 0.06
    inflight = min(cfg.pp, max(cfg.num_microbatches, 1))
    if cfg.vp and cfg.vp > 1:
        inflight *= 1.0 + (cfg.pp - 1) / (cfg.pp * cfg.vp)
    acts = per_layer * act_layers * inflight / 1e9
    logits = 4.0 * cfg.mbs * sh.seq_length * padded_vocab(sh, cfg.tp) / cfg.tp / cfg.cp / 1e9
    allocated = static + 0.5
    return allocated, static + acts + logits + 1.5


def step_time_model(cfg):
    """Ideal steady-state step time in seconds plus the efficiency breakdown."""
    flops = step_flops(cfg.shape, cfg.gbs, cfg.tp)
    mult, _ = dtype_speed(cfg.gpu, cfg.dtype)
    peak = PEAK_BF16_TFLOPS.get(cfg.gpu, 989.0) * mult * 1e12
    factors = efficiency_breakdown(cfg)
    eff = 1.0
    for v in factors.values():
        eff *= v
    eff = max(eff, 0.005)
    return flops / (cfg.world * peak * eff), flops, factors


def step_time_for_iteration(cfg, base_time, iteration, scale=1.0):
    """Step time of one iteration: warm-up on the first steps, +-1% deterministic jitter afterwards."""
    if iteration == 1:
        warm = 2.6 + 0.4 * (unit_noise(cfg.identity(), "warmup") + 1.0)
    elif iteration == 2:
        warm = 1.12
    elif iteration == 3:
        warm = 1.02
    else:
        warm = 1.0
    # MBRIDGE_EMULATOR_NOISE_SEED: a different jitter per run of the same configuration, as on
    # real hardware (for measuring false alarms of run-to-run comparisons).
    seed = os.environ.get("MBRIDGE_EMULATOR_NOISE_SEED", "")
    jitter = 1.0 + 0.008 * unit_noise(cfg.identity(), "step", iteration, *([seed] if seed else []))
    return base_time * warm * jitter * scale
