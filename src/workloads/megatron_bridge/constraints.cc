#include "workloads/megatron_bridge/constraints.h"

#include "util/checked_math.h"

#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <mutex>
#include <set>

#include "sweep/field_decode.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/args.h"
#include "workloads/megatron_bridge/memory_model.h"
#include "workloads/megatron_bridge/pinned_release.h"
#include "workloads/megatron_bridge/pipeline_layout.h"

namespace bp {

namespace {

// ---- Slots: the integers the rules read -------------------------------------------------------

enum Slot : int {
  // CloudAI's view (tp/pp/cp already "or 1", offload "or 0", unset = kUnsetSlot where CloudAI
  // distinguishes None).
  kNumGpus,
  kTp,
  kPp,
  kCp,
  kVp,
  kMb,  // 0 when unset (CloudAI: "if mbs and gbs")
  kGb,
  kEt,
  kEp,
  kFsdp,
  kNdo,
  kOffload,
  kA2a,
  kImpl,          // ImplCode
  kScopeMask,     // ScopeBit
  kScopeCount,    // len(normalized scopes)
  kScopeLocalOk,  // empty, or exactly ["full_iteration"]
  kRecMask,       // RecBit
  kRecCount,      // len(set(normalized recompute modules))
  kRecLayers,     // recompute_num_layers, kUnsetSlot when unset
  kDeepseekName,  // recipe name mentions deepseek_v3
  kPinnedEra,     // mbridge::RecipeEra of the Megatron-Bridge pin (C18's pairs, M6's pairs)
  // Model shape from the catalog (kModelKnown = 0: unknown recipe, model rules accept).
  kModelKnown,
  kModelLayers,
  kHeads,
  kGroups,
  kExperts,
  kMla,
  kHybrid,
  kDenseMlp,
  kMoeKind,  // MoE transformer (not hybrid): first_k_dense_replace decides dense MLP layers
  kShared,
  kAccount,  // layers added to the pipeline split for the embedding and the loss
  kDefaultEt,
  kModelSeq,
  kMtp,
  kHasPairs,
  kPairs0,  // four (pp << 8 | vp) pairs per slot
  kPairs1,
  kPairs2,
  kPairs3,
  // User overrides of the shape.
  kUserLayers,  // 0 unset
  kUserSeq,     // 0 unset
  kUserFirstK,  // kUnsetSlot unset
  // Custom pipeline layout.
  kLayoutSet,
  kLayoutOk,
  kLayoutStages,
  kLayoutT,
  kLayoutM,
  kLayoutL,
  kLayoutE,
  kLayoutPlacementOk,
  // What Megatron receives (model rules): the written value, else the recipe's own value from
  // the catalog's pretrain_defaults, else kUnknown (a rule needing it then does not fire).
  kMTp,
  kMPp,
  kMCp,
  kMVp,  // 1 = no virtual pipeline
  kMEp,
  // The memory rule (E1): the interned model shape (an address, 0 unknown), the GPU's usable
  // memory in millionths of a GiB (0 unknown) and the case's OomRule; what the launcher runs for
  // compute dtype (FP8/FP4: 1), CPU offload and Megatron FSDP (written, else the recipe's).
  kEstShape,
  kEstGpuMicroGiB,
  kEstRule,
  kEstLowPrecision,
  kEstOffload,
  kEstFsdp,
  kEstRecMask,  // RecBit: the written recompute_modules, else the recipe's
  kSlotCount
};
static_assert(kSlotCount <= static_cast<int>(kMaxSlots));

// Codes from kImplInvalid up name an unknown impl string (see invalid_impl_name).
enum ImplCode : int64_t { kImplOff = 0, kImplLocal = 1, kImplTe = 2, kImplInvalid = 3 };

// Unknown cuda_graph_impl strings, so messages can name them; only grows while compiling.
std::mutex g_impl_mu;
std::vector<std::string> g_invalid_impls;

int64_t intern_invalid_impl(const std::string& name) {
  std::lock_guard<std::mutex> lock(g_impl_mu);
  for (size_t i = 0; i < g_invalid_impls.size(); ++i)
    if (g_invalid_impls[i] == name) return kImplInvalid + static_cast<int64_t>(i);
  g_invalid_impls.push_back(name);
  return kImplInvalid + static_cast<int64_t>(g_invalid_impls.size() - 1);
}
std::string invalid_impl_name(int64_t code) {
  std::lock_guard<std::mutex> lock(g_impl_mu);
  size_t i = static_cast<size_t>(code - kImplInvalid);
  return i < g_invalid_impls.size() ? g_invalid_impls[i] : "?";
}

enum ScopeBit : int64_t {
  kSFull = 1 << 0,
  kSAttn = 1 << 1,
  kSMlp = 1 << 2,
  kSMoe = 1 << 3,
  kSMoeRouter = 1 << 4,
  kSMoePre = 1 << 5,
  kSMamba = 1 << 6,
  kSOther = 1 << 7,
};
constexpr const char* kScopeNames[] = {"full_iteration", "attn",           "mlp",   "moe",
                                       "moe_router",     "moe_preprocess", "mamba", "<other>"};

enum RecBit : int64_t {
  kRCoreAttn = 1 << 0,
  kRMlaUp = 1 << 1,
  kRMlp = 1 << 2,
  kRMoeAct = 1 << 3,
  kRMoe = 1 << 4,
  kRShared = 1 << 5,
  kRLayernorm = 1 << 6,
  kROther = 1 << 7,
};
constexpr const char* kRecNames[] = {"core_attn", "mla_up_proj",    "mlp",       "moe_act",
                                     "moe",       "shared_experts", "layernorm", "<other>"};

// ---- Python integer semantics (CloudAI's rules are Python) -------------------------------------

// A model-view slot whose value neither the user nor the catalog provides.
constexpr int64_t kUnknown = INT64_MIN + 1;
inline bool known(int64_t v) {
  return v != kUnknown;
}

// Products of user numbers saturate (util/checked_math.h): signed overflow is undefined and once
// let the compiler drop a `!= 0` guard (SIGFPE for mb = 2^62). b == -1 is special-cased because
// INT64_MIN % -1 and INT64_MIN / -1 trap.
inline int64_t py_mod(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}
inline int64_t py_div(int64_t a, int64_t b) {
  if (b == -1) return a == INT64_MIN ? INT64_MAX : -a;
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

inline bool is_set(int64_t v) {
  return v != kUnsetSlot;
}
inline int64_t or_one(int64_t v) {
  return is_set(v) && v != 0 ? v : 1;
}

inline int64_t dp_of(const int64_t* s) {
  int64_t denom = saturating_mul(s[kTp], s[kPp], s[kCp]);
  return denom > 0 ? py_div(s[kNumGpus], denom) : 0;
}
// CloudAI's "vp is set": not None and not 1 (validation refuses vp < 1).
inline bool virtual_pipeline(const int64_t* s) {
  return is_set(s[kVp]) && s[kVp] > 1;
}
inline bool graphs_on(const int64_t* s) {
  return s[kImpl] != kImplOff && s[kScopeCount] > 0;
}

std::string opt(int64_t v) {
  return is_set(v) ? std::to_string(v) : "None";
}

std::string mask_names(int64_t mask, const char* const* names) {
  std::vector<std::string> out;
  for (int b = 0; b < 8; ++b)
    if (mask >> b & 1) out.emplace_back(names[b]);
  return "[" + join(out, ", ") + "]";
}
std::string scopes(const int64_t* s) {
  return mask_names(s[kScopeMask], kScopeNames);
}
std::string recs(const int64_t* s) {
  return mask_names(s[kRecMask], kRecNames);
}
std::string impl_name(int64_t code) {
  if (code >= kImplInvalid) return invalid_impl_name(code);
  if (code == kImplLocal) return "local";
  if (code == kImplTe) return "transformer_engine";
  return "none";
}

// Slots each rule's check reads (Rule::reads), so walks re-check only what an axis touches.
// constraints_test checks incremental walks against full evaluation.
constexpr uint64_t kDp = slot_bits(kNumGpus, kTp, kPp, kCp);
constexpr uint64_t kLayers = slot_bits(kUserLayers, kModelLayers);
constexpr uint64_t kModelDp = slot_bits(kNumGpus, kMTp, kMPp, kMCp);
uint64_t reads_of(std::string_view id) {
  static const std::pair<std::string_view, uint64_t> kReads[] = {
      {"C1", kDp},
      {"C3", kDp},
      {"C4", kDp | slot_bits(kMb, kGb, kFsdp, kNdo)},
      {"C5", slot_bits(kFsdp, kImpl, kScopeCount)},
      {"C6", slot_bits(kFsdp, kPp, kCp, kVp)},
      {"C7", slot_bits(kNumGpus, kEt, kEp, kPp)},
      {"C9", slot_bits(kNdo, kFsdp)},
      {"C10", slot_bits(kPp, kOffload)},
      {"C11", slot_bits(kImpl, kA2a)},
      {"C12", slot_bits(kImpl, kScopeCount, kOffload)},
      {"C13", slot_bits(kImpl)},
      {"C14", slot_bits(kImpl, kScopeLocalOk, kScopeMask)},
      {"C15", slot_bits(kScopeMask)},
      {"C16", slot_bits(kScopeMask)},
      {"C17", slot_bits(kScopeCount, kScopeMask, kRecCount, kRecMask)},
      {"C18", slot_bits(kDeepseekName, kPp, kVp, kPinnedEra)},
      {"C19", slot_bits(kPp, kVp)},
      {"C20", slot_bits(kA2a, kPp, kEp, kVp)},
      {"M1", slot_bits(kModelKnown, kHeads, kMTp)},
      {"M2", slot_bits(kModelKnown, kGroups, kMTp)},
      {"M3", slot_bits(kModelKnown, kExperts, kMEp)},
      {"M4", kLayers | slot_bits(kModelKnown, kLayoutSet, kHasPairs, kMPp, kAccount)},
      {"M5", kLayers | slot_bits(kModelKnown, kLayoutSet, kHasPairs, kMPp, kAccount, kMVp)},
      {"M6", slot_bits(kModelKnown, kLayoutSet, kHasPairs, kPairs0, kPairs1, kPairs2, kPairs3, kMPp,
                       kMVp)},
      {"M7", slot_bits(kLayoutSet, kLayoutOk, kLayoutStages, kMPp, kVp)},
      {"M8", kLayers | slot_bits(kModelKnown, kLayoutSet, kLayoutOk, kLayoutT, kLayoutM, kMtp,
                                 kLayoutL, kLayoutE, kLayoutPlacementOk)},
      {"M9", slot_bits(kModelKnown, kMCp, kUserSeq, kModelSeq)},
      {"M10", kModelDp | slot_bits(kModelKnown, kEt, kDefaultEt, kMEp)},
      {"M11",
       kModelDp | slot_bits(kModelKnown, kMb, kGb, kMVp, kLayoutSet, kLayoutOk, kLayoutStages)},
      {"M12", slot_bits(kModelKnown, kRecCount, kRecMask, kMla, kExperts, kShared)},
      {"M13", slot_bits(kModelKnown, kImpl, kScopeCount, kScopeMask, kExperts, kHybrid, kMoeKind,
                        kUserFirstK, kDenseMlp)},
      {"M14", slot_bits(kModelKnown, kLayoutSet, kMVp, kMPp)},
      {"M15", kLayers | slot_bits(kModelKnown, kOffload, kRecCount, kRecLayers)},
  };
  for (const auto& [rule, reads] : kReads)
    if (rule == id) return reads;
  return ~uint64_t{0};
}

// The rule groups concatenated in order.
std::vector<Rule> in_order(std::initializer_list<std::vector<Rule>> groups) {
  std::vector<Rule> rules;
  for (const std::vector<Rule>& g : groups) rules.insert(rules.end(), g.begin(), g.end());
  return rules;
}

std::vector<Rule> with_reads(std::vector<Rule> rules) {
  for (Rule& r : rules) r.reads = reads_of(r.id);
  return rules;
}

// ---- C18: the DeepSeek-V3 (pp, vp) pairs of the pinned release -------------------------------

// CloudAI's list: the pairs set_deepseek_v3_pipeline_model_parallel_layout has a layout for
// (recipes/deepseek/deepseek_v3.py, v0.3.0 and v0.6.0 alike).
constexpr std::pair<int64_t, int64_t> kDeepseekPairsCloudai[] = {{1, 1},  {4, 1}, {8, 1}, {4, 2},
                                                                 {16, 1}, {8, 2}, {4, 4}};
// v0.6.0's perf recipes also run pairs outside that table with their own layout string, which
// the launcher keeps for a pair the table lacks: GB300 (2, 8) with 16 stages, H100 (8, 4) with
// 32 (perf_recipes/deepseek/{gb300,h100}/deepseek_v3.py). The catalog's auto_layout_pairs_v0_6
// of deepseek_v3 lists the same pairs for M6.
constexpr std::pair<int64_t, int64_t> kDeepseekPairsV0_6Extra[] = {{2, 8}, {8, 4}};

bool deepseek_pair_allowed(int64_t era, int64_t pp, int64_t vp) {
  for (auto [p, v] : kDeepseekPairsCloudai)
    if (p == pp && v == vp) return true;
  if (era != static_cast<int64_t>(mbridge::RecipeEra::kV0_6)) return false;
  for (auto [p, v] : kDeepseekPairsV0_6Extra)
    if (p == pp && v == vp) return true;
  return false;
}

std::string deepseek_pairs_text(int64_t era) {
  std::string out;
  for (auto [p, v] : kDeepseekPairsCloudai) out += fmt::format("({},{}) ", p, v);
  if (era == static_cast<int64_t>(mbridge::RecipeEra::kV0_6))
    for (auto [p, v] : kDeepseekPairsV0_6Extra) out += fmt::format("({},{}) ", p, v);
  out.pop_back();
  return out;
}

// ---- CloudAI's constraint_check ----------------------------------------------------------------

// The sizes: tp*pp*cp divides the GPUs, a data-parallel size, gb in whole micro-batches.
std::vector<Rule> cloudai_size_rules() {
  return {
      {"C1", "tp*pp*cp divides num_gpus",
       [](const int64_t* s) {
         int64_t d = saturating_mul(s[kTp], s[kPp], s[kCp]);
         return d != 0 && py_mod(s[kNumGpus], d) == 0;
       },
       [](const int64_t* s) {
         return fmt::format("num_gpus={} is not divisible by tp*pp*cp={} (tp={} pp={} cp={})",
                            s[kNumGpus], saturating_mul(s[kTp], s[kPp], s[kCp]), s[kTp], s[kPp],
                            s[kCp]);
       }},
      {"C3", "data parallel size > 0", [](const int64_t* s) { return dp_of(s) != 0; },
       [](const int64_t* s) {
         return fmt::format("dp = num_gpus // (tp*pp*cp) = 0 (num_gpus={} tp={} pp={} cp={})",
                            s[kNumGpus], s[kTp], s[kPp], s[kCp]);
       }},
      {"C4", "gb divisible by mb*dp",
       [](const int64_t* s) {
         if (!s[kMb] || !s[kGb]) return true;
         int64_t dp = dp_of(s);
         int64_t extra = s[kFsdp] ? or_one(s[kNdo]) : 1;
         int64_t div = dp != 0 ? saturating_mul(s[kMb], dp, extra) : 0;
         return div != 0 && py_mod(s[kGb], div) == 0;
       },
       [](const int64_t* s) {
         int64_t dp = dp_of(s);
         if (s[kFsdp])
           return fmt::format("gb={} is not divisible by mb*dp*ndo={} (mb={} dp={} ndo={})", s[kGb],
                              saturating_mul(s[kMb], dp, or_one(s[kNdo])), s[kMb], dp,
                              or_one(s[kNdo]));
         return fmt::format("gb={} is not divisible by mb*dp={} (mb={} dp={})", s[kGb],
                            saturating_mul(s[kMb], dp), s[kMb], dp);
       }},
  };
}

// FSDP, expert parallelism, optimizer instances and CPU offload.
std::vector<Rule> cloudai_fsdp_offload_rules() {
  return {
      {"C5", "FSDP without CUDA graphs",
       [](const int64_t* s) { return !(s[kFsdp] && graphs_on(s)); },
       [](const int64_t* s) {
         return fmt::format(
             "use_megatron_fsdp=true with CUDA graphs on (cuda_graph_impl={} "
             "cuda_graph_scope={})",
             impl_name(s[kImpl]), scopes(s));
       }},
      {"C6", "FSDP needs pp=cp=vp=1",
       [](const int64_t* s) {
         if (!s[kFsdp]) return true;
         return s[kPp] == 1 && s[kCp] == 1 && (!is_set(s[kVp]) || s[kVp] == 1);
       },
       [](const int64_t* s) {
         return fmt::format("use_megatron_fsdp=true needs pp=1, cp=1, vp=1 (pp={} cp={} vp={})",
                            s[kPp], s[kCp], opt(s[kVp]));
       }},
      {"C7", "et*ep*pp divides num_gpus",
       [](const int64_t* s) {
         if (!is_set(s[kEt]) || !is_set(s[kEp])) return true;
         int64_t d = saturating_mul(s[kEt], s[kEp], s[kPp]);
         return d != 0 && py_mod(s[kNumGpus], d) == 0;
       },
       [](const int64_t* s) {
         return fmt::format("num_gpus={} is not divisible by et*ep*pp={} (et={} ep={} pp={})",
                            s[kNumGpus], saturating_mul(s[kEt], s[kEp], s[kPp]), s[kEt], s[kEp],
                            s[kPp]);
       }},
      {"C9", "optimizer instances need FSDP",
       [](const int64_t* s) { return !(is_set(s[kNdo]) && s[kNdo] > 1 && !s[kFsdp]); },
       [](const int64_t* s) {
         return fmt::format("num_distributed_optimizer_instances={} needs use_megatron_fsdp=true",
                            s[kNdo]);
       }},
      {"C10", "no CPU offload with pp>1",
       [](const int64_t* s) { return !(s[kPp] > 1 && s[kOffload] > 0); },
       [](const int64_t* s) {
         return fmt::format("activation_offload_layers={} cannot be combined with pp={}",
                            s[kOffload], s[kPp]);
       }},
  };
}

// CUDA graphs: the implementation and what it cannot be combined with.
std::vector<Rule> cloudai_graph_impl_rules() {
  return {
      // As in the snapshot the notes describe: any enabled impl conflicts with a2a overlap, even
      // with an empty scope list (which Megatron reads as "whole layer").
      {"C11", "no a2a overlap with CUDA graphs",
       [](const int64_t* s) { return !(s[kImpl] != kImplOff && s[kA2a]); },
       [](const int64_t* s) {
         return fmt::format("moe_a2a_overlap=true with cuda_graph_impl={}", impl_name(s[kImpl]));
       }},
      {"C12", "no CPU offload with CUDA graphs",
       [](const int64_t* s) { return !(graphs_on(s) && s[kOffload] > 0); },
       [](const int64_t* s) {
         return fmt::format(
             "activation_offload_layers={} with CUDA graphs on (cuda_graph_impl={} "
             "cuda_graph_scope={})",
             s[kOffload], impl_name(s[kImpl]), scopes(s));
       }},
      {"C13", "known cuda_graph_impl", [](const int64_t* s) { return s[kImpl] < kImplInvalid; },
       [](const int64_t* s) {
         return fmt::format("cuda_graph_impl={} is not one of none, transformer_engine, local",
                            impl_name(s[kImpl]));
       }},
      {"C14", "graph impl/scope compatible",
       [](const int64_t* s) {
         if (s[kImpl] == kImplLocal) return s[kScopeLocalOk] != 0;
         if (s[kImpl] == kImplTe) return !(s[kScopeMask] & (kSFull | kSOther));
         return true;
       },
       [](const int64_t* s) {
         if (s[kImpl] == kImplLocal)
           return fmt::format(
               "cuda_graph_impl=local only allows cuda_graph_scope=[full_iteration] "
               "(got {})",
               scopes(s));
         return fmt::format(
             "cuda_graph_impl=transformer_engine does not allow full_iteration or "
             "unknown scopes (got {})",
             scopes(s));
       }},
  };
}

// CUDA-graph scopes: with each other and with recompute.
std::vector<Rule> cloudai_graph_scope_rules() {
  return {
      {"C15", "not both moe and moe_router scopes",
       [](const int64_t* s) {
         return (s[kScopeMask] & (kSMoe | kSMoeRouter)) != (kSMoe | kSMoeRouter);
       },
       [](const int64_t* s) {
         return fmt::format("cuda_graph_scope={} holds both moe and moe_router", scopes(s));
       }},
      {"C16", "moe_preprocess needs moe_router",
       [](const int64_t* s) {
         return !(s[kScopeMask] & kSMoePre) || (s[kScopeMask] & kSMoeRouter);
       },
       [](const int64_t* s) {
         return fmt::format("cuda_graph_scope={} has moe_preprocess without moe_router", scopes(s));
       }},
      {"C17", "recompute vs graph scopes",
       [](const int64_t* s) {
         if (s[kScopeCount] == 0 || s[kRecCount] == 0) return true;
         int64_t sc = s[kScopeMask], rc = s[kRecMask];
         if ((sc & kSAttn) && (rc & (kRCoreAttn | kRMlaUp))) return false;
         if ((sc & kSMlp) && (rc & kRMlp)) return false;
         if ((sc & kSMoe) && (rc & (kRMoeAct | kRMoe | kRShared))) return false;
         if ((sc & kSMoeRouter) && (rc & (kRMoe | kRShared))) return false;
         if ((rc & kRLayernorm) && (sc & kSAttn) && (sc & kSMlp) && (sc & (kSMoe | kSMoeRouter)))
           return false;
         return true;
       },
       [](const int64_t* s) {
         return fmt::format("cuda_graph_scope={} conflicts with recompute_modules={}", scopes(s),
                            recs(s));
       }},
  };
}

// The pipeline: DeepSeek-V3 pairs and the virtual pipeline.
std::vector<Rule> cloudai_pipeline_rules() {
  return {
      {"C18", "DeepSeek-V3 (pp, vp) pairs",
       [](const int64_t* s) {
         if (!s[kDeepseekName]) return true;
         return deepseek_pair_allowed(s[kPinnedEra], s[kPp], or_one(s[kVp]));
       },
       [](const int64_t* s) {
         return fmt::format(
             "DeepSeek-V3 supports (pp, vp) in {} ({}); got ({},{})",
             deepseek_pairs_text(s[kPinnedEra]),
             mbridge::era_description(static_cast<mbridge::RecipeEra>(s[kPinnedEra])), s[kPp],
             or_one(s[kVp]));
       }},
      // C19 and C20 are CloudAI PR 1025 (after the notes' snapshot). Both read vp None or 1 as
      // "no virtual pipeline": CloudAI's command turns vp = 1 into -vp None.
      {"C19", "vp needs pp>1", [](const int64_t* s) { return !virtual_pipeline(s) || s[kPp] > 1; },
       [](const int64_t* s) {
         return fmt::format("vp={} needs pp > 1 (pp={}; an unwritten pp is 1)", s[kVp], s[kPp]);
       }},
      {"C20", "MoE a2a overlap with pp>1 needs vp",
       [](const int64_t* s) {
         bool moe = is_set(s[kEp]) && s[kEp] > 1;
         return !(s[kA2a] && moe && s[kPp] > 1 && !virtual_pipeline(s));
       },
       [](const int64_t* s) {
         return fmt::format(
             "moe_a2a_overlap=true with ep={} and pp={} needs a virtual pipeline (vp > 1), got "
             "vp={}",
             s[kEp], s[kPp], opt(s[kVp]));
       }},
  };
}

// In CloudAI's order (a rule's position is its bit in a violation mask).
const std::vector<Rule>& cloudai_rules() {
  static const std::vector<Rule> rules = with_reads(
      in_order({cloudai_size_rules(), cloudai_fsdp_offload_rules(), cloudai_graph_impl_rules(),
                cloudai_graph_scope_rules(), cloudai_pipeline_rules()}));
  return rules;
}

// ---- Megatron's start-up checks for a known model ----------------------------------------------

inline int64_t layers_of(const int64_t* s) {
  return s[kUserLayers] ? s[kUserLayers] : s[kModelLayers];
}
inline int64_t seq_of(const int64_t* s) {
  return s[kUserSeq] ? s[kUserSeq] : s[kModelSeq];
}
inline bool even_split(const int64_t* s) {
  return !s[kLayoutSet] && !s[kHasPairs];
}
// Model-view data-parallel size; 0 when a factor is unknown or does not divide.
inline int64_t model_dp(const int64_t* s) {
  if (!known(s[kMTp]) || !known(s[kMPp]) || !known(s[kMCp])) return 0;
  int64_t denom = saturating_mul(s[kMTp], s[kMPp], s[kMCp]);
  return denom > 0 ? py_div(s[kNumGpus], denom) : 0;
}
inline int64_t et_of(const int64_t* s) {
  if (is_set(s[kEt])) return s[kEt];
  if (is_set(s[kDefaultEt])) return s[kDefaultEt];
  return s[kMTp];
}
inline bool dense_mlp(const int64_t* s) {
  if (s[kMoeKind] && is_set(s[kUserFirstK])) return s[kUserFirstK] > 0;
  return s[kDenseMlp] != 0;
}
inline bool pair_allowed(const int64_t* s, int64_t pp, int64_t vp) {
  int64_t want = pp << 8 | vp;
  for (int k = kPairs0; k <= kPairs3; ++k)
    for (int j = 0; j < 4; ++j)
      if (((s[k] >> (16 * j)) & 0xffff) == want) return true;
  return false;
}
std::string pairs_text(const int64_t* s) {
  std::vector<std::string> out;
  for (int k = kPairs0; k <= kPairs3; ++k)
    for (int j = 0; j < 4; ++j) {
      int64_t p = (s[k] >> (16 * j)) & 0xffff;
      if (p) out.push_back(fmt::format("({},{})", p >> 8, p & 0xff));
    }
  return join(out, " ");
}
inline bool interleaved(const int64_t* s) {
  if (!known(s[kMPp]) || s[kMPp] <= 1) return false;
  if (s[kLayoutSet]) return s[kLayoutOk] && s[kLayoutStages] > s[kMPp];
  return known(s[kMVp]) && s[kMVp] > 1;
}

// What the model's sizes must be divisible by: heads, query groups, experts, layers.
std::vector<Rule> model_divisibility_rules() {
  return {
      {"M1", "heads divisible by tp",
       [](const int64_t* s) {
         return !s[kModelKnown] || s[kHeads] == 0 || !known(s[kMTp]) || s[kMTp] <= 0 ||
                s[kHeads] % s[kMTp] == 0;
       },
       [](const int64_t* s) {
         return fmt::format("num_attention_heads={} is not divisible by tp={}", s[kHeads], s[kMTp]);
       }},
      {"M2", "query groups vs tp",
       [](const int64_t* s) {
         if (!s[kModelKnown] || s[kGroups] == 0 || !known(s[kMTp]) || s[kMTp] <= 0) return true;
         return s[kGroups] % s[kMTp] == 0 || s[kMTp] % s[kGroups] == 0;
       },
       [](const int64_t* s) {
         return fmt::format("num_query_groups={} and tp={}: neither divides the other", s[kGroups],
                            s[kMTp]);
       }},
      {"M3", "experts divisible by ep",
       [](const int64_t* s) {
         if (!s[kModelKnown] || !known(s[kMEp]) || s[kMEp] <= 1) return true;
         return s[kExperts] > 0 && s[kExperts] % s[kMEp] == 0;
       },
       [](const int64_t* s) {
         if (s[kExperts] == 0) return fmt::format("ep={} but the model has no experts", s[kMEp]);
         return fmt::format("num_moe_experts={} is not divisible by ep={}", s[kExperts], s[kMEp]);
       }},
      {"M4", "layers divisible by pp",
       [](const int64_t* s) {
         if (!s[kModelKnown] || !even_split(s) || !known(s[kMPp]) || s[kMPp] <= 1) return true;
         return (layers_of(s) + s[kAccount]) % s[kMPp] == 0;
       },
       [](const int64_t* s) {
         if (s[kAccount])
           return fmt::format("num_layers={} plus {} (embedding/loss) is not divisible by pp={}",
                              layers_of(s), s[kAccount], s[kMPp]);
         return fmt::format("num_layers={} is not divisible by pp={}", layers_of(s), s[kMPp]);
       }},
      {"M5", "stage layers divisible by vp",
       [](const int64_t* s) {
         if (!s[kModelKnown] || !even_split(s) || !known(s[kMPp]) || s[kMPp] <= 1 ||
             !known(s[kMVp]) || s[kMVp] <= 1)
           return true;
         int64_t total = layers_of(s) + s[kAccount];
         if (total % s[kMPp] != 0) return true;  // M4 reports it
         return (total / s[kMPp]) % s[kMVp] == 0;
       },
       [](const int64_t* s) {
         int64_t per = (layers_of(s) + s[kAccount]) / s[kMPp];
         return fmt::format(
             "{} layers per pipeline stage (num_layers={}, pp={}) are not divisible "
             "by vp={}",
             per, layers_of(s), s[kMPp], s[kMVp]);
       }},
  };
}

// Pipeline layouts: the recipe's (pp, vp) pairs and a written layout string.
std::vector<Rule> model_layout_rules() {
  return {
      {"M6", "recipe (pp, vp) layouts",
       [](const int64_t* s) {
         if (!s[kModelKnown] || s[kLayoutSet] || !s[kHasPairs]) return true;
         if (!known(s[kMPp]) || !known(s[kMVp])) return true;
         return pair_allowed(s, s[kMPp], or_one(s[kMVp]));
       },
       [](const int64_t* s) {
         return fmt::format(
             "the recipe builds pipeline layouts only for (pp,vp) in {}; got ({},{}) "
             "(set pipeline_model_parallel_layout for other splits)",
             pairs_text(s), s[kMPp], or_one(s[kMVp]));
       }},
      {"M7", "layout stages vs pp/vp",
       [](const int64_t* s) {
         if (!s[kLayoutSet]) return true;
         if (!s[kLayoutOk]) return false;
         if (!known(s[kMPp])) return true;
         if (s[kMPp] <= 0 || s[kLayoutStages] % s[kMPp] != 0) return false;
         // Only a written vp is compared: the launcher derives vp from the layout otherwise.
         if (is_set(s[kVp]) && s[kVp] > 1) return s[kLayoutStages] / s[kMPp] == s[kVp];
         return true;
       },
       [](const int64_t* s) {
         if (!s[kLayoutOk]) return std::string("pipeline_model_parallel_layout cannot be parsed");
         if (s[kMPp] <= 0 || s[kLayoutStages] % s[kMPp] != 0)
           return fmt::format(
               "pipeline_model_parallel_layout has {} stages, not divisible by pp={}",
               s[kLayoutStages], s[kMPp]);
         return fmt::format(
             "pipeline_model_parallel_layout has {} stages = pp={} x {} virtual "
             "stages, but vp={}",
             s[kLayoutStages], s[kMPp], s[kLayoutStages] / s[kMPp], s[kVp]);
       }},
      {"M8", "layout layer counts",
       [](const int64_t* s) {
         if (!s[kModelKnown] || !s[kLayoutSet] || !s[kLayoutOk]) return true;
         return s[kLayoutT] == layers_of(s) && s[kLayoutM] == s[kMtp] && s[kLayoutL] == 1 &&
                s[kLayoutE] == 1 && s[kLayoutPlacementOk];
       },
       [](const int64_t* s) {
         return fmt::format(
             "pipeline_model_parallel_layout has {} decoder (t), {} MTP (m), {} loss "
             "(L), {} embedding (E){}; the model needs {} t, {} m, one L in the last "
             "stage and one E in the first",
             s[kLayoutT], s[kLayoutM], s[kLayoutL], s[kLayoutE],
             s[kLayoutPlacementOk] ? "" : " (misplaced E or L)", layers_of(s), s[kMtp]);
       }},
  };
}

// Sequence, world size and micro-batches.
std::vector<Rule> model_size_rules() {
  return {
      {"M9", "seq divisible by 2*cp",
       [](const int64_t* s) {
         if (!s[kModelKnown] || !known(s[kMCp]) || s[kMCp] <= 1 || seq_of(s) <= 0) return true;
         return py_mod(seq_of(s), saturating_mul(2, s[kMCp])) == 0;
       },
       [](const int64_t* s) {
         return fmt::format("seq_length={} is not divisible by 2*cp={}", seq_of(s),
                            saturating_mul(2, s[kMCp]));
       }},
      {"M10", "et*ep*pp divides world",
       [](const int64_t* s) {
         if (!s[kModelKnown] || !known(s[kMEp]) || !known(s[kMTp]) || !known(s[kMPp]) ||
             !known(s[kMCp]))
           return true;
         int64_t dense = saturating_mul(s[kMTp], s[kMPp], s[kMCp]);
         if (dense == 0 || py_mod(s[kNumGpus], dense) != 0) return true;  // C1/M-rules report it
         int64_t d = saturating_mul(et_of(s), s[kMEp], s[kMPp]);
         return d <= 0 || py_mod(s[kNumGpus], d) == 0;
       },
       [](const int64_t* s) {
         return fmt::format("num_gpus={} is not divisible by et*ep*pp={} (et={}{} ep={} pp={})",
                            s[kNumGpus], saturating_mul(et_of(s), s[kMEp], s[kMPp]), et_of(s),
                            is_set(s[kEt]) ? "" : " by default", s[kMEp], s[kMPp]);
       }},
      {"M11", "microbatches >= pp (interleaved)",
       [](const int64_t* s) {
         if (!s[kModelKnown] || s[kMb] <= 0 || s[kGb] <= 0 || !interleaved(s)) return true;
         int64_t dp = model_dp(s);
         if (dp <= 0) return true;
         return s[kGb] / saturating_mul(s[kMb], dp) >= s[kMPp];
       },
       [](const int64_t* s) {
         int64_t dp = model_dp(s);
         return fmt::format(
             "interleaved pipeline needs at least pp={} microbatches; gb/(mb*dp) = "
             "{}/({}*{}) = {}",
             s[kMPp], s[kGb], s[kMb], dp,
             dp > 0 && s[kMb] > 0 ? s[kGb] / saturating_mul(s[kMb], dp) : 0);
       }},
  };
}

// Recompute modules, CUDA-graph scopes, vp and CPU offload the model supports.
std::vector<Rule> model_feature_rules() {
  return {
      {"M12", "recompute modules supported",
       [](const int64_t* s) {
         if (!s[kModelKnown] || s[kRecCount] == 0) return true;
         int64_t rc = s[kRecMask];
         if (rc & kROther) return false;
         if ((rc & kRMlaUp) && !s[kMla]) return false;
         if ((rc & (kRMoe | kRMoeAct)) && s[kExperts] == 0) return false;
         if ((rc & kRShared) && !s[kShared]) return false;
         return true;
       },
       [](const int64_t* s) {
         return fmt::format(
             "recompute_modules={} is not supported for this model (allowed: "
             "core_attn, layernorm, mlp{}{}{})",
             recs(s), s[kMla] ? ", mla_up_proj" : "", s[kExperts] ? ", moe, moe_act" : "",
             s[kShared] ? ", shared_experts" : "");
       }},
      {"M13", "CUDA-graph scopes supported",
       [](const int64_t* s) {
         if (!s[kModelKnown] || s[kImpl] == kImplOff || s[kScopeCount] == 0) return true;
         int64_t sc = s[kScopeMask];
         if (sc & kSOther) return false;
         if ((sc & (kSMoe | kSMoeRouter | kSMoePre)) && s[kExperts] == 0) return false;
         if ((sc & kSMamba) && !s[kHybrid]) return false;
         if ((sc & kSMlp) && !dense_mlp(s)) return false;
         return true;
       },
       [](const int64_t* s) {
         std::vector<std::string> ok = {"full_iteration", "attn"};
         if (dense_mlp(s)) ok.emplace_back("mlp");
         if (s[kExperts]) ok.insert(ok.end(), {"moe", "moe_router", "moe_preprocess"});
         if (s[kHybrid]) ok.emplace_back("mamba");
         return fmt::format("cuda_graph_scope={} is not supported for this model (allowed: {})",
                            scopes(s), join(ok, ", "));
       }},
      // C19 (CloudAI) rejects a written vp > 1 at a written pp of 1 or none; M14 adds the
      // recipe's own vp and pp, which CloudAI does not read.
      {"M14", "vp needs pp>1",
       [](const int64_t* s) {
         if (!s[kModelKnown] || s[kLayoutSet] || !known(s[kMVp]) || !known(s[kMPp])) return true;
         return s[kMVp] <= 1 || s[kMPp] > 1;
       },
       [](const int64_t* s) {
         return fmt::format("vp={} needs pipeline parallelism (pp={})", s[kMVp], s[kMPp]);
       }},
      {"M15", "CPU offload limits",
       [](const int64_t* s) {
         if (!s[kModelKnown] || s[kOffload] <= 0) return true;
         return s[kOffload] < layers_of(s) && s[kRecCount] == 0 && !is_set(s[kRecLayers]);
       },
       [](const int64_t* s) {
         if (s[kOffload] >= layers_of(s))
           return fmt::format("activation_offload_layers={} must be below num_layers={}",
                              s[kOffload], layers_of(s));
         return fmt::format(
             "activation_offload_layers={} cannot be combined with recompute "
             "(recompute_modules={} recompute_num_layers={})",
             s[kOffload], recs(s), opt(s[kRecLayers]));
       }},
  };
}

// In rule order (a rule's position is its bit in a violation mask).
const std::vector<Rule>& model_rules() {
  static const std::vector<Rule> rules =
      with_reads(in_order({model_divisibility_rules(), model_layout_rules(), model_size_rules(),
                           model_feature_rules()}));
  return rules;
}

// ---- E1: predicted out of memory (memory_model.h, verdict in core/estimate.h) -----------------

static_assert(kRMlp == mbridge::kRecomputeMlp && kRMoe == mbridge::kRecomputeMoe &&
              kRMlaUp == mbridge::kRecomputeMlaUpProj && kRMoeAct == mbridge::kRecomputeMoeAct &&
              kRShared == mbridge::kRecomputeSharedExperts &&
              kRLayernorm == mbridge::kRecomputeLayernorm);

// Shapes the memory rule reads through kEstShape: copies interned while compiling and never
// freed, so a slot's address stays valid whatever catalog the case was compiled with.
const ModelShape* intern_shape(const ModelShape& m) {
  static std::mutex mu;
  static std::deque<std::pair<std::string, ModelShape>> shapes;
  std::string key = fmt::format(
      "{}|{}|{} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}", m.name, m.loc.str(), m.num_layers,
      m.hidden_size, m.num_attention_heads, m.num_query_groups, m.ffn_hidden_size,
      m.moe_ffn_hidden_size, m.moe_shared_expert_intermediate_size, m.kv_channels,
      m.gated_linear_unit, m.num_moe_experts, m.moe_router_topk, m.first_k_dense_replace,
      m.mtp_num_layers, m.seq_length, m.vocab_size, m.untie_embeddings_and_output_weights);
  // What the memory model reads beyond those: MLA ranks, the MoE pattern, hybrid layers.
  std::string moe_pattern;
  for (int is_moe : m.moe_layer_pattern) moe_pattern += is_moe ? '1' : '0';
  key += fmt::format("|{} {} {} {} {}|{}|{}|{}|{} {} {} {} {}", m.q_lora_rank, m.kv_lora_rank,
                     m.qk_head_dim, m.qk_pos_emb_head_dim, m.v_head_dim, moe_pattern,
                     m.hybrid_layer_pattern, m.mtp_hybrid_layer_pattern, m.mamba_state_dim,
                     m.mamba_head_dim, m.mamba_num_groups, m.mamba_num_heads, m.moe_latent_size);
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& [k, shape] : shapes)
    if (k == key) return &shape;
  return &shapes.emplace_back(std::move(key), m).second;
}

const ModelShape* est_shape(const int64_t* s) {
  return reinterpret_cast<const ModelShape*>(static_cast<intptr_t>(s[kEstShape]));
}

// What Megatron receives at this point, when every parallelism is known.
std::optional<mbridge::MemoryInputs> memory_inputs(const int64_t* s) {
  if (!s[kEstShape]) return std::nullopt;
  for (Slot k : {kMTp, kMPp, kMCp, kMEp})
    if (!known(s[k]) || s[k] <= 0) return std::nullopt;
  // An unwritten vp whose recipe value the catalog does not know counts as no virtual pipeline:
  // the least activation memory, so a prune stays right (ep of a dense model is always 1).
  const int64_t vp = known(s[kMVp]) && s[kMVp] > 0 ? s[kMVp] : 1;
  if (s[kNumGpus] <= 0) return std::nullopt;
  mbridge::MemoryInputs in;
  in.num_gpus = s[kNumGpus];
  in.tp = s[kMTp];
  in.pp = s[kMPp];
  in.cp = s[kMCp];
  in.vp = vp;
  in.ep = s[kMEp];
  in.etp = is_set(s[kEt]) && s[kEt] > 0 ? s[kEt] : (is_set(s[kDefaultEt]) ? s[kDefaultEt] : 0);
  in.mb = s[kMb] > 0 ? s[kMb] : 1;  // unwritten: 1, the least memory (a prune stays right)
  in.gb = s[kGb] > 0 ? s[kGb] : 0;
  in.seq_length = s[kUserSeq] > 0 ? s[kUserSeq] : 0;
  in.num_layers = s[kUserLayers] > 0 ? s[kUserLayers] : 0;
  in.megatron_fsdp = s[kEstFsdp] != 0;
  in.cuda_graphs = graphs_on(s);
  in.recompute_modules = static_cast<uint32_t>(s[kEstRecMask] & ~kROther);
  in.recompute_num_layers = is_set(s[kRecLayers]) && s[kRecLayers] > 0 ? s[kRecLayers] : 0;
  in.offload_layers = s[kEstOffload];
  in.low_precision_gemm_inputs = s[kEstLowPrecision] != 0;
  return in;
}

std::optional<MemoryEstimate> memory_of(const int64_t* s) {
  std::optional<mbridge::MemoryInputs> in = memory_inputs(s);
  if (!in) return std::nullopt;
  std::optional<mbridge::MemoryBreakdown> b = mbridge::estimate_memory(*est_shape(s), *in);
  if (!b) return std::nullopt;
  return to_gib(*b);
}

double gpu_gib(const int64_t* s) {
  return static_cast<double>(s[kEstGpuMicroGiB]) / 1e6;
}

MemoryVerdict memory_verdict(const int64_t* s) {
  if (s[kEstGpuMicroGiB] <= 0) return {};
  std::optional<MemoryEstimate> m = memory_of(s);
  if (!m) return {};
  return judge_memory(m->total(), gpu_gib(s), static_cast<OomRule>(s[kEstRule]));
}

std::string memory_text(const int64_t* s) {
  std::optional<MemoryEstimate> m = memory_of(s);
  return m ? describe_memory(*m, gpu_gib(s)) : "no estimate";
}

// Every slot memory_inputs(), memory_of() and memory_verdict() read.
constexpr uint64_t kMemoryReads =
    slot_bits(kNumGpus, kMTp, kMPp, kMCp, kMVp, kMEp, kEt, kDefaultEt, kMb, kGb, kUserSeq,
              kUserLayers, kImpl, kScopeCount, kRecLayers) |
    slot_bits(kEstShape, kEstGpuMicroGiB, kEstRule, kEstLowPrecision, kEstOffload, kEstFsdp,
              kEstRecMask);

const std::vector<Rule>& estimate_rules() {
  static const std::vector<Rule> rules = {
      {"E1", "predicted out of memory", [](const int64_t* s) { return memory_verdict(s).fits; },
       [](const int64_t* s) { return memory_text(s); }, kMemoryReads},
  };
  return rules;
}

// Points that run but come close to (or, with `[estimate] oom = "warn"`, beyond) the memory.
const std::vector<Rule>& memory_warnings() {
  static const std::vector<Rule> rules = {
      {"E1", "near the GPU memory limit",
       [](const int64_t* s) { return !memory_verdict(s).near_limit; },
       [](const int64_t* s) { return memory_text(s); }, kMemoryReads},
  };
  return rules;
}

// ---- Decoders: cmd_args values -> slots ---------------------------------------------------------

using DecodeFn = std::function<void(const Value*, int64_t*, const std::string&)>;

FieldDecoder int_field(std::string field, Slot slot, int64_t unset, bool or_one_semantics) {
  return {std::move(field),
          {slot},
          [slot, unset, or_one_semantics](const Value* v, int64_t* s, const std::string& key) {
            if (!v) {
              s[slot] = unset;
              return;
            }
            int64_t x = decode_int(*v, key);
            s[slot] = (or_one_semantics && x == 0) ? unset : x;
          }};
}

// A parallelism field read twice: CloudAI's view (`unset` when not written, 0 -> unset with
// or_one semantics) and the model view (written value, else `recipe`, which may be kUnknown).
FieldDecoder parallel_field(std::string field, Slot slot, int64_t unset, bool or_one_semantics,
                            Slot model_slot, int64_t recipe) {
  return {std::move(field),
          {slot, model_slot},
          [=](const Value* v, int64_t* s, const std::string& key) {
            if (!v) {
              s[slot] = unset;
              s[model_slot] = recipe;
              return;
            }
            int64_t x = decode_int(*v, key);
            s[slot] = (or_one_semantics && x == 0) ? unset : x;
            s[model_slot] = x;
          }};
}

FieldDecoder bool_field(std::string field, Slot slot) {
  return {std::move(field), {slot}, [slot](const Value* v, int64_t* s, const std::string& key) {
            s[slot] = v ? decode_bool(*v, key) : 0;
          }};
}

int64_t scope_bit(const std::string& item) {
  for (int b = 0; b < 7; ++b)
    if (item == kScopeNames[b]) return int64_t{1} << b;
  return kSOther;
}
int64_t rec_bit(const std::string& item) {
  for (int b = 0; b < 7; ++b)
    if (item == kRecNames[b]) return int64_t{1} << b;
  return kROther;
}

void warn_unknown_recipe(const std::string& recipe) {
  static std::mutex mu;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mu);
  if (!warned.insert(recipe).second) return;
  log::warn(
      "model_recipe_name '" + recipe +
      "' is not in the model catalog, so only CloudAI's generic sweep rules (C1-C20) "
      "apply; add its shape to a file listed in BENCHPILOT_MODEL_CATALOG (format of "
      "src/workloads/megatron_bridge/model_catalog.toml) to prune what Megatron would reject");
}

void write_model(const ModelShape* m, mbridge::RecipeEra era, int64_t* s) {
  for (int k = kModelKnown; k <= kPairs3; ++k) s[k] = 0;
  s[kDefaultEt] = kUnsetSlot;
  if (!m) return;
  s[kModelKnown] = 1;
  s[kModelLayers] = m->num_layers;
  s[kHeads] = m->num_attention_heads;
  s[kGroups] = m->num_query_groups;
  s[kExperts] = m->num_moe_experts;
  s[kMla] = m->multi_latent_attention;
  s[kHybrid] = m->is_hybrid();
  s[kDenseMlp] = m->has_dense_mlp();
  s[kMoeKind] = m->is_moe() && !m->is_hybrid();
  s[kShared] = m->moe_shared_experts;
  s[kAccount] = m->account_for_embedding_in_pipeline_split + m->account_for_loss_in_pipeline_split;
  if (m->expert_tensor_parallel_size) s[kDefaultEt] = *m->expert_tensor_parallel_size;
  s[kModelSeq] = m->seq_length;
  s[kMtp] = m->mtp_num_layers;
  const auto& pairs = m->layout_pairs(era == mbridge::RecipeEra::kV0_6);
  s[kHasPairs] = !pairs.empty();
  for (size_t i = 0; i < pairs.size(); ++i) {
    auto [pp, vp] = pairs[i];
    s[kPairs0 + i / 4] |= (pp << 8 | vp) << (16 * (i % 4));
  }
}

// What Megatron runs for fields nobody writes: the recipe's parallelism for this GPU and dtype
// (catalog pretrain_defaults), when the case has one known recipe.
struct RecipeView {
  const RecipeParallelism* defaults = nullptr;
  bool dense = false;  // a known model without experts: ep is 1 whatever the recipe
};

// The slot decoders of the fields whose text becomes a code or a bit mask.
void decode_cuda_graph_impl(const Value* v, int64_t* s, const std::string& key) {
  std::string impl = v ? to_lower(trim(decode_string(*v, key))) : "";
  if (impl.empty() || impl == "none" || impl == "null")
    s[kImpl] = kImplOff;
  else if (impl == "local")
    s[kImpl] = kImplLocal;
  else if (impl == "transformer_engine")
    s[kImpl] = kImplTe;
  else
    s[kImpl] = intern_invalid_impl(impl);
}

void decode_cuda_graph_scope(const Value* v, int64_t* s, const std::string& key) {
  std::vector<std::string> items;
  if (v) items = normalize_str_list(*v, key);
  int64_t mask = 0;
  for (const std::string& it : items) mask |= scope_bit(it);
  s[kScopeMask] = mask;
  s[kScopeCount] = static_cast<int64_t>(items.size());
  s[kScopeLocalOk] = items.empty() || (items.size() == 1 && items[0] == "full_iteration");
}

void decode_recompute_modules(const Value* v, int64_t* s, const std::string& key) {
  std::set<std::string> items;
  if (v)
    for (std::string& it : normalize_str_list(*v, key)) items.insert(std::move(it));
  int64_t mask = 0;
  for (const std::string& it : items) mask |= rec_bit(it);
  s[kRecMask] = mask;
  s[kRecCount] = static_cast<int64_t>(items.size());
}

// An unwritten, empty or "none" layout leaves every layout slot 0.
void decode_pipeline_layout(const Value* v, int64_t* s, const std::string& key) {
  for (int k = kLayoutSet; k <= kLayoutPlacementOk; ++k) s[k] = 0;
  if (!v) return;
  std::string text = decode_string(*v, key);
  if (trim(text).empty() || to_lower(trim(text)) == "none") return;
  PipelineLayout l = parse_pipeline_layout(text);
  s[kLayoutSet] = 1;
  s[kLayoutOk] = l.ok;
  s[kLayoutStages] = l.stages;
  s[kLayoutT] = l.decoders;
  s[kLayoutM] = l.mtp;
  s[kLayoutL] = l.losses;
  s[kLayoutE] = l.embeddings;
  s[kLayoutPlacementOk] = l.embedding_in_first_stage && l.loss_in_last_stage;
}

std::vector<FieldDecoder> decoders(const ModelCatalog& catalog, const std::string& family,
                                   const RecipeView& recipe, mbridge::RecipeEra era) {
  const RecipeParallelism* r = recipe.defaults;
  // 0: the catalog leaves the recipe's size unstated.
  auto or_unknown = [r](int64_t RecipeParallelism::*field) {
    return r && r->*field > 0 ? r->*field : kUnknown;
  };
  std::vector<FieldDecoder> d;
  // Unwritten num_gpus is the launcher's default, from the one place it is written (args.cc).
  const int64_t default_gpus = mbridge::find_arg("num_gpus")->default_value.as_int();
  d.push_back(
      {"num_gpus", {kNumGpus}, [default_gpus](const Value* v, int64_t* s, const std::string& key) {
         s[kNumGpus] = v ? decode_int(*v, key) : default_gpus;
       }});
  d.push_back(parallel_field("tp", kTp, 1, true, kMTp, or_unknown(&RecipeParallelism::tp)));
  d.push_back(parallel_field("pp", kPp, 1, true, kMPp, or_unknown(&RecipeParallelism::pp)));
  d.push_back(parallel_field("cp", kCp, 1, true, kMCp, or_unknown(&RecipeParallelism::cp)));
  d.push_back(
      parallel_field("vp", kVp, kUnsetSlot, false, kMVp, or_unknown(&RecipeParallelism::vp)));
  d.push_back(int_field("mb", kMb, 0, false));
  d.push_back(int_field("gb", kGb, 0, false));
  d.push_back(int_field("et", kEt, kUnsetSlot, false));
  d.push_back(parallel_field("ep", kEp, kUnsetSlot, false, kMEp,
                             recipe.dense ? 1 : or_unknown(&RecipeParallelism::ep)));
  d.push_back(bool_field("use_megatron_fsdp", kFsdp));
  d.push_back(int_field("num_distributed_optimizer_instances", kNdo, kUnsetSlot, false));
  d.push_back(int_field("activation_offload_layers", kOffload, 0, true));
  d.push_back(bool_field("moe_a2a_overlap", kA2a));
  d.push_back(int_field("recompute_num_layers", kRecLayers, kUnsetSlot, false));
  d.push_back({"cuda_graph_impl", {kImpl}, decode_cuda_graph_impl});
  d.push_back(
      {"cuda_graph_scope", {kScopeMask, kScopeCount, kScopeLocalOk}, decode_cuda_graph_scope});
  d.push_back({"recompute_modules", {kRecMask, kRecCount}, decode_recompute_modules});
  std::vector<int> model_slots;
  for (int k = kModelKnown; k <= kPairs3; ++k) model_slots.push_back(k);
  model_slots.push_back(kDeepseekName);
  model_slots.push_back(kPinnedEra);
  d.push_back({"model_recipe_name", model_slots,
               [&catalog, family, era](const Value* v, int64_t* s, const std::string& key) {
                 std::string recipe = v ? decode_string(*v, key) : "";
                 std::string lower = to_lower(recipe);
                 s[kDeepseekName] = contains(lower, "deepseek_v3") || contains(lower, "deepseekv3");
                 s[kPinnedEra] = static_cast<int64_t>(era);
                 write_model(catalog.find(recipe, family), era, s);
               }});
  d.push_back(int_field("num_layers", kUserLayers, 0, false));
  d.push_back(int_field("seq_length", kUserSeq, 0, false));
  d.push_back(int_field("first_k_dense_replace", kUserFirstK, kUnsetSlot, false));
  d.push_back({"pipeline_model_parallel_layout",
               {kLayoutSet, kLayoutOk, kLayoutStages, kLayoutT, kLayoutM, kLayoutL, kLayoutE,
                kLayoutPlacementOk},
               decode_pipeline_layout});
  return d;
}

// The recipe defaults apply to a pretrain run of one known recipe with the launcher's default
// config variant; gpu_type and compute_dtype are what the launcher receives (written_or_default).
RecipeView recipe_view(const TestRun& run, const std::vector<std::string>& recipes,
                       const ModelCatalog& catalog, const std::string& family) {
  RecipeView view;
  if (recipes.size() != 1) return view;
  const ModelShape* shape = catalog.find(recipes[0], family);
  if (!shape) return view;
  view.dense = !shape->is_moe();
  const Value& args = run.test.cmd_args;
  auto text = [&](const char* field) {
    const Value* v = written_or_default(*mbridge::find_arg(field), args);
    return v && v->is_string() ? std::string(trim(v->as_string())) : std::string();
  };
  if (text("task") != "pretrain" || !text("config_variant").empty()) return view;
  view.defaults = shape->pretrain_defaults_for(text("gpu_type"), text("compute_dtype"));
  return view;
}

// The memory rule's slots: the shape of each recipe, the GPU's memory (the system's
// gpu_memory_gib, else the gpu_type's), the case's [estimate] oom, and what the launcher runs
// for compute dtype, CPU offload and FSDP: the written value, else the recipe's (`defaults`).
// The launcher keeps the recipe's offload for -ol 0 and its FSDP for --use_megatron_fsdp false
// (scripts/performance/utils/overrides.py @ v0.6.0 only sets them when given and positive/true).
std::vector<FieldDecoder> estimate_decoders(const ModelCatalog& catalog, const std::string& family,
                                            std::optional<double> system_gib, OomRule rule,
                                            const RecipeParallelism* defaults) {
  std::vector<FieldDecoder> d;
  d.push_back({"model_recipe_name",
               {kEstShape},
               [&catalog, family](const Value* v, int64_t* s, const std::string& key) {
                 const ModelShape* m = catalog.find(v ? decode_string(*v, key) : "", family);
                 s[kEstShape] =
                     m ? static_cast<int64_t>(reinterpret_cast<intptr_t>(intern_shape(*m))) : 0;
               }});
  const std::string default_gpu = mbridge::find_arg("gpu_type")->default_value.as_string();
  d.push_back({"gpu_type",
               {kEstGpuMicroGiB, kEstRule},
               [=](const Value* v, int64_t* s, const std::string& key) {
                 std::optional<double> gib = system_gib;
                 if (!gib)
                   if (auto g = mbridge::gpu_memory_of(v ? decode_string(*v, key) : default_gpu))
                     gib = g->gib;
                 s[kEstGpuMicroGiB] = gib ? std::llround(*gib * 1e6) : 0;
                 s[kEstRule] = static_cast<int64_t>(rule);
               }});
  const Value& default_dtype = mbridge::find_arg("compute_dtype")->default_value;
  const std::string dtype_default = default_dtype.is_string() ? default_dtype.as_string() : "";
  d.push_back({"compute_dtype",
               {kEstLowPrecision},
               [dtype_default](const Value* v, int64_t* s, const std::string& key) {
                 const std::string dtype = to_lower(v ? decode_string(*v, key) : dtype_default);
                 s[kEstLowPrecision] = dtype.rfind("fp8", 0) == 0 || dtype == "nvfp4";
               }});
  const int64_t recipe_offload = defaults ? defaults->offload : 0;
  const bool recipe_fsdp = defaults && defaults->fsdp;
  d.push_back({"activation_offload_layers",
               {kEstOffload},
               [recipe_offload](const Value* v, int64_t* s, const std::string& key) {
                 const int64_t written = v ? decode_int(*v, key) : 0;
                 s[kEstOffload] = written > 0 ? written : recipe_offload;
               }});
  d.push_back({"use_megatron_fsdp",
               {kEstFsdp},
               [recipe_fsdp](const Value* v, int64_t* s, const std::string& key) {
                 s[kEstFsdp] = recipe_fsdp || (v && decode_bool(*v, key));
               }});
  int64_t recipe_recompute = 0;
  if (defaults)
    for (const std::string& module : defaults->recompute) recipe_recompute |= rec_bit(module);
  d.push_back({"recompute_modules",
               {kEstRecMask},
               [recipe_recompute](const Value* v, int64_t* s, const std::string& key) {
                 int64_t mask = 0;
                 if (v)
                   for (const std::string& it : normalize_str_list(*v, key)) mask |= rec_bit(it);
                 s[kEstRecMask] = v ? mask : recipe_recompute;
               }});
  return d;
}

class MegatronBridgeConstraints : public ConstraintSet {
 public:
  std::string_view workload() const override { return "MegatronBridge"; }
  std::vector<Rule> all_rules() const override {
    std::vector<Rule> all = cloudai_rules();
    all.insert(all.end(), model_rules().begin(), model_rules().end());
    all.insert(all.end(), estimate_rules().begin(), estimate_rules().end());
    return all;
  }
  CompiledConstraints compile(const TestRun& run, const ParamSpace& space,
                              const System* system) const override {
    return compile_megatron_bridge(run, space, ModelCatalog::global(), system);
  }
  CompiledConstraints warnings(const TestRun& run, const ParamSpace& space,
                               const System* system) const override {
    return compile_memory_warnings(run, space, ModelCatalog::global(), system);
  }
};

}  // namespace

const std::vector<Rule>& megatron_bridge_cloudai_rules() {
  return cloudai_rules();
}
const std::vector<Rule>& megatron_bridge_model_rules() {
  return model_rules();
}

const ConstraintSet& megatron_bridge_constraints() {
  static const MegatronBridgeConstraints set;
  return set;
}

namespace {

// The decoders and rules of a case: CloudAI's rules, the model rules when a recipe of the case
// is known, and with `memory` the memory rule (E1) or, for warnings, its near-limit twin.
enum class MemoryRules { kPrune, kWarnings };
CompiledConstraints compile_case(const TestRun& run, const ParamSpace& space,
                                 const ModelCatalog& catalog, const System* system,
                                 MemoryRules memory) {
  const Value& args = run.test.cmd_args;
  std::string family;
  if (const Value* f = args.find("model_family_name"); f && f->is_string()) family = f->as_string();
  // Model rules apply when some recipe of the case is known; each unknown one is reported once.
  std::vector<std::string> recipes;
  int axis = space.find_axis("model_recipe_name");
  if (axis >= 0) {
    for (const Value& v : space.axes()[axis].values)
      recipes.push_back(decode_string(v, "cmd_args.model_recipe_name"));
  } else if (const Value* r = args.find("model_recipe_name")) {
    recipes.push_back(decode_string(*r, "cmd_args.model_recipe_name"));
  }
  bool any_known = false;
  for (const std::string& r : recipes) {
    if (catalog.find(r, family))
      any_known = true;
    else if (!trim(r).empty() && memory == MemoryRules::kPrune)
      warn_unknown_recipe(r);
  }
  std::vector<Rule> rules;
  if (memory == MemoryRules::kPrune) {
    rules = cloudai_rules();
    if (any_known) rules.insert(rules.end(), model_rules().begin(), model_rules().end());
  }
  const RecipeView view = recipe_view(run, recipes, catalog, family);
  std::vector<FieldDecoder> d = decoders(catalog, family, view, mbridge::pinned_era(run.test));
  const OomRule oom = run.test.oom_rule;
  const bool prunes = oom == OomRule::kPrune && memory == MemoryRules::kPrune;
  const bool warns = oom != OomRule::kOff && memory == MemoryRules::kWarnings;
  if (any_known && (prunes || warns)) {
    const std::vector<Rule>& extra = prunes ? estimate_rules() : memory_warnings();
    rules.insert(rules.end(), extra.begin(), extra.end());
    for (FieldDecoder& e : estimate_decoders(
             catalog, family, system ? system->gpu_memory_gib : std::nullopt, oom, view.defaults))
      d.push_back(std::move(e));
  }
  if (rules.empty()) return CompiledConstraints();
  return compile_constraints(d, std::move(rules), run, space);
}

}  // namespace

CompiledConstraints compile_megatron_bridge(const TestRun& run, const ParamSpace& space,
                                            const ModelCatalog& catalog, const System* system) {
  return compile_case(run, space, catalog, system, MemoryRules::kPrune);
}

CompiledConstraints compile_memory_warnings(const TestRun& run, const ParamSpace& space,
                                            const ModelCatalog& catalog, const System* system) {
  return compile_case(run, space, catalog, system, MemoryRules::kWarnings);
}

namespace {

// The memory rule's twin with the warning switched on (the estimate is wanted even when E1 is
// off).
CompiledConstraints memory_rules_of(const TestRun& point, const ParamSpace& space,
                                    const System* system, const ModelCatalog& catalog) {
  TestRun run = point;
  run.test.oom_rule = run.test.oom_rule == OomRule::kOff ? OomRule::kWarn : run.test.oom_rule;
  return compile_case(run, space, catalog, system, MemoryRules::kWarnings);
}

}  // namespace

MemoryPoints::MemoryPoints(const TestRun& run, const System* system, const ModelCatalog& catalog)
    : space_(ParamSpace::of(run)), rules_(memory_rules_of(run, space_, system, catalog)) {
  if (!rules_.empty()) ev_.emplace(rules_);
}

MemoryPoint MemoryPoints::at(const std::vector<uint32_t>& indices) {
  MemoryPoint p;
  if (!ev_) return p;
  ev_->load(indices);
  const int64_t* s = ev_->slots();
  p.inputs = memory_inputs(s);
  if (s[kEstShape]) p.shape = est_shape(s);
  if (s[kEstGpuMicroGiB] > 0) p.gpu_gib = gpu_gib(s);
  if (p.inputs) p.memory = memory_of(s);
  return p;
}

MemoryPoint megatron_bridge_memory_point(const TestRun& point, const System* system,
                                         const ModelCatalog& catalog) {
  MemoryPoints points(point, system, catalog);
  return points.at(std::vector<uint32_t>(ParamSpace::of(point).axes().size(), 0));
}

}  // namespace bp
