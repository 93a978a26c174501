"""The rule families' tests, one module per family of generator/rules/ (a package, so that
their names, such as test_day2, do not clash with the stage tests' in tests/)."""
