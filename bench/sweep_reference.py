#!/usr/bin/env python3
"""Straightforward Python check of CloudAI's Megatron-Bridge sweep constraints.

The reference for bench/sweep_bench.cc: it decodes sampled point numbers of a sweep space into
plain dicts and applies the 20 constraint_check rules the way CloudAI's Python does (18 that can
fail; rules 2 and 8 are always true there; 19 and 20 came with CloudAI PR 1025), then prints how many points were valid and how long
it took, as JSON.

Input (a JSON file named on the command line):
  {"base": {cmd_args without lists}, "axes": [[name, [values...]], ...],
   "first": 1, "stride": 97, "count": 200000}
Points are numbered 1..N with the last axis varying fastest (itertools.product order).
"""

import json
import sys
import time

DEEPSEEK_PAIRS = {(1, 1), (4, 1), (8, 1), (4, 2), (16, 1), (8, 2), (4, 4)}
TE_SCOPES = {"attn", "mlp", "moe", "moe_router", "moe_preprocess", "mamba"}


def normalize(val):
    if val is None:
        return []
    raws = val if isinstance(val, list) else [val]
    items = []
    for raw in raws:
        s = str(raw).strip().strip("\"'")
        if s.startswith("[") and s.endswith("]"):
            s = s[1:-1]
        for seg in s.split(","):
            if isinstance(val, list):
                seg = seg.strip().strip("\"'").lower()
                if seg:
                    items.append(seg)
            elif seg.strip():
                items.append(seg.strip().strip("\"'").lower())
    return items


def valid(a):
    num_gpus = a.get("num_gpus", 8)
    tp = a.get("tp") or 1
    pp = a.get("pp") or 1
    cp = a.get("cp") or 1
    vp = a.get("vp")
    mb = a.get("mb")
    gb = a.get("gb")
    et = a.get("et")
    ep = a.get("ep")
    fsdp = bool(a.get("use_megatron_fsdp"))
    ndo = a.get("num_distributed_optimizer_instances")
    offload = a.get("activation_offload_layers") or 0
    a2a = bool(a.get("moe_a2a_overlap"))
    impl = (a.get("cuda_graph_impl") or "").strip().lower()
    scopes = normalize(a.get("cuda_graph_scope"))
    recompute = set(normalize(a.get("recompute_modules")))
    recipe = (a.get("model_recipe_name") or "").lower()

    denom = tp * pp * cp
    dp = num_gpus // denom if denom > 0 else 0
    if denom == 0 or num_gpus % denom != 0:  # 1
        return False
    if dp == 0:  # 3
        return False
    if mb and gb:  # 4
        divisor = mb * dp * ((ndo or 1) if fsdp else 1)
        if divisor == 0 or gb % divisor != 0:
            return False
    impl_on = impl not in ("", "none", "null")
    graphs = impl_on and len(scopes) > 0
    if fsdp and graphs:  # 5
        return False
    if fsdp and not (pp == 1 and cp == 1 and (vp is None or vp == 1)):  # 6
        return False
    if et is not None and ep is not None:  # 7
        moe = et * ep * pp
        if moe == 0 or num_gpus % moe != 0:
            return False
    if ndo is not None and ndo > 1 and not fsdp:  # 9
        return False
    if pp > 1 and offload > 0:  # 10
        return False
    if impl_on and a2a:  # 11
        return False
    if graphs and offload > 0:  # 12
        return False
    if impl not in ("", "none", "null", "transformer_engine", "local"):  # 13
        return False
    if impl == "local" and scopes and scopes != ["full_iteration"]:  # 14
        return False
    if impl == "transformer_engine" and any(s == "full_iteration" or s not in TE_SCOPES for s in scopes):
        return False
    if "moe" in scopes and "moe_router" in scopes:  # 15
        return False
    if "moe_preprocess" in scopes and "moe_router" not in scopes:  # 16
        return False
    if scopes and recompute:  # 17
        if "attn" in scopes and recompute & {"core_attn", "mla_up_proj"}:
            return False
        if "mlp" in scopes and "mlp" in recompute:
            return False
        if "moe" in scopes and recompute & {"moe_act", "moe", "shared_experts"}:
            return False
        if "moe_router" in scopes and recompute & {"moe", "shared_experts"}:
            return False
        if "layernorm" in recompute and "attn" in scopes and "mlp" in scopes and (
            "moe" in scopes or "moe_router" in scopes
        ):
            return False
    if "deepseek_v3" in recipe or "deepseekv3" in recipe:  # 18
        if (pp, vp or 1) not in DEEPSEEK_PAIRS:
            return False
    # 19 and 20: CloudAI PR 1025; a vp of None or 1 is no virtual pipeline.
    virtual = vp is not None and vp > 1
    if virtual and pp <= 1:  # 19
        return False
    if a2a and ep is not None and ep > 1 and pp > 1 and not virtual:  # 20
        return False
    return True


def main():
    spec = json.load(open(sys.argv[1]))
    base = spec["base"]
    axes = spec["axes"]
    strides = []
    size = 1
    for _, values in reversed(axes):
        strides.append(size)
        size *= len(values)
    strides.reverse()

    start = time.perf_counter()
    good = 0
    point = spec["first"]
    for _ in range(spec["count"]):
        args = dict(base)
        rest = point - 1
        for (name, values), stride in zip(axes, strides):
            args[name] = values[rest // stride]
            rest %= stride
        if valid(args):
            good += 1
        point += spec["stride"]
    seconds = time.perf_counter() - start
    print(json.dumps({"points": spec["count"], "valid": good, "seconds": seconds}))


if __name__ == "__main__":
    main()
