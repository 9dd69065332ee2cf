#!/usr/bin/env bash
# Runs ninja's own end-to-end tests (misc/output_test.py from a ninja source
# tree, which CI cannot download: give its path) against taskflow-ninja.
# The test script runs ./ninja from its working directory, so ours is copied
# there under that name. Usage: upstream-tests.sh NINJA_SRC [taskflow-ninja]
set -euo pipefail
src=${1:-${NINJA_SRC:-}}
if [ -z "$src" ] || [ ! -f "$src/misc/output_test.py" ]; then
    echo "SKIPPED: ninja's output_test.py: no ninja source tree given (upstream-tests.sh NINJA_SRC)"
    exit 0
fi
ours=$(realpath "${2:-$(dirname "$0")/../../target/release/taskflow-ninja}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$ours" "$work/ninja"
cd "$work"
python3 "$src/misc/output_test.py" -v 2>&1 | grep -E '\.\.\. (ok|FAIL|ERROR)$|^Ran|^OK|^FAILED' || true
