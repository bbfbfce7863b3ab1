#!/bin/sh
# test_layers.sh OBJDIR SRCDIR: libroster's modules call and include each
# other in layers, with no circle, and their internal names say where they
# live.
#
# A module is a src/ file name without its extension (store.c and store.h
# are the module "store").  Module A depends on B when A's object leaves a
# symbol undefined that B's object defines (nm), or when a file of A
# includes B's header.  tsort(1) orders the modules and reports any loop;
# on success the order is printed, lowest layer first.
#
# Every internal function or object a module exports (rs__ and a name) is
# called rs__<module>_..., except internal.h's shared vocabulary: the
# allocator (alloc.c) and the error calls (status.c).
set -eu
objdir=$1
srcdir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

: >"$tmp/defs"
: >"$tmp/uses"
: >"$tmp/misnamed"
n=0
for c in "$srcdir"/*.c; do
    m=$(basename "$c" .c)
    o=$objdir/$m.c.o
    if [ ! -f "$o" ]; then
        echo "test_layers: no object $o for $c" >&2
        exit 1
    fi
    nm --defined-only -g "$o" | awk -v m="$m" 'NF == 3 { print $3, m }' \
        >>"$tmp/defs"
    nm -u "$o" | awk -v m="$m" '{ print $NF, m }' >>"$tmp/uses"
    nm --defined-only -g "$o" | awk -v m="$m" 'NF == 3 && $3 ~ /^rs__/ {
        if (index($3, "rs__" m "_") != 1 && $3 != "rs__" m)
            print m ": " $3 }' >>"$tmp/misnamed"
    n=$((n + 1))
done
if [ "$n" -lt 5 ]; then
    echo "test_layers: only $n objects in $objdir" >&2
    exit 1
fi

# "user definer" for every call or reference across modules.
sort -k1,1 "$tmp/defs" >"$tmp/defs.s"
sort -k1,1 "$tmp/uses" >"$tmp/uses.s"
join "$tmp/uses.s" "$tmp/defs.s" | awk '$2 != $3 { print $2, $3 }' |
    sort -u >"$tmp/calls"

# "includer included" for every #include "x.h" between modules.
for f in "$srcdir"/*.c "$srcdir"/*.h; do
    m=$(basename "$f")
    m=${m%.*}
    sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$f" |
        awk -v m="$m" '$1 != m && $1 != "roster" { print m, $1 }'
done | sort -u >"$tmp/includes"

status=0
for g in calls includes; do
    # tsort wants "before after": the depended-on module first.
    if ! awk '{ print $2, $1 }' "$tmp/$g" | tsort >"$tmp/order" \
        2>"$tmp/loops"; then
        status=1
    fi
    if [ -s "$tmp/loops" ]; then
        echo "test_layers: a circle in the $g between modules:" >&2
        cat "$tmp/loops" >&2
        echo "  edges (user -> used):" >&2
        sed 's/^/    /' "$tmp/$g" >&2
        status=1
    else
        echo "$g, lowest layer first: $(tr '\n' ' ' <"$tmp/order")"
    fi
done
grep -v -E ': rs__(alloc|calloc|realloc|free|err|clear_err)$' \
    "$tmp/misnamed" >"$tmp/misnamed2" || true
if [ -s "$tmp/misnamed2" ]; then
    echo "test_layers: internal names that do not say their module:" >&2
    sed 's/^/  /' "$tmp/misnamed2" >&2
    status=1
fi
exit $status
