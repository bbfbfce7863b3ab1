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
#                    targets on their committed corpora
#
# Packages come from Debian's archive only (see README, "Dependencies").
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES="build-essential cmake libxxhash-dev clang-14 libclang-rt-14-dev libsqlite3-dev librsvg2-bin python3"

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
    CC=clang-14 build build-fuzz -DCMAKE_BUILD_TYPE=Debug -DROSTER_FUZZ=ON
    # fuzz_class, fuzz_tsv, fuzz_snapshot, fuzz_journal; undefined behaviour
    # stops a run like a crash does.
    for t in build-fuzz/fuzz/fuzz_*; do
        [ -x "$t" ] || continue
        local name corpus tmp
        name=$(basename "$t" | sed 's/^fuzz_//')
        corpus=fuzz/corpus/$name
        tmp=$(mktemp -d)
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            "$t" -max_total_time=30 -timeout=10 -print_final_stats=0 \
            "$tmp" "$corpus" >/dev/null 2>build-fuzz/fuzz-$name.log || {
            tail -40 build-fuzz/fuzz-$name.log
            echo "run.sh: fuzz_$name failed (log: build-fuzz/fuzz-$name.log)"
            exit 1
        }
        rm -rf "$tmp"
        echo "fuzz_$name: ok"
    done
    echo "run.sh: all tests passed"
}

case "${1:-}" in
main) main ;;
test) test_all ;;
deps) deps ;;
*)
    echo "usage: ./run.sh main | test | deps" >&2
    exit 2
    ;;
esac
