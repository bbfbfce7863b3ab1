#!/usr/bin/env bash
# run.sh: the two commands of the README's quick start, on a fresh Debian 12.
#
#   ./run.sh main    install what is missing, build, generate 1,000,000
#                    canonical players, load them (the memory report), save
#                    them as a snapshot and inspect it, and run the classic
#                    experiment: roster bench, every representation side by
#                    side (about two minutes)
#   ./run.sh test    install what is missing, then build and run every test:
#                    a plain build (warnings as errors), the same suite under
#                    AddressSanitizer + UndefinedBehaviorSanitizer, the
#                    heavy 10,000,000-record growth test, and the libFuzzer
#                    targets on their committed corpora, 30 seconds each
#   ./run.sh fuzz [SECONDS]
#                    the longer fuzzing run, on demand (nightly-style): build
#                    the libFuzzer targets (build-fuzz) and run each one for
#                    SECONDS (default 600; five targets, so 50 minutes) from
#                    its committed corpus fuzz/corpus/NAME.  New inputs go to
#                    a scratch corpus, build-fuzz/corpus-long/NAME, which the
#                    next run starts from too; after each target it is cut
#                    down (libFuzzer -merge=1) to the inputs that add
#                    coverage beyond the committed corpus.  The committed
#                    corpus is never written to.  A crash, leak, timeout or
#                    undefined behaviour is saved under
#                    build-fuzz/artifacts/NAME/, the other targets still
#                    run, and the exit status is 1.  Once the bug is fixed,
#                    add the input to fuzz/corpus/NAME as crash-WHAT.bin (the
#                    corpus_NAME tests replay it from then on).  Each
#                    target's log is build-fuzz/fuzz-NAME.log; one line a
#                    target gives its inputs a second.
#
# Packages come from Debian's archive only (see README, "Dependencies").
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES="build-essential cmake libxxhash-dev clang-14 libclang-rt-14-dev libsqlite3-dev librsvg2-bin python3 python3-dev python3-pytest python3-setuptools python3-pip redis-tools redis-server nutcracker python3-redis"

deps() {
    local missing=""
    for p in $PACKAGES; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "run.sh: installing$missing" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
}

build() { # dir, extra cmake args...
    local dir=$1
    shift
    cmake -S . -B "$dir" -DROSTER_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)"
}

main() {
    deps
    build build -DCMAKE_BUILD_TYPE=Release
    local data=build/players-1000000.tsv
    [ -f "$data" ] || ./build/roster gen --players 1000000 --seed 1 -o "$data"
    ./build/roster load "$data"
    # Persistence: the same players to a snapshot (in steps, as a server
    # would save), verified and loaded back.
    ./build/roster save "$data" -o build/players-1000000.snap --step 1000
    ./build/roster inspect build/players-1000000.snap
    ./build/roster bench --players 1000000
}

test_all() {
    deps
    echo "== plain build (gcc, warnings as errors)"
    build build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROSTER_HEAVY_TESTS=ON
    (cd build && ctest --output-on-failure -j2)
    echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
    CC=clang-14 build build-asan -DCMAKE_BUILD_TYPE=Debug -DROSTER_SANITIZE=ON
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -j2)
    echo "== libFuzzer targets, 30 seconds each from the committed corpora"
    fuzz_targets 30
    echo "run.sh: all tests passed"
}

# Build the libFuzzer targets and run each for $1 seconds from its
# committed corpus (fuzz_class, fuzz_tsv, fuzz_snapshot, fuzz_journal;
# undefined behaviour stops a run like a crash does).  $2 = keep: new
# inputs go to build-fuzz/corpus-long/NAME, kept and merged (./run.sh fuzz);
# otherwise to a temporary directory, removed (./run.sh test).  Crashes go
# to build-fuzz/artifacts/NAME/, never into the source tree.  Exits with 1
# if any target failed, after running them all.
fuzz_targets() {
    local secs=$1 keep=${2:-} failed=""
    CC=clang-14 build build-fuzz -DCMAKE_BUILD_TYPE=Debug -DROSTER_FUZZ=ON
    for t in build-fuzz/fuzz/fuzz_*; do
        [ -x "$t" ] || continue
        local name corpus scratch art log
        name=$(basename "$t" | sed 's/^fuzz_//')
        corpus=fuzz/corpus/$name
        art=build-fuzz/artifacts/$name
        log=build-fuzz/fuzz-$name.log
        if [ -n "$keep" ]; then
            scratch=build-fuzz/corpus-long/$name
        else
            scratch=$(mktemp -d)
        fi
        mkdir -p "$scratch" "$art"
        if ! UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            "$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
            -artifact_prefix="$art/" "$scratch" "$corpus" \
            >/dev/null 2>"$log"; then
            tail -40 "$log"
            echo "fuzz_$name: FAILED (log: $log; the input:" \
                "$(sed -n 's/.*Test unit written to //p' "$log" | tail -1))"
            failed="$failed $name"
        else
            [ -z "$keep" ] || fuzz_merge "$t" "$corpus" "$scratch" "$log"
            echo "fuzz_$name: ok, $(fuzz_stats "$log")"
        fi
        [ -n "$keep" ] || rm -rf "$scratch"
    done
    if [ -n "$failed" ]; then
        echo "run.sh: fuzz targets failed:$failed"
        exit 1
    fi
}

# "1516 inputs a second (45480 in 30 s), 420 new inputs": from libFuzzer's
# final statistics in log $1, and what fuzz_merge noted there.
fuzz_stats() {
    awk '/^stat::number_of_executed_units:/ { n = $2 }
         /^stat::average_exec_per_sec:/ { r = $2 }
         /^stat::new_units_added:/ { u = $2 }
         /^Done [0-9]+ runs in [0-9]+ second/ { s = $5 }
         /^merge: / { m = $0; sub(/^merge: /, "", m) }
         END { printf "%s inputs a second (%s in %s s), %s new inputs%s\n",
                      r, n, s, u, m ? "; " m : "" }' "$1"
}

# Cut scratch corpus $3 of target $1 down to the inputs that add coverage
# beyond committed corpus $2 (libFuzzer -merge=1 into a copy of $2, keeping
# what the merge added), noting the count in log $4.
fuzz_merge() {
    local t=$1 corpus=$2 scratch=$3 log=$4 merged f n=0
    merged=$(mktemp -d)
    cp "$corpus"/* "$merged"/
    if ! "$t" -merge=1 -timeout=10 "$merged" "$scratch" \
        >"$log.merge" 2>&1; then
        echo "merge: failed (log: $log.merge), corpus left as it was" >>"$log"
        rm -rf "$merged"
        return 0
    fi
    rm -rf "$scratch"
    mkdir -p "$scratch"
    for f in "$merged"/*; do
        [ -e "$corpus/$(basename "$f")" ] && continue
        mv "$f" "$scratch"/
        n=$((n + 1))
    done
    rm -rf "$merged"
    echo "merge: $n inputs in $scratch add coverage beyond $corpus" >>"$log"
}

fuzz_long() {
    local secs=${1:-600}
    case "$secs" in
    '' | *[!0-9]* | 0)
        echo "run.sh: fuzz SECONDS must be a positive whole number" >&2
        exit 2
        ;;
    esac
    deps
    echo "== libFuzzer targets, $secs seconds each from the committed" \
        "corpora and build-fuzz/corpus-long"
    fuzz_targets "$secs" keep
    echo "run.sh: no fuzz target failed"
}

case "${1:-}" in
main) main ;;
test) test_all ;;
fuzz) fuzz_long "${2:-}" ;;
deps) deps ;;
*)
    echo "usage: ./run.sh main | test | fuzz [SECONDS] | deps" >&2
    exit 2
    ;;
esac
