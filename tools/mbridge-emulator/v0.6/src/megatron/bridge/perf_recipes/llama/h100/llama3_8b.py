"""Llama 3 8B on H100 -- EMULATED names only (mbridge-emulator, a test double)."""


def llama3_8b_pretrain_8gpu_h100_bf16_config():
    return {"tp": 1, "pp": 1, "cp": 2, "mbs": 1, "gbs": 128}


def llama3_8b_pretrain_8gpu_h100_fp8cs_config():
    return {"tp": 1, "pp": 1, "cp": 1, "mbs": 1, "gbs": 128}
