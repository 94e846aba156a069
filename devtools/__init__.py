"""Development tooling that production never imports: the embedded Redis and SMTP servers, the
`portico run` runner and the demo data. Its third-party needs are the `dev` extra (pyproject.toml)."""
