#!/usr/bin/env bash
# Compares the engine at a base revision with this checkout, in one process
# (scripts/ab-engines.rs): every single-tag shape, no observer, one and two
# workers, interleaved rounds, wall and CPU time (ONLY=shape, WORKERS=n and
# BODY=work narrow or change the cases).
#
#   scripts/ab-engines.sh [BASE_REV [ROUNDS]]      # default: main, 15
#   scripts/ab-engines.sh HEAD 31                  # the checkout against itself: the noise
#   PAIR=workers scripts/ab-engines.sh HEAD 31     # this checkout at 2 workers against 1
#
# It builds a scratch crate in a temporary folder (its target folder under
# target/ab-engines, kept between runs) that depends on an export of
# BASE_REV, renamed so that Cargo tells the two apart, and on this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
base_rev=${1:-main}
rounds=${2:-15}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/base" "$scratch/ab/src/scripts"
git archive "$base_rev" | tar -x -C "$scratch/base"
# Two packages of one name and version cannot share a lockfile.
sed -i '0,/^version = ".*"/s//version = "0.0.0-base"/' "$scratch/base/Cargo.toml"
# The export is a workspace root of its own; the scratch crate is another.
cp scripts/ab-engines.rs "$scratch/ab/src/scripts/main.rs"
mkdir -p "$scratch/ab/benches/support"
cp benches/support/shapes.rs "$scratch/ab/benches/support/"
cat > "$scratch/ab/Cargo.toml" <<TOML
[package]
name = "ab-engines"
version = "0.0.0"
edition = "2024"
publish = false

[[bin]]
name = "ab-engines"
path = "src/scripts/main.rs"

[dependencies]
base_engine = { package = "taskflow-engine", path = "$scratch/base" }
new_engine = { package = "taskflow-engine", path = "$root" }
libc = "0.2"

[workspace]
TOML
cargo build --release --quiet --manifest-path "$scratch/ab/Cargo.toml" \
    --target-dir "$root/target/ab-engines"
echo "base: $(git rev-parse --short "$base_rev"), new: this checkout ($(git rev-parse --short HEAD)$(git diff --quiet || echo ', modified'))"
"$root/target/ab-engines/release/ab-engines" "$rounds"
