"""The suite's fixtures live in plugins, one per concern (see tests/fixtures/)."""

pytest_plugins = [
    "tests.fixtures.infra",
    "tests.fixtures.inventory",
    "tests.fixtures.actions",
    "tests.fixtures.replacement",
    "tests.fixtures.private_database",
    "tests.fixtures.trainer",
    "tests.fixtures.retraining",
]
