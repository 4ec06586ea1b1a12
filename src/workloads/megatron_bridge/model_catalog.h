// Shapes of Megatron-Bridge recipes (layers, heads, experts, ...) that the model-aware sweep
// rules need. The built-in catalog is src/workloads/megatron_bridge/model_catalog.toml, compiled
// in; users add or override entries with files listed in BENCHPILOT_MODEL_CATALOG
// (colon-separated).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/value.h"

namespace bp {

// The parallelism a pretrain recipe uses for fields the user does not write (for one GPU type and
// compute dtype). vp = 1: no virtual pipeline; 0 (the catalog's `unstated`): the recipe's size
// is not given here, so rules and the estimate use only a written value. `offload`, `fsdp` and
// `recompute` are the recipe's cpu_offloading_num_layers, use_megatron_fsdp and recompute_modules,
// which the memory estimate needs (the launcher keeps them unless -ol, --use_megatron_fsdp true
// or --recompute_modules is given).
struct RecipeParallelism {
  int64_t tp = 1;
  int64_t pp = 1;
  int64_t cp = 1;
  int64_t vp = 1;
  int64_t ep = 1;
  int64_t offload = 0;
  bool fsdp = false;
  std::vector<std::string> recompute;  // recompute_modules
};

struct ModelShape {
  std::string name;  // recipe name (the table name)
  std::string family;
  std::vector<std::string> aliases;
  std::string kind;  // "dense", "moe", "hybrid"
  int64_t num_layers = 0;
  int64_t hidden_size = 0;
  int64_t num_attention_heads = 0;
  int64_t num_query_groups = 0;  // 0: not grouped (MLA)
  bool multi_latent_attention = false;
  int64_t num_moe_experts = 0;
  int64_t moe_router_topk = 0;
  bool moe_shared_experts = false;
  int64_t first_k_dense_replace = 0;
  std::string hybrid_layer_pattern;
  int64_t mtp_num_layers = 0;
  int64_t seq_length = 0;
  int64_t vocab_size = 0;
  std::optional<int64_t> expert_tensor_parallel_size;
  bool account_for_embedding_in_pipeline_split = false;
  bool account_for_loss_in_pipeline_split = false;
  std::vector<std::pair<int64_t, int64_t>> auto_layout_pairs;       // (pp, vp)
  std::vector<std::pair<int64_t, int64_t>> auto_layout_pairs_v0_6;  // empty: as above

  // What Megatron's FLOPs and memory formulas need (issue: `benchpilot estimate`). 0 or empty:
  // not given in the catalog; the estimator derives Megatron's default where there is one
  // (ffn_hidden_size = 4·h, kv_channels = h / heads) and gives no estimate otherwise.
  int64_t ffn_hidden_size = 0;
  int64_t moe_ffn_hidden_size = 0;
  int64_t moe_shared_expert_intermediate_size = 0;  // 0: no shared expert
  int64_t kv_channels = 0;
  bool gated_linear_unit = false;  // SwiGLU/GeGLU: the MLP's first GEMM is twice as wide
  // Per decoder layer, 1 = MoE, 0 = dense (Megatron's moe_layer_freq expanded, first dense
  // layers included); empty = every layer MoE for an MoE model.
  std::vector<int> moe_layer_pattern;
  // Multi-latent attention (0: not MLA / not given; q_lora_rank 0: no q compression).
  int64_t q_lora_rank = 0;
  int64_t kv_lora_rank = 0;
  int64_t qk_head_dim = 0;
  int64_t qk_pos_emb_head_dim = 0;
  int64_t v_head_dim = 0;
  // Sliding-window attention: the tokens a query sees (Megatron's window_size[0] +
  // window_size[1] + 1; 0: no window) and which layers use it (Megatron's
  // window_attn_skip_freq: every N-th layer is full attention; 0: all windowed).
  int64_t window_size = 0;
  int64_t window_attn_skip_freq = 0;
  bool untie_embeddings_and_output_weights = true;
  int64_t make_vocab_size_divisible_by = 128;
  // Hybrid (Mamba) layers.
  int64_t mamba_state_dim = 0;
  int64_t mamba_head_dim = 0;
  int64_t mamba_num_groups = 0;
  int64_t mamba_num_heads = 0;  // 0: 2·hidden_size / mamba_head_dim
  // Hybrid models: the layer pattern of one multi-token-prediction depth (e.g. "*E").
  std::string mtp_hybrid_layer_pattern;
  // Before Megatron-Bridge v0.5.0 the gated-unit factor applied only to SiLU ("silu").
  std::string activation;
  bool attention_output_gate = false;  // gated attention: one more q-sized projection
  int64_t moe_latent_size = 0;         // 0: routed experts run on hidden_size
  // Gated DeltaNet (linear attention) layers: every linear_attention_freq-th layer is standard
  // attention, the others GDN (0: no GDN layers).
  int64_t linear_attention_freq = 0;
  int64_t linear_key_head_dim = 0;
  int64_t linear_value_head_dim = 0;
  int64_t linear_num_key_heads = 0;
  int64_t linear_num_value_heads = 0;
  int64_t linear_conv_kernel_dim = 0;
  // The performance recipe reduces gradients in fp32 (4-byte gradient buffers); every other
  // recipe sets ddp.grad_reduce_in_fp32 = False (2 bytes).
  bool grad_reduce_in_fp32 = false;
  // Where the numbers above come from (a provider file at a tag, or a Hugging Face config).
  std::string shape_source;
  // "<gpu>_<dtype>" (lower case) -> the pretrain recipe's parallelism.
  std::vector<std::pair<std::string, RecipeParallelism>> pretrain_defaults;
  SourceLoc loc;

  // The pretrain recipe's parallelism for this GPU type and dtype, or nullptr when unknown.
  const RecipeParallelism* pretrain_defaults_for(std::string_view gpu_type,
                                                 std::string_view compute_dtype) const;

  // The (pp, vp) pairs the pinned recipes build layouts for (v0.6 and later, or older pins).
  const std::vector<std::pair<int64_t, int64_t>>& layout_pairs(bool v0_6) const {
    return v0_6 && !auto_layout_pairs_v0_6.empty() ? auto_layout_pairs_v0_6 : auto_layout_pairs;
  }

  bool is_moe() const { return num_moe_experts > 0; }
  bool is_hybrid() const { return kind == "hybrid"; }
  // Whether some layers have a dense MLP (a CUDA-graph "mlp" scope needs one).
  bool has_dense_mlp() const;
  bool has_mamba() const { return is_hybrid(); }
};

class ModelCatalog {
 public:
  // Parses a catalog document; throws ConfigError (file, line, key) on bad entries.
  static ModelCatalog parse(const Value& doc);
  // Built-in catalog, then each file of `paths` (colon-separated; empty parts are skipped).
  static ModelCatalog load(std::string_view paths);
  // The process-wide catalog: built-in + $BENCHPILOT_MODEL_CATALOG, loaded on first use.
  static const ModelCatalog& global();

  // Adds entries, replacing those with the same name.
  void merge(const ModelCatalog& other);
  // By recipe name or alias (case-insensitive); then "<family>_<recipe>" when family is given.
  const ModelShape* find(std::string_view recipe, std::string_view family = "") const;
  const std::vector<ModelShape>& models() const { return models_; }

 private:
  std::vector<ModelShape> models_;
};

}  // namespace bp
