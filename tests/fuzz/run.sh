#!/bin/bash
# run.sh — builds every libFuzzer target (build.sh) and runs each for SECONDS (default 10)
# on its corpus tests/fuzz/corpus/NAME/ (fuzz_sip -> corpus/sip/).  New inputs go to a
# scratch copy, so the committed corpus stays small.  Exits non-zero on any crash, leak or
# sanitizer report; the reproducer is left in build/fuzz/artifacts/.
set -uo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:-10}
OUT=build/fuzz
bash tests/fuzz/build.sh "$OUT" || { echo "fuzz: build failed"; exit 1; }
mkdir -p "$OUT/artifacts"
fail=0; passed=0; failed=0
for t in tests/fuzz/fuzz_*.c; do
    name=$(basename "$t" .c)
    short=${name#fuzz_}
    work="$OUT/corpus-$short"
    mkdir -p "$work"
    [ -d "tests/fuzz/corpus/$short" ] && cp -n tests/fuzz/corpus/"$short"/* "$work"/ 2>/dev/null
    echo "fuzz: $name for ${SECONDS_EACH}s"
    if ! "$OUT/$name" -max_total_time="$SECONDS_EACH" -max_len=8192 -timeout=10 \
           -artifact_prefix="$OUT/artifacts/$name-" -print_final_stats=0 "$work" \
           > "$OUT/$name.log" 2>&1; then
        echo "fuzz: $name FAILED"; tail -40 "$OUT/$name.log"; fail=1; failed=$((failed + 1))
    else
        grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs" "$OUT/$name.log" | tail -1
        passed=$((passed + 1))
    fi
done
if [ $fail -eq 0 ]; then echo "fuzz: all targets clean"; fi
echo "fuzz: $passed passed, $failed failed"
exit $fail
