#!/usr/bin/env bash
# test_cli.sh ROSTER: the command-line tool end to end: gen, load (text and
# JSON, good and bad input), the demo's transcript, snapshots (save,
# inspect, load, a newer class, damaged files), bad arguments in every
# subcommand, pipes and FIFOs, read errors, byte-order marks, the
# messages of common mistakes, and roster repair.
set -u
roster=$1
here=$(cd "$(dirname "$0")" && pwd)
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
quiet() { "$@" >/dev/null 2>&1; }
status() { # description, wanted exit status, command; its output in
    local what=$1 want=$2 # out.txt and err.txt
    shift 2
    "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAILED: $what: exit status $rc, expected $want"
        sed 's/^/    /' "$tmp/err.txt"
        fails=$((fails + 1))
    fi
}

"$roster" gen --players 3000 --seed 7 -o "$tmp/p.tsv"
check "gen writes 3000 lines" test "$(wc -l <"$tmp/p.tsv")" -eq 3000
"$roster" gen --players 3000 --seed 7 >"$tmp/p2.tsv"
check "gen is deterministic" cmp -s "$tmp/p.tsv" "$tmp/p2.tsv"

"$roster" load "$tmp/p.tsv" >"$tmp/load.txt"
check "load counts players" has "$tmp/load.txt" "players           3,000"
check "load binds extras" has "$tmp/load.txt" "dynamic attributes on"
"$roster" load --json "$tmp/p.tsv" >"$tmp/load.json"
# A regular file's lines are counted first and the indexes sized for them
# (rs_class_reserve()); a pipe's cannot be, so its indexes grow as it
# loads: the same players, other index bytes.
"$roster" load --json <"$tmp/p.tsv" >"$tmp/load-stdin.json"
cat "$tmp/p.tsv" | "$roster" load --json >"$tmp/load-pipe.json"
index_bytes() { tr ',' '\n' <"$1" | sed -n 's/.*"indexes": *\([0-9]*\).*/\1/p' | head -1; }
check "a file's load reserves its indexes" \
    test "$(index_bytes "$tmp/load.json")" -ne "$(index_bytes "$tmp/load-pipe.json")"
check "stdin from a file is a regular file too" \
    test "$(index_bytes "$tmp/load.json")" -eq "$(index_bytes "$tmp/load-stdin.json")"
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

# Snapshots: save, inspect, load, a newer class, damage.
"$roster" save "$tmp/p.tsv" -o "$tmp/p.snap" --step 500 >"$tmp/save.txt"
check "save counts records" has "$tmp/save.txt" "records           3,000"
check "save reports the extra memory" has "$tmp/save.txt" "extra memory"
check "save loads the file back" has "$tmp/save.txt" "3000 records"
"$roster" inspect "$tmp/p.snap" >"$tmp/inspect.txt"
check "inspect verifies" has "$tmp/inspect.txt" "every checksum verified"
check "inspect shows the class" has "$tmp/inspect.txt" "name: str(32) unique inline(12);"
check "inspect counts" has "$tmp/inspect.txt" "class             Player: 3,000 records"
"$roster" load "$tmp/p.snap" >"$tmp/load-snap.txt"
check "load reads a snapshot" has "$tmp/load-snap.txt" "players           3,000"
"$roster" load --class 'Player { uid: str(16) key; name: str(40) unique; level: u32; rank: u8 = 1 } dynamic' \
    "$tmp/p.snap" >"$tmp/evolve.txt"
check "a newer class drops fields" has "$tmp/evolve.txt" "dropped fields: Player.stat"
if "$roster" load --class 'Player { uid: str(16) key; level: u8 } dynamic' \
    "$tmp/p.snap" >/dev/null 2>"$tmp/narrow.txt"; then
    echo "FAILED: a narrower field must not load"
    fails=$((fails + 1))
fi
check "narrowing is named" has "$tmp/narrow.txt" "Player.level: the file has u16, the class declares u8"
size=$(stat -c %s "$tmp/p.snap")
head -c $((size / 2)) "$tmp/p.snap" >"$tmp/cut.snap"
if "$roster" inspect "$tmp/cut.snap" >/dev/null 2>"$tmp/cut.txt"; then
    echo "FAILED: a truncated snapshot must fail inspection"
    fails=$((fails + 1))
fi
check "truncation is reported" has "$tmp/cut.txt" "truncated"
cp "$tmp/p.snap" "$tmp/flip.snap"
printf '\xff' | dd of="$tmp/flip.snap" bs=1 seek=$((size / 3)) conv=notrunc 2>/dev/null
if "$roster" load "$tmp/flip.snap" >/dev/null 2>"$tmp/flip.txt"; then
    echo "FAILED: a damaged snapshot must not load"
    fails=$((fails + 1))
fi
check "damage is located" has "$tmp/flip.txt" "checksum mismatch"
if "$roster" inspect "$tmp/p.tsv" >/dev/null 2>"$tmp/notsnap.txt"; then
    echo "FAILED: a TSV is not a snapshot"
    fails=$((fails + 1))
fi
check "a TSV is named as not a snapshot" has "$tmp/notsnap.txt" "not a roster snapshot"

# A read error is an error naming the line, and nothing is saved: a line
# of 64 MiB under a 48 MiB address-space limit cannot be read whole.
# Skipped where the tool cannot start under the limit at all (a sanitizer
# build reserves terabytes of address space for its shadow memory).
if { (ulimit -v 49152 && "$roster" --version) >/dev/null 2>&1; } 2>/dev/null; then
    { printf '0000001\tTom\t1\t10\t\n0000002\t'
      head -c 67108864 /dev/zero | tr '\0' a
      printf '\t1\t1\t\n0000003\tJim\t1\t1\t\n'; } |
        (ulimit -v 49152 && exec "$roster" save - -o "$tmp/long.snap") \
            >/dev/null 2>"$tmp/long.txt"
    rc=${PIPESTATUS[1]}
    check "a read error fails the command (status $rc)" test "$rc" -eq 1
    check "a read error names its line" has "$tmp/long.txt" "line 2: read error"
    check "a read error saves nothing" test ! -e "$tmp/long.snap"
else
    echo "test_cli: read-error check skipped (the tool needs more address space)"
fi

# A UTF-8 byte-order mark is not part of the first uid: the second line's
# duplicate of it is found (the insert looks the key up), and a numeric
# key parses.
printf '\357\273\2770000001\tTom\t1\t10\t\n0000001\tJim\t1\t20\t\n' >"$tmp/bom-dup.tsv"
status "a TSV with a BOM and a duplicate first uid" 1 "$roster" load "$tmp/bom-dup.tsv"
check "the first uid is found after a BOM" has "$tmp/err.txt" 'line 2: Player.uid: duplicate key "0000001"'
printf '\357\273\2770000001\tTom\t1\t10\t\n0000002\tJim\t1\t20\t\n' >"$tmp/bom.tsv"
status "a BOM before a numeric key" 0 "$roster" load "$tmp/bom.tsv" \
    --class 'P { uid: u32 key; name: str(8); stat: u8; level: u16 } dynamic'

# Extras: one limit, the library's 255 attributes a record.
printf '0000001\tTom\t1\t10\t%s\n' "$(seq 1 255 | sed 's/.*/a&=&/' | paste -sd';')" >"$tmp/e255.tsv"
status "255 extras on a line" 0 "$roster" load "$tmp/e255.tsv"
check "255 extras load" has "$tmp/out.txt" "255 dynamic attributes on 1 players"
printf '0000001\tTom\t1\t10\t%s\n' "$(seq 1 256 | sed 's/.*/a&=&/' | paste -sd';')" >"$tmp/e256.tsv"
status "256 extras on a line" 1 "$roster" load "$tmp/e256.tsv"
check "the extras limit is named" has "$tmp/err.txt" "at most 255 attributes"
check "the usage states the extras limit" sh -c '"$1" help load | grep -q "at most 255"' sh "$roster"

# Bad arguments: exit status 2 and a message, before anything runs, in
# every subcommand, all through one parser; --help exits 0 everywhere.
bad() { status "$1: a usage error" 2 "${@:2}"; }
bad "gen --players -1" "$roster" gen --players -1
check "a negative count is named" has "$tmp/err.txt" "not '-1'"
bad "gen --players ''" "$roster" gen --players ''
bad "gen --players 5x" "$roster" gen --players 5x
bad "gen --players ' 5'" "$roster" gen --players ' 5'
bad "gen --players 0" "$roster" gen --players 0
bad "gen --players 2^64" "$roster" gen --players 18446744073709551616
bad "gen without --players" "$roster" gen
bad "gen --players without a value" "$roster" gen --players
bad "gen --seed -3" "$roster" gen --players 10 --seed -3
bad "gen with an unknown option" "$roster" gen --players 10 --frob -o "$tmp/no.tsv"
check "an unknown option is named" has "$tmp/err.txt" "unknown option '--frob'"
check "a usage error writes nothing" test ! -e "$tmp/no.tsv"
bad "gen with a stray argument" "$roster" gen --players 10 extra
bad "load with an unknown option" "$roster" load --frob "$tmp/p.tsv"
bad "load of two files" "$roster" load "$tmp/p.tsv" "$tmp/p2.tsv"
bad "load --class without a value" "$roster" load "$tmp/p.tsv" --class
bad "load --class ''" "$roster" load "$tmp/p.tsv" --class ''
bad "load --json=1" "$roster" load --json=1 "$tmp/p.tsv"
bad "save without -o" "$roster" save "$tmp/p.tsv"
bad "save --step -1" "$roster" save "$tmp/p.tsv" -o "$tmp/no.snap" --step -1
bad "save --step 0" "$roster" save "$tmp/p.tsv" -o "$tmp/no.snap" --step 0
bad "save --step 1e3" "$roster" save "$tmp/p.tsv" -o "$tmp/no.snap" --step 1e3
bad "save of two files" "$roster" save "$tmp/p.tsv" "$tmp/p2.tsv" -o "$tmp/no.snap"
check "a bad save writes nothing" test ! -e "$tmp/no.snap"
bad "inspect without a file" "$roster" inspect
bad "inspect of two files" "$roster" inspect "$tmp/p.tsv" "$tmp/p2.tsv"
bad "inspect with an unknown option" "$roster" inspect --frob "$tmp/p.tsv"
bad "demo --players -1" "$roster" demo --players -1
bad "demo --players 0" "$roster" demo --players 0
bad "demo with a stray argument" "$roster" demo 10
bad "bench --players -1" "$roster" bench --players -1
bad "bench --players 0" "$roster" bench --players 0
bad "bench --runs 0" "$roster" bench --runs 0
bad "bench --runs 16" "$roster" bench --runs 16
bad "bench --jobs x" "$roster" bench --jobs x
bad "bench --seed ''" "$roster" bench --seed ''
bad "bench --sweep-max 10" "$roster" bench --sweep-max 10
bad "bench --only nonsense" "$roster" bench --only nonsense
check "--only names the unknown representation" has "$tmp/err.txt" "unknown representation 'nonsense'"
check "--only lists the valid ones" has "$tmp/err.txt" "roster, c-dict, c-slots, c-packed, sqlite, python-dict, python-slots"
bad "bench --only with an empty name" "$roster" bench --only roster,,c-packed
bad "bench with a stray argument" "$roster" bench 1000
bad "an unknown command" "$roster" frobnicate
bad "no command" "$roster"
for cmd in gen load save inspect demo bench help; do
    status "roster $cmd --help" 0 "$roster" "$cmd" --help
    check "roster $cmd --help prints its usage" has "$tmp/out.txt" "usage: roster"
done
status "save -o ''" 2 "$roster" save "$tmp/p.tsv" -o ''
check "an empty output path is named" has "$tmp/err.txt" "-o: the output file name is empty"

# Pipes: the sniffing for a snapshot reads the first bytes, and the TSV
# loader gets them back, so nothing is lost.
"$roster" load <(cat "$tmp/p.tsv") >"$tmp/pipe.txt"
check "load <(cat FILE) reads every row" has "$tmp/pipe.txt" "players           3,000"
cat "$tmp/p.tsv" | "$roster" save /dev/stdin -o "$tmp/pipe.snap" >"$tmp/pipe-save.txt"
check "cat FILE | save /dev/stdin reads every row" has "$tmp/pipe-save.txt" "records           3,000"
cat "$tmp/p.tsv" | "$roster" load >"$tmp/stdin.txt"
check "load from stdin reads every row" has "$tmp/stdin.txt" "players           3,000"
cat "$tmp/p.snap" | "$roster" load - >"$tmp/snap-pipe.txt"
check "load reads a snapshot from a pipe" has "$tmp/snap-pipe.txt" "players           3,000"

# A FIFO may bring a TSV (timeout turns a hang into a failure).
mkfifo "$tmp/fifo"
timeout 10 sh -c 'cat "$1" >"$2"' sh "$tmp/p.tsv" "$tmp/fifo" &
status "load of a FIFO" 0 timeout 10 "$roster" load "$tmp/fifo"
check "load reads a TSV from a FIFO" has "$tmp/out.txt" "players           3,000"
wait

# What an input that is not a TSV or a snapshot is, in the user's terms.
mkdir "$tmp/adir"
status "load of a directory" 1 "$roster" load "$tmp/adir"
check "a directory is named" has "$tmp/err.txt" "is a directory"
tail -c +2 "$here/../fuzz/corpus/journal/seed-fresh-nosnap.bin" >"$tmp/j.journal"
status "load of a journal" 1 "$roster" load "$tmp/j.journal"
check "a journal is named as one" has "$tmp/err.txt" "is a roster journal, not a TSV"
check "inspect is suggested for a journal" has "$tmp/err.txt" "roster inspect"

# inspect of a FIFO refuses at once instead of waiting for a writer.
status "inspect of a FIFO" 1 timeout 10 "$roster" inspect "$tmp/fifo"
check "inspect names a FIFO" has "$tmp/err.txt" "is a FIFO"

# inspect says "every checksum verified" only when every entry is whole.
size=$(stat -c %s "$tmp/j.journal")
head -c $((size - 7)) "$tmp/j.journal" >"$tmp/torn.journal"
status "inspect of a journal with a torn tail" 0 "$roster" inspect "$tmp/torn.journal"
check "a torn tail is not 'every checksum verified'" sh -c '! grep -q "every checksum" "$1"' sh "$tmp/out.txt"
check "a torn tail is shown" has "$tmp/out.txt" "13 whole entries verified, then a torn last entry"
check "the torn tail's size is shown" has "$tmp/out.txt" "torn tail         20 bytes"
cp "$tmp/j.journal" "$tmp/bad.journal"
printf '\377' | dd of="$tmp/bad.journal" bs=1 seek=$((size - 3)) conv=notrunc 2>/dev/null
status "inspect of a journal with a damaged last entry" 1 "$roster" inspect "$tmp/bad.journal"
check "damage is not called verified" sh -c '! grep -q "verified" "$1"' sh "$tmp/out.txt"

# --json is valid JSON whatever bytes the file name holds: a tab, a
# control character, a quote, a backslash, invalid UTF-8, valid UTF-8.
head -n 10 "$tmp/p.tsv" >"$tmp/$(printf 'odd-a\tb\001c"d\\e\377f\303(g\303\251')"
for f in "$tmp"/odd-*; do
    "$roster" load --json "$f" >"$tmp/odd.json"
done
if [ -x /usr/bin/python3 ]; then
    check "load --json parses with an odd file name" quiet /usr/bin/python3 -m json.tool "$tmp/odd.json"
fi
check "a control character is escaped" has "$tmp/odd.json" 'a\u0009b\u0001c\"d\\e'
check "invalid UTF-8 becomes U+FFFD" has "$tmp/odd.json" '\ufffdf\ufffd(g'
check "valid UTF-8 is kept" has "$tmp/odd.json" "$(printf '(g\303\251')"

# gen refuses a count whose names cannot fit in memory, up front.
status "gen of more players than memory holds" 1 "$roster" gen --players 1000000000000 -o "$tmp/huge.tsv"
check "gen states the memory it needs" has "$tmp/err.txt" "players need about"
check "gen states the largest count that fits" has "$tmp/err.txt" "players fit"
check "gen refuses before writing" test ! -e "$tmp/huge.tsv"

# save checks its output before reading the input.
status "save -o a directory" 1 "$roster" save "$tmp/p.tsv" -o "$tmp/adir"
check "an output directory is named" has "$tmp/err.txt" "-o $tmp/adir: is a directory"
status "save -o in a missing directory" 1 "$roster" save "$tmp/p.tsv" -o "$tmp/nodir/x.snap"
check "a missing directory is named" has "$tmp/err.txt" "cannot create it: $tmp/nodir"
# (Not a device such as /dev/null: a save replaces its path by a rename,
# and a build without the check would replace the device node as root.)
mkfifo "$tmp/out.fifo"
status "save -o a FIFO" 1 timeout 10 "$roster" save "$tmp/p.tsv" -o "$tmp/out.fifo"
check "a FIFO is not a snapshot's path" has "$tmp/err.txt" "-o $tmp/out.fifo: is a FIFO"
check "the FIFO is left alone" test -p "$tmp/out.fifo"

# bench --plot to a path that cannot be created fails before the run (no
# table printed), not after it.
status "bench --plot /nonexistent/x.svg" 1 "$roster" bench --players 1000 --runs 1 \
    --slow-runs 1 --sweep-max 10000 --plot /nonexistent/x.svg
check "bench --plot fails before the run" test ! -s "$tmp/out.txt"
check "bench --plot names the path" has "$tmp/err.txt" "--plot /nonexistent/x.svg: cannot create it"

# roster repair BASE.  No roster command writes a journal, so the journal
# comes from the fuzz corpus (a small store's 14 entries, no snapshot).
status "inspect of a damaged journal, again" 1 "$roster" inspect "$tmp/bad.journal"
check "inspect of damage points to roster repair" has "$tmp/err.txt" "roster repair $tmp/bad keeps"
status "repair of a base with no files" 1 "$roster" repair "$tmp/none"
check "a missing base is named" has "$tmp/err.txt" "nothing to repair"
status "repair without BASE" 2 "$roster" repair
status "repair of two bases" 2 "$roster" repair "$tmp/a" "$tmp/b"
status "repair --help" 0 "$roster" repair --help
cp "$tmp/j.journal" "$tmp/r.journal"
status "repair of a whole journal" 0 "$roster" repair "$tmp/r"
check "a whole journal needs no repair" has "$tmp/out.txt" "nothing to repair"
check "a whole journal stays" cmp -s "$tmp/j.journal" "$tmp/r.journal"
cp "$tmp/torn.journal" "$tmp/t.journal"
status "repair of a torn journal" 0 "$roster" repair "$tmp/t"
check "a torn tail needs no repair" has "$tmp/out.txt" "nothing to repair"
check "repair mentions the torn tail an open drops" has "$tmp/out.txt" "torn tail         20 bytes"
cp "$tmp/bad.journal" "$tmp/d.journal"
status "repair of a damaged journal" 0 "$roster" repair "$tmp/d"
check "repair says it repaired" has "$tmp/out.txt" "repaired"
check "repair gives the reason" has "$tmp/out.txt" "reason            $tmp/d.journal: entry 14"
check "repair counts what it kept" has "$tmp/out.txt" "kept              13 whole entries, 999 bytes"
check "repair counts what it dropped" has "$tmp/out.txt" "dropped           27 bytes"
check "repair names where the original went" has "$tmp/out.txt" "moved to $tmp/d.journal.damaged-1"
check "the original is kept byte for byte" cmp -s "$tmp/bad.journal" "$tmp/d.journal.damaged-1"
status "inspect after repair" 0 "$roster" inspect "$tmp/d.journal"
check "the repaired journal holds the whole entries" has "$tmp/out.txt" "entries           13"
status "a second repair" 0 "$roster" repair "$tmp/d"
check "a second repair has nothing to do" has "$tmp/out.txt" "nothing to repair"
mkfifo "$tmp/f.journal"
status "repair with a FIFO for a journal" 1 timeout 10 "$roster" repair "$tmp/f"
check "repair names the FIFO" has "$tmp/err.txt" "is a FIFO"

if [ "$fails" -ne 0 ]; then
    echo "$fails check(s) failed; demo transcript:"
    cat "$tmp/demo.txt"
    exit 1
fi
echo "test_cli: all checks passed"
