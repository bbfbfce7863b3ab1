#!/usr/bin/env bash
# bench/server_bench.sh: rosterd and redis-server side by side, in one run.
#
#   bench/server_bench.sh [--players N] [--requests N] [--rounds R]
#                         [--busy-poll US] [--build DIR]
#
# 1. `roster gen --players N --seed 1` (1,000,000 by default) becomes one
#    file of HSET commands, Player:<uid> with uid, name, stat, level and
#    the extras as fields; the same file is loaded into each server by the
#    same pipelined client (`redis-cli --pipe`), each server fresh, in its
#    own temporary directory, appendfsync everysec on both (Redis with
#    appendonly yes, no RDB saves).
# 2. Memory per player: RSS growth over the load, and each server's own
#    used_memory (rosterd's is its store's accounting), divided by N.
# 3. 100,000 more players keyed Player:000000000000 to Player:000000099999
#    (redis-benchmark's __rand_int__ is 12 digits), then redis-benchmark
#    with 50 clients, -r 100000, at -P 1 and -P 16: HSET (update a level),
#    HGET, HMGET (3 fields) and HGETALL on Player:__rand_int__.  Requests
#    a second, p50 and p99 latency, and rosterd's ratio to redis-server.
#    Both servers stay up and take turns test by test, after the
#    compaction or AOF rewrite the load set off has finished; the ones the
#    benchmark itself sets off run while it is timed, and are counted.
#    With --rounds R (1 by default) every test runs R times, the servers
#    alternating which goes first; the table gives each server's median
#    and the median, lowest and highest of the R ratios, each taken
#    between two runs side by side.  --busy-poll US starts rosterd with
#    that busy-poll (server/README.md); 0, its default, by default.
#
# Servers are stopped by their pid.  Needs redis-server, redis-tools and
# python3 (run.sh installs them).  Wall-clock figures on a shared 2-core
# machine vary by 20% or more between runs; bytes do not.
set -euo pipefail
cd "$(dirname "$0")/.."

players=1000000
requests=500000
rounds=1
busy_poll=0
build=build
while [ $# -gt 0 ]; do
    case "$1" in
    --players) players=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --busy-poll) busy_poll=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h | --help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "server_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
rosterd=$build/server/rosterd
roster=$build/roster
case "$rounds" in
'' | *[!0-9]* | 0) echo "server_bench.sh: --rounds needs a count of 1 or more" >&2; exit 2 ;;
esac
for x in "$rosterd" "$roster"; do
    [ -x "$x" ] || { echo "server_bench.sh: $x not built" >&2; exit 1; }
done
for x in redis-server redis-cli redis-benchmark; do
    command -v "$x" >/dev/null || { echo "server_bench.sh: no $x" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/server-bench.XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

tsv=$build/players-$players.tsv
[ -f "$tsv" ] || "$roster" gen --players "$players" --seed 1 -o "$tsv"

# The load and the benchmark set, as redis-cli --pipe input (RESP).
python3 - "$tsv" "$tmp/load.resp" "$tmp/bench.resp" <<'EOF'
import sys
def cmd(out, *args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as out:
    for line in f:
        cols = line.rstrip(b"\n").split(b"\t")
        args = [b"HSET", b"Player:" + cols[0], b"uid", cols[0],
                b"name", cols[1], b"stat", cols[2], b"level", cols[3]]
        if len(cols) > 4 and cols[4]:
            for kv in cols[4].split(b";"):
                k, v = kv.split(b"=", 1)
                args += [k, v]
        cmd(out, *args)
with open(sys.argv[3], "wb") as out:
    for i in range(100000):
        uid = b"%012d" % i
        cmd(out, b"HSET", b"Player:" + uid, b"uid", uid, b"name",
            b"bench%d" % i, b"stat", b"1", b"level", b"%d" % (i % 100 + 1))
EOF

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
rss() { awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$1/status"; }
used() { redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: '$1=="used_memory" { print $2 }'; }
wait_up() {
    for _ in $(seq 200); do
        redis-cli -p "$1" PING >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "server_bench.sh: server on $1 did not start" >&2
    exit 1
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "players: $players (roster gen --seed 1); benchmark: $requests requests, 50 clients, -r 100000, $rounds round(s)"
echo "rosterd --busy-poll $busy_poll"
echo

results=$tmp/results
: >"$results"
declare -A port_of pid_of
for name in rosterd redis; do
    port=$(free_port)
    mkdir -p "$tmp/$name"
    if [ $name = rosterd ]; then
        "$rosterd" --port "$port" --dir "$tmp/$name" --appendfsync everysec \
            --busy-poll "$busy_poll" >"$tmp/$name.log" 2>&1 &
    else
        redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp/$name" \
            --save "" --appendonly yes --appendfsync everysec \
            >"$tmp/$name.log" 2>&1 &
    fi
    pid=$!
    pids="$pids $pid"
    port_of[$name]=$port
    pid_of[$name]=$pid
    wait_up "$port"
    r0=$(rss $pid)
    u0=$(used "$port")
    t0=$(date +%s.%N)
    redis-cli -p "$port" --pipe <"$tmp/load.resp" >"$tmp/$name.pipe"
    t1=$(date +%s.%N)
    grep -q "errors: 0" "$tmp/$name.pipe" || {
        cat "$tmp/$name.pipe"; echo "server_bench.sh: load errors" >&2; exit 1; }
    n=$(redis-cli -p "$port" DBSIZE)
    [ "$n" -eq "$players" ] || { echo "$name: DBSIZE $n" >&2; exit 1; }
    r1=$(rss $pid)
    u1=$(used "$port")
    echo "$name mem $(( r1 - r0 )) $(( u1 - u0 )) $t0 $t1" >>"$results"
    redis-cli -p "$port" --pipe <"$tmp/bench.resp" >/dev/null
done

# The load sets off a journal compaction (rosterd, in steps on its loop)
# or an AOF rewrite (redis, in a forked child): let them finish, so that
# neither runs while the other server is timed.
for name in rosterd redis; do
    for _ in $(seq 600); do
        redis-cli -p "${port_of[$name]}" INFO persistence | tr -d '\r' |
            grep -q '^aof_rewrite_in_progress:0' && break
        sleep 0.1
    done
done

# The servers take turns, test by test, so that the load of this shared
# machine, which drifts over minutes, weighs on both alike; from round to
# round they swap which goes first.
for round in $(seq "$rounds"); do
    order="rosterd redis"
    [ $((round % 2)) -eq 0 ] && order="redis rosterd"
    for P in 1 16; do
        for t in "HSET Player:__rand_int__ level 7" \
                 "HGET Player:__rand_int__ name" \
                 "HMGET Player:__rand_int__ name level stat" \
                 "HGETALL Player:__rand_int__"; do
            for name in $order; do
                # shellcheck disable=SC2086
                line=$(redis-benchmark -p "${port_of[$name]}" -c 50 \
                    -n "$requests" -r 100000 -P "$P" --csv $t | tail -1)
                echo "$name bench ${t%% *} $P $round $line" >>"$results"
            done
        done
    done
done

for name in rosterd redis; do
    # Journal compactions (rosterd) and AOF rewrites (redis) the benchmark
    # set off, besides the ones after the load: each ran while requests
    # were timed.
    rw=$(redis-cli -p "${port_of[$name]}" INFO persistence | tr -d '\r' |
        awk -F: '$1=="compactions_auto" || $1=="aof_rewrites" { print $2 }')
    echo "$name rw ${rw:-0}" >>"$results"
    pid=${pid_of[$name]}
    kill -TERM "$pid"
    wait "$pid" || true
    pids=${pids/ $pid/}
done

python3 - "$results" "$players" <<'EOF'
import statistics
import sys
n = int(sys.argv[2])
mem, bench, rw = {}, {}, {}
for line in open(sys.argv[1]):
    f = line.split(" ", 4)
    if f[1] == "rw":
        rw[f[0]] = int(f[2])
    elif f[1] == "mem":
        t0, t1 = f[4].split()
        mem[f[0]] = (int(f[2]) / n, int(f[3]) / n, float(t1) - float(t0))
    else:
        rnd, csv = f[4].split(" ", 1)
        cols = [c.strip('"') for c in csv.strip().split('","')]
        # "test","rps","avg","min","p50","p95","p99","max"
        bench.setdefault((f[0], f[2], f[3]), {})[int(rnd)] = (
            float(cols[1]), float(cols[4]), float(cols[6]))
print("memory per player (%d players)   RSS growth   used_memory   load s" % n)
for s in ("rosterd", "redis"):
    print("  %-28s %10.1f %13.1f %8.2f" % ((s,) + mem[s]))
print("  %-28s %9.2fx %12.2fx" % ("rosterd / redis",
      mem["rosterd"][0] / mem["redis"][0], mem["rosterd"][1] / mem["redis"][1]))
print()
med = statistics.median


def span(xs):
    """One ratio, or the median of several with their lowest and highest."""
    return ("%.2fx" % xs[0] if len(xs) == 1 else
            "%.2fx (%.2f-%.2f)" % (med(xs), min(xs), max(xs)))


print("%-8s %3s %11s %11s %17s %8s %8s %8s %8s %17s" % (
    "command", "-P", "rosterd r/s", "redis r/s", "ratio", "p50 ms", "redis",
    "p99 ms", "redis", "ratio"))
for P in ("1", "16"):
    for c in ("HSET", "HGET", "HMGET", "HGETALL"):
        a, b = bench[("rosterd", c, P)], bench[("redis", c, P)]
        rounds = sorted(a)
        col = lambda runs, i: med([runs[r][i] for r in rounds])
        rps = [a[r][0] / b[r][0] for r in rounds]
        p99 = [a[r][2] / b[r][2] for r in rounds if b[r][2]]
        print("%-8s %3s %11.0f %11.0f %17s %8.3f %8.3f %8.3f %8.3f %17s"
              % (c, P, col(a, 0), col(b, 0), span(rps), col(a, 1), col(b, 1),
                 col(a, 2), col(b, 2), span(p99) if p99 else "-"))
print("\nratios: rosterd's requests a second over redis-server's, and "
      "rosterd's p99 over redis-server's, each between the two runs of one "
      "round (with several rounds: their median, lowest and highest); the "
      "other columns are each server's median over the rounds")
print("automatic rewrites (after the load or during the timed runs): rosterd "
      "%d journal compactions, redis %d AOF rewrites"
      % (rw.get("rosterd", 0), rw.get("redis", 0)))
EOF
