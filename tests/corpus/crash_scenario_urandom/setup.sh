rm scenario.toml && ln -s /dev/urandom scenario.toml
