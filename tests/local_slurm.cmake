# The local Slurm scripts themselves: start a throw-away cluster (own directory and ports),
# run real jobs through sbatch/squeue/scontrol/sacct, stop it, and check nothing is left.
add_test(NAME local_slurm_smoke
         COMMAND bash -c "cgroup=; [ -d /sys/fs/cgroup/memory ] && cgroup=--cgroup; exec bash \"$0\" --accounting --side-by-side $cgroup"
                 ${PROJECT_SOURCE_DIR}/scripts/local-slurm/smoke_test.sh)
set_tests_properties(local_slurm_smoke PROPERTIES TIMEOUT 300)
