#!/usr/bin/env python3
"""nccl-tests-double: a TEST DOUBLE of NVIDIA nccl-tests (all_reduce_perf, alltoall_perf, ...).

It moves no data and needs no GPU. Invoked under one of the nccl-tests program names (through a
symlink, see --make-links), it accepts the real command-line flags and prints the real output
format of nccl-tests v2.19.6 (header, device lines, result table, footer), with times and
bandwidths from a simple model that depends on the message size, the collective and the number
of nodes. Knobs (environment variables) make it report a slow node, wrong results or a failure;
see README.md.
"""
import argparse
import math
import os
import socket
import subprocess
import sys
import time

VERSION = "2.19.6"
NCCL_CODE = 22803
COLLECTIVES = ["all_reduce", "all_gather", "alltoall", "alltoallv", "broadcast", "gather",
               "hypercube", "reduce", "reduce_scatter", "scatter", "sendrecv", "bisection"]
TYPES = {"int8": 1, "uint8": 1, "int32": 4, "uint32": 4, "int64": 8, "uint64": 8, "half": 2,
         "float": 4, "double": 8, "bfloat16": 2, "f8e4m3": 1, "f8e5m2": 1}
OPS = ["sum", "prod", "min", "max", "avg", "mulsum"]
GPU_NAME = "NVIDIA H100 80GB HBM3"
INTRA_NODE_BUSBW = 360.0  # GB/s, NVLink
INTER_NODE_BUSBW = 24.0   # GB/s per GPU over the network (8 GPUs share the NICs)
BASE_LATENCY_US = 8.0


def parse_size(text, name):
    t = str(text).strip()
    mult = 1
    if t and t[-1] in "KkMmGg":
        mult = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[t[-1].lower()]
        t = t[:-1]
    try:
        return int(float(t) * mult)
    except ValueError:
        print(f"invalid size specified for '{name}'")
        sys.exit(1)


def float_str(value, width):
    for decimals in (2, 1, 0):
        s = f"{value:{width}.{decimals}f}"
        if len(s) <= width:
            return s
    return f"{value:7.1e}" if width == 7 else f"{value:6.0e}"


def expand_hosts(nodelist):
    """Slurm host list -> names; scontrol when available, a small parser otherwise."""
    if not nodelist:
        return []
    try:
        out = subprocess.run(["scontrol", "show", "hostnames", nodelist], capture_output=True,
                             text=True, timeout=10)
        if out.returncode == 0 and out.stdout.split():
            return out.stdout.split()
    except (OSError, subprocess.SubprocessError):
        pass
    hosts = []
    for part in nodelist.replace("],", "];").split(";"):
        if "[" not in part:
            hosts += [p for p in part.split(",") if p]
            continue
        prefix, rng = part.split("[", 1)
        for item in rng.rstrip("]").split(","):
            if "-" in item:
                a, b = item.split("-")
                hosts += [f"{prefix}{i:0{len(a)}d}" for i in range(int(a), int(b) + 1)]
            else:
                hosts.append(prefix + item)
    return hosts


def names_in(var):
    return {n.strip() for n in os.environ.get(var, "").split(",") if n.strip()}


def parser():
    p = argparse.ArgumentParser(add_help=False)
    a = p.add_argument
    a("-t", "--nthreads", type=int, default=1)
    a("-g", "--ngpus", type=int, default=1)
    a("-b", "--minbytes", default="32M")
    a("-e", "--maxbytes", default="32M")
    a("-i", "--stepbytes", default="1M")
    a("-f", "--stepfactor", type=int, default=1)
    a("-n", "--iters", type=int, default=20)
    a("-m", "--agg_iters", type=int, default=1)
    a("-w", "--warmup_iters", type=int, default=1)
    a("-N", "--run_cycles", type=int, default=1)
    a("-p", "--parallel_init", type=int, default=0)
    a("-c", "--check", type=int, default=1)
    a("-o", "--op", default="sum")
    a("-d", "--datatype", default="float")
    a("-r", "--root", type=int, default=0)
    a("-z", "--blocking", type=int, default=0)
    a("-y", "--stream_null", type=int, default=0)
    a("-T", "--timeout", type=int, default=0)
    a("-G", "--cudagraph", type=int, default=0)
    a("-C", "--report_cputime", type=int, default=0)
    a("-S", "--report_timestamps", type=int, default=0)
    a("-J", "--output_file", default="")
    a("-a", "--average", type=int, default=1)
    a("-R", "--local_register", type=int, default=0)
    a("-x", "--cta_policy", type=int, default=None)
    a("-D", "--device_implementation", type=int, default=0)
    a("-V", "--device_cta_count", type=int, default=16)
    a("-M", "--memory", type=int, default=0)
    a("-u", "--unalign", type=int, default=0)
    a("-I", "--per_iter_timing", type=int, default=0)
    a("-K", "--per_iter_skip", type=int, default=0)
    a("-h", "--help", action="store_true")
    a("--make-links", default=None, help=argparse.SUPPRESS)
    return p


def collective_of(program):
    name = program[:-4] if program.endswith("_mpi") else program
    name = name[:-5] if name.endswith("_perf") else name
    return name


def shape(coll, size, elem, n, root):
    """(size column, count column, bytes for algbw, busbw factor, redop shown, root shown)."""
    if coll in ("all_gather", "reduce_scatter", "alltoall", "alltoallv", "gather", "scatter",
                "hypercube", "bisection"):
        per = 16 // elem if elem < 16 else 1
        base = (size // elem // n) // per * per
        size_col = base * n * elem
        algbytes = base * elem * (n - 1) if coll == "hypercube" else base * elem * n
        factor = 1.0 if coll == "hypercube" else (n - 1) / n
        rooted = coll in ("gather", "scatter")
        return size_col, base, algbytes, factor, rooted
    count = size // elem
    factor = {"all_reduce": 2 * (n - 1) / n}.get(coll, 1.0)
    rooted = coll in ("broadcast", "reduce")
    return count * elem, count, count * elem, factor, rooted


def main(argv):
    program = os.path.basename(argv[0])
    args, unknown = parser().parse_known_args(argv[1:])
    if args.make_links:
        os.makedirs(args.make_links, exist_ok=True)
        me = os.path.abspath(__file__)
        for c in COLLECTIVES:
            for suffix in ("_perf", "_perf_mpi"):
                link = os.path.join(args.make_links, c + suffix)
                if not os.path.lexists(link):
                    os.symlink(me, link)
        return 0
    if unknown:
        print(f"invalid option '{unknown[0]}'")
        return 1
    coll = collective_of(program)
    if coll not in COLLECTIVES:
        print(f"nccl-tests-double: run me as one of the nccl-tests programs, e.g. "
              f"all_reduce_perf_mpi (not '{program}'); --make-links DIR creates them",
              file=sys.stderr)
        return 2
    mpi = program.endswith("_mpi")
    nprocs = int(os.environ.get("SLURM_STEP_NUM_TASKS", os.environ.get("SLURM_NTASKS", "1"))) if mpi else 1
    rank = int(os.environ.get("SLURM_PROCID", "0")) if mpi else 0
    me = os.environ.get("SLURMD_NODENAME") or socket.gethostname()
    hosts = expand_hosts(os.environ.get("SLURM_STEP_NODELIST", "")) if mpi else []
    hosts = hosts or [me]
    per_proc = args.nthreads * args.ngpus
    n = nprocs * per_proc
    nodes = len(hosts)
    if rank != 0:
        return 0  # only global rank 0 prints, as in nccl-tests

    minb = parse_size(args.minbytes, "minbytes")
    maxb = parse_size(args.maxbytes, "maxbytes")
    step = parse_size(args.stepbytes, "stepBytes")
    if minb > maxb:
        print(f"invalid sizes for 'minbytes' and 'maxbytes': {minb} > {maxb}")
        return 1
    dtype = args.datatype if args.datatype in TYPES else "float"
    if args.datatype not in TYPES:
        print(f"invalid type {args.datatype}, defaulting to float .. ")
    op = args.op if args.op in OPS else "sum"
    elem = TYPES[dtype]

    slow = names_in("NCCL_TESTS_DOUBLE_SLOW_NODES") & set(hosts)
    slow_factor = float(os.environ.get("NCCL_TESTS_DOUBLE_SLOW_FACTOR", "0.1"))
    wrong_nodes = names_in("NCCL_TESTS_DOUBLE_WRONG_NODES")
    wrong = int(os.environ.get("NCCL_TESTS_DOUBLE_WRONG", "0") or 0)
    if wrong_nodes & set(hosts) and not wrong:
        wrong = 1024
    fail = os.environ.get("NCCL_TESTS_DOUBLE_FAIL", "").strip()
    time.sleep(float(os.environ.get("NCCL_TESTS_DOUBLE_SLEEP", "0") or 0))
    peak = INTRA_NODE_BUSBW if nodes <= 1 else INTER_NODE_BUSBW * 8 / (1 + 0.1 * (nodes - 2))
    if slow:
        peak *= slow_factor

    out = []
    w = out.append
    w(f"# nccl-tests version {VERSION} nccl-headers={NCCL_CODE} nccl-library={NCCL_CODE}")
    w(f"# Collective test starting: {program}")
    stepdesc = f"{args.stepfactor}(factor)" if args.stepfactor > 1 else f"{step}(bytes)"
    w(f"# nThread {args.nthreads} nGpus {args.ngpus} minBytes {minb} maxBytes {maxb} step: {stepdesc} "
      f"warmup iters: {args.warmup_iters} iters: {args.iters} agg iters: {args.agg_iters} "
      f"validation: {args.check} graph: {args.cudagraph} unalign: {args.unalign}")
    if args.blocking == 1:
        w("# Blocking Enabled: wait and barrier after each inner iteration (-m) ")
    if args.parallel_init:
        w("# Parallel Init Enabled: threads call into NcclInitRank concurrently ")
    w("#")
    w("# Using devices")
    gpus_per_host = max(1, n // nodes)
    for r in range(n):
        host = hosts[min(r // gpus_per_host, nodes - 1)]
        dev = r % gpus_per_host
        pid = 40000 + (r // per_proc) + 97 * hosts.index(host)
        w(f"#  Rank {r:2d} Group  0 Pid {pid:6d} on {host:>10s} device {dev:2d} "
          f"[0000:{0x18 + 0x12 * dev:02x}:00] {GPU_NAME}")
    w("#")
    w("#                                                              out-of-place                       in-place          ")
    w("#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong ")
    w("#        (B)    (elements)                               (us)  (GB/s)  (GB/s)             (us)  (GB/s)  (GB/s)         ")

    sizes = []
    size = minb
    while size <= maxb:
        sizes.append(size)
        if args.stepfactor > 1:
            size *= args.stepfactor
        else:
            if step <= 0:
                break
            size += step
    busbws = []
    bad_rows = 0
    for i, size in enumerate(sizes):
        if fail == "nccl" and i == len(sizes) // 2:
            print("\n".join(out), flush=True)
            print(f"{hosts[-1]}: Test NCCL failure common.cu:1123 'remote process exited or there was a "
                  f"network error / NET/IB : Got completion from peer with status=12 (nccl-tests-double)'")
            print(f" .. {hosts[-1]} pid 40001: Test failure common.cu:1130")
            return 1
        size_col, count, algbytes, factor, rooted = shape(coll, size, elem, n, args.root)
        redop = op if coll in ("all_reduce", "reduce", "reduce_scatter") else "none"
        root = args.root if rooted else -1
        cells = []
        for placement, scale in (("out", 1.0), ("in", 0.995)):
            bw_bytes = algbytes * (factor if factor > 0 else 1.0)
            t_us = BASE_LATENCY_US * (1 + math.log2(max(n, 1))) + bw_bytes / (peak * scale * 1e3)
            algbw = algbytes / (t_us * 1e3) if t_us > 0 else 0.0
            busbw = algbw * factor
            busbws.append(busbw)
            nwrong = "N/A"
            if args.check:
                k = wrong if (placement == "in" and i == len(sizes) - 1) else 0
                bad_rows += 1 if k else 0
                nwrong = f"{k:6g}"
            else:
                nwrong = "   N/A"
            cells.append(f"  {float_str(t_us, 7)}  {float_str(algbw, 6)}  {float_str(busbw, 6)}  {nwrong}")
        w(f"{size_col:12d}  {count:12d}  {dtype:>8s}  {redop:>6s}  {root:6d}" + "".join(cells))
    avg = sum(busbws) / len(busbws) if busbws else 0.0
    w(f"# {'Out of bounds values':<20s} : {bad_rows} {'OK' if bad_rows == 0 else 'FAILED'}")
    min_bw = os.environ.get("NCCL_TESTS_MIN_BW")
    verdict = ""
    bw_failed = False
    if min_bw:
        bw_failed = avg < 0.9 * float(min_bw)
        verdict = "FAILED" if bw_failed else "OK"
    w(f"# {'Avg bus bandwidth':<20s} : {avg:g} {verdict}")
    w("#")
    w(f"# Collective test concluded: {program}")
    w("#")
    w("")
    print("\n".join(out), flush=True)
    if bad_rows or bw_failed:
        for h in hosts:
            print(f" .. {h} pid {40000 + 97 * hosts.index(h)}: Test failure common.cu:1454", flush=True)
        return 7
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
