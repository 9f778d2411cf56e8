#!/usr/bin/env bash
# Runs every parser fuzz target (asid_core::fuzz: seeded mutations on stable Rust, no fuzzing
# engine) for ASID_FUZZ_CASES executions each (default 1,000,000) and prints the counts.
# Usage: scripts/fuzz.sh [cases] [seed]
set -euo pipefail
cd "$(dirname "$0")/.."
export ASID_FUZZ_CASES="${1:-1000000}"
export ASID_FUZZ_SEED="${2:-14}"
run() { cargo test --release -q -p "$1" --test "$2" -- --nocapture --test-threads=1 2>&1 | grep -E "^fuzz |panicked|FAILED" || true; }
run asid-core fuzz_config
run asid-robot fuzz_urdf
run asid-record fuzz_mcap
run asid-pose fuzz_wire
run asid-franka fuzz_protocol
