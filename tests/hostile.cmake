# Hostile input: the bad-input corpus (tests/corpus, one folder per case) and generated scripts
# run with hostile values (tests/e2e/test_hostile.py). No Slurm needed: every case fails, or is
# a dry-run, before anything is submitted.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(BP_HOSTILE_ENV "BENCHPILOT_BINARY=$<TARGET_FILE:benchpilot>"
                   "BENCHPILOT_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
if(BP_SANITIZE OR BP_FUZZ)
  list(APPEND BP_HOSTILE_ENV "BENCHPILOT_SANITIZED=1")
endif()
add_test(NAME e2e_hostile
         COMMAND ${Python3_EXECUTABLE} -m unittest test_hostile
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/e2e)
set_tests_properties(e2e_hostile PROPERTIES ENVIRONMENT "${BP_HOSTILE_ENV}" TIMEOUT 600)
