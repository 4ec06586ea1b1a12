# End-to-end tests: the benchpilot binary driven like a user would, from Python's unittest.
# e2e_slurm runs on the real local Slurm cluster of tests/slurm_cluster.cmake.
include(${CMAKE_CURRENT_LIST_DIR}/slurm_cluster.cmake)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(BP_E2E_ENV "BENCHPILOT_BINARY=$<TARGET_FILE:benchpilot>"
               "BENCHPILOT_SOURCE_DIR=${PROJECT_SOURCE_DIR}")

add_test(NAME e2e_cli
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_cli
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_cli PROPERTIES ENVIRONMENT "${BP_E2E_ENV}" TIMEOUT 300)

# CloudAI-format folders of tests/golden through dry-run, compared with CloudAI's commands.
add_test(NAME e2e_golden
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_golden
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_golden PROPERTIES ENVIRONMENT "${BP_E2E_ENV}" TIMEOUT 120)

add_test(NAME e2e_slurm
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_slurm
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_slurm PROPERTIES
                     ENVIRONMENT "${BP_E2E_ENV};BENCHPILOT_TEST_SLURM_CONF=${BP_TEST_SLURM_CONF}"
                     FIXTURES_REQUIRED slurm TIMEOUT 1200)

add_test(NAME e2e_nccl
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_nccl
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_nccl PROPERTIES
                     ENVIRONMENT "${BP_E2E_ENV};BENCHPILOT_TEST_SLURM_CONF=${BP_TEST_SLURM_CONF}"
                     FIXTURES_REQUIRED slurm TIMEOUT 900)

add_test(NAME e2e_retries
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_retries
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_retries PROPERTIES
                     ENVIRONMENT "${BP_E2E_ENV};BENCHPILOT_TEST_SLURM_CONF=${BP_TEST_SLURM_CONF}"
                     FIXTURES_REQUIRED slurm TIMEOUT 900)

# report.html in headless Chromium, results.xml, training_report.json, the live progress line.
add_test(NAME e2e_reports
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_reports
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_reports PROPERTIES
                     ENVIRONMENT "${BP_E2E_ENV};BENCHPILOT_TEST_SLURM_CONF=${BP_TEST_SLURM_CONF}"
                     FIXTURES_REQUIRED slurm TIMEOUT 900)

# compare --html and history --html in headless Chromium (hand-made results folders).
add_test(NAME e2e_pages
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_pages
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_pages PROPERTIES ENVIRONMENT "${BP_E2E_ENV}" TIMEOUT 300)

# compare/history/--fail-on-regression on NcclTest results (hand-made folders, no cluster).
add_test(NAME e2e_compare_nccl
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_compare_nccl
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_compare_nccl PROPERTIES ENVIRONMENT "${BP_E2E_ENV}" TIMEOUT 120)

add_test(NAME emulator_unit
         COMMAND ${Python3_EXECUTABLE} -m unittest -v emulator_test
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tools/mbridge-emulator)
set_tests_properties(emulator_unit PROPERTIES
                     ENVIRONMENT "SLURM_CONF=${BP_TEST_SLURM_CONF}"
                     FIXTURES_REQUIRED slurm TIMEOUT 600)

add_test(NAME e2e_campaign
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_campaign
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_campaign PROPERTIES
                     ENVIRONMENT "${BP_E2E_ENV};BENCHPILOT_TEST_SLURM_CONF=${BP_TEST_SLURM_CONF}"
                     FIXTURES_REQUIRED slurm TIMEOUT 900)

# Faults on the cluster: slurmctld stopped and restarted, a node set DOWN, transient command
# failures, a full disk, concurrent installs, kill -9 against the sweep CSVs. It stops the
# shared cluster's controller and takes nodes down, so it runs alone.
add_test(NAME e2e_faults
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_faults
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_faults PROPERTIES
                     ENVIRONMENT "${BP_E2E_ENV};BENCHPILOT_TEST_SLURM_CONF=${BP_TEST_SLURM_CONF}"
                     FIXTURES_REQUIRED slurm LABELS slurm RUN_SERIAL TRUE TIMEOUT 900)
