#!/usr/bin/env bash
# The CMake project comparison (issue 11): tests/cmake-project (38 C files,
# four libraries, an executable, ctest tests, header dependencies) configured
# twice, once for ninja and once for taskflow-ninja, then:
#   1. a full build at -j2 runs the same commands (build dirs normalised);
#   2. object files and archives are the same byte for byte;
#   3. ctest passes on ours;
#   4. a second run of ours prints "ninja: no work to do." and runs nothing;
#   5. after touching one header, ours reruns exactly what ninja reruns;
#   6. with a broken translation unit, -k 0 builds everything else as ninja does.
# Also prints the full-build wall times and their ratio (ours / ninja): with
# RUNS (default 1), the medians of that many full builds, cleaned between
# and the two tools interleaved.
# Usage: cmake-compare.sh [path/to/taskflow-ninja] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ours=${1:-$here/../target/release/taskflow-ninja}
runs=${2:-1}
ours=$(cd "$(dirname "$ours")" && pwd)/$(basename "$ours")
for tool in ninja cmake cc; do
    command -v "$tool" >/dev/null || { echo "SKIPPED: cmake comparison: $tool is not installed"; exit 0; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/tests/cmake-project" "$work/src"
cd "$work"
fail() { echo "FAILED: $*"; exit 1; }

cmake -S src -B b-ninja -G Ninja -DCMAKE_MAKE_PROGRAM="$(command -v ninja)" >/dev/null
cmake -S src -B b-ours -G Ninja -DCMAKE_MAKE_PROGRAM="$ours" >/dev/null

# The commands a -v build printed, the build dir replaced by BUILD, sorted.
cmds() { sed -n 's/^\[[0-9]*\/[0-9]*\] //p' | sed "s|$work/b-[a-z]*|BUILD|g" | sort; }
now() { date +%s.%N; }

t0=$(now); ninja -C b-ninja -j2 -v > ninja-full.txt; t1=$(now)
"$ours" -C b-ours -j2 -v > ours-full.txt; t2=$(now)
diff <(cmds < ninja-full.txt) <(cmds < ours-full.txt) || fail "full build: different commands"
n=$(cmds < ours-full.txt | wc -l)
echo "ok 1: full build ran the same $n commands"
echo "$t0 $t1 $t2" > times.txt
for ((run = 1; run < runs; run++)); do
    ninja -C b-ninja -t clean >/dev/null && rm -f b-ninja/.ninja_log b-ninja/.ninja_deps
    "$ours" -C b-ours -t clean >/dev/null && rm -f b-ours/.taskflow_log b-ours/.taskflow_deps
    t0=$(now); ninja -C b-ninja -j2 >/dev/null; t1=$(now)
    "$ours" -C b-ours -j2 >/dev/null; t2=$(now)
    echo "$t0 $t1 $t2" >> times.txt
done

count=0
while IFS= read -r f; do
    cmp -s "b-ninja/$f" "b-ours/$f" || fail "$f differs"
    count=$((count + 1))
done < <(cd b-ninja && find . -name '*.o' -o -name '*.a' | sort)
[ "$count" -ge 38 ] || fail "only $count object files and archives"
echo "ok 2: $count object files and archives identical byte for byte"

(cd b-ours && ctest --output-on-failure >/dev/null) || fail "ctest"
echo "ok 3: ctest passes"

out=$("$ours" -C b-ours -v)
echo "$out" | grep -x "ninja: no work to do." >/dev/null || fail "second run: $out"
[ -z "$(echo "$out" | cmds)" ] || fail "second run ran commands"
echo "ok 4: second run: no work to do"

sleep 0.01; touch src/include/text.h
ninja -C b-ninja -j2 -v > ninja-touch.txt
"$ours" -C b-ours -j2 -v > ours-touch.txt
diff <(cmds < ninja-touch.txt) <(cmds < ours-touch.txt) || fail "after touching text.h"
echo "ok 5: after touching text.h both reran the same $(cmds < ours-touch.txt | wc -l) commands"

echo 'this is not C' >> src/geom/geom_3.c
set +e
ninja -C b-ninja -j2 -k 0 -v > ninja-k0.txt; rn=$?
"$ours" -C b-ours -j2 -k 0 -v > ours-k0.txt; ro=$?
set -e
[ "$rn" = "$ro" ] || fail "-k 0: exit $rn vs $ro"
diff <(cmds < ninja-k0.txt) <(cmds < ours-k0.txt) || fail "-k 0: different commands"
diff <(tail -1 ninja-k0.txt) <(tail -1 ours-k0.txt) || fail "-k 0: different last line"
diff <(cd b-ninja && find . -name '*.o' | sort) <(cd b-ours && find . -name '*.o' | sort) \
    || fail "-k 0: different objects built"
echo "ok 6: -k 0 with a broken file: same commands, exit $ro, '$(tail -1 ours-k0.txt)'"

sort_median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
theirs=$(awk '{ print $2 - $1 }' times.txt | sort_median)
mine=$(awk '{ print $3 - $2 }' times.txt | sort_median)
awk -v a="$theirs" -v b="$mine" -v n="$runs" \
    'BEGIN { printf "full build -j2 wall (median of %d): ninja %.3f s, ours %.3f s, ratio %.3f\n", n, a, b, b / a }'
echo "cmake comparison: 6 passed, 0 failed"
