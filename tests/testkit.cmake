# The product binary holds nothing of the test kit (tests/testkit), a test double or GoogleTest.
add_test(NAME product_has_no_test_code
         COMMAND sh ${PROJECT_SOURCE_DIR}/tests/testkit/check_product.sh
                 $<TARGET_FILE:benchpilot> $<TARGET_FILE:testkit_tests>)
