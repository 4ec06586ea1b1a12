# A real local Slurm cluster (scripts/local-slurm) for the tests that need one.
#
# ctest fixture "slurm": slurm_cluster_start brings the cluster up (with accounting), every test
# that lists FIXTURES_REQUIRED slurm runs after it, slurm_cluster_stop tears it down. Each build
# dir gets its own cluster directory, ports and node names (bp<tag>n1..4: Slurm keys a job's
# cgroups by node name and job id), so developers sharing a machine do not collide; tests read
# the node names from the cluster's env.sh (tests/e2e/slurm_env.py node(), nodes()).
# gtest cases named SlurmIntegration* (in any src/<area>) are discovered here, require the
# fixture and get BENCHPILOT_TEST_SLURM_CONF; CMakeLists.txt leaves them out of the plain run.
# Other tests/*.cmake files may include() this file first to use BP_TEST_SLURM_CONF.
include_guard(GLOBAL)

string(MD5 _bp_slurm_hash "${PROJECT_BINARY_DIR}")
string(SUBSTRING "${_bp_slurm_hash}" 0 6 _bp_slurm_tag)
math(EXPR _bp_slurm_slot "0x${_bp_slurm_tag} % 200")
math(EXPR _bp_slurm_port "20000 + ${_bp_slurm_slot} * 20")
set(BP_TEST_SLURM_DIR "/tmp/bpslurm-${_bp_slurm_tag}" CACHE PATH
    "Directory of the local Slurm cluster the integration tests start (<= 64 characters)")
set(BP_TEST_SLURM_PORT_BASE "${_bp_slurm_port}" CACHE STRING
    "First TCP port of the local Slurm cluster (uses base .. base+10+nodes)")
set(BP_TEST_SLURM_CONF "${BP_TEST_SLURM_DIR}/etc/slurm.conf")
set(BP_TEST_SLURM_NODE_PREFIX "bp${_bp_slurm_tag}n")

# With cgroup v1 memory control available (as on this project's machines), memory limits are
# enforced too, so an OOM-killed job ends OUT_OF_MEMORY for real; elsewhere the OOM test skips.
add_test(NAME slurm_cluster_start
         COMMAND bash -c "cgroup=; [ -d /sys/fs/cgroup/memory ] && cgroup=--cgroup; exec bash \"$0\" \"$@\" $cgroup"
                 ${PROJECT_SOURCE_DIR}/scripts/local-slurm/start.sh ${BP_TEST_SLURM_DIR}
                 --accounting --nodes 4 --node-prefix ${BP_TEST_SLURM_NODE_PREFIX}
                 --port-base ${BP_TEST_SLURM_PORT_BASE})
set_tests_properties(slurm_cluster_start PROPERTIES FIXTURES_SETUP slurm TIMEOUT 300)
add_test(NAME slurm_cluster_stop
         COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/local-slurm/stop.sh ${BP_TEST_SLURM_DIR})
set_tests_properties(slurm_cluster_stop PROPERTIES FIXTURES_CLEANUP slurm TIMEOUT 120)

file(GLOB _bp_slurm_areas LIST_DIRECTORIES true ${PROJECT_SOURCE_DIR}/src/*)
foreach(_bp_dir ${_bp_slurm_areas})
  get_filename_component(_bp_area ${_bp_dir} NAME)
  if(TARGET ${_bp_area}_tests)
    gtest_discover_tests(${_bp_area}_tests DISCOVERY_TIMEOUT 60 TEST_FILTER "SlurmIntegration*"
                         PROPERTIES FIXTURES_REQUIRED slurm TIMEOUT 600 LABELS slurm
                         ENVIRONMENT "BENCHPILOT_TEST_SLURM_CONF=${BP_TEST_SLURM_CONF}")
  endif()
endforeach()
