// Megatron's pipeline_model_parallel_layout strings, e.g. "Et|(tt|)*30mL": E = embedding,
// t = decoder layer, m = MTP layer, L = loss, | = next pipeline stage, "x*k" and "(...)*k"
// repeat. Only what the sweep rules check is kept: stage count and how many of each layer kind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bp {

struct PipelineLayout {
  bool ok = false;
  std::string error;  // why it could not be parsed
  int64_t stages = 0;
  int64_t decoders = 0;    // t
  int64_t mtp = 0;         // m
  int64_t losses = 0;      // L
  int64_t embeddings = 0;  // E
  bool embedding_in_first_stage = false;
  bool loss_in_last_stage = false;
};

PipelineLayout parse_pipeline_layout(std::string_view text);

}  // namespace bp
