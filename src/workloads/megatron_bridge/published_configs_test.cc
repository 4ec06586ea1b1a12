// Megatron-Bridge's published pre-training configurations
// (tests/data/mbridge_published_pretrain.csv, generated from its docs/performance-summary*.md by
// tests/data/mbridge_published_to_csv.py) must pass every sweep rule with the launcher release they
// ran on pinned.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/toml_reader.h"
#include "testkit/testkit.h"
#include "util/strings.h"
#include "workloads/megatron_bridge/constraints.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

using CsvRow = std::map<std::string, std::string>;

// The CSV has no quoted fields (the generator writes none with commas); '#' lines are comments.
std::vector<CsvRow> read_published() {
  const fs::path file =
      fs::path(BENCHPILOT_SOURCE_DIR) / "tests/data/mbridge_published_pretrain.csv";
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
  for (const std::string& line : split(testkit::read_file(file), '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells = split(line, ',');
    if (header.empty()) {
      header = cells;
      continue;
    }
    EXPECT_EQ(cells.size(), header.size()) << line;
    CsvRow row;
    for (size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(std::move(row));
  }
  return rows;
}

// What a user writes to run the row: every value the table gives. VP "n/a" is no virtual
// pipeline, vp = 1 (left out, the recipe's own vp would apply: LLAMA3_70B's GB300 NVFP4 recipe
// has vp = 5, and the 26.02.01 row runs pp = 1). Other "n/a" (EP of a dense model) are left out.
TestRun run_of(const CsvRow& r, const ModelShape& model, const std::string& pin) {
  std::string args = "model_family_name = '" + model.family + "'\nmodel_recipe_name = '" +
                     r.at("recipe") + "'\ntask = 'pretrain'\ngpu_type = '" + r.at("gpu_type") +
                     "'\ncompute_dtype = '" + r.at("compute_dtype") + "'\n";
  const std::pair<const char*, const char*> ints[] = {{"num_gpus", "num_gpus"},
                                                      {"gbs", "gb"},
                                                      {"mbs", "mb"},
                                                      {"seq_length", "seq_length"},
                                                      {"tp", "tp"},
                                                      {"pp", "pp"},
                                                      {"cp", "cp"},
                                                      {"vp", "vp"},
                                                      {"ep", "ep"},
                                                      {"etp", "et"}};
  for (auto [column, field] : ints)
    if (!r.at(column).empty()) args += std::string(field) + " = " + r.at(column) + "\n";
  if (r.at("vp").empty()) args += "vp = 1\n";
  if (!r.at("fsdp").empty() && r.at("fsdp") != "0") args += "use_megatron_fsdp = true\n";
  TestRun run;
  run.id = r.at("release") + ":" + r.at("source_line") + ":" + r.at("variant");
  run.test.name = "published";
  run.test.test_template_name = "MegatronBridge";
  run.test.cmd_args = read_toml_string(args, "published.toml");
  GitRepo repo;
  repo.url = "https://github.com/NVIDIA-NeMo/Megatron-Bridge.git";
  repo.commit = pin;
  run.test.git_repos.push_back(repo);
  return run;
}

// "rule: message" for each rule that prunes the row's point.
std::vector<std::string> refusals(const TestRun& run, const ModelCatalog& catalog) {
  std::vector<std::string> fields;
  for (const std::string& key : run.test.cmd_args.keys()) fields.push_back(key);
  ParamSpace space(run, fields);
  CompiledConstraints c = compile_megatron_bridge(run, space, catalog);
  std::vector<uint32_t> idx;
  space.decode(1, idx);
  std::vector<std::string> out;
  for (const Violation& v : c.explain(idx)) out.push_back(v.rule_id + ": " + v.message);
  return out;
}

bool is_v0_6_era(const CsvRow& r) {
  // The 26.xx containers' tables; 25.xx ran launchers older than v0.3.0 (other layouts).
  return r.at("release").rfind("26.", 0) == 0;
}

// Two rows of the 26.02.01 table cannot have run as written. Llama3 70B on 64 GB300 in NVFP4
// with tp = pp = 1 and no FSDP holds all 70.6 B parameters on every GPU: bf16 weights and
// gradients alone are 263 GiB of 277 before any activation. The MXFP8 row (pp = 4, two
// micro-batches, no interleaving) keeps 80 layers of two 8192-token micro-batches in flight on
// its first stage. That release's own recipes (LLAMA3_70B_PRETRAIN_CONFIG_GB300_NVFP4 and _FP8_MX
// in scripts/performance/configs/llama/llama3_workload_base_configs.py @ v0.3.0) and the 26.02
// and 26.04 tables run both with pp = 4, vp = 5 and one micro-batch: the row lost its values.
bool is_table_erratum(const CsvRow& r) {
  return r.at("release") == "26.02.01" && r.at("recipe") == "llama3_70b" &&
         r.at("gpu_type") == "gb300" &&
         (r.at("compute_dtype") == "nvfp4" || r.at("compute_dtype") == "fp8_mx");
}

bool only_e1(const std::vector<std::string>& why) {
  return why.size() == 1 && why.front().rfind("E1: ", 0) == 0;
}

TEST(PublishedConfigs, CsvHoldsTheColumnsTheEstimatorNeeds) {
  std::vector<CsvRow> rows = read_published();
  ASSERT_GT(rows.size(), 200u);
  for (const char* column :
       {"release", "table_model", "recipe", "gpu_type", "num_gpus", "compute_dtype", "gbs", "mbs",
        "seq_length", "tp", "pp", "cp", "vp", "ep", "tokens_per_sec_per_gpu",
        "model_tflops_per_gpu", "source_file", "source_commit"})
    EXPECT_TRUE(rows.front().count(column)) << column;
  for (const CsvRow& r : rows) {
    EXPECT_FALSE(r.at("tokens_per_sec_per_gpu").empty()) << r.at("source_line");
    EXPECT_EQ(r.at("source_commit").size(), 40u) << r.at("source_line");
  }
}

// 8 rows (DeepSeek-V3 on GB300, pp = 2, vp = 8) need the pinned version's layouts: CloudAI's
// older C18 list, and the model rule M6, would refuse them.
TEST(PublishedConfigs, EveryRowOfACatalogModelIsAcceptedWithAV06Pin) {
  const ModelCatalog& catalog = ModelCatalog::global();
  size_t checked = 0, deepseek_gb300_2_8 = 0;
  for (const CsvRow& r : read_published()) {
    const ModelShape* model = catalog.find(r.at("recipe"));
    if (!model || !is_v0_6_era(r)) continue;
    ++checked;
    if (r.at("recipe") == "deepseek_v3" && r.at("gpu_type") == "gb300" && r.at("pp") == "2" &&
        r.at("vp") == "8")
      ++deepseek_gb300_2_8;
    TestRun run = run_of(r, *model, "v0.6.0");
    std::vector<std::string> why = refusals(run, catalog);
    if (is_table_erratum(r)) {
      EXPECT_TRUE(only_e1(why)) << r.at("source_line") << ": " << join(why, "; ");
      continue;
    }
    EXPECT_TRUE(why.empty()) << r.at("source_file") << ":" << r.at("source_line") << " ("
                             << r.at("release") << " " << r.at("table_model") << " "
                             << r.at("system") << " " << r.at("precision")
                             << "): " << join(why, "; ");
  }
  EXPECT_GE(checked, 180u);
  EXPECT_EQ(deepseek_gb300_2_8, 8u);
}

// CloudAI's list stays for v0.3.0 pins: those 8 rows are exactly what it refuses.
TEST(PublishedConfigs, AV03PinRefusesOnlyTheV06DeepSeekPairs) {
  const ModelCatalog& catalog = ModelCatalog::global();
  size_t refused = 0;
  for (const CsvRow& r : read_published()) {
    const ModelShape* model = catalog.find(r.at("recipe"));
    if (!model || !is_v0_6_era(r)) continue;
    std::vector<std::string> why = refusals(run_of(r, *model, "v0.3.0"), catalog);
    if (why.empty() || (is_table_erratum(r) && only_e1(why))) continue;
    ++refused;
    EXPECT_EQ(r.at("recipe") + " " + r.at("pp") + "," + r.at("vp"), "deepseek_v3 2,8")
        << join(why, "; ");
    EXPECT_EQ(why.front().substr(0, 4), "C18:");
  }
  EXPECT_EQ(refused, 8u);
}

// Rule E1 prunes by default, so it must not prune what NVIDIA ran: every published row the
// memory model estimates stays below the prune margin, and the highest comes out at most 1.1 x
// the GPU's memory (the figure core/estimate.h justifies the margin with). The two table errata
// are clear cases and are pruned. Every row of a catalog model is estimated, hybrid (Mamba)
// models included (Nemotron 3 Nano, Super, Lightning: 51 rows).
TEST(PublishedConfigs, NoPublishedConfigurationIsPredictedOutOfMemory) {
  const ModelCatalog& catalog = ModelCatalog::global();
  size_t estimated = 0, errata = 0, hybrid = 0;
  double highest = 0;
  for (const CsvRow& r : read_published()) {
    const ModelShape* model = catalog.find(r.at("recipe"));
    if (!model || !is_v0_6_era(r)) continue;
    MemoryPoint p = megatron_bridge_memory_point(run_of(r, *model, "v0.6.0"), nullptr, catalog);
    EXPECT_TRUE(p.memory) << r.at("source_file") << ":" << r.at("source_line") << " ("
                          << r.at("release") << " " << r.at("table_model") << ")";
    if (!p.memory) continue;
    ASSERT_TRUE(p.gpu_gib);
    ++estimated;
    if (model->is_hybrid()) ++hybrid;
    const double ratio = p.memory->total() / *p.gpu_gib;
    const std::string where = r.at("source_file") + ":" + r.at("source_line") + " (" +
                              r.at("release") + " " + r.at("table_model") + " " + r.at("system") +
                              " " + r.at("precision") +
                              "): " + describe_memory(*p.memory, *p.gpu_gib);
    if (is_table_erratum(r)) {
      ++errata;
      EXPECT_FALSE(judge_memory(p.memory->total(), *p.gpu_gib, OomRule::kPrune).fits) << where;
      continue;
    }
    highest = std::max(highest, ratio);
    EXPECT_TRUE(judge_memory(p.memory->total(), *p.gpu_gib, OomRule::kPrune).fits) << where;
  }
  EXPECT_GE(estimated, 150u);
  EXPECT_GE(hybrid, 51u);
  EXPECT_EQ(errata, 2u);
  EXPECT_LT(highest, 1.10);
  EXPECT_GT(highest, 1.0);  // the model is not so generous that nothing published is close
}

}  // namespace
}  // namespace bp
