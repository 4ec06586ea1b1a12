truncate -s 17M scenario.toml
