mkfifo tests/evil.toml
