#include "campaign/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "config/toml_reader.h"
#include "core/run_label.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"

namespace bp {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kJournalVersion = 1;

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

json key_json(const PointKey& k) {
  return {{"c", k.case_id}, {"i", k.iteration}, {"s", k.step}};
}

// Parameter values keep their type, so a restored summary is byte-identical: not
// report/value_json.h, whose JSON forgets a date's or a string's type.
json value_json(const Value& v) {
  if (v.is_int()) return {{"i", v.as_int()}};
  if (v.is_float()) return {{"f", v.as_double()}};
  if (v.is_bool()) return {{"b", v.as_bool()}};
  if (v.is_string()) return {{"s", v.as_string()}};
  return {{"toml", v.to_toml_inline()}};
}

Value value_from(const json& j) {
  if (j.contains("i")) return Value::integer(j["i"].get<int64_t>());
  if (j.contains("f")) return Value::floating(j["f"].get<double>());
  if (j.contains("b")) return Value::boolean(j["b"].get<bool>());
  if (j.contains("s")) return Value::string(j["s"].get<std::string>());
  Value doc = read_toml_string("v = " + j.at("toml").get<std::string>(), "journal");
  return *doc.find("v");
}

json record_json(const RunRecord& r, const fs::path& root) {
  json params = json::array();
  for (const auto& [k, v] : r.params) params.push_back({k, value_json(v)});
  json metrics = json::object();
  for (const auto& [k, v] : r.metrics) metrics[k] = v;
  json attempts = json::array();
  for (const AttemptRecord& a : r.attempts)
    attempts.push_back({{"job", a.job_id},
                        {"state", a.state},
                        {"exit", a.exit_code ? json(*a.exit_code) : json(nullptr)},
                        {"signal", a.signal}});
  std::error_code ec;
  fs::path rel = fs::relative(r.run_dir, root, ec);
  json j = {{"dir", ec || rel.empty() ? r.run_dir.string() : rel.string()},
            {"params", params},
            {"job", r.job_id},
            {"workload", r.workload},
            {"state", r.state},
            {"passed", r.passed},
            {"skipped", r.skipped},
            {"msg", r.message},
            {"metrics", metrics},
            {"attempts", attempts}};
  if (r.reward) j["reward"] = *r.reward;
  if (!r.details.is_none()) j["details"] = value_json(r.details);
  return j;
}

RunRecord record_from(const json& j, const PointKey& k, const fs::path& root) {
  RunRecord r;
  r.case_id = k.case_id;
  r.iteration = k.iteration;
  r.step = k.step;
  fs::path dir = j.at("dir").get<std::string>();
  r.run_dir = dir.is_absolute() ? dir : root / dir;
  for (const json& p : j.at("params"))
    r.params.emplace_back(p[0].get<std::string>(), value_from(p[1]));
  r.job_id = j.at("job").get<std::string>();
  r.state = j.at("state").get<std::string>();
  r.passed = j.at("passed").get<bool>();
  r.message = j.at("msg").get<std::string>();
  for (const auto& [name, v] : j.at("metrics").items()) r.metrics[name] = v.get<double>();
  // Fields added later: absent in journals written before them.
  r.workload = j.value("workload", std::string());
  r.skipped = j.value("skipped", false);
  if (j.contains("reward") && j["reward"].is_number()) r.reward = j["reward"].get<double>();
  if (j.contains("details")) r.details = value_from(j["details"]);
  if (j.contains("attempts"))
    for (const json& a : j["attempts"]) {
      AttemptRecord at;
      at.job_id = a.value("job", std::string());
      at.state = a.value("state", std::string());
      if (a.contains("exit") && a["exit"].is_number_integer()) at.exit_code = a["exit"].get<int>();
      at.signal = a.value("signal", 0);
      r.attempts.push_back(std::move(at));
    }
  return r;
}

std::map<std::string, std::string> string_map(const json& j) {
  std::map<std::string, std::string> out;
  if (j.is_object())
    for (const auto& [k, v] : j.items()) out[k] = v.get<std::string>();
  return out;
}

void apply(const json& j, JournalContents& c, const fs::path& root) {
  const std::string t = j.at("t").get<std::string>();
  if (t == "campaign") {
    CampaignHeader h;
    h.id = j.at("id").get<std::string>();
    h.scenario = j.value("scenario", "");
    h.created = j.value("created", "");
    h.benchpilot_version = j.value("benchpilot", "");
    h.inputs = string_map(j.value("inputs", json::object()));
    h.case_fingerprints = string_map(j.value("cases", json::object()));
    c.header = std::move(h);
    return;
  }
  if (t == "done") {
    c.complete = true;
    c.exit_code = j.value("exit", 0);
    return;
  }
  PointKey k{j.at("c").get<std::string>(), j.at("i").get<int>(), j.at("s").get<int>()};
  PointState& p = c.points[k];
  if (t == "planned") {
    p = PointState{};
  } else if (t == "submitting") {
    p.stage = PointStage::kSubmitting;
    p.comment = j.value("comment", "");
    p.self_submitting = j.value("self", false);
    p.job_id.clear();
  } else if (t == "submitted") {
    if (p.stage != PointStage::kFinished) p.stage = PointStage::kSubmitted;
    p.job_id = j.at("job").get<std::string>();
    p.submitter_pid = j.value("pid", 0);
    p.submitter_start = j.value("pid_start", uint64_t{0});
  } else if (t == "finished") {
    p.stage = PointStage::kFinished;
    p.batch = j.at("b").get<int>();
    p.record = record_from(j.at("rec"), k, root);
    if (!p.record->job_id.empty()) p.job_id = p.record->job_id;
    auto& batches = c.batches[{k.case_id, k.iteration}];
    if (p.batch >= 1) {
      if (batches.size() < static_cast<size_t>(p.batch)) batches.resize(p.batch);
      batches[p.batch - 1].push_back(k.step);
    }
  } else if (t == "cancelled") {
    p.stage = PointStage::kCancelled;
  } else {
    throw ValueError("unknown record type '" + t + "'");
  }
}

}  // namespace

uint32_t crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char ch : data) c = table[(c ^ ch) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string PointKey::str() const {
  return run_label(case_id, iteration, step);
}

JournalContents read_journal(const fs::path& path) {
  JournalContents c;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return c;
  std::string text;
  try {
    text = read_regular_file(path, SIZE_MAX, Links::kRefuse);
  } catch (const FileError& e) {
    throw FileError("the journal " + path.string() + ": " + e.what());
  }
  const fs::path root = path.parent_path();
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {  // torn last record: no newline made it to disk
      ++c.ignored_lines;
      break;
    }
    std::string_view line(text.data() + pos, nl - pos);
    const size_t next = nl + 1;
    bool good = false;
    if (line.size() > 9 && line[8] == ' ') {
      std::string_view body = line.substr(9);
      uint32_t want = 0;
      bool hex_ok = true;
      for (char ch : line.substr(0, 8)) {
        want <<= 4;
        if (ch >= '0' && ch <= '9')
          want |= ch - '0';
        else if (ch >= 'a' && ch <= 'f')
          want |= ch - 'a' + 10;
        else
          hex_ok = false;
      }
      if (hex_ok && crc32(body) == want) {
        try {
          apply(json::parse(body), c, root);
          good = true;
          ++c.records;
        } catch (const std::exception& e) {
          log::warn(path.string() + ": ignoring a record: " + e.what());
        }
      }
    }
    if (good) {
      c.valid_bytes = next;
    } else {
      ++c.ignored_lines;
      if (next < text.size())  // damage in the middle is unexpected; the tail is a torn write
        log::warn(path.string() + ": ignoring a damaged record at byte " + std::to_string(pos));
    }
    pos = next;
  }
  return c;
}

JournalWriter::JournalWriter(const fs::path& path, uint64_t valid_bytes) : path_(path) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(path, ec);
  const bool existed = fs::exists(status);
  if (existed && !fs::is_regular_file(status))
    throw FileError("cannot open the journal " + path.string() + ": it is " +
                    (fs::is_symlink(status) ? "a symbolic link, " : "") + "not a regular file");
  // O_NOFOLLOW and O_NONBLOCK: a planted link is not followed and a FIFO does not block; the
  // fstat below refuses both.
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
               0644);
  if (fd_ < 0)
    throw FileError(
        "cannot open the journal " + path.string() + ": " +
        (errno == ELOOP ? "it is a symbolic link, not a regular file" : std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw FileError("cannot open the journal " + path.string() + ": it is not a regular file");
  }
  if (existed && valid_bytes != UINT64_MAX && fs::file_size(path) > valid_bytes) {
    if (::ftruncate(fd_, static_cast<off_t>(valid_bytes)) != 0)
      throw FileError("cannot cut the torn end of " + path.string() + ": " + std::strerror(errno));
  }
  if (!existed) {
    // The journal's entry in the results folder, and the results folder's own entry (created
    // just before, by the engine) in its parent, must survive a reboot too: else a resume
    // finds no campaign while its jobs run.
    const fs::path folder = fs::absolute(path).parent_path();
    for (const fs::path& dir_path : {folder, folder.parent_path()}) {
      int dir = ::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir >= 0) {
        ::fsync(dir);
        ++fsyncs_;
        ::close(dir);
      }
    }
  }
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::append(const std::string& body, bool flush) {
  char crc[10];
  std::snprintf(crc, sizeof crc, "%08x ", crc32(body));
  std::string line;
  line.reserve(body.size() + 10);
  line.append(crc, 9).append(body).push_back('\n');
  struct stat before {};
  const bool sized = ::fstat(fd_, &before) == 0;
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // A full disk may take half the record: cut it off, so the next record (after space is
      // freed) does not follow a torn one.
      if (done > 0 && sized) {
        int cut = ::ftruncate(fd_, before.st_size);  // best effort: a reader skips a torn end
        (void)cut;
      }
      throw FileError("cannot write the journal " + path_.string() + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  ++records_;
  if (!flush) return;
  if (::fdatasync(fd_) != 0)
    throw FileError("cannot flush the journal " + path_.string() + ": " + std::strerror(errno));
  ++fsyncs_;
}

void JournalWriter::header(const CampaignHeader& h) {
  append(json{{"t", "campaign"},
              {"v", kJournalVersion},
              {"id", h.id},
              {"scenario", h.scenario},
              {"created", h.created},
              {"benchpilot", h.benchpilot_version},
              {"inputs", h.inputs},
              {"cases", h.case_fingerprints}}
             .dump(),
         true);
}

void JournalWriter::planned(const PointKey& k) {
  json j = key_json(k);
  j["t"] = "planned";
  append(j.dump(), false);  // losing it only means preparing the point again
}

void JournalWriter::submitting(const PointKey& k, const std::string& comment,
                               bool self_submitting) {
  json j = key_json(k);
  j["t"] = "submitting";
  j["comment"] = comment;
  if (self_submitting) j["self"] = true;
  append(j.dump(), true);  // a submission follows: it must be on disk first
}

void JournalWriter::submitted(const PointKey& k, const std::string& job_id, int submitter_pid,
                              uint64_t submitter_start) {
  json j = key_json(k);
  j["t"] = "submitted";
  j["job"] = job_id;
  if (submitter_pid > 0) {
    j["pid"] = submitter_pid;
    j["pid_start"] = submitter_start;
  }
  append(j.dump(), false);  // a resume finds the job in Slurm without it
}

void JournalWriter::finished(const PointKey& k, int batch, const RunRecord& rec,
                             const fs::path& root) {
  json j = key_json(k);
  j["t"] = "finished";
  j["b"] = batch;
  j["rec"] = record_json(rec, root);
  append(j.dump(), false);  // durable with the next submission; else read from Slurm again
}

void JournalWriter::cancelled(const PointKey& k) {
  json j = key_json(k);
  j["t"] = "cancelled";
  append(j.dump(), true);
}

void JournalWriter::done(int exit_code) {
  append(json{{"t", "done"}, {"exit", exit_code}}.dump(), true);
}

}  // namespace bp
