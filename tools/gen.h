/*
 * gen.h - the canonical roster data set (see DESIGN.md, "The canonical data
 * set").  Every benchmark and comparison loads this data, so its bytes are a
 * contract: the same n and seed give the same output on every machine.
 */
#ifndef RS_GEN_H
#define RS_GEN_H

#include <stdint.h>
#include <stdio.h>

/* Writes the canonical data set of n players for seed to out as TSV:
   uid \t name \t stat \t level \t extras \n (no header line).
   Deterministic: the same n and seed give the same bytes on every machine
   (integer arithmetic only, a private xoshiro256** generator; no rand(),
   locale, time or floating point).  progress, if non-NULL, is called now
   and then with (done, n, ctx) so a CLI can show progress, and once at the
   end with done == n.  out is flushed before returning.  Returns 0 on
   success, -1 on a write error or out of memory (errno set).  Never exits
   or prints. */
int rs_gen_write(FILE *out, uint64_t n, uint64_t seed,
                 void (*progress)(uint64_t done, uint64_t total, void *ctx),
                 void *ctx);

/* The memory rs_gen_write() holds for n players, in bytes: the set of
   names seen so far (8-byte slots, a power of two at least 1.5 n, and about
   11 bytes of arena a name) and the output buffer.  The arena may grow by
   half if a seed's names run long.  UINT64_MAX when n is beyond any
   machine.  Lets a caller refuse an n that cannot fit before it writes a
   byte. */
uint64_t rs_gen_bytes(uint64_t n);

#endif /* RS_GEN_H */
