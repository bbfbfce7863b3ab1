#!/usr/bin/env bash
# test_cli.sh ROSTER: the command-line tool end to end: gen, load (text and
# JSON, good and bad input), and the demo's transcript.
set -u
roster=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # description, then a command that must succeed
    local what=$1
    shift
    if ! "$@"; then
        echo "FAILED: $what"
        fails=$((fails + 1))
    fi
}
has() { grep -qF -- "$2" "$1"; }

"$roster" gen --players 3000 --seed 7 -o "$tmp/p.tsv"
check "gen writes 3000 lines" test "$(wc -l <"$tmp/p.tsv")" -eq 3000
"$roster" gen --players 3000 --seed 7 >"$tmp/p2.tsv"
check "gen is deterministic" cmp -s "$tmp/p.tsv" "$tmp/p2.tsv"

"$roster" load "$tmp/p.tsv" >"$tmp/load.txt"
check "load counts players" has "$tmp/load.txt" "players           3,000"
check "load binds extras" has "$tmp/load.txt" "dynamic attributes on"
"$roster" load --json "$tmp/p.tsv" >"$tmp/load.json"
for key in '"players": 3000' '"rss_bytes_per_player"' \
    '"accounted_bytes_per_player"' '"load_seconds"' '"attrs"'; do
    check "load --json has $key" has "$tmp/load.json" "$key"
done
"$roster" load --class 'P { uid: str(16) key; name: str(32) unique; stat: u8; level: u16 }' \
    "$tmp/p.tsv" >"$tmp/slots.txt"
check "a class that is not dynamic skips extras" has "$tmp/slots.txt" "extras skipped"

printf '0000001\tTom\t1\t10\t\n0000002\tJim\t1\t70000\t\n' >"$tmp/bad.tsv"
if "$roster" load "$tmp/bad.tsv" >/dev/null 2>"$tmp/err.txt"; then
    echo "FAILED: a bad row must fail the load"
    fails=$((fails + 1))
fi
check "a bad row is reported with its line" has "$tmp/err.txt" \
    "line 2: column 4: Player.level: 70000 out of range for u16"
printf '0000001\tTom\t1\t10\tx=1;not a name=2\n' >"$tmp/bad2.tsv"
"$roster" load "$tmp/bad2.tsv" >/dev/null 2>"$tmp/err2.txt"
check "a bad extra is reported" has "$tmp/err2.txt" "is not an attribute name"
if "$roster" frobnicate >/dev/null 2>&1; then
    echo "FAILED: an unknown command must fail"
    fails=$((fails + 1))
fi

"$roster" demo --players 2000 >"$tmp/demo.txt"
for line in \
    ">>> p = Player('00001', 'Tom')" \
    "['uid', 'name', 'stat', 'level']" \
    "AttributeError: 'Player' object has no attribute 'x'" \
    ">>> p.x = 123" \
    "AttributeError: 'Player' object has no attribute 'y'" \
    "{'x': 123}" \
    "AttributeError: 'Player2' object has no attribute 'x'" \
    "(39, 23)" \
    "Player    dynamic, extras as attributes" \
    "Player2   __slots__, extras dropped"; do
    check "demo shows: $line" has "$tmp/demo.txt" "$line"
done
# p.x reads 123 right after it is bound.
check "demo reads p.x back" grep -qzP '>>> p.x\n123\n' "$tmp/demo.txt"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed; demo transcript:"
    cat "$tmp/demo.txt"
    exit 1
fi
echo "test_cli: all checks passed"
