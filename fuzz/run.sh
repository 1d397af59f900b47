#!/bin/sh
# run.sh — run both libFuzzer harnesses for SECONDS each (make check, make
# fuzz-run) and print one line per harness; exits 1 on a crash, a leak or a
# sanitizer report, with the end of the fuzzer's log.
#
# Usage: fuzz/run.sh BUILD SECONDS
#   BUILD/fuzz/fuzz_lesson  seeded from lessons/ and tests/lessons/
#   BUILD/fuzz/fuzz_result  seeded from the wire encoding of every step
#                           result of lessons/ and tests/lessons/good
#                           (BUILD/fuzz/seed_result writes them)
# New corpus entries are kept in BUILD/fuzz/corpus-*, so later runs start
# from where earlier ones got to.  SECONDS=0 skips the runs.
set -eu
build=$1
secs=$2
[ "$secs" = 0 ] && { echo "fuzz: skipped (FUZZ_SECONDS=0)"; exit 0; }
dir=$build/fuzz
mkdir -p "$dir/corpus-lesson" "$dir/corpus-result"
# The seed generator runs the lessons in-process; CPython's own allocations
# at exit are not what is being tested here.
ASAN_OPTIONS=detect_leaks=0 "$dir/seed_result" "$dir/seeds-result" lessons tests/lessons/good >/dev/null

run() {
    name=$1
    shift
    log=$dir/$name.log
    # libFuzzer only ever adds files to the corpus it writes to: fold it
    # back to the inputs that matter once it has grown large.
    if [ "$(ls "$1" | wc -l)" -gt 2000 ]; then
        rm -rf "$1.new"
        mkdir "$1.new"
        if "$dir/$name" -merge=1 "$1.new" "$1" >"$log" 2>&1; then
            rm -rf "$1"
            mv "$1.new" "$1"
        fi
    fi
    if ! "$dir/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix="$dir/$name-" "$@" >"$log" 2>&1; then
        echo "fuzz: $name FAILED after ${secs} s; the end of $log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(sed -n 's/^#[0-9]*.*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    corpus=$(sed -n 's/^#[0-9]*.*DONE .* corp: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
    echo "fuzz: $name: ${runs:-?} executions in ${secs} s, coverage ${cov:-?} edges, corpus ${corpus:-?} inputs, no crash, no leak"
}

run fuzz_lesson "$dir/corpus-lesson" lessons tests/lessons
run fuzz_result "$dir/corpus-result" "$dir/seeds-result"
