#include "systems/slurm/growing_file.h"

#include <fstream>
#include <iterator>

namespace bp {

LastLine last_line_once(bool writer_exited) {
  return writer_exited ? LastLine::kTakeAsIs : LastLine::kWaitForNewline;
}

std::string read_new_lines(const std::filesystem::path& path, GrowingFile& file, LastLine last) {
  std::ifstream in(path, std::ios::binary);
  if (in) {
    in.seekg(static_cast<std::streamoff>(file.offset));
    std::string chunk((std::istreambuf_iterator<char>(in)), {});
    file.offset += chunk.size();
    file.partial += chunk;
  }
  const bool take_all = last == LastLine::kTakeAsIs;
  size_t end = take_all ? file.partial.size() : file.partial.rfind('\n');
  if (end == std::string::npos) return {};
  std::string complete = file.partial.substr(0, end);
  file.partial.erase(0, take_all ? end : end + 1);
  return complete;
}

}  // namespace bp
