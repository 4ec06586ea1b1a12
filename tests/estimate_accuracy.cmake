# The step-time model against Megatron-Bridge's published pre-training rows, with issue 17's
# thresholds (bench/estimate_accuracy.py; no cluster needed).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME estimate_accuracy
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/bench/estimate_accuracy.py
                 $<TARGET_FILE:estimate_accuracy>)
set_tests_properties(estimate_accuracy PROPERTIES TIMEOUT 60)
