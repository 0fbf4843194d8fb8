"""The test suite's shared helpers live in tests/support/; their fixtures come in here."""

pytest_plugins = ["tests.support.plugin"]
