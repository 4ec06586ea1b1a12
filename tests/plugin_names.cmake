# Plug-in shape: nothing outside a workload's or a scheduler's folder (and its registry,
# src/workloads/registry.cc, src/systems/registry.cc) names it (tests/check_plugin_names.py; no
# build or cluster needed).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME check_plugin_names
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/check_plugin_names.py
                 --kinds workloads,systems ${PROJECT_SOURCE_DIR})
set_tests_properties(check_plugin_names PROPERTIES TIMEOUT 60)
add_test(NAME check_plugin_names_selftest
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/check_plugin_names_test.py)
set_tests_properties(check_plugin_names_selftest PROPERTIES TIMEOUT 60)
