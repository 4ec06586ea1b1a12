# End-to-end tests: the benchpilot binary driven like a user would, from Python's unittest.
# The CLUSTER ones run on the real local Slurm cluster of tests/slurm_cluster.cmake.
include(${CMAKE_CURRENT_LIST_DIR}/slurm_cluster.cmake)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(BP_E2E_ENV "BENCHPILOT_BINARY=$<TARGET_FILE:benchpilot>"
               "BENCHPILOT_SOURCE_DIR=${PROJECT_SOURCE_DIR}")

# One unittest module of tests/e2e as the ctest test `name`. CLUSTER: needs the local Slurm
# cluster (fixture "slurm"); SERIAL: runs alone (it disturbs the shared cluster).
function(bp_e2e_test name module timeout)
  cmake_parse_arguments(E2E "CLUSTER;SERIAL" "" "" ${ARGN})
  add_test(NAME ${name}
           COMMAND ${Python3_EXECUTABLE} -m unittest -v ${module}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
  if(E2E_CLUSTER)
    set_tests_properties(${name} PROPERTIES
                         ENVIRONMENT "${BP_E2E_ENV};BENCHPILOT_TEST_SLURM_CONF=${BP_TEST_SLURM_CONF}"
                         FIXTURES_REQUIRED slurm TIMEOUT ${timeout})
  else()
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${BP_E2E_ENV}" TIMEOUT ${timeout})
  endif()
  if(E2E_SERIAL)
    set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
  endif()
endfunction()

bp_e2e_test(e2e_cli test_cli 300)
# estimate --json and rule E1 (predicted out of memory) in plan and dry-run.
bp_e2e_test(e2e_estimate test_estimate 120)
# CloudAI-format folders of tests/golden through dry-run, compared with CloudAI's commands.
bp_e2e_test(e2e_golden test_golden 120)
# bash -n, shellcheck -S warning and py_compile over the shipped scripts (the generated ones are
# checked by e2e_golden and e2e_hostile).
bp_e2e_test(check_scripts test_scripts 120)
bp_e2e_test(e2e_slurm test_slurm 1200 CLUSTER)
# agent = "model_guided" finds the grid's best point within a quarter of the grid's points.
bp_e2e_test(e2e_model_guided test_model_guided 900 CLUSTER)
bp_e2e_test(e2e_nccl test_nccl 900 CLUSTER)
bp_e2e_test(e2e_retries test_retries 900 CLUSTER)
# report.html in headless Chromium, results.xml, training_report.json, the live progress line.
bp_e2e_test(e2e_reports test_reports 900 CLUSTER)
# compare --html and history --html in headless Chromium (hand-made results folders).
bp_e2e_test(e2e_pages test_pages 300)
# compare/history/--fail-on-regression on NcclTest results (hand-made folders, no cluster).
bp_e2e_test(e2e_compare_nccl test_compare_nccl 120)
# --junit/--html/--store paths that are links to /dev/null, /dev/full, FIFOs, directories, a
# foreign SQLite file; a journal.bpj that is /dev/zero (standalone runs, no cluster).
bp_e2e_test(e2e_outputs test_outputs 300)
bp_e2e_test(e2e_campaign test_campaign 900 CLUSTER)
# The estimator learns: predictions frozen at submission, calibration from the store,
# `estimate --accuracy`, and a neighbouring point predicted closer after a small sweep.
bp_e2e_test(e2e_learning test_learning 900 CLUSTER)
# Faults on the cluster: slurmctld stopped and restarted, a node set DOWN, transient command
# failures, a full disk, concurrent installs, kill -9 against the sweep CSVs. It stops the
# shared cluster's controller and takes nodes down, so it runs alone.
bp_e2e_test(e2e_faults test_faults 900 CLUSTER SERIAL)

# The emulator's own tests (tools/mbridge-emulator), against the same cluster.
add_test(NAME emulator_unit
         COMMAND ${Python3_EXECUTABLE} -m unittest -v emulator_test
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tools/mbridge-emulator)
set_tests_properties(emulator_unit PROPERTIES
                     ENVIRONMENT "SLURM_CONF=${BP_TEST_SLURM_CONF}"
                     FIXTURES_REQUIRED slurm TIMEOUT 600)
