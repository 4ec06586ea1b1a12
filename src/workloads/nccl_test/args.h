// The cmd_args schema of the NcclTest workload (CloudAI's NCCLCmdArgs), as config/
// cmd_args_schema.h's ArgSpec (every field sweepable; a field without a flag configures CloudAI,
// not the program; integers within a C int unless said), and the nccl-tests command line.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/cmd_args_schema.h"
#include "config/value.h"
#include "core/test_definition.h"

namespace bp::nccl {

// A size as nccl-tests' parsesize reads it ("32M", "1.5G", " 8 g", 128; K, M and G are powers
// of 1024; what follows the unit letter is ignored), in whole bytes; nullopt when nccl-tests
// refuses it (no number, another unit letter, negative) or it cannot work (nan, inf, 2^63 bytes
// or more).
std::optional<int64_t> size_in_bytes(const Value& v);

// Every field in CloudAI's declaration order.
const std::vector<ArgSpec>& arg_specs();
std::vector<std::string> arg_names();
const ArgSpec* find_arg(std::string_view name);

// Checks cmd_args: types, choices, sizes ("32M", "1G", 128), extra keys (any name made of
// letters, digits and '_', emitted as -X/--key), and the values nccl-tests refuses or never
// finishes with (never stricter than nccl-tests); throws ConfigError at the value.
void validate_args(const TestDefinition& test);

// The value of a field for one run: written_or_default, or an extra key as written (none when
// neither).
Value arg_value(const TestDefinition& test, std::string_view name);

std::string subtest_name(const TestDefinition& test);
// Programs without the "_mpi" suffix run as one process driving all local GPUs.
bool is_single_process(std::string_view subtest);
std::optional<double> min_busbw(const TestDefinition& test);
std::string docker_image(const TestDefinition& test);  // empty: run without a container

// The subtest CloudAI runs differently (nccl-tests' alltoallv_perf by path, short flags first),
// the program it runs inside the container, and the one benchpilot runs from PATH when the test
// has no container (docker_image_url left out).
inline constexpr const char* kAlltoallvSubtest = "alltoallv_perf_mpi";
inline constexpr const char* kAlltoallvContainerProgram = "/opt/nccl-tests/build/alltoallv_perf";
inline constexpr const char* kAlltoallvProgram = "alltoallv_perf";

// "<subtest> --nthreads 1 --ngpus 1 --minbytes 32M ..." as CloudAI writes it (every emitted
// field with its default, extra keys, then extra_cmd_args); user values are shell-quoted. For
// alltoallv_perf_mpi: "<alltoallv_perf> -b 32M -e 32M -g 1 -w 5 -n 20 --nthreads 1 ...".
std::string test_command(const TestDefinition& test);

}  // namespace bp::nccl
