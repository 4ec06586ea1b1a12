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

add_test(NAME e2e_slurm
         COMMAND ${Python3_EXECUTABLE} -m unittest -v test_slurm
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_slurm PROPERTIES
                     ENVIRONMENT "${BP_E2E_ENV};BENCHPILOT_TEST_SLURM_CONF=${BP_TEST_SLURM_CONF}"
                     FIXTURES_REQUIRED slurm TIMEOUT 1200)

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
