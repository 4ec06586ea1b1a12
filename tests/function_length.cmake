# No function in src/ over 80 lines, `{` to `}` with comments (tests excluded; tables listed as
# exceptions with their reason in the script). The self-test proves the brace counting.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME check_function_length
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/check_function_length.py
                 ${PROJECT_SOURCE_DIR}/src)
add_test(NAME check_function_length_self_test
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/check_function_length.py
                 --self-test)
set_tests_properties(check_function_length check_function_length_self_test PROPERTIES TIMEOUT 60)
