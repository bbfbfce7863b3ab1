#!/usr/bin/env bash
# test_bench.sh ROSTER: `roster bench` at a small size: the table's shape,
# the JSON keys, every representation present and agreeing on what it
# loaded (the driver refuses to print otherwise), and the plot rendered by
# a real SVG renderer.  No assertion on time.
#
# python-roster (roster through the CPython extension) must run when the
# module is built beside roster (<build>/python/roster.*.so, the target
# roster_python) and roster is not a sanitized build (the module would need
# the sanitizer runtime preloaded into the interpreter); otherwise its row
# must say "(absent: why)".
set -u
roster=$1
# The baselines are benchmark programs that end without freeing; leaks in
# the library are the other tests' business.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAILED: $*"; fails=$((fails + 1)); }

if ! "$roster" bench --players 3000 --runs 2 >"$tmp/table.txt" 2>"$tmp/err.txt"; then
    cat "$tmp/err.txt"
    fail "roster bench exited with an error"
fi
module=no
if ls "$(dirname "$roster")"/python/roster.*.so >/dev/null 2>&1 &&
    ! grep -q __asan_init "$roster"; then
    module=yes
fi
expect="roster c-dict c-slots c-packed sqlite python-dict python-slots"
[ "$module" = yes ] && expect="$expect python-roster"
for rep in $expect; do
    grep -q "^$rep " "$tmp/table.txt" || fail "the table lacks $rep"
    if grep -q "^$rep  *(" "$tmp/table.txt"; then
        fail "$rep did not run: $(grep "^$rep " "$tmp/table.txt")"
    fi
done
if [ "$module" = no ]; then
    grep -q "^python-roster  *(absent: ..*)" "$tmp/table.txt" ||
        fail "python-roster without the module: $(grep "^python-roster" "$tmp/table.txt")"
fi
if [ -x /usr/bin/python3 ]; then
    grep -q "^Python representations run by /usr/bin/python3" "$tmp/table.txt" ||
        fail "the Python representations do not run /usr/bin/python3"
fi
grep -q "as a ratio to c-packed" "$tmp/table.txt" || fail "no ratio table"

if ! "$roster" bench --players 3000 --runs 1 --json >"$tmp/b.json" 2>"$tmp/err.txt"; then
    cat "$tmp/err.txt"
    fail "roster bench --json exited with an error"
fi
for key in '"representations"' '"name": "roster"' '"name": "c-packed"' \
    '"bytes_per_player"' '"insert_ns"' '"get_uid_ns"' '"get_name_ns"' \
    '"machine"' '"cores"' '"command"' '"checksum"'; do
    grep -qF -- "$key" "$tmp/b.json" || fail "the JSON lacks $key"
done
if command -v /usr/bin/python3 >/dev/null; then
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
reps = {r["name"]: r for r in d["representations"]}
assert len(reps) == 8, sorted(reps)
assert d["python"] == "/usr/bin/python3", d["python"]
pr = reps["python-roster"]
if sys.argv[2] == "yes":
    assert pr["status"] == "ok", pr
    assert pr["checksum"] == reps["roster"]["checksum"], pr
else:
    assert pr["status"] == "absent" and pr["reason"], pr
' "$tmp/b.json" "$module" \
        || fail "the JSON does not parse, lacks representations or python-roster is wrong"
fi

if "$roster" bench --players 2000 --runs 1 --plot "$tmp/p.svg" --sweep-max 20000 >/dev/null 2>"$tmp/err.txt"; then
    rsvg-convert "$tmp/p.svg" -o "$tmp/p.png" || fail "rsvg-convert could not render the plot"
    test -s "$tmp/p.png" || fail "empty render"
else
    cat "$tmp/err.txt"
    fail "roster bench --plot exited with an error"
fi
if "$roster" bench --players 0 >/dev/null 2>&1; then
    fail "--players 0 must be refused"
fi

# bench_persist, when given: it runs, on a small store, every persistence
# path it times (a journaled load, a compaction under writes, a reopen, a
# save and a load, three fsync policies) and reports each.
if [ -n "${2:-}" ]; then
    if "$2" --players 3000 --always 10 --json >"$tmp/persist.json" 2>"$tmp/err.txt"; then
        for key in journaled_insert_ns compact_longest_step_ms compact_finish_ms \
            compact_extra_bytes reopen_seconds save_seconds load_seconds \
            snapshot_ratio update_ns_always; do
            grep -q "\"$key\"" "$tmp/persist.json" || fail "bench_persist lacks $key"
        done
    else
        cat "$tmp/err.txt"
        fail "bench_persist exited with an error"
    fi
fi
grep -q '"snapshot_load_s"' "$tmp/b.json" || fail "roster's snapshot times are not in the JSON"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed; table:"
    cat "$tmp/table.txt"
    exit 1
fi
echo "test_bench: all checks passed"
