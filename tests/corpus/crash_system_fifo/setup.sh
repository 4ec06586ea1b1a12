rm system.toml && mkfifo system.toml
