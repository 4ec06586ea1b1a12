#include "workloads/megatron_bridge/pipeline_layout.h"

#include <cctype>
#include <stdexcept>

#include "util/error.h"

namespace bp {

namespace {

constexpr size_t kMaxExpanded = 1 << 20;  // guards against "t*999999999"

class Expander {
 public:
  explicit Expander(std::string_view s) {
    for (char c : s)
      if (!std::isspace(static_cast<unsigned char>(c))) text_ += c;
  }

  std::string run() {
    std::string out = sequence();
    if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    throw ValueError(why + " at position " + std::to_string(pos_ + 1));
  }

  std::string sequence() {
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != ')') {
      std::string item;
      char c = text_[pos_];
      if (c == '(') {
        ++pos_;
        item = sequence();
        if (pos_ >= text_.size() || text_[pos_] != ')') fail("missing ')'");
        ++pos_;
      } else if (c == 'E' || c == 't' || c == 'm' || c == 'L' || c == '|') {
        item = std::string(1, c);
        ++pos_;
      } else {
        fail("unexpected '" + std::string(1, c) + "' (expected E, t, m, L, |, ( or ))");
      }
      int64_t times = 1;
      if (pos_ < text_.size() && text_[pos_] == '*') {
        ++pos_;
        size_t start = pos_;
        times = 0;
        while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
          times = times * 10 + (text_[pos_] - '0');
          if (times > static_cast<int64_t>(kMaxExpanded)) fail("repeat count too large");
          ++pos_;
        }
        if (pos_ == start) fail("'*' must be followed by a count");
      }
      if (out.size() + item.size() * static_cast<size_t>(times) > kMaxExpanded)
        fail("layout too long");
      for (int64_t i = 0; i < times; ++i) out += item;
    }
    return out;
  }

  std::string text_;
  size_t pos_ = 0;
};

}  // namespace

PipelineLayout parse_pipeline_layout(std::string_view text) {
  PipelineLayout l;
  std::string flat;
  try {
    flat = Expander(text).run();
  } catch (const ValueError& e) {
    l.error = e.what();
    return l;
  }
  if (flat.empty()) {
    l.error = "empty layout";
    return l;
  }
  l.stages = 1;
  int64_t stage = 0;
  int64_t last_loss_stage = -1;
  for (char c : flat) {
    switch (c) {
      case '|':
        ++l.stages, ++stage;
        break;
      case 't':
        ++l.decoders;
        break;
      case 'm':
        ++l.mtp;
        break;
      case 'L':
        ++l.losses, last_loss_stage = stage;
        break;
      case 'E':
        ++l.embeddings;
        if (stage == 0) l.embedding_in_first_stage = true;
        break;
    }
  }
  l.loss_in_last_stage = last_loss_stage == l.stages - 1;
  l.ok = true;
  return l;
}

}  // namespace bp
