#include "workloads/nccl_test/output.h"

#include <gtest/gtest.h>

namespace bp::nccl {
namespace {

// nccl-tests v2.19.6, all_reduce_perf_mpi on 2 nodes (format of src/common.cu; numbers invented).
const char* kAllReduce = R"(# nccl-tests version 2.19.6 nccl-headers=22803 nccl-library=22803
# Collective test starting: all_reduce_perf_mpi
# nThread 1 nGpus 1 minBytes 1048576 maxBytes 1073741824 step: 4(factor) warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0 unalign: 0
#
# Using devices
#  Rank  0 Group  0 Pid 412230 on   node-001 device  0 [0000:18:00] NVIDIA H100 80GB HBM3
#  Rank  1 Group  0 Pid 412231 on   node-001 device  1 [0000:2a:00] NVIDIA H100 80GB HBM3
#  Rank  2 Group  0 Pid  90117 on   node-002 device  0 [0000:db:00] NVIDIA H100 80GB HBM3
#
#                                                              out-of-place                       in-place          
#       size         count      type   redop    root     time   algbw   busbw  #wrong     time   algbw   busbw  #wrong 
#        (B)    (elements)                               (us)  (GB/s)  (GB/s)             (us)  (GB/s)  (GB/s)         
     1048576        262144     float     sum      -1    49.23   21.30   39.94       0    49.68   21.11   39.58       0
     4194304       1048576     float     sum      -1    71.21   58.90  110.44       0    71.31   58.82  110.28       0
  1073741824     268435456     float     sum      -1  1.2e+07  189.60  355.50       0  5739.89  187.07  350.75       0
# Out of bounds values : 0 OK
# Avg bus bandwidth    : 225.137 
#
# Collective test concluded: all_reduce_perf_mpi
#
)";

// Found by fuzz_nccl_output: a size of 1e120 or a #wrong of 3e22 was cast to int64_t
// (undefined behaviour).
TEST(NcclOutput, RowsWithCountsBeyondInt64AreSkipped) {
  Output out = parse_output(
      "  1e120  262144  float  sum  -1  49.23  21.30  39.94  0  49.68  21.11  39.58  0\n"
      "  1048576  -4  float  sum  -1  49.23  21.30  39.94  0  49.68  21.11  39.58  0\n"
      "  1048576  262144  float  sum  -1  49.23  21.30  39.94  3e22  49.68  21.11  39.58  0\n"
      "  1048576  262144  float  sum  -1  49.23  21.30  39.94  0  49.68  21.11  39.58  0\n");
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].size, 1048576);
}

TEST(NcclOutput, ReadsRowsDevicesAndFooter) {
  Output out = parse_output(kAllReduce);
  EXPECT_EQ(out.program, "all_reduce_perf_mpi");
  EXPECT_TRUE(out.has_table_header);
  ASSERT_EQ(out.rows.size(), 3u);
  const ResultRow& r = out.rows[1];
  EXPECT_EQ(r.size, 4194304);
  EXPECT_EQ(r.count, 1048576);
  EXPECT_EQ(r.type, "float");
  EXPECT_EQ(r.redop, "sum");
  EXPECT_EQ(r.root, -1);
  EXPECT_DOUBLE_EQ(r.out_of_place.time_us, 71.21);
  EXPECT_DOUBLE_EQ(r.out_of_place.algbw, 58.90);
  EXPECT_DOUBLE_EQ(r.out_of_place.busbw, 110.44);
  EXPECT_EQ(r.out_of_place.wrong, 0);
  EXPECT_DOUBLE_EQ(r.in_place.busbw, 110.28);
  EXPECT_DOUBLE_EQ(out.rows[2].out_of_place.time_us, 1.2e7);  // %e form since v2.18
  EXPECT_EQ(out.out_of_bounds, 0);
  ASSERT_TRUE(out.avg_busbw);
  EXPECT_DOUBLE_EQ(*out.avg_busbw, 225.137);
  ASSERT_EQ(out.devices.size(), 3u);
  EXPECT_EQ(out.devices[2].host, "node-002");
  EXPECT_EQ(out.devices[1].device, 1);
  EXPECT_EQ(out.devices[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(out.hosts(), (std::vector<std::string>{"node-001", "node-002"}));
  ASSERT_TRUE(out.peak_row());
  EXPECT_DOUBLE_EQ((*out.peak_row())->peak_busbw(), 355.50);
  EXPECT_FALSE(out.nccl_failure);
  EXPECT_FALSE(out.test_failure);
}

TEST(NcclOutput, OldFormatsUncheckedRowsAndExtraColumns) {
  Output out = parse_output(
      "#  Rank  0 Group  0 Pid  12345 on   node-001 device  0 [0x18] NVIDIA H100 80GB HBM3\n"
      "        1024            32     float    none      -1    25.10    0.04    0.04    N/A    "
      "24.47    0.04    0.04    N/A\n"
      // -S 1 adds a timestamp: 15 fields, skipped as CloudAI skips it
      "        2048            64     float    none      -1    25.10    0.04    0.04      0    "
      "24.47    0.04    0.04      0  2026-01-01 10:00:00\n"
      // a non-numeric bandwidth: skipped
      "        4096           128     float    none      -1    25.10    fast    0.04      0    "
      "24.47    0.04    0.04      0\n"
      "# Out of bounds values : 0 OK\n"
      "# Avg bus bandwidth    : 0.04 OK\n");
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_FALSE(out.rows[0].in_place.wrong.has_value());
  ASSERT_EQ(out.devices.size(), 1u);
  EXPECT_EQ(out.devices[0].name, "NVIDIA H100 80GB HBM3");
  EXPECT_DOUBLE_EQ(*out.avg_busbw, 0.04);  // "OK" after the value (NCCL_TESTS_MIN_BW) ignored
}

TEST(NcclOutput, FailureLinesAndWrongResults) {
  Output out = parse_output(
      "   268435456       4194304     float    none      -1  2618.90  102.50   96.09       0  "
      "2629.38  102.09   95.71  524288\n"
      "# Out of bounds values : 1 FAILED\n"
      "# Avg bus bandwidth    : 84.3797 \n"
      " .. node-001 pid 412230: Test failure common.cu:1454\n");
  EXPECT_EQ(out.out_of_bounds, 1);
  EXPECT_EQ(out.rows[0].in_place.wrong, 524288);
  EXPECT_TRUE(out.test_failure);
  EXPECT_FALSE(out.nccl_failure);
  Output nccl = parse_output(
      "node-002: Test NCCL failure common.cu:1 'remote process exited or there was a network "
      "error'\n .. node-002 pid 9: Test failure common.cu:2\n");
  EXPECT_TRUE(nccl.nccl_failure);
  EXPECT_FALSE(nccl.avg_busbw);
  EXPECT_EQ(nccl.failure_lines.size(), 2u);
}

TEST(NcclOutput, Numbers) {
  EXPECT_EQ(parse_number("49.23"), 49.23);
  EXPECT_EQ(parse_number("1234567"), 1234567.0);
  EXPECT_EQ(parse_number("6e+01"), 60.0);
  EXPECT_FALSE(parse_number("N/A"));
  EXPECT_FALSE(parse_number("12x"));
  EXPECT_FALSE(parse_number(""));
}

}  // namespace
}  // namespace bp::nccl
