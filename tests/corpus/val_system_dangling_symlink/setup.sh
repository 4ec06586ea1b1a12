ln -s /nonexistent/x.toml dangling.toml
