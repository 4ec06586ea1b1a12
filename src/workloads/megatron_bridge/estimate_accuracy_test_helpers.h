// The accuracy of the step-time model on Megatron-Bridge's published pre-training rows
// (tests/data/mbridge_published_pretrain.csv): shared by step_time_model_test.cc and
// bench/estimate_accuracy.cc (header only; never compiled into the product).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "workloads/megatron_bridge/model_catalog.h"
#include "workloads/megatron_bridge/model_flops.h"
#include "workloads/megatron_bridge/step_time_model.h"

namespace bp::published {

using CsvRow = std::map<std::string, std::string>;

inline std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

// The CSV has no quoted fields; '#' lines are comments.
inline std::vector<CsvRow> read_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells = split_cells(line);
    if (header.empty()) {
      header = cells;
      continue;
    }
    CsvRow row;
    for (size_t i = 0; i < header.size(); ++i) row[header[i]] = i < cells.size() ? cells[i] : "";
    rows.push_back(std::move(row));
  }
  return rows;
}

// The leading number of a cell ("661[^gpt-oss-note]" -> 661); `fallback` when there is none.
inline double number(const CsvRow& r, const std::string& column, double fallback = 0) {
  const std::string& s = r.at(column);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() ? fallback : v;
}

inline StepTimeInput input_of(const CsvRow& r) {
  StepTimeInput in;
  in.tp = static_cast<int64_t>(number(r, "tp", 1));
  in.pp = static_cast<int64_t>(number(r, "pp", 1));
  in.cp = static_cast<int64_t>(number(r, "cp", 1));
  in.vp = static_cast<int64_t>(number(r, "vp", 1));
  in.ep = static_cast<int64_t>(number(r, "ep", 1));
  in.etp = static_cast<int64_t>(number(r, "etp", 0));
  in.mbs = static_cast<int64_t>(number(r, "mbs", 1));
  in.gbs = static_cast<int64_t>(number(r, "gbs", 1));
  in.seq_length = static_cast<int64_t>(number(r, "seq_length", 0));
  in.num_gpus = static_cast<int64_t>(number(r, "num_gpus", 1));
  in.gpu_type = r.at("gpu_type");
  in.compute_dtype = r.at("compute_dtype");
  return in;
}

struct RowResult {
  const CsvRow* row;
  double error;  // |predicted / table - 1| of tokens/s/GPU
};

struct Accuracy {
  std::vector<RowResult> rows;
  size_t skipped_not_in_catalog = 0;
  size_t not_estimated = 0;  // catalog model, but no estimate (missing shape field, bad layout)
  double median_error = 0;
  double within_25 = 0;  // fraction of rows
};

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Every row of a catalog model; `calibration` overrides the built-in constants.
inline Accuracy accuracy(const std::vector<CsvRow>& rows, const ModelCatalog& catalog,
                         const StepTimeCalibration* calibration = nullptr) {
  Accuracy a;
  std::vector<double> errors;
  for (const CsvRow& r : rows) {
    const ModelShape* model = catalog.find(r.at("recipe"));
    if (!model) {
      ++a.skipped_not_in_catalog;
      continue;
    }
    const std::optional<StepTimeEstimate> e = estimate_step_time(*model, input_of(r), calibration);
    if (!e) {
      ++a.not_estimated;
      continue;
    }
    const double error =
        std::abs(e->tokens_per_s_per_gpu / number(r, "tokens_per_sec_per_gpu") - 1);
    a.rows.push_back({&r, error});
    errors.push_back(error);
  }
  a.median_error = median(errors);
  a.within_25 = errors.empty()
                    ? 0
                    : static_cast<double>(std::count_if(errors.begin(), errors.end(),
                                                        [](double x) { return x <= 0.25; })) /
                          static_cast<double>(errors.size());
  return a;
}

struct FlopsCheck {
  std::string recipe;
  std::string release;  // the newest release with rows of this model
  double table = 0;     // median TFLOP/s/GPU ÷ tokens/s/GPU over those rows, FLOPs per token
  double ours = 0;      // model_flops_per_token of the first such row's seq_length and tp
};

// Per catalog model: the table's FLOPs per token over its newest release's rows against ours.
// Release names sort as text ("26.04.01" > "26.04" > "25.11").
inline std::vector<FlopsCheck> flops_checks(const std::vector<CsvRow>& rows,
                                            const ModelCatalog& catalog) {
  std::map<std::string, std::string> newest;
  for (const CsvRow& r : rows)
    if (catalog.find(r.at("recipe")))
      newest[r.at("recipe")] = std::max(newest[r.at("recipe")], r.at("release"));
  std::vector<FlopsCheck> out;
  for (const auto& [recipe, release] : newest) {
    FlopsCheck c{recipe, release, 0, 0};
    std::vector<double> ratios;
    for (const CsvRow& r : rows) {
      if (r.at("recipe") != recipe || r.at("release") != release) continue;
      ratios.push_back(number(r, "model_tflops_per_gpu") * 1e12 /
                       number(r, "tokens_per_sec_per_gpu"));
      if (c.ours == 0) {
        FlopsSettings fs;
        fs.seq_length = static_cast<int64_t>(number(r, "seq_length", 0));
        fs.tp = static_cast<int64_t>(number(r, "tp", 1));
        c.ours = model_flops_per_token(*catalog.find(recipe), fs).value_or(0);
      }
    }
    c.table = median(ratios);
    out.push_back(c);
  }
  return out;
}

}  // namespace bp::published
