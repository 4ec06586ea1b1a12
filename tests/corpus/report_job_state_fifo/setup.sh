mkfifo res/c1/0/slurm-job.toml
