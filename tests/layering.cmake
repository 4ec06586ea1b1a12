# Includes point down (ARCHITECTURE.md): every #include "<folder>/..." in src/ against the layer
# order; the self-test proves the check reports the breaches it should. No cluster, no build.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME check_includes
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/check_includes.py
                 ${PROJECT_SOURCE_DIR}/src)
add_test(NAME check_includes_self_test
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/check_includes.py --self-test)
set_tests_properties(check_includes check_includes_self_test PROPERTIES TIMEOUT 60)
