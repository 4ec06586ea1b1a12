# report_bench at a small size in the default run: it builds, runs generate-report on a
# generated log and checks grep counted lines (speed is measured at 1 GB by hand, see
# bench/README.md).
add_test(NAME report_bench_smoke
         COMMAND report_bench --size-mb 2 --dir ${PROJECT_BINARY_DIR}/bench-smoke)
set_tests_properties(report_bench_smoke PROPERTIES TIMEOUT 120)
