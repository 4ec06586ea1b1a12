# Plug-in shape: nothing outside a workload's folder (and src/workloads/registry.cc) names it
# (tests/check_plugin_names.py; no build or cluster needed). The scheduler kind
# (--kinds workloads,systems) joins once schedulers are registry rows.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME check_plugin_names
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/check_plugin_names.py
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(check_plugin_names PROPERTIES TIMEOUT 60)
add_test(NAME check_plugin_names_selftest
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/check_plugin_names_test.py)
set_tests_properties(check_plugin_names_selftest PROPERTIES TIMEOUT 60)
