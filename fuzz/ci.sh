#!/usr/bin/env bash
# Builds taskflow's fuzz targets and replays their committed corpus once under
# libFuzzer and AddressSanitizer. Meant for CI: `bash fuzz/ci.sh`.
#
# Needs a nightly toolchain and cargo-fuzz. Where either is missing it prints
# a loud SKIPPED line and exits 0: the stable replay (`cargo test --test
# fuzz_replay`) still runs the same oracle over the same corpus.
set -euo pipefail
cd "$(dirname "$0")"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "SKIPPED: fuzz targets NOT built: no nightly toolchain (rustup toolchain install nightly)"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "SKIPPED: fuzz targets NOT built: cargo-fuzz is missing (cargo install cargo-fuzz --locked)"
    exit 0
fi

cargo +nightly fuzz build
for target in run_graph build_graph steer_graph; do
    inputs=("corpus/$target")
    if [ -d "regressions/$target" ]; then inputs+=("regressions/$target"); fi
    # -runs=0: run every input once, then stop.
    cargo +nightly fuzz run "$target" "${inputs[@]}" -- -runs=0
done
echo "fuzz targets built; corpus replayed under libFuzzer"
