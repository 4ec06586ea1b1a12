#include "workloads/megatron_bridge/launcher_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <list>
#include <mutex>

#include "util/files.h"
#include "util/log.h"
#include "util/strings.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define BP_LAUNCHER_LOG_X86 1
#endif

namespace bp::mbridge {
namespace fs = std::filesystem;

namespace {

// The leading number of a field's text, what follows ignored: not util/numbers.h's whole-text
// rule, because a launcher log is not ours to reject and a value may carry more after it.
std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) return std::nullopt;
  return v;
}

// The value of the first "key: value" piece of a `|`-separated line whose trimmed key is `key`
// (what a map of the pieces, first key kept, would give), without allocating.
std::optional<std::string_view> field_of(std::string_view line, std::string_view key) {
  size_t start = 0;
  while (start < line.size()) {
    size_t bar = line.find('|', start);
    std::string_view piece = line.substr(start, bar == std::string_view::npos ? bar : bar - start);
    size_t colon = piece.rfind(": ");
    if (colon != std::string_view::npos && trim(piece.substr(0, colon)) == key)
      return trim(piece.substr(colon + 2));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return std::nullopt;
}

std::optional<double> number_field(std::string_view line, std::string_view key) {
  auto v = field_of(line, key);
  return v ? parse_number(*v) : std::nullopt;
}

// The fields of an iteration line, found in one pass (first of each key wins, as field_of).
struct IterationFields {
  static constexpr std::string_view kKeys[] = {"elapsed time per iteration (ms)", "lm loss",
                                               "grad norm", "throughput per GPU (TFLOP/s/GPU)"};
  std::optional<std::string_view> values[4];
  std::optional<double> number(size_t key) const {
    return values[key] ? parse_number(*values[key]) : std::nullopt;
  }
};

IterationFields iteration_fields(std::string_view line) {
  IterationFields out;
  size_t start = 0;
  while (start < line.size()) {
    size_t bar = line.find('|', start);
    std::string_view piece = line.substr(start, bar == std::string_view::npos ? bar : bar - start);
    size_t colon = piece.rfind(": ");
    if (colon != std::string_view::npos) {
      const std::string_view key = trim(piece.substr(0, colon));
      for (size_t k = 0; k < std::size(IterationFields::kKeys); ++k)
        if (!out.values[k] && key == IterationFields::kKeys[k])
          out.values[k] = piece.substr(colon + 2);
    }
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return out;
}

bool contains(std::string_view line, std::string_view needle) {
  return ::memmem(line.data(), line.size(), needle.data(), needle.size()) != nullptr;
}

// The N of "iteration N/M" (spaces allowed around the numbers), if the line is an iteration line.
std::optional<int64_t> iteration_of(std::string_view line) {
  size_t pos = 0;
  while (true) {
    const void* hit = ::memmem(line.data() + pos, line.size() - pos, "iteration", 9);
    if (!hit) break;
    size_t i = static_cast<size_t>(static_cast<const char*>(hit) - line.data()) + 9;
    pos = i;
    while (i < line.size() && line[i] == ' ') ++i;
    size_t digits = i;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
    if (i == digits || i >= line.size() || line[i] != '/') continue;
    int64_t n = 0;
    std::from_chars(line.data() + digits, line.data() + i, n);
    return n;
  }
  return std::nullopt;
}

// The K of "(after K iterations) memory (GB)".
std::optional<int64_t> memory_iteration_of(std::string_view line) {
  if (!contains(line, "memory (GB)")) return std::nullopt;
  size_t after = line.find("(after ");
  if (after == std::string_view::npos) return std::nullopt;
  int64_t k = 0;
  const char* b = line.data() + after + 7;
  auto [p, ec] = std::from_chars(b, line.data() + line.size(), k);
  if (ec != std::errc()) return std::nullopt;
  return k;
}

// The number after `label` ("total=") up to " MB", if the line has it.
std::optional<double> megabytes_after(std::string_view line, std::string_view label) {
  size_t at = line.find(label);
  if (at == std::string_view::npos) return std::nullopt;
  const char* b = line.data() + at + label.size();
  double v = 0;
  auto [p, ec] = std::from_chars(b, line.data() + line.size(), v);
  if (ec != std::errc() || p == b) return std::nullopt;
  return v;
}

void keep_max(std::optional<double>& into, std::optional<double> v) {
  if (v) into = std::max(into.value_or(*v), *v);
}

// --- Finding the lines worth parsing -------------------------------------------------------
// A line can matter only if it holds "step time" (any case: the step-line rule folds case),
// "iteration" or "memory"; everything else (NCCL INFO, warnings, timers) is skipped at memory
// speed.

constexpr size_t kLongestAnchor = 9;

inline bool is_step_anchor(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  constexpr uint64_t kFold = 0x2020200020202020ull;  // letters of "step tim" (not the space)
  constexpr uint64_t kWant = 0x6d69742070657473ull;  // "step tim", little-endian
  return (word | kFold) == kWant && (static_cast<unsigned char>(p[8]) | 0x20) == 'e';
}

// p has kLongestAnchor readable bytes. A "memory" that matters ("memory (GB)", "memory
// footprints:") is followed by more than three bytes of its line, so nine are always there.
inline bool is_anchor(const char* p) {
  return is_step_anchor(p) || std::memcmp(p, "iteration", 9) == 0 ||
         std::memcmp(p, "memory", 6) == 0;
}

const char* find_anchor_scalar(const char* p, const char* end) {
  for (; end - p >= static_cast<ptrdiff_t>(kLongestAnchor); ++p)
    if (is_anchor(p)) return p;
  return nullptr;
}

#ifdef BP_LAUNCHER_LOG_X86
// Positions whose bytes could start an anchor: "step time" by bytes 3 ('p', folded) and 4
// (' '), "iteration" by bytes 0 ('i') and 8 ('n'), "memory" by bytes 0 ('m') and 5 ('y').
__attribute__((target("avx2"))) inline __m256i load_at(const char* q, int at) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + at));
}

__attribute__((target("avx2"))) inline __m256i bytes_equal(__m256i v, char c) {
  return _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c));
}

__attribute__((target("avx2"))) inline uint32_t anchor_mask_avx2(const char* q) {
  const __m256i b0 = load_at(q, 0);
  const __m256i folded3 = _mm256_or_si256(load_at(q, 3), _mm256_set1_epi8(0x20));
  const __m256i step = _mm256_and_si256(bytes_equal(folded3, 'p'), bytes_equal(load_at(q, 4), ' '));
  const __m256i iter = _mm256_and_si256(bytes_equal(b0, 'i'), bytes_equal(load_at(q, 8), 'n'));
  const __m256i mem = _mm256_and_si256(bytes_equal(b0, 'm'), bytes_equal(load_at(q, 5), 'y'));
  return static_cast<uint32_t>(
      _mm256_movemask_epi8(_mm256_or_si256(step, _mm256_or_si256(iter, mem))));
}

__attribute__((target("avx2"))) const char* find_anchor_avx2(const char* p, const char* end) {
  while (end - p >= 64 + static_cast<ptrdiff_t>(kLongestAnchor)) {
    uint64_t mask = anchor_mask_avx2(p) | (static_cast<uint64_t>(anchor_mask_avx2(p + 32)) << 32);
    while (mask) {
      const char* c = p + __builtin_ctzll(mask);
      if (is_anchor(c)) return c;
      mask &= mask - 1;
    }
    p += 64;
  }
  return find_anchor_scalar(p, end);
}

const char* find_anchor(const char* p, const char* end) {
  using Fn = const char* (*)(const char*, const char*);
  static const Fn fn = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? find_anchor_avx2 : find_anchor_scalar;
  }();
  return fn(p, end);
}
#else
const char* find_anchor(const char* p, const char* end) {
  return find_anchor_scalar(p, end);
}
#endif

bool is_terminator(char c) {
  return c == '\n' || c == '\r';
}

// Feeds each line of [text) that holds an anchor; text ends at a line end (its last line may
// lack a terminator).
void feed_anchored_lines(std::string_view text, LauncherLogParser& parser) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (const char* anchor = find_anchor(p, end)) {
    const char* start = anchor;
    while (start > p && !is_terminator(start[-1])) --start;
    const auto left = static_cast<size_t>(end - anchor);
    auto* nl = static_cast<const char*>(std::memchr(anchor, '\n', left));
    auto* cr = static_cast<const char*>(
        std::memchr(anchor, '\r', static_cast<size_t>((nl ? nl : end) - anchor)));
    const char* stop = cr ? cr : nl ? nl : end;
    parser.feed(std::string_view(start, static_cast<size_t>(stop - start)));
    p = stop;
  }
}

}  // namespace

const MemoryReading* LauncherLogRead::memory_at(int64_t iteration) const {
  auto m = memory_by_iteration.upper_bound(iteration);
  if (m == memory_by_iteration.begin()) return nullptr;
  return &std::prev(m)->second;
}

void LauncherLogParser::feed(std::string_view line) {
  if (auto sample = parse_step_line(line)) {
    read_.samples.push_back(*sample);
    pending_tflops_ = sample->tflops_per_gpu;
    return;
  }
  // Memory lines are rare: one search rules them out for every other line.
  const bool mentions_memory = contains(line, "memory");
  if (auto k = mentions_memory ? memory_iteration_of(line) : std::nullopt) {
    MemoryReading& m = read_.memory_by_iteration[*k];
    keep_max(m.allocated_gb, number_field(line, "mem-allocated-gigabytes"));
    keep_max(m.reserved_gb, number_field(line, "mem-reserved-gigabytes"));
    keep_max(read_.memory.max_allocated_gb, number_field(line, "mem-max-allocated-gigabytes"));
    keep_max(read_.memory.max_reserved_gb, number_field(line, "mem-max-reserved-gigabytes"));
    return;
  }
  if (mentions_memory && contains(line, "Theoretical memory footprints:")) {
    MemoryFigures& f = read_.memory;
    f.theoretical_weight_and_optimizer_mb = megabytes_after(line, "weight and optimizer=");
    f.theoretical_activation_mb = megabytes_after(line, "activation=");
    f.theoretical_total_mb = megabytes_after(line, "total=");
    return;
  }
  auto iteration = iteration_of(line);
  if (!iteration) return;
  const IterationFields fields = iteration_fields(line);
  auto ms = fields.number(0);
  if (!ms) return;
  IterationLine s;
  s.iteration = *iteration;
  s.step_time_sec = *ms / 1000.0;
  auto set = [&s](double& into, uint8_t bit, std::optional<double> v) {
    if (!v) return;
    into = *v;
    s.present |= bit;
  };
  set(s.loss, IterationLine::kLoss, fields.number(1));
  set(s.grad_norm, IterationLine::kGradNorm, fields.number(2));
  auto tflops = fields.number(3);
  set(s.tflops_per_gpu, IterationLine::kTflops, tflops ? tflops : pending_tflops_);
  pending_tflops_.reset();
  if (!read_.iterations.empty() && read_.iterations.back().iteration >= s.iteration)
    sorted_ = false;
  read_.iterations.push_back(s);
}

LauncherLogRead LauncherLogParser::finish() {
  std::deque<IterationLine>& its = read_.iterations;
  if (!sorted_) {
    // Order by iteration; of equal iterations the last line in the log wins.
    std::stable_sort(its.begin(), its.end(), [](const IterationLine& a, const IterationLine& b) {
      return a.iteration < b.iteration;
    });
    size_t out = 0;
    for (size_t i = 0; i < its.size(); ++i) {
      if (i + 1 < its.size() && its[i + 1].iteration == its[i].iteration) continue;
      its[out++] = its[i];
    }
    its.resize(out);
  }
  its.shrink_to_fit();
  read_.samples.shrink_to_fit();
  return std::move(read_);
}

LauncherLogRead parse_launcher_log(std::string_view text) {
  LauncherLogParser parser;
  feed_anchored_lines(text, parser);
  return parser.finish();
}

std::string last_of_lines(const std::string& joined, int count) {
  if (count <= 0) return {};
  size_t pos = joined.size();
  for (int n = 0; n < count; ++n) {
    size_t nl = pos == 0 ? std::string::npos : joined.rfind('\n', pos - 1);
    if (nl == std::string::npos) return joined;
    pos = nl;
  }
  return joined.substr(pos + 1);
}

std::optional<LauncherLogRead> read_launcher_log(const fs::path& log, size_t chunk_bytes) {
  const auto t0 = std::chrono::steady_clock::now();
  int fd = open_for_scan(log);
  if (fd < 0) return std::nullopt;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  if (chunk_bytes == 0) chunk_bytes = kDefaultChunkBytes;
  // The buffer holds whole lines plus the start of the line a read cut; it grows only for a
  // line longer than itself.
  std::vector<char> buf(chunk_bytes);
  size_t have = 0;
  uint64_t total = 0;
  LauncherLogParser parser;
  bool ok = true;
  while (true) {
    if (have == buf.size()) buf.resize(buf.size() * 2);
    ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    const size_t old = have;
    have += static_cast<size_t>(n);
    total += static_cast<uint64_t>(n);
    size_t cut = have;
    while (cut > old && !is_terminator(buf[cut - 1])) --cut;
    if (cut == old) continue;  // what was carried over holds no terminator either
    feed_anchored_lines(std::string_view(buf.data(), cut), parser);
    std::memmove(buf.data(), buf.data() + cut, have - cut);
    have -= cut;
  }
  // The tail a failed verdict quotes, from the same open file (the scan kept only anchors).
  std::string last_lines = ok ? read_last_lines(fd, total, kLastLinesKept) : std::string();
  ::close(fd);
  if (!ok) return std::nullopt;
  feed_anchored_lines(std::string_view(buf.data(), have), parser);
  LauncherLogRead read = parser.finish();
  read.log = log;
  read.last_lines = std::move(last_lines);
  log::debug(
      "Read launcher log " + log.string() + ": " + std::to_string(total) + " bytes, " +
      std::to_string(read.samples.size()) + " step lines, " +
      std::to_string(read.iterations.size()) + " iterations in " +
      std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) +
      " s");
  return read;
}

std::shared_ptr<const LauncherLogRead> launcher_log_read(const fs::path& log) {
  struct Identity {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Identity&) const = default;
  };
  struct Entry {
    Identity id;
    std::shared_ptr<const LauncherLogRead> read;
  };
  struct stat st {};
  if (::stat(log.c_str(), &st) != 0) return nullptr;
  const Identity id{log.string(), st.st_dev, st.st_ino, st.st_size,
                    int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
  static std::mutex mu;
  static std::list<Entry> recent;  // most recently used first
  std::lock_guard<std::mutex> lock(mu);
  for (auto it = recent.begin(); it != recent.end(); ++it)
    if (it->id == id) {
      recent.splice(recent.begin(), recent, it);
      return recent.front().read;
    }
  std::erase_if(recent, [&](const Entry& e) { return e.id.path == id.path; });  // stale
  auto read = read_launcher_log(log);
  if (!read) return nullptr;
  recent.push_front({id, std::make_shared<const LauncherLogRead>(std::move(*read))});
  // Keep the reads of the last few runs (a campaign's end reports them all again), up to a
  // budget in steps (48 + 16 bytes each); the newest is always kept.
  auto steps = [](const Entry& e) { return e.read->iterations.size() + e.read->samples.size(); };
  size_t total = 0;
  for (auto it = recent.begin(); it != recent.end(); ++it) {
    total += steps(*it);
    if (it != recent.begin() && total > kCachedStepBudget) {
      recent.erase(it, recent.end());
      break;
    }
  }
  return recent.front().read;
}

}  // namespace bp::mbridge
