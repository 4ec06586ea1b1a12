#include "core/scenario.h"

namespace bp {

std::string_view to_string(DependencyType t) {
  switch (t) {
    case DependencyType::kStartPostInit:
      return "start_post_init";
    case DependencyType::kStartPostComp:
      return "start_post_comp";
    case DependencyType::kEndPostComp:
      return "end_post_comp";
  }
  return "?";
}

}  // namespace bp
