// Megatron-Bridge's model FLOPs (training/utils/flop_utils.py, num_floating_point_operations):
// the count its MODEL_TFLOP/s/GPU divides by the step time. Predicted and measured TFLOP/s/GPU
// must use the same count, so this follows the Python function term by term, for the release
// whose rules the run uses. tools/estimator/flops_reference.py evaluates the Python function
// itself; model_flops_test.cc pins these results to its values.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bp {

struct ModelShape;

// Megatron-Bridge v0.5.0 changed the count: the gated-unit factor applies to any gated MLP (not
// only SiLU), sliding-window layers use the mean causal window, gated attention counts its gate.
// kFrom0_5 is v0.6.0's function (v0.5.x differs from it only for hybrid models with
// sliding-window layers, which v0.5.x counts as full attention). kBefore0_5 is v0.4.x's (v0.3.x
// differs from it only for hybrid MTP layers, which it leaves out, and Gated DeltaNet layers).
enum class FlopsRules { kBefore0_5, kFrom0_5 };

// The rules of a Megatron-Bridge version ("0.4.2", "v0.6.0", "0.6.0rc1"); kFrom0_5 when the
// version is empty or not understood (the pinned default is v0.6.0).
FlopsRules flops_rules_for_version(std::string_view mbridge_version);

struct FlopsSettings {
  int64_t seq_length = 0;  // 0: the shape's seq_length
  int64_t tp = 1;          // the vocabulary is padded to a multiple of divisible_by · tp
  FlopsRules rules = FlopsRules::kFrom0_5;
  std::optional<int64_t> mtp_num_layers;  // unset: the shape's (the recipe's) depth
};

// Megatron's calculate_padded_vocab_size: vocab rounded up to a multiple of divisible_by · tp.
// nullopt when an argument is not positive.
std::optional<int64_t> padded_vocab_size(int64_t vocab_size, int64_t divisible_by, int64_t tp);

// Training FLOPs per token (forward + backward) of one sequence of settings.seq_length tokens, as
// Megatron-Bridge counts them; nullopt when the shape lacks a field the count needs. Closed
// form: no allocation.
std::optional<double> model_flops_per_token(const ModelShape& shape, const FlopsSettings& settings);

}  // namespace bp
