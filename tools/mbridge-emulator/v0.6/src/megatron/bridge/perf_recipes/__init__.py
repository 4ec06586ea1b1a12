"""Flat performance recipes -- EMULATED (mbridge-emulator, a test double).

Megatron-Bridge v0.6.0 keeps one function per recipe, task, GPU count, GPU type
and precision under ``src/megatron/bridge/perf_recipes/<family>/<gpu>/``. Its
presence is how callers tell v0.6.0 from v0.3.0 (whose recipes live in
``scripts/performance/configs/``). The emulator resolves configurations from
the tables in scripts/performance/emulator_model.py; the functions below only
carry the real names.
"""
