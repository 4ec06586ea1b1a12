#include "workloads/megatron_bridge/model_flops.h"

#include <algorithm>
#include <cctype>

#include "workloads/megatron_bridge/model_catalog.h"

namespace bp {

namespace {

// The figures every formula shares, with Megatron's defaults filled in.
struct Common {
  double h = 0;             // hidden_size
  double heads = 0;         // num_attention_heads
  double groups = 0;        // num_query_groups (heads when not grouped)
  double kv_channels = 0;   // per-head dimension (hidden_size / heads by default)
  double ffn = 0;           // ffn_hidden_size (4·h by default)
  double moe_ffn = 0;       // moe_ffn_hidden_size (ffn by default)
  double shared_ffn = 0;    // shared-expert intermediate size (0: none)
  double topk = 0;          // experts each token is routed to
  double s = 0;             // sequence length
  double padded_vocab = 0;  // vocab padded for tp
  int64_t mtp = 0;          // multi-token-prediction depth
  bool from_0_5 = true;
};

std::optional<Common> common_figures(const ModelShape& m, const FlopsSettings& st) {
  Common c;
  const int64_t seq = st.seq_length > 0 ? st.seq_length : m.seq_length;
  const auto vocab = padded_vocab_size(m.vocab_size, m.make_vocab_size_divisible_by, st.tp);
  if (m.hidden_size <= 0 || m.num_attention_heads <= 0 || seq <= 0 || !vocab) return std::nullopt;
  c.h = static_cast<double>(m.hidden_size);
  c.heads = static_cast<double>(m.num_attention_heads);
  c.groups =
      static_cast<double>(m.num_query_groups > 0 ? m.num_query_groups : m.num_attention_heads);
  c.kv_channels = static_cast<double>(m.kv_channels > 0 ? m.kv_channels
                                                        : m.hidden_size / m.num_attention_heads);
  c.ffn = static_cast<double>(m.ffn_hidden_size > 0 ? m.ffn_hidden_size : 4 * m.hidden_size);
  c.moe_ffn = m.moe_ffn_hidden_size > 0 ? static_cast<double>(m.moe_ffn_hidden_size) : c.ffn;
  c.shared_ffn = static_cast<double>(m.moe_shared_expert_intermediate_size);
  c.topk = static_cast<double>(m.moe_router_topk > 0 ? m.moe_router_topk : 1);
  c.s = static_cast<double>(seq);
  c.padded_vocab = static_cast<double>(*vocab);
  c.mtp = st.mtp_num_layers ? *st.mtp_num_layers : m.mtp_num_layers;
  if (c.mtp < 0) return std::nullopt;
  c.from_0_5 = st.rules == FlopsRules::kFrom0_5;
  return c;
}

// The mean causal context of a sliding window of w tokens over a sequence of s tokens.
double sliding_window_context(double w, double s) {
  return w < s ? w - w * (w - 1) / (2 * s) : s / 2;
}

// ---- Hybrid (Mamba) models: hybrid_flops(), per token, forward only ---------------------------

struct LayerCounts {
  int64_t attention = 0, mamba = 0, mlp = 0, moe = 0, swa_attention = 0;
};

// Layers by type: the main pattern plus one copy of the MTP pattern per depth; the windowed
// attention layers (v0.6.0) are those of the main pattern whose 1-based position the window
// pattern marks.
LayerCounts hybrid_layer_counts(const ModelShape& m, int64_t mtp, bool count_windows) {
  LayerCounts n;
  auto add = [&n](const std::string& pattern, int64_t times) {
    for (char c : pattern) {
      if (c == '*') n.attention += times;
      if (c == 'M') n.mamba += times;
      if (c == '-') n.mlp += times;
      if (c == 'E') n.moe += times;
    }
  };
  add(m.hybrid_layer_pattern, 1);
  if (mtp > 0) add(m.mtp_hybrid_layer_pattern, mtp);
  if (!count_windows) return n;
  const int64_t skip = m.window_attn_skip_freq;
  for (size_t i = 0; i < m.hybrid_layer_pattern.size(); ++i)
    if (m.hybrid_layer_pattern[i] == '*' && (skip <= 0 || static_cast<int64_t>(i + 1) % skip != 0))
      ++n.swa_attention;
  return n;
}

double attention_layer(const Common& c, double core_seq) {
  const double p = c.kv_channels * c.heads / c.h;
  return 4 * c.s * c.h * p * (c.h + c.h * (c.groups / c.heads)) + 2 * c.s * c.h * p * core_seq;
}

std::optional<double> hybrid_flops_per_token(const ModelShape& m, const Common& c) {
  const bool windows = c.from_0_5 && m.window_size > 0;
  const LayerCounts n = hybrid_layer_counts(m, c.mtp, windows);
  const double scale = m.gated_linear_unit ? 1.5 : 1.0;
  const double s = c.s, h = c.h;
  double fwd = static_cast<double>(n.attention - n.swa_attention) * attention_layer(c, s);
  if (n.swa_attention > 0)
    fwd += static_cast<double>(n.swa_attention) *
           attention_layer(c, 2 * sliding_window_context(static_cast<double>(m.window_size), s));
  fwd += static_cast<double>(n.mlp) * (4 * (c.ffn / h) * scale * s * h * h);
  if (n.mamba > 0) {
    if (m.mamba_state_dim <= 0 || m.mamba_head_dim <= 0 || m.mamba_num_groups <= 0)
      return std::nullopt;
    const double d_in = 2 * h, state = static_cast<double>(m.mamba_state_dim);
    const double heads = m.mamba_num_heads > 0
                             ? static_cast<double>(m.mamba_num_heads)
                             : static_cast<double>((2 * m.hidden_size) / m.mamba_head_dim);
    const double groups = static_cast<double>(m.mamba_num_groups);
    const double mamba = 2 * s * h * (2 * d_in + 2 * groups * state + heads) +
                         7 * s * d_in * state + 2 * s * d_in * h;
    fwd += static_cast<double>(n.mamba) * mamba;
  }
  if (n.moe > 0) {
    if (m.moe_router_topk <= 0) return std::nullopt;
    double routed = 4 * s * h * c.moe_ffn * c.topk * scale;
    if (m.moe_latent_size > 0) {
      const double latent = static_cast<double>(m.moe_latent_size);
      routed = 4 * s * latent * c.moe_ffn * c.topk * scale + 4 * s * h * latent;
    }
    fwd += static_cast<double>(n.moe) * (routed + 4 * s * h * c.shared_ffn * scale);
  }
  fwd += 2 * s * h * c.padded_vocab * static_cast<double>(1 + c.mtp);
  return fwd * 3 / s;
}

// ---- Transformer models: transformer_flops(), per token, forward + backward -----------------

struct MlpLayers {
  double dense = 0, moe = 0, topk = 0;
};

// Dense and MoE MLPs of the decoder plus MTP layers (which take the last layer's type).
std::optional<MlpLayers> mlp_layers(const ModelShape& m, const Common& c) {
  MlpLayers n;
  const double layers = static_cast<double>(m.num_layers);
  bool last_is_moe = false;
  if (!m.is_moe()) {
    n.dense = layers;
  } else {
    int64_t moe = m.num_layers;  // Megatron's moe_layer_freq = 1: every layer
    last_is_moe = true;
    if (!m.moe_layer_pattern.empty()) {
      if (static_cast<int64_t>(m.moe_layer_pattern.size()) != m.num_layers) return std::nullopt;
      moe = m.num_layers - std::count(m.moe_layer_pattern.begin(), m.moe_layer_pattern.end(), 0);
      last_is_moe = m.moe_layer_pattern.back() != 0;
    }
    if (m.moe_router_topk <= 0) return std::nullopt;
    n.moe = static_cast<double>(moe);
    n.dense = layers - n.moe;
    n.topk = c.topk;
  }
  (last_is_moe ? n.moe : n.dense) += static_cast<double>(c.mtp);
  return n;
}

std::optional<double> mla_attention(const ModelShape& m, const Common& c, double layers) {
  if (m.kv_lora_rank <= 0 || m.qk_head_dim <= 0 || m.v_head_dim <= 0) return std::nullopt;
  const double h = c.h, n = c.heads, qk = static_cast<double>(m.qk_head_dim);
  const double pos = static_cast<double>(m.qk_pos_emb_head_dim);
  const double v = static_cast<double>(m.v_head_dim);
  const double q_term = m.q_lora_rank > 0
                            ? static_cast<double>(m.q_lora_rank) * (h + n * (qk + pos) + 1)
                            : h * n * (qk + pos);
  return 3 * 2 * layers *
         (q_term + static_cast<double>(m.kv_lora_rank) * (h + n * (qk + v) + 1) + h * pos +
          (n * v) * h + c.s * (n * (qk + pos)) / 2 + c.s * n * v / 2);
}

// Standard (MHA/GQA) attention; v0.5.0 on: windowed layers and the output gate.
double standard_attention(const ModelShape& m, const Common& c, int64_t layers) {
  const double h = c.h, q = c.kv_channels * c.heads, kv = c.kv_channels * c.groups;
  if (!c.from_0_5)
    return 12 * static_cast<double>(layers) * h * h *
           ((1 + c.groups / c.heads + c.s / h / 2) * (q / h));
  const double gate = m.attention_output_gate ? q : 0;
  const double proj = h * (q + kv + kv + gate) + q * h;
  const double full_core = q * c.s / 2 * 2;
  if (m.window_size <= 0) return 3 * 2 * static_cast<double>(layers) * (proj + full_core);
  int64_t windowed = layers;
  if (m.window_attn_skip_freq > 0) windowed -= layers / m.window_attn_skip_freq;
  const double swa_core = q * sliding_window_context(static_cast<double>(m.window_size), c.s) * 2;
  return 3 * 2 *
         (static_cast<double>(layers - windowed) * (proj + full_core) +
          static_cast<double>(windowed) * (proj + swa_core));
}

// Gated DeltaNet layers replace standard attention in all but every freq-th layer.
std::optional<double> with_gdn_layers(const ModelShape& m, const Common& c, double attention,
                                      int64_t layers) {
  if (m.linear_attention_freq <= 0) return attention;
  if (m.linear_key_head_dim <= 0 || m.linear_value_head_dim <= 0 || m.linear_num_key_heads <= 0 ||
      m.linear_num_value_heads <= 0 || m.linear_conv_kernel_dim <= 0)
    return std::nullopt;
  const int64_t freq = m.linear_attention_freq;
  // v0.6.0: the pattern spans the decoder and MTP layers repeat its last layer; before v0.5.0
  // the pattern spanned decoder and MTP layers alike.
  const int64_t span = c.from_0_5 ? m.num_layers : layers;
  int64_t gdn = span - span / freq;
  if (c.from_0_5 && span % freq != 0) gdn += c.mtp;
  const double qk_dim = static_cast<double>(m.linear_key_head_dim * m.linear_num_key_heads);
  const double v_head = static_cast<double>(m.linear_value_head_dim);
  const double v_heads = static_cast<double>(m.linear_num_value_heads);
  const double v_dim = v_head * v_heads, h = c.h;
  const double per_gdn = 3 * 2 *
                         (h * (2 * qk_dim + 2 * v_dim + 2 * v_heads) +
                          static_cast<double>(m.linear_conv_kernel_dim) * (2 * qk_dim + v_dim) +
                          v_heads * (v_head * v_head) * 4 + h * v_dim);
  const double per_standard = layers > 0 ? attention / static_cast<double>(layers) : 0;
  return per_gdn * static_cast<double>(gdn) + per_standard * static_cast<double>(layers - gdn);
}

std::optional<double> transformer_flops_per_token(const ModelShape& m, const Common& c) {
  const auto mlp = mlp_layers(m, c);
  if (!mlp) return std::nullopt;
  const int64_t layers = m.num_layers + c.mtp;
  std::optional<double> attention;
  if (m.multi_latent_attention)
    attention = mla_attention(m, c, static_cast<double>(layers));
  else
    attention = with_gdn_layers(m, c, standard_attention(m, c, layers), layers);
  if (!attention) return std::nullopt;
  // Megatron-Bridge v0.5.0 on: 3 GEMMs for any gated MLP; before, 3 only with SiLU.
  const bool three_gemms = m.gated_linear_unit && (c.from_0_5 || m.activation == "silu");
  const double gemms = three_gemms ? 3 : 2;
  double routed = c.moe_ffn * mlp->topk * gemms;
  if (m.moe_latent_size > 0 && c.from_0_5) {
    const double latent = static_cast<double>(m.moe_latent_size);
    routed = c.moe_ffn * mlp->topk * gemms * latent / c.h + 2 * latent;
  }
  const double h = c.h, mtp = static_cast<double>(c.mtp);
  return 3 * 2 * h *
             (c.ffn * gemms * mlp->dense + routed * mlp->moe + c.shared_ffn * gemms * mlp->moe) +
         *attention + 3 * 2 * mtp * (3 * h + 2 * h * h) + 3 * 2 * h * c.padded_vocab * (mtp + 1);
}

}  // namespace

FlopsRules flops_rules_for_version(std::string_view version) {
  if (!version.empty() && (version.front() == 'v' || version.front() == 'V'))
    version.remove_prefix(1);
  int64_t major = 0, minor = 0;
  size_t i = 0;
  auto number = [&](int64_t& out) {
    const size_t start = i;
    while (i < version.size() && std::isdigit(static_cast<unsigned char>(version[i])))
      out = out * 10 + (version[i++] - '0');
    return i > start;
  };
  if (!number(major) || i >= version.size() || version[i++] != '.' || !number(minor))
    return FlopsRules::kFrom0_5;
  return (major == 0 && minor < 5) ? FlopsRules::kBefore0_5 : FlopsRules::kFrom0_5;
}

std::optional<int64_t> padded_vocab_size(int64_t vocab_size, int64_t divisible_by, int64_t tp) {
  if (vocab_size <= 0 || divisible_by <= 0 || tp <= 0) return std::nullopt;
  const int64_t multiple = divisible_by * tp;
  return (vocab_size + multiple - 1) / multiple * multiple;
}

std::optional<double> model_flops_per_token(const ModelShape& shape,
                                            const FlopsSettings& settings) {
  const auto c = common_figures(shape, settings);
  if (!c) return std::nullopt;
  if (shape.is_hybrid()) {
    if (shape.hybrid_layer_pattern.empty()) return std::nullopt;
    return hybrid_flops_per_token(shape, *c);
  }
  return transformer_flops_per_token(shape, *c);
}

}  // namespace bp
