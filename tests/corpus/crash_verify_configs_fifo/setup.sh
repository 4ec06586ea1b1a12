mkfifo tests/evil.toml && mkfifo zz.toml
