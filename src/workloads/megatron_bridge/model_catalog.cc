#include "workloads/megatron_bridge/model_catalog.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <set>

#include "config/toml_reader.h"
#include "util/strings.h"

namespace bp {

extern const char kBuiltinModelCatalog[];

namespace {

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = {
      "family",
      "aliases",
      "kind",
      "num_layers",
      "hidden_size",
      "num_attention_heads",
      "num_query_groups",
      "multi_latent_attention",
      "num_moe_experts",
      "moe_router_topk",
      "moe_shared_experts",
      "first_k_dense_replace",
      "hybrid_layer_pattern",
      "mtp_num_layers",
      "seq_length",
      "vocab_size",
      "expert_tensor_parallel_size",
      "account_for_embedding_in_pipeline_split",
      "account_for_loss_in_pipeline_split",
      "auto_layout_pairs",
      "auto_layout_pairs_v0_6",
      "pretrain_defaults",
      // What Megatron's FLOPs and memory formulas need.
      "ffn_hidden_size",
      "moe_ffn_hidden_size",
      "moe_shared_expert_intermediate_size",
      "moe_latent_size",
      "moe_layer_freq",
      "kv_channels",
      "gated_linear_unit",
      "activation",
      "attention_output_gate",
      "q_lora_rank",
      "kv_lora_rank",
      "qk_head_dim",
      "qk_pos_emb_head_dim",
      "v_head_dim",
      "window_size",
      "window_attn_skip_freq",
      "share_embeddings_and_output_weights",
      "make_vocab_size_divisible_by",
      "grad_reduce_in_fp32",
      "mamba_state_dim",
      "mamba_head_dim",
      "mamba_num_groups",
      "mamba_num_heads",
      "mtp_hybrid_layer_pattern",
      "linear_attention_freq",
      "linear_key_head_dim",
      "linear_value_head_dim",
      "linear_num_key_heads",
      "linear_num_value_heads",
      "linear_conv_kernel_dim",
      "shape_source",
  };
  return keys;
}

class EntryReader {
 public:
  EntryReader(const Value& table, const std::string& name) : t_(table), name_(name) {}

  int64_t positive(const char* key, bool required, int64_t dflt = 0) const {
    const Value* v = t_.find(key);
    if (!v) {
      if (required) throw ConfigError(t_.loc(), name_ + "." + key, "is required (an integer)");
      return dflt;
    }
    if (!v->is_int() || v->as_int() < 0)
      throw ConfigError(v->loc(), name_ + "." + key,
                        "expected a non-negative integer, got " + v->to_toml_inline());
    return v->as_int();
  }
  bool boolean(const char* key) const {
    const Value* v = t_.find(key);
    if (!v) return false;
    if (!v->is_bool())
      throw ConfigError(v->loc(), name_ + "." + key,
                        "expected true or false, got " + v->to_toml_inline());
    return v->as_bool();
  }
  std::string string(const char* key) const {
    const Value* v = t_.find(key);
    if (!v) return "";
    if (!v->is_string())
      throw ConfigError(v->loc(), name_ + "." + key,
                        "expected a string, got " + v->to_toml_inline());
    return v->as_string();
  }
  const Value* find(const char* key) const { return t_.find(key); }
  SourceLoc table_loc() const { return t_.loc(); }

 private:
  const Value& t_;
  const std::string& name_;
};

void check_keys(const std::string& name, const Value& t) {
  if (!t.is_table())
    throw ConfigError(t.loc(), name, "expected a table describing the recipe's model shape");
  for (size_t i = 0; i < t.size(); ++i) {
    if (!known_keys().count(t.keys()[i])) {
      throw ConfigError(
          t.items()[i].loc(), name + "." + t.keys()[i],
          "unknown key; expected one of: " +
              join(std::vector<std::string>(known_keys().begin(), known_keys().end()), ", "));
    }
  }
}

// Checks that a layer pattern holds only the symbols the catalog knows.
void check_hybrid_symbols(const Value& v, const std::string& key, const std::string& pattern) {
  if (pattern.find_first_not_of("M*-E") != std::string::npos)
    throw ConfigError(v.loc(), key, "may only hold M (Mamba), * (attention), - (MLP) and E (MoE)");
}

// The fields the model rules use (layers, heads, experts, pipeline split).
void parse_structure(const std::string& name, const EntryReader& r, ModelShape& m) {
  m.family = r.string("family");
  m.kind = r.string("kind");
  if (m.kind.empty()) m.kind = "dense";
  if (m.kind != "dense" && m.kind != "moe" && m.kind != "hybrid")
    throw ConfigError(r.find("kind")->loc(), name + ".kind",
                      "expected \"dense\", \"moe\" or \"hybrid\", got \"" + m.kind + "\"");
  if (const Value* a = r.find("aliases")) {
    if (!a->is_array()) throw ConfigError(a->loc(), name + ".aliases", "expected a list of names");
    for (const Value& x : a->items()) {
      if (!x.is_string())
        throw ConfigError(x.loc(), name + ".aliases",
                          "expected strings, got " + x.to_toml_inline());
      m.aliases.push_back(x.as_string());
    }
  }
  m.num_layers = r.positive("num_layers", true);
  m.hidden_size = r.positive("hidden_size", false);
  m.num_attention_heads = r.positive("num_attention_heads", true);
  m.num_query_groups = r.positive("num_query_groups", false);
  m.multi_latent_attention = r.boolean("multi_latent_attention");
  m.num_moe_experts = r.positive("num_moe_experts", false);
  m.moe_router_topk = r.positive("moe_router_topk", false);
  m.moe_shared_experts = r.boolean("moe_shared_experts");
  m.first_k_dense_replace = r.positive("first_k_dense_replace", false);
  m.hybrid_layer_pattern = r.string("hybrid_layer_pattern");
  m.mtp_num_layers = r.positive("mtp_num_layers", false);
  m.seq_length = r.positive("seq_length", false);
  m.vocab_size = r.positive("vocab_size", false);
  if (r.find("expert_tensor_parallel_size"))
    m.expert_tensor_parallel_size = r.positive("expert_tensor_parallel_size", true);
  m.account_for_embedding_in_pipeline_split = r.boolean("account_for_embedding_in_pipeline_split");
  m.account_for_loss_in_pipeline_split = r.boolean("account_for_loss_in_pipeline_split");

  if (m.num_layers == 0)
    throw ConfigError(r.find("num_layers")->loc(), name + ".num_layers", "must be at least 1");
  if (m.kind == "moe" && m.num_moe_experts == 0)
    throw ConfigError(r.table_loc(), name + ".num_moe_experts", "is required for kind = \"moe\"");
  if (!m.hybrid_layer_pattern.empty()) {
    const Value* p = r.find("hybrid_layer_pattern");
    check_hybrid_symbols(*p, name + ".hybrid_layer_pattern", m.hybrid_layer_pattern);
    if (static_cast<int64_t>(m.hybrid_layer_pattern.size()) != m.num_layers)
      throw ConfigError(p->loc(), name + ".hybrid_layer_pattern",
                        "has " + std::to_string(m.hybrid_layer_pattern.size()) +
                            " layers but num_layers = " + std::to_string(m.num_layers));
  }
}

// Megatron's moe_layer_freq (N: every N-th layer is MoE; or a 0/1 list per layer), else the
// first first_k_dense_replace layers dense: expanded to one entry per decoder layer.
void parse_moe_layer_pattern(const std::string& name, const EntryReader& r, ModelShape& m) {
  if (!m.is_moe()) return;
  const Value* v = r.find("moe_layer_freq");
  const std::string key = name + ".moe_layer_freq";
  if (!v) {
    const int64_t dense = std::min(m.first_k_dense_replace, m.num_layers);
    m.moe_layer_pattern.assign(static_cast<size_t>(m.num_layers), 1);
    std::fill_n(m.moe_layer_pattern.begin(), dense, 0);
    return;
  }
  if (v->is_int() && v->as_int() >= 1) {
    for (int64_t i = 0; i < m.num_layers; ++i) m.moe_layer_pattern.push_back(i % v->as_int() == 0);
    return;
  }
  if (!v->is_array() || static_cast<int64_t>(v->size()) != m.num_layers)
    throw ConfigError(v->loc(), key,
                      "expected a positive integer or a list of num_layers = " +
                          std::to_string(m.num_layers) + " entries of 0 (dense) or 1 (MoE)");
  for (const Value& x : v->items()) {
    if (!x.is_int() || (x.as_int() != 0 && x.as_int() != 1))
      throw ConfigError(x.loc(), key, "expected 0 (dense) or 1 (MoE), got " + x.to_toml_inline());
    m.moe_layer_pattern.push_back(static_cast<int>(x.as_int()));
  }
}

// What Megatron's FLOPs and memory formulas need beyond the structure.
void parse_formula_fields(const std::string& name, const EntryReader& r, ModelShape& m) {
  m.ffn_hidden_size = r.positive("ffn_hidden_size", false);
  m.moe_ffn_hidden_size = r.positive("moe_ffn_hidden_size", false);
  m.moe_shared_expert_intermediate_size = r.positive("moe_shared_expert_intermediate_size", false);
  m.moe_latent_size = r.positive("moe_latent_size", false);
  m.kv_channels = r.positive("kv_channels", false);
  m.gated_linear_unit = r.boolean("gated_linear_unit");
  m.activation = r.string("activation");
  m.attention_output_gate = r.boolean("attention_output_gate");
  m.q_lora_rank = r.positive("q_lora_rank", false);
  m.kv_lora_rank = r.positive("kv_lora_rank", false);
  m.qk_head_dim = r.positive("qk_head_dim", false);
  m.qk_pos_emb_head_dim = r.positive("qk_pos_emb_head_dim", false);
  m.v_head_dim = r.positive("v_head_dim", false);
  m.window_size = r.positive("window_size", false);
  m.window_attn_skip_freq = r.positive("window_attn_skip_freq", false);
  m.untie_embeddings_and_output_weights = !r.boolean("share_embeddings_and_output_weights");
  m.make_vocab_size_divisible_by =
      r.positive("make_vocab_size_divisible_by", false, m.make_vocab_size_divisible_by);
  if (m.make_vocab_size_divisible_by == 0)
    throw ConfigError(r.find("make_vocab_size_divisible_by")->loc(),
                      name + ".make_vocab_size_divisible_by", "must be at least 1");
  m.mamba_state_dim = r.positive("mamba_state_dim", false);
  m.mamba_head_dim = r.positive("mamba_head_dim", false);
  m.mamba_num_groups = r.positive("mamba_num_groups", false);
  m.mamba_num_heads = r.positive("mamba_num_heads", false);
  m.mtp_hybrid_layer_pattern = r.string("mtp_hybrid_layer_pattern");
  if (!m.mtp_hybrid_layer_pattern.empty())
    check_hybrid_symbols(*r.find("mtp_hybrid_layer_pattern"), name + ".mtp_hybrid_layer_pattern",
                         m.mtp_hybrid_layer_pattern);
  m.linear_attention_freq = r.positive("linear_attention_freq", false);
  m.linear_key_head_dim = r.positive("linear_key_head_dim", false);
  m.linear_value_head_dim = r.positive("linear_value_head_dim", false);
  m.linear_num_key_heads = r.positive("linear_num_key_heads", false);
  m.linear_num_value_heads = r.positive("linear_num_value_heads", false);
  m.linear_conv_kernel_dim = r.positive("linear_conv_kernel_dim", false);
  m.grad_reduce_in_fp32 = r.boolean("grad_reduce_in_fp32");
  m.shape_source = r.string("shape_source");
  parse_moe_layer_pattern(name, r, m);
}

// `key_name` of entry `name`: a list of [pp, vp] (each 1..255, at most 16: constraints.cc packs
// them).
void read_layout_pairs(const std::string& name, const EntryReader& r, const char* key_name,
                       std::vector<std::pair<int64_t, int64_t>>& out) {
  const Value* pairs = r.find(key_name);
  if (!pairs) return;
  const std::string key = name + "." + key_name;
  if (!pairs->is_array()) throw ConfigError(pairs->loc(), key, "expected a list of [pp, vp]");
  for (const Value& pr : pairs->items()) {
    if (!pr.is_array() || pr.size() != 2 || !pr.items()[0].is_int() || !pr.items()[1].is_int() ||
        pr.items()[0].as_int() < 1 || pr.items()[1].as_int() < 1 || pr.items()[0].as_int() > 255 ||
        pr.items()[1].as_int() > 255)
      throw ConfigError(
          pr.loc(), key,
          "expected [pp, vp] with integers from 1 to 255, got " + pr.to_toml_inline());
    out.emplace_back(pr.items()[0].as_int(), pr.items()[1].as_int());
  }
  if (out.size() > 16) throw ConfigError(pairs->loc(), key, "at most 16 pairs are supported");
}

// `unstated = ["pp", "vp"]`: those sizes become 0, the recipe's value not given here.
void mark_unstated(const Value& v, const std::string& key, RecipeParallelism& p) {
  std::pair<const char*, int64_t*> sizes[] = {
      {"tp", &p.tp}, {"pp", &p.pp}, {"cp", &p.cp}, {"vp", &p.vp}, {"ep", &p.ep}};
  if (!v.is_array())
    throw ConfigError(v.loc(), key,
                      "expected a list of tp, pp, cp, vp, ep, got " + v.to_toml_inline());
  for (const Value& item : v.items()) {
    auto it = std::find_if(std::begin(sizes), std::end(sizes), [&](const auto& f) {
      return item.is_string() && item.as_string() == f.first;
    });
    if (it == std::end(sizes))
      throw ConfigError(item.loc(), key,
                        "expected one of tp, pp, cp, vp, ep, got " + item.to_toml_inline());
    *it->second = 0;
  }
}

// One "<gpu>_<dtype>" = { tp, pp, cp, vp, ep, offload, fsdp, recompute, unstated } entry.
RecipeParallelism parse_recipe_parallelism(const Value& t, const std::string& entry_key) {
  RecipeParallelism p;
  std::pair<const char*, int64_t*> fields[] = {{"tp", &p.tp}, {"pp", &p.pp},
                                               {"cp", &p.cp}, {"vp", &p.vp},
                                               {"ep", &p.ep}, {"offload", &p.offload}};
  for (size_t k = 0; k < t.size(); ++k) {
    const std::string& name = t.keys()[k];
    const Value& v = t.items()[k];
    if (name == "recompute") {
      if (!v.is_array())
        throw ConfigError(v.loc(), entry_key + ".recompute",
                          "expected a list of recompute module names, got " + v.to_toml_inline());
      for (const Value& module : v.items()) {
        if (!module.is_string())
          throw ConfigError(module.loc(), entry_key + ".recompute",
                            "expected a module name, got " + module.to_toml_inline());
        p.recompute.push_back(module.as_string());
      }
      continue;
    }
    if (name == "unstated") {
      mark_unstated(v, entry_key + ".unstated", p);
      continue;
    }
    if (name == "fsdp") {
      if (!v.is_bool())
        throw ConfigError(v.loc(), entry_key + ".fsdp",
                          "expected true or false, got " + v.to_toml_inline());
      p.fsdp = v.as_bool();
      continue;
    }
    auto it = std::find_if(std::begin(fields), std::end(fields),
                           [&](const auto& f) { return name == f.first; });
    if (it == std::end(fields))
      throw ConfigError(v.loc(), entry_key + "." + name,
                        "unknown key; expected tp, pp, cp, vp, ep, offload, fsdp, recompute or "
                        "unstated");
    // offload (layers offloaded to the CPU) may be 0; the parallel sizes are at least 1.
    const int64_t least = it->second == &p.offload ? 0 : 1;
    if (!v.is_int() || v.as_int() < least || v.as_int() > 4096)
      throw ConfigError(v.loc(), entry_key + "." + name,
                        "expected an integer from " + std::to_string(least) + " to 4096, got " +
                            v.to_toml_inline());
    *it->second = v.as_int();
  }
  return p;
}

void parse_pretrain_defaults(const std::string& name, const EntryReader& r, ModelShape& m) {
  const Value* defaults = r.find("pretrain_defaults");
  if (!defaults) return;
  const std::string key = name + ".pretrain_defaults";
  if (!defaults->is_table())
    throw ConfigError(defaults->loc(), key,
                      "expected a table of \"<gpu>_<dtype>\" = { tp, pp, cp, vp, ep }");
  for (size_t i = 0; i < defaults->size(); ++i) {
    const std::string& gpu_dtype = defaults->keys()[i];
    const Value& t = defaults->items()[i];
    const std::string entry_key = key + "." + gpu_dtype;
    if (!t.is_table())
      throw ConfigError(t.loc(), entry_key, "expected an inline table { tp, pp, cp, vp, ep }");
    m.pretrain_defaults.emplace_back(to_lower(gpu_dtype), parse_recipe_parallelism(t, entry_key));
  }
}

ModelShape parse_entry(const std::string& name, const Value& t) {
  check_keys(name, t);
  EntryReader r(t, name);
  ModelShape m;
  m.name = name;
  m.loc = t.loc();
  parse_structure(name, r, m);
  parse_formula_fields(name, r, m);
  read_layout_pairs(name, r, "auto_layout_pairs", m.auto_layout_pairs);
  read_layout_pairs(name, r, "auto_layout_pairs_v0_6", m.auto_layout_pairs_v0_6);
  parse_pretrain_defaults(name, r, m);
  return m;
}

bool same_name(std::string_view a, std::string_view b) {
  return to_lower(a) == to_lower(b);
}

}  // namespace

const RecipeParallelism* ModelShape::pretrain_defaults_for(std::string_view gpu_type,
                                                           std::string_view compute_dtype) const {
  std::string key = to_lower(trim(gpu_type)) + "_" + to_lower(trim(compute_dtype));
  for (const auto& [name, p] : pretrain_defaults)
    if (name == key) return &p;
  return nullptr;
}

bool ModelShape::has_dense_mlp() const {
  if (is_hybrid()) return hybrid_layer_pattern.empty() || contains(hybrid_layer_pattern, "-");
  return !is_moe() || first_k_dense_replace > 0;
}

ModelCatalog ModelCatalog::parse(const Value& doc) {
  ModelCatalog c;
  for (size_t i = 0; i < doc.size(); ++i)
    c.models_.push_back(parse_entry(doc.keys()[i], doc.items()[i]));
  return c;
}

ModelCatalog ModelCatalog::load(std::string_view paths) {
  ModelCatalog c = parse(read_toml_string(kBuiltinModelCatalog, "<built-in model catalog>"));
  for (const std::string& path : split(paths, ':')) {
    if (trim(path).empty()) continue;
    c.merge(parse(read_toml_file(std::string(trim(path)))));
  }
  return c;
}

const ModelCatalog& ModelCatalog::global() {
  static std::once_flag once;
  static ModelCatalog catalog;
  std::call_once(once, [] {
    const char* env = std::getenv("BENCHPILOT_MODEL_CATALOG");
    catalog = load(env ? env : "");
  });
  return catalog;
}

void ModelCatalog::merge(const ModelCatalog& other) {
  for (const ModelShape& m : other.models_) {
    bool replaced = false;
    for (ModelShape& mine : models_) {
      if (same_name(mine.name, m.name)) {
        mine = m;
        replaced = true;
        break;
      }
    }
    if (!replaced) models_.push_back(m);
  }
}

const ModelShape* ModelCatalog::find(std::string_view recipe, std::string_view family) const {
  std::string_view r = trim(recipe);
  if (r.empty()) return nullptr;
  // Later entries (user files) win over aliases of earlier ones.
  for (auto it = models_.rbegin(); it != models_.rend(); ++it)
    if (same_name(it->name, r)) return &*it;
  for (auto it = models_.rbegin(); it != models_.rend(); ++it)
    for (const std::string& a : it->aliases)
      if (same_name(a, r)) return &*it;
  std::string_view f = trim(family);
  if (!f.empty()) {
    std::string joined = std::string(f) + "_" + std::string(r);
    if (!same_name(joined, r)) return find(joined, "");
  }
  return nullptr;
}

}  // namespace bp
