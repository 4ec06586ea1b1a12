// Appending rows to a CSV that a kill -9 or a full disk must not tear: only whole lines reach
// the file, each batch in one write(2), and a short write is rolled back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace bp {

class LineAppender {
 public:
  // Creates (or truncates) `path`. Throws FileError (util/files.h) naming the file and reason.
  explicit LineAppender(const std::filesystem::path& path);
  ~LineAppender();
  LineAppender(const LineAppender&) = delete;
  LineAppender& operator=(const LineAppender&) = delete;

  // Buffers `text`; whole lines are written once more than `buffer_bytes` are waiting.
  void append(std::string_view text);
  // Writes every whole line buffered so far; a line still without its '\n' stays buffered.
  // On a failed or short write (e.g. "No space left on device") the file is cut back to its
  // last whole line and FileError is thrown; the lines stay buffered for a later flush.
  void flush();
  void set_buffer_bytes(size_t n) { buffer_bytes_ = n; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string pending_;
  uint64_t size_ = 0;  // bytes of whole lines in the file
  size_t buffer_bytes_ = 0;
};

}  // namespace bp
