#!/usr/bin/env bash
# Builds the runner's fuzz target and replays its corpus once under
# libFuzzer, then fuzzes for 60 s. Needs nightly and cargo-fuzz; prints a loud
# SKIPPED line and exits 0 without them (the loader's unit tests and
# tests/parse_errors.rs still run the corpus on stable).
set -euo pipefail
cd "$(dirname "$0")"
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "SKIPPED: ninja fuzz target NOT built: no nightly toolchain"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "SKIPPED: ninja fuzz target NOT built: cargo-fuzz is missing"
    exit 0
fi
cargo +nightly fuzz build load_manifest
cargo +nightly fuzz run load_manifest corpus/load_manifest -- -max_total_time=60 -max_len=4096
echo "ninja fuzz target: 60 s without a crash"
