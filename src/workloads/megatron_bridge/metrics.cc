#include "workloads/megatron_bridge/metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>

#if defined(__x86_64__)
#include <immintrin.h>
#define BP_MBRIDGE_X86 1
#endif

namespace bp::mbridge {
namespace {

constexpr size_t kAnchorLen = 9;  // "step time"

// Case-insensitive prefix test against a lowercase ASCII literal; only letters are folded.
bool starts_with_folded(const char* p, const char* end, std::string_view lit) {
  if (static_cast<size_t>(end - p) < lit.size()) return false;
  for (size_t i = 0; i < lit.size(); ++i) {
    auto b = static_cast<unsigned char>(p[i]);
    char c = lit[i];
    if (c >= 'a' && c <= 'z' ? (b | 0x20) != static_cast<unsigned char>(c) : b != c) return false;
  }
  return true;
}

// Whether p (with 9 readable bytes) starts "step time", case-insensitively.
inline bool is_anchor(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  // Fold the letters (all but byte 4, the space) to lowercase; little-endian byte order.
  constexpr uint64_t kFold = 0x2020200020202020ull;
  constexpr uint64_t kWant = 0x6d69742070657473ull;  // "step tim"
  return (word | kFold) == kWant && (static_cast<unsigned char>(p[8]) | 0x20) == 'e';
}

const char* find_anchor_scalar(const char* p, const char* end) {
  for (; end - p >= static_cast<ptrdiff_t>(kAnchorLen); ++p) {
    if ((static_cast<unsigned char>(p[3]) | 0x20) == 'p' && p[4] == ' ' && is_anchor(p)) return p;
  }
  return nullptr;
}

#ifdef BP_MBRIDGE_X86
// Filters 16 start positions at once on bytes 3 ('p'), 4 (' ') and 7 ('m') of the anchor; the
// rare survivors are checked in full.
const char* find_anchor_sse2(const char* p, const char* end) {
  const __m128i fold = _mm_set1_epi8(0x20);
  const __m128i want_p = _mm_set1_epi8('p');
  const __m128i want_space = _mm_set1_epi8(' ');
  const __m128i want_m = _mm_set1_epi8('m');
  while (end - p >= 16 + 8) {
    __m128i b3 = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 3)), fold);
    __m128i b4 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 4));
    __m128i b7 = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 7)), fold);
    __m128i hit =
        _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(b3, want_p), _mm_cmpeq_epi8(b4, want_space)),
                      _mm_cmpeq_epi8(b7, want_m));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    while (mask) {
      const char* c = p + __builtin_ctz(mask);
      if (is_anchor(c)) return c;
      mask &= mask - 1;
    }
    p += 16;
  }
  return find_anchor_scalar(p, end);
}

// One 32-position block of the same filter, as a bit mask.
__attribute__((target("avx2"))) inline uint32_t anchor_mask_avx2(const char* q) {
  const __m256i fold = _mm256_set1_epi8(0x20);
  __m256i b3 = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 3)), fold);
  __m256i b4 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 4));
  __m256i b7 = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 7)), fold);
  __m256i hit = _mm256_and_si256(_mm256_and_si256(_mm256_cmpeq_epi8(b3, _mm256_set1_epi8('p')),
                                                  _mm256_cmpeq_epi8(b4, _mm256_set1_epi8(' '))),
                                 _mm256_cmpeq_epi8(b7, _mm256_set1_epi8('m')));
  return static_cast<uint32_t>(_mm256_movemask_epi8(hit));
}

// Same filter, 64 start positions per round.
__attribute__((target("avx2"))) const char* find_anchor_avx2(const char* p, const char* end) {
  while (end - p >= 64 + 8) {
    uint64_t mask = anchor_mask_avx2(p) | (static_cast<uint64_t>(anchor_mask_avx2(p + 32)) << 32);
    while (mask) {
      const char* c = p + __builtin_ctzll(mask);
      if (is_anchor(c)) return c;
      mask &= mask - 1;
    }
    p += 64;
  }
  return find_anchor_sse2(p, end);
}

// The first "step time" (any case) in [p, end), or nullptr.
const char* find_anchor(const char* p, const char* end) {
  using Fn = const char* (*)(const char*, const char*);
  static const Fn fn = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? find_anchor_avx2 : find_anchor_sse2;
  }();
  return fn(p, end);
}
#else
const char* find_anchor(const char* p, const char* end) {
  return find_anchor_scalar(p, end);
}
#endif

// Python's \s for str patterns: ASCII whitespace, the separators \x1c-\x1f, and the Unicode
// spaces (as UTF-8). Returns the first position that is not whitespace.
const char* skip_space(const char* p, const char* end) {
  while (p < end) {
    auto b = static_cast<unsigned char>(*p);
    if (b == ' ' || (b >= 0x09 && b <= 0x0d) || (b >= 0x1c && b <= 0x1f)) {
      ++p;
      continue;
    }
    if (b < 0xc2) break;
    size_t left = static_cast<size_t>(end - p);
    auto at = [&](size_t i) { return static_cast<unsigned char>(p[i]); };
    if (b == 0xc2 && left >= 2 && (at(1) == 0x85 || at(1) == 0xa0)) {
      p += 2;  // U+0085, U+00A0
    } else if (b == 0xe1 && left >= 3 && at(1) == 0x9a && at(2) == 0x80) {
      p += 3;  // U+1680
    } else if (b == 0xe2 && left >= 3 && at(1) == 0x80 &&
               (at(2) <= 0x8a || at(2) == 0xa8 || at(2) == 0xa9 || at(2) == 0xaf)) {
      p += 3;  // U+2000..U+200A, U+2028, U+2029, U+202F
    } else if (b == 0xe2 && left >= 3 && at(1) == 0x81 && at(2) == 0x9f) {
      p += 3;  // U+205F
    } else if (b == 0xe3 && left >= 3 && at(1) == 0x80 && at(2) == 0x80) {
      p += 3;  // U+3000
    } else {
      break;
    }
  }
  return p;
}

// [0-9]+(\.[0-9]+)? at p; on success stores the value and returns the end of the number.
const char* parse_number(const char* p, const char* end, double& out) {
  const char* q = p;
  while (q < end && *q >= '0' && *q <= '9') ++q;
  if (q == p) return nullptr;
  if (end - q >= 2 && *q == '.' && q[1] >= '0' && q[1] <= '9') {
    q += 2;
    while (q < end && *q >= '0' && *q <= '9') ++q;
  }
  auto res = std::from_chars(p, q, out);
  if (res.ec == std::errc::result_out_of_range) out = HUGE_VAL;  // Python's float() gives inf
  return q;
}

// \s*<num>\s*(?:MODEL_)?TFLOP/s/GPU after "GPU utilization:".
bool match_tflops(const char* p, const char* end, double& tflops) {
  p = parse_number(skip_space(p, end), end, tflops);
  if (!p) return false;
  p = skip_space(p, end);
  if (starts_with_folded(p, end, "model_")) p += 6;
  return starts_with_folded(p, end, "tflop/s/gpu");
}

// The rest of the rule after the anchor, within one line [p, end).
std::optional<StepSample> match_after_anchor(const char* p, const char* end) {
  StepSample s;
  p = skip_space(p, end);
  if (p == end || *p != ':') return std::nullopt;
  p = parse_number(skip_space(p + 1, end), end, s.step_time_s);
  if (!p) return std::nullopt;
  p = skip_space(p, end);
  if (p == end || (static_cast<unsigned char>(*p) | 0x20) != 's') return std::nullopt;
  ++p;
  // .*? then "GPU utilization:": try each colon, as the lazy regex would, leftmost first.
  constexpr std::string_view kLabel = "gpu utilization";
  for (const char* q = p; q < end;) {
    auto* colon = static_cast<const char*>(std::memchr(q, ':', static_cast<size_t>(end - q)));
    if (!colon) break;
    if (static_cast<size_t>(colon - p) >= kLabel.size() &&
        starts_with_folded(colon - kLabel.size(), colon, kLabel) &&
        match_tflops(colon + 1, end, s.tflops_per_gpu)) {
      if (!std::isfinite(s.step_time_s) || !std::isfinite(s.tflops_per_gpu)) return std::nullopt;
      return s;
    }
    q = colon + 1;
  }
  return std::nullopt;
}

// End of the line that holds `from`: the first \n or \r (or `end`).
const char* line_end(const char* from, const char* end) {
  auto len = static_cast<size_t>(end - from);
  auto* nl = static_cast<const char*>(std::memchr(from, '\n', len));
  if (!nl) nl = end;
  auto* cr = static_cast<const char*>(std::memchr(from, '\r', static_cast<size_t>(nl - from)));
  return cr ? cr : nl;
}

// Calls sink(sample) for each matching line of [text.begin(), text.end()); the text ends at a
// line end (its last line may lack a terminator).
template <class Sink>
void scan_lines(std::string_view text, Sink&& sink) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (const char* anchor = find_anchor(p, end)) {
    const char* eol = line_end(anchor + kAnchorLen, end);
    if (auto s = match_after_anchor(anchor + kAnchorLen, eol)) {
      sink(*s);
      p = eol;  // one match per line
    } else {
      p = anchor + kAnchorLen;  // a later "step time" on the same line may still match
    }
  }
}

}  // namespace

std::optional<StepSample> parse_step_line(std::string_view line) {
  std::string_view first = line.substr(
      0, static_cast<size_t>(line_end(line.data(), line.data() + line.size()) - line.data()));
  std::optional<StepSample> found;
  scan_lines(first, [&](const StepSample& s) {
    if (!found) found = s;
  });
  return found;
}

std::vector<StepSample> parse_all_steps(std::string_view text) {
  std::vector<StepSample> out;
  scan_lines(text, [&](const StepSample& s) { out.push_back(s); });
  return out;
}

std::vector<StepSample> parse_last_steps(std::string_view text, size_t keep) {
  StepScanner scanner(keep);
  scanner.feed(text);
  scanner.finish();
  return scanner.take_samples();
}

void StepScanner::add(const StepSample& s) {
  ++match_count_;
  samples_.push_back(s);
  // Trim in batches so keeping the last N stays O(1) per sample.
  if (keep_last_ && samples_.size() >= 2 * keep_last_ + 64)
    samples_.erase(samples_.begin(), samples_.end() - static_cast<ptrdiff_t>(keep_last_));
}

void StepScanner::scan(std::string_view whole_lines) {
  scan_lines(whole_lines, [this](const StepSample& s) { add(s); });
}

void StepScanner::feed(std::string_view chunk) {
  if (chunk.empty()) return;
  const char* begin = chunk.data();
  const char* end = begin + chunk.size();
  if (!partial_line_.empty()) {
    // Complete the line cut by the previous chunk.
    const char* eol = line_end(begin, end);
    partial_line_.append(begin, eol);
    if (eol == end) return;
    scan(partial_line_);
    partial_line_.clear();
    begin = eol;
  }
  // Scan up to the last terminator; keep what follows for the next chunk.
  auto* last_nl = static_cast<const char*>(memrchr(begin, '\n', static_cast<size_t>(end - begin)));
  const char* tail_from = last_nl ? last_nl + 1 : begin;
  auto* last_cr =
      static_cast<const char*>(memrchr(tail_from, '\r', static_cast<size_t>(end - tail_from)));
  const char* cut = last_cr ? last_cr + 1 : tail_from;
  scan(std::string_view(begin, static_cast<size_t>(cut - begin)));
  partial_line_.assign(cut, end);
}

void StepScanner::finish() {
  if (!partial_line_.empty()) scan(partial_line_);
  partial_line_.clear();
}

std::vector<StepSample> StepScanner::samples() const {
  if (!keep_last_ || samples_.size() <= keep_last_) return samples_;
  return {samples_.end() - static_cast<ptrdiff_t>(keep_last_), samples_.end()};
}

std::vector<StepSample> StepScanner::take_samples() {
  if (keep_last_ && samples_.size() > keep_last_)
    samples_.erase(samples_.begin(), samples_.end() - static_cast<ptrdiff_t>(keep_last_));
  return std::move(samples_);
}

namespace {

std::optional<std::vector<StepSample>> read_steps(const std::filesystem::path& log,
                                                  size_t keep_last, size_t chunk_bytes) {
  int fd = ::open(log.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (chunk_bytes == 0) chunk_bytes = kDefaultChunkBytes;
  auto buf = std::make_unique<char[]>(chunk_bytes);
  StepScanner scanner(keep_last);
  bool ok = true;
  while (true) {
    ssize_t n = ::read(fd, buf.get(), chunk_bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    scanner.feed(std::string_view(buf.get(), static_cast<size_t>(n)));
  }
  ::close(fd);
  if (!ok) return std::nullopt;
  scanner.finish();
  return scanner.take_samples();
}

}  // namespace

std::optional<std::vector<StepSample>> read_all_steps(const std::filesystem::path& log,
                                                      size_t chunk_bytes) {
  return read_steps(log, 0, chunk_bytes);
}

std::optional<std::vector<StepSample>> read_last_steps(const std::filesystem::path& log,
                                                       size_t keep, size_t chunk_bytes) {
  return read_steps(log, keep, chunk_bytes);
}

}  // namespace bp::mbridge
