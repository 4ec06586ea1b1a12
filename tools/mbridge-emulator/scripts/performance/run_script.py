#!/usr/bin/env python3
"""Emulated Megatron-Bridge training entry point.

PART OF mbridge-emulator, A TEST DOUBLE: this stands in for
``scripts/performance/run_script.py`` inside the Slurm job. It trains nothing.
It parses the same arguments as the launcher, resolves the effective
configuration from a recipe table, rejects configurations the real software
rejects, and prints Megatron-Bridge-format per-step log lines whose step times
come from a deterministic synthetic performance model (see emulator_model.py).

Rank 0 (SLURM_PROCID 0) prints the training log; other ranks (one task per
node) only keep step with it. Behaviour can be injected for tests:

  MBRIDGE_EMULATOR_FAULT / emulator.fault=       crash@K, oom@K, hang@K, nccl@K, flaky@K (see README)
  MBRIDGE_EMULATOR_STEP_SLEEP / emulator.step_sleep=          real seconds per step (0.05)
  MBRIDGE_EMULATOR_STEP_TIME_SCALE / emulator.step_time_scale= multiply reported step times
  MBRIDGE_EMULATOR_ENFORCE_MEMORY / emulator.enforce_memory=   fail with OOM when the memory
                                                               estimate exceeds the GPU memory
"""

import datetime
import math
import os
import re
import sys

sys.dont_write_bytecode = True  # keep the (cloned) repository clean
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import argument_parser  # noqa: E402
from argument_parser import parse_cli_args  # noqa: E402
import emulator_model as em  # noqa: E402

EMU = "[mbridge-emulator]"
FAULT_RE = re.compile(r"^(crash|oom|hang|nccl|flaky)(?:@(\d+))?(?::(\d+(?:\+\d+)*))?$")
FAULT_KINDS = ("crash", "oom", "hang", "nccl", "flaky")


# --------------------------------------------------------------------------- emulated exception types
class OutOfMemoryError(RuntimeError):
    """Stands in for torch.OutOfMemoryError (printed with that name)."""


OutOfMemoryError.__module__ = "torch"


class DistBackendError(RuntimeError):
    """Stands in for torch.distributed.DistBackendError."""


DistBackendError.__module__ = "torch.distributed"


class DistNetworkError(RuntimeError):
    """Stands in for torch.distributed.DistNetworkError."""


DistNetworkError.__module__ = "torch.distributed"


class EmulatedTrainingCrash(RuntimeError):
    """The failure injected by crash@K."""


# --------------------------------------------------------------------------- small helpers
RANK = int(os.environ.get("SLURM_PROCID", "0") or 0)
NTASKS = int(os.environ.get("SLURM_NTASKS", "1") or 1)


def out(msg=""):
    if RANK == 0:
        sys.stdout.write(msg + "\n")
        sys.stdout.flush()


def err(msg):
    if RANK == 0:
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()


def now():
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def truthy(v):
    return str(v).strip().lower() in ("1", "true", "t", "yes", "y", "on")


def setting(hydra, key, env, default):
    """A Hydra override emulator.<key>=... wins over the environment variable."""
    if f"emulator.{key}" in hydra:
        return hydra[f"emulator.{key}"]
    v = os.environ.get(env)
    return v if v not in (None, "") else default


def parse_faults(spec):
    """'crash@3', 'hang@2', 'nccl@4:1', 'oom@1,crash@5' -> list of (kind, step, attempts|None)."""
    faults = []
    if spec is None:
        return faults
    for item in str(spec).replace(" ", "").split(","):
        if not item or item.lower() in ("none", "off"):
            continue
        m = FAULT_RE.match(item.lower())
        if not m:
            raise SystemExit(f"{EMU} invalid fault specification {item!r}: expected KIND[@STEP][:ATTEMPT[+ATTEMPT...]] "
                             f"with KIND one of {', '.join(FAULT_KINDS)}")
        attempts = {int(a) for a in m.group(3).split("+")} if m.group(3) else None
        if m.group(1) == "flaky" and attempts is None:
            attempts = {1}  # a flaky failure hits the first attempt only, so the retry passes
        faults.append((m.group(1), int(m.group(2)) if m.group(2) is not None else 1, attempts))
    return faults


def learning_rate(cfg, it):
    if it <= cfg.warmup_iters:
        return cfg.lr * it / max(cfg.warmup_iters, 1)
    decay = 50
    frac = min(1.0, (it - cfg.warmup_iters) / max(decay - cfg.warmup_iters, 1))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1.0 + math.cos(math.pi * frac))


def lm_loss(cfg, it):
    final = 2.4 + 0.25 * em.unit_noise(cfg.identity(), "loss-final")
    start = math.log(cfg.shape.vocab) + 0.1
    return final + (start - final) * math.exp(-it / 14.0) + 0.012 * em.unit_noise(cfg.identity(), "loss", it)


def grad_norm(cfg, it):
    return 0.55 + 9.0 * math.exp(-it / 5.0) + 0.04 * em.unit_noise(cfg.identity(), "gn", it)


def nemo_run_dir():
    """The folder the real container mounts at /nemo_run: the job dir, where the job log is.

    The emulator runs without a container; Slurm writes its stdout straight to
    <job dir>/log-<job>_<id>_0.out, so that file's folder is the job dir.
    MBRIDGE_EMULATOR_JOB_DIR overrides it (e.g. under srun, where stdout is a pipe)."""
    if os.environ.get("MBRIDGE_EMULATOR_JOB_DIR"):
        return os.environ["MBRIDGE_EMULATOR_JOB_DIR"]
    try:
        target = os.readlink("/proc/self/fd/1")
    except OSError:
        return None
    return os.path.dirname(target) if target.startswith("/") and os.path.isfile(target) else None


def save_config_container(cfg, args):
    """Writes ConfigContainer.yaml (a small part of Megatron-Bridge's resolved config) where
    --save_config_filepath says, /nemo_run/ mapped to the job dir."""
    path = args.save_config_filepath
    if not path or RANK != 0:
        return
    if path.startswith("/nemo_run/"):
        base = nemo_run_dir()
        if not base:
            return
        path = os.path.join(base, path[len("/nemo_run/"):])
    sh = cfg.shape
    vp = "null" if cfg.vp in (None, -1) else cfg.vp
    moe = (f"  num_moe_experts: {sh.num_experts}\n  moe_router_topk: {sh.topk}\n"
           f"  moe_ffn_hidden_size: {sh.moe_ffn}\n  moe_grouped_gemm: true\n") if sh.is_moe else \
        "  num_moe_experts: null\n"
    text = ("# mbridge-emulator (TEST DOUBLE): part of Megatron-Bridge's ConfigContainer, synthetic\n"
            "model:\n"
            f"  tensor_model_parallel_size: {cfg.tp}\n  pipeline_model_parallel_size: {cfg.pp}\n"
            f"  context_parallel_size: {cfg.cp}\n  virtual_pipeline_model_parallel_size: {vp}\n"
            f"  expert_model_parallel_size: {cfg.ep}\n  sequence_parallel: {'true' if cfg.tp > 1 else 'false'}\n"
            f"  seq_length: {sh.seq_length}\n  num_layers: {sh.num_layers}\n  hidden_size: {sh.hidden}\n"
            f"  num_attention_heads: {sh.heads}\n  num_query_groups: {sh.query_groups}\n"
            f"  ffn_hidden_size: {sh.ffn}\n  kv_channels: {sh.kv_channels}\n"
            "  normalization: RMSNorm\n  position_embedding_type: rope\n" + moe +
            "train:\n"
            f"  micro_batch_size: {cfg.mbs}\n  global_batch_size: {cfg.gbs}\n  train_iters: {cfg.max_steps}\n")
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    except OSError as e:
        err(f"{EMU} cannot write {path}: {e}")


# --------------------------------------------------------------------------- fault actions
def cgroup_memory_limit():
    """Memory limit (bytes) of our cgroup v1 memory controller if it is a real, smallish limit."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
        path = None
        for line in lines:
            parts = line.split(":", 2)
            if len(parts) == 3 and "memory" in parts[1].split(","):
                path = parts[2]
        if not path or "slurm" not in path:
            return None
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        limit = None
        p = path
        while p and p != "/":
            try:
                with open(f"/sys/fs/cgroup/memory{p}/memory.limit_in_bytes") as f:
                    v = int(f.read().strip())
                limit = v if limit is None else min(limit, v)
            except OSError:
                pass
            p = os.path.dirname(p)
        if limit is None or limit >= total * 0.6 or limit > 16 * 2 ** 30:
            return None
        return limit
    except Exception:
        return None


def exhaust_host_memory(limit):
    """Touch memory beyond the cgroup limit so that the kernel OOM-kills us (Slurm: OUT_OF_MEMORY)."""
    err(f"{EMU} oom fault: cgroup memory limit is {limit / 2 ** 20:.0f} MiB; allocating past it to get a real "
        f"OUT_OF_MEMORY job state")
    chunks = []
    chunk = 32 * 2 ** 20
    allocated = 0
    while allocated < limit * 2 + 256 * 2 ** 20:
        b = bytearray(chunk)
        b[::4096] = b"\x01" * (chunk // 4096)
        chunks.append(b)
        allocated += chunk
    err(f"{EMU} oom fault: allocated {allocated / 2 ** 20:.0f} MiB without being killed")


def hang_forever():
    sys.stdout.flush()
    sys.stderr.flush()
    while True:
        time.sleep(3600)


def oom_message(cfg):
    cap = em.GPU_MEMORY_GB.get(cfg.gpu, 80.0) * 0.989
    free = 0.31 + 0.5 * (em.unit_noise(cfg.identity(), "oomfree") + 1.0)
    return (f"CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of {cap:.2f} GiB of which "
            f"{free:.2f} GiB is free. Including non-PyTorch memory, this process has {cap - free:.2f} GiB memory in "
            f"use. Of the allocated memory {cap - free - 1.8:.2f} GiB is allocated by PyTorch, and 1.42 GiB is reserved "
            f"by PyTorch but unallocated. If reserved but unallocated memory is large try setting "
            f"PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory "
            f"Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)")


# --------------------------------------------------------------------------- emulated call stack
# Named like the real call chain so that tracebacks read naturally; each frame is real.
def initialize_megatron(cfg):
    _initialize_distributed(cfg)


def _initialize_distributed(cfg):
    try:
        em.validate(cfg)
    except em.ConfigError as e:
        exc = {"ValueError": ValueError, "AssertionError": AssertionError}.get(e.exc_type, RuntimeError)
        raise exc(str(e)) from None


def forward_backward_func(cfg, it, faults, attempt):
    for kind, step, attempts in faults:
        if step != it or (attempts is not None and attempt not in attempts):
            continue
        if kind == "crash" and RANK == 0:
            raise EmulatedTrainingCrash(
                f"mbridge-emulator injected crash at iteration {it} (fault {kind}@{step}); this is not a real failure")
        if kind == "oom" and RANK == 0:
            raise OutOfMemoryError(oom_message(cfg))
        if kind == "nccl" and RANK == 0:
            ts = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
            err(f"[rank0]:[E{ts[5:]}] [PG ID 0 PG GUID 0(default_pg) Rank 0] Watchdog caught collective operation "
                f"timeout: WorkNCCL(SeqNum={it * 97}, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) "
                f"ran for 600017 milliseconds before timing out.")
            err("[rank0]:[E] Some NCCL operations have failed or timed out. Due to the asynchronous nature of CUDA "
                "kernels, subsequent GPU operations might run on corrupted/incomplete data.")
            raise DistBackendError("NCCL communicator was aborted on rank 0. (mbridge-emulator injected nccl fault)")
        if kind == "flaky" and RANK == 0:
            err("[rank0]: torch.distributed.DistNetworkError: Connection reset by peer "
                f"(mbridge-emulator injected flaky fault at iteration {it}, attempt {attempt})")
            raise DistNetworkError(f"Connection reset by peer (mbridge-emulator injected flaky fault, attempt {attempt})")
        if kind == "hang":
            hang_forever()


def train_step(cfg, it, faults, attempt):
    forward_backward_func(cfg, it, faults, attempt)


def train(cfg, state):
    base, flops, _ = state["base"], state["flops"], None
    for it in range(1, cfg.max_steps + 1):
        train_step(cfg, it, state["faults"], state["attempt"])
        st = em.step_time_for_iteration(cfg, base, it, state["scale"])
        tflops = flops / st / cfg.world / 1e12
        out(f"Step Time : {st:.2f}s GPU utilization: {tflops:.1f}MODEL_TFLOP/s/GPU")
        line = f" [{now()}]"
        line += " iteration {:8d}/{:8d} |".format(it, cfg.max_steps)
        line += " consumed samples: {:12d} |".format(it * cfg.gbs)
        line += " elapsed time per iteration (ms): {:.1f} |".format(st * 1000.0)
        line += f" throughput per GPU (TFLOP/s/GPU): {tflops:.1f} |"
        line += f" learning rate: {learning_rate(cfg, it):.6E} |"
        line += f" global batch size: {cfg.gbs:5d} |"
        line += f" lm loss: {lm_loss(cfg, it):.6E} |"
        if cfg.shape.is_moe:
            line += f" load_balancing_loss: {1.0 + 0.02 * math.exp(-it / 8.0):.6E} |"
        line += " loss scale: 1.0 |"
        line += f" grad norm: {grad_norm(cfg, it):.3f} |"
        line += " number of skipped iterations: {:3d} |".format(0)
        line += " number of nan iterations: {:3d} |".format(0)
        out(line)
        if it in (1, 2):  # v0.6.0 prints memory after iterations 1 and 2 (v0.3.0: 1 only)
            for line in memory_report_lines(state["memory"], it):
                out(line)
        time.sleep(state["sleep"])


def gigabytes(value):
    """A figure as Megatron-Bridge's report_memory prints it: GB (10^9 bytes) rounded to 5
    significant digits, written as Python writes a float."""
    if value == 0:
        return 0.0
    return round(value, -int(math.floor(math.log10(abs(value)))) + 4)


def memory_report_lines(memory, it):
    """What training_log() prints before and as its memory report (train_utils.py,
    theoretical_memory_utils.py): rank 0's theoretical footprint (MB = 2^20 bytes) and the
    `[Rank R] (after K iterations) memory (GB)` line with MEMORY_KEYS in their order."""
    alloc, peak = memory
    mb = 1e9 / 2 ** 20
    weight_and_optimizer = max(alloc - 0.5, 0.0) * mb  # the model's static part
    activation = max(peak - alloc - 1.0, 0.0) * mb
    reserved = peak * 1.04
    figures = [("mem-allocated-gigabytes", gigabytes(alloc)), ("mem-active-gigabytes", gigabytes(alloc)),
               ("mem-inactive-gigabytes", gigabytes(0.04 * alloc)), ("mem-reserved-gigabytes", gigabytes(reserved)),
               ("mem-max-allocated-gigabytes", gigabytes(peak)), ("mem-max-active-gigabytes", gigabytes(peak)),
               ("mem-max-inactive-gigabytes", gigabytes(0.06 * peak)),
               ("mem-max-reserved-gigabytes", gigabytes(reserved)), ("mem-alloc-retires", 0),
               ("mem-allocated-count", 4000 + 100 * it)]
    return [f"Theoretical memory footprints: weight and optimizer={weight_and_optimizer:.2f} MB, "
            f"activation={activation:.2f} MB, total={weight_and_optimizer + activation:.2f} MB",
            "",
            f"[Rank 0] (after {it} iterations) memory (GB)" + "".join(f" | {k}: {v}" for k, v in figures)]


def pretrain(cfg, state):
    initialize_megatron(cfg)
    dense, expert = em.parameter_counts(cfg.shape)
    out(f"> number of parameters on (tensor, pipeline) model parallel rank (0, 0): "
        f"{int((dense / (cfg.tp * cfg.pp)) + expert / max(cfg.etp_eff * cfg.ep * cfg.pp, 1))}")
    out(f"[after model, optimizer, and learning rate scheduler are built] datetime: {now()} ")
    alloc, peak = state["memory"]
    cap = em.GPU_MEMORY_GB.get(cfg.gpu, 80.0)
    if state["enforce_memory"] and peak > cap:
        err(f"{EMU} memory estimate {peak:.1f} GB exceeds the {cap:.0f} GB of a {cfg.gpu} (enforce_memory is on)")
        raise OutOfMemoryError(oom_message(cfg))
    forward_backward_func(cfg, 0, state["faults"], state["attempt"])
    out("training ...")
    out(f"[before the start of training step] datetime: {now()} ")
    train(cfg, state)
    out(f"[after training is done] datetime: {now()} ")


def main():
    args, overrides, ignored = parse_cli_args(sys.argv[1:])
    hydra = {}
    for kv in overrides:
        k, v = kv.split("=", 1)
        hydra[k] = v
    attempt = int(os.environ.get("MBRIDGE_EMULATOR_ATTEMPT", "1") or 1)
    faults = parse_faults(setting(hydra, "fault", "MBRIDGE_EMULATOR_FAULT", None))
    try:
        sleep = float(setting(hydra, "step_sleep", "MBRIDGE_EMULATOR_STEP_SLEEP", "0.05"))
        scale = float(setting(hydra, "step_time_scale", "MBRIDGE_EMULATOR_STEP_TIME_SCALE", "1.0"))
    except ValueError as e:
        raise SystemExit(f"{EMU} bad numeric setting: {e}")
    enforce = truthy(setting(hydra, "enforce_memory", "MBRIDGE_EMULATOR_ENFORCE_MEMORY", "0"))

    out(f"{EMU} EMULATED Megatron-Bridge training: mbridge-emulator is a test double, no model is trained and all "
        f"numbers are synthetic")
    out(f"{EMU} job {os.environ.get('SLURM_JOB_ID', '-')} rank {RANK}/{NTASKS} on "
        f"{os.environ.get('SLURMD_NODENAME', os.uname().nodename)}, attempt {attempt}")
    if ignored:
        # The real run_script hands leftovers to Hydra, which cannot parse a flag as an override:
        # a flag this version lacks (e.g. --offline on v0.3.0) fails the job here.
        err(f"hydra.errors.OverrideParseException: mismatched input '{ignored[0]}' expecting ID "
            f"(unrecognized arguments: {' '.join(ignored)})")
        return 1
    if overrides:
        out(f"Applying CLI overrides: {' '.join(overrides)}")
    if faults:
        out(f"{EMU} fault injection active: " + ", ".join(
            f"{k}@{s}" + (":" + "+".join(str(a) for a in sorted(at)) if at else "") for k, s, at in faults))

    cfg = em.resolve(args, getattr(argument_parser, "NUM_GPUS_PER_NODE_MAP", {}).get(args.gpu, 8))
    if cfg.table_found:
        out(f"Using workload base config {cfg.table_name}")
    else:
        out(f"WARNING: {EMU} no recipe table {cfg.table_name}; using generic defaults "
            f"(num_gpus=8, gbs=128, mbs=1, tp=pp=cp=ep=1)")
    if cfg.shape.generic:
        out(f"WARNING: {EMU} unknown model recipe {cfg.recipe!r}; using a generic dense shape "
            f"(layers={cfg.shape.num_layers}, hidden={cfg.shape.hidden}, heads={cfg.shape.heads})")
    if args.global_batch_size is None and cfg.gbs != cfg.gbs_table:
        out(f"Scaled global batch size from {cfg.gbs_table} to {cfg.gbs} based on {cfg.num_gpus} GPUs.")
    out(f"> parallelism: world_size={cfg.world} tp={cfg.tp} pp={cfg.pp} cp={cfg.cp} vp={cfg.vp} ep={cfg.ep} "
        f"etp={cfg.etp} dp={cfg.dp} mbs={cfg.mbs} gbs={cfg.gbs} num_microbatches={cfg.num_microbatches} "
        f"seq_length={cfg.shape.seq_length} dtype={cfg.dtype} gpu={cfg.gpu}")

    state = {"faults": faults, "attempt": attempt, "sleep": max(sleep, 0.0), "scale": scale,
             "enforce_memory": enforce}
    try:
        if cfg.dp:
            base, flops, _ = em.step_time_model(cfg)
            state["base"], state["flops"] = base, flops
            state["memory"] = em.memory_estimate_gb(cfg)
        else:
            state["base"], state["flops"], state["memory"] = 1.0, 1.0, (0.0, 0.0)
        save_config_container(cfg, args)
        pretrain(cfg, state)
    except OutOfMemoryError:
        traceback.print_exc()
        sys.stderr.flush()
        limit = cgroup_memory_limit()
        mode = os.environ.get("MBRIDGE_EMULATOR_OOM_MODE", "auto").lower()
        if limit is not None and mode != "exit":
            exhaust_host_memory(limit)
        sys.exit(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
