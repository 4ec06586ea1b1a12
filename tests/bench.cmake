# report_bench at a small size in the default run: it builds, runs generate-report on a
# generated log and checks grep counted lines (speed is measured at 1 GB by hand, see
# bench/README.md).
add_test(NAME report_bench_smoke
         COMMAND report_bench --size-mb 2 --dir ${PROJECT_BINARY_DIR}/bench-smoke)
set_tests_properties(report_bench_smoke PROPERTIES TIMEOUT 120)

# sweep_bench's smallest space and a sample of the largest checked against the Python reference
# of CloudAI's rules (bench/sweep_reference.py): a rule added to one and not the other fails.
add_test(NAME sweep_bench_smoke COMMAND sweep_bench --smoke)
set_tests_properties(sweep_bench_smoke PROPERTIES TIMEOUT 120)
