#!/usr/bin/env bash
# Runs the whole suite. Files are passed explicitly: Node 20's test runner does not expand globs.
# The timeout bounds each file as a whole (Node 20 runs one subprocess per file): the chaos test runs ~2.5 min.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s globstar nullglob
files=(test/**/*.test.ts tools/**/*.test.ts)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found" >&2; exit 1; fi
exec node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout="${TEST_TIMEOUT:-300000}" "$@" "${files[@]}"
