#!/usr/bin/env python3
"""Per-rank entry point of the Megatron-Bridge v0.6.0 launcher -- EMULATED.

PART OF mbridge-emulator, A TEST DOUBLE. In Megatron-Bridge v0.6.0 the job runs
``bootstrap.py``, which resolves the flat perf recipe, installs its environment
defaults and then execs ``run_script.py`` with the same arguments. The emulator
has no recipe environment to install, so it only execs run_script.py.
"""

import os
import sys

sys.dont_write_bytecode = True  # keep the (cloned) repository clean

HERE = os.path.dirname(os.path.abspath(__file__))
os.execv(sys.executable, [sys.executable, os.path.join(HERE, "run_script.py")] + sys.argv[1:])
