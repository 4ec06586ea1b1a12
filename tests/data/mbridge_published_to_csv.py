#!/usr/bin/env python3
"""Turns Megatron-Bridge's published performance tables into tests/data/mbridge_published_pretrain.csv.

Usage (from a Megatron-Bridge clone):
  git -C MB show COMMIT:docs/performance-summary.md > summary.md
  git -C MB show COMMIT:docs/performance-summary-archive.md > archive.md
  tests/data/mbridge_published_to_csv.py --commit COMMIT summary.md archive.md > tests/data/mbridge_published_pretrain.csv

Only "Pre-Training Performance" sections are kept. A cell "A (B)" is two configurations: the row
is written twice, once with the values outside the parentheses (variant "main") and once with
those inside (variant "paren"; cells without parentheses keep their value). The 25.09 tables
have no precision column: their note says the parenthesized numbers use MXFP8 (GB200, B200) or
128x128/1x128 block scaling (H100), so "main" is read as FP8 current scaling and
precision_inferred is 1.
"""
import argparse
import csv
import os
import re
import sys

# Table model name (suffix in parentheses removed) -> Megatron-Bridge recipe name.
RECIPES = {
    "LLAMA3_8B": "llama3_8b",
    "LLAMA3_70B": "llama3_70b",
    "LLAMA3.1_405B": "llama31_405b",
    "DeepSeekV3": "deepseek_v3",
    "DeepSeekV4 Flash": "deepseek_v4_flash",
    "GPT OSS 120B": "gpt_oss_120b",
    "Qwen3_30B_a3B": "qwen3_30b_a3b",
    "Qwen3_235B_a22B": "qwen3_235b_a22b",
    "Kimi_K2": "kimi_k2",
    "Nemotron_3_Nano": "nemotron_3_nano",
    "Nemotron_3_5_Lightning": "nemotron_3_5_lightning",
    "Nemotron_3_Super": "nemotron_3_super",
    "Nemotron_3_Ultra": "nemotron_3_ultra",
}

# Table precision -> benchpilot compute_dtype (the launcher's -c). "FP8" is current scaling.
DTYPES = {
    "BF16": "bf16",
    "FP8": "fp8_cs",
    "FP8-CS": "fp8_cs",
    "MXFP8": "fp8_mx",
    "FP8-MX": "fp8_mx",
    "NVFP4": "nvfp4",
}

# Table header -> CSV column.
HEADERS = {
    "System": "system",
    "Model": "table_model",
    "#-GPUs": "num_gpus",
    "Precision": "precision",
    "GBS": "gbs",
    "MBS": "mbs",
    "Sequence Length": "seq_length",
    "FSDP": "fsdp",
    "TP": "tp",
    "PP": "pp",
    "CP": "cp",
    "VP": "vp",
    "EP": "ep",
    "ETP": "etp",
    "GA": "ga",
    "Tokens / sec / GPU": "tokens_per_sec_per_gpu",
    "Model TFLOP / sec / GPU": "model_tflops_per_gpu",
}

COLUMNS = [
    "release", "section", "table_model", "recipe", "model_note", "system", "gpu_type", "num_gpus",
    "precision", "compute_dtype", "precision_inferred", "variant", "gbs", "mbs", "seq_length",
    "fsdp", "tp", "pp", "cp", "vp", "ep", "etp", "ga", "tokens_per_sec_per_gpu",
    "model_tflops_per_gpu", "step_time_s", "source_file", "source_line", "source_commit",
]

PAREN = re.compile(r"^(.*?)\s*\((.*)\)\s*$")


def split_cell(cell):
    """'A (B)' -> ('A', 'B'); 'A' -> ('A', None)."""
    m = PAREN.match(cell)
    return (m.group(1).strip(), m.group(2).strip()) if m else (cell.strip(), None)


def cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def value(cell):
    return "" if cell.lower() in ("n/a", "") else cell


def rows_of(path, source_file, commit):
    release = section = model = system = None
    header = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for number, line in enumerate(lines, 1):
        if m := re.match(r"^## (\S+) NeMo Container", line):
            release, section, header = m.group(1), None, None
        elif line.startswith("### "):
            section, header = line[4:].strip(), None
        elif m := re.match(r"^#### (Model|System): (.+)$", line):
            model = system = None
            if m.group(1) == "Model":
                model = m.group(2).strip()
            else:
                system = m.group(2).strip()
            header = None
        elif line.startswith("|") and release and section == "Pre-Training Performance":
            parts = cells(line)
            if header is None:
                unknown = [p for p in parts if p not in HEADERS]
                if unknown:
                    sys.exit(f"{path}:{number}: unknown columns {unknown}")
                header = [HEADERS[p] for p in parts]
                continue
            if set(line) <= set("|- "):
                continue
            if len(parts) != len(header):
                sys.exit(f"{path}:{number}: {len(parts)} cells for {len(header)} columns")
            raw = dict(zip(header, parts))
            raw.setdefault("table_model", model)
            raw.setdefault("system", system)
            has_paren = any(split_cell(v)[1] is not None
                            for k, v in raw.items() if k not in ("table_model", "precision"))
            has_paren = has_paren or split_cell(raw.get("precision", ""))[1] is not None
            for variant in ("main", "paren") if has_paren else ("main",):
                yield make_row(raw, variant, release, section, source_file, number, commit, path)


def make_row(raw, variant, release, section, source_file, line, commit, path):
    row = {c: "" for c in COLUMNS}
    for key, cell in raw.items():
        if key == "table_model":
            continue
        main, paren = split_cell(cell)
        row[key] = value(paren if variant == "paren" and paren is not None else main)
    name, note = split_cell(raw["table_model"])
    if name not in RECIPES:
        sys.exit(f"{path}:{line}: unknown model {raw['table_model']!r}: add it to RECIPES")
    row.update(release=release, section=section, table_model=raw["table_model"],
               recipe=RECIPES[name], model_note=note or "", variant=variant,
               source_file=source_file, source_line=str(line), source_commit=commit)
    row["gpu_type"] = row["system"].removeprefix("DGX-").lower()
    if "precision" not in raw:  # 25.09: see the module docstring
        row["precision_inferred"] = "1"
        if variant == "main":
            row["precision"] = "FP8-CS"
        else:
            row["precision"] = "FP8-SC" if row["gpu_type"] == "h100" else "FP8-MX"
    else:
        row["precision_inferred"] = "0"
    dtypes = dict(DTYPES, **{"FP8-SC": "fp8_sc"})
    if row["precision"] not in dtypes:
        sys.exit(f"{path}:{line}: unknown precision {row['precision']!r}")
    row["compute_dtype"] = dtypes[row["precision"]]
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", required=True, help="Megatron-Bridge commit the files are from")
    parser.add_argument("files", nargs="+", help="performance-summary*.md, newest first")
    args = parser.parse_args()
    out = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
    print(f"# Megatron-Bridge published pre-training performance, from docs/ at commit {args.commit}"
          f" (github.com/NVIDIA-NeMo/Megatron-Bridge); generated by {os.path.basename(__file__)}")
    out.writeheader()
    for path in args.files:
        source = "docs/" + os.path.basename(path)
        for row in rows_of(path, source, args.commit):
            out.writerow(row)


if __name__ == "__main__":
    main()
