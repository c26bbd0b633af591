"""The clinic's guidance as data: one TOML file per topic or session, validated on load."""
