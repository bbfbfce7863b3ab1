/*
 * cli.h: what the roster subcommands share, defined in cli.c: one
 * option parser, so that every subcommand checks its arguments the same
 * way and a bad one is always exit status 2 before anything runs; JSON
 * strings that stay valid whatever bytes a file name holds; and the checks
 * made on a path before anything opens it.
 */
#ifndef ROSTER_CLI_H
#define ROSTER_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of every subcommand. */
#define CLI_OK 0
#define CLI_FAIL 1  /* the command ran and failed */
#define CLI_USAGE 2 /* bad arguments: nothing was done */
#define CLI_HELP 3  /* cli_parse() only: --help was asked for (exit 0) */

typedef enum cli_kind {
    CLI_FLAG, /* --json: sets *(bool *)out */
    CLI_STR,  /* -o FILE: *(const char **)out, borrowed from argv; an
                 empty value is refused */
    CLI_U64   /* --players N: *(uint64_t *)out, plain decimal digits only
                 (no sign, space, base prefix or suffix), in [min, max] */
} cli_kind;

typedef struct cli_opt {
    const char *name;  /* "--players"; NULL ends a table */
    const char *alias; /* "-n", or NULL */
    cli_kind kind;
    void *out;
    uint64_t min, max; /* CLI_U64 only */
    const char *what;  /* the value in the user's terms, for messages:
                          "a count of players", "the output file" */
    bool required;
} cli_opt;

/* The entry that ends a table of options. */
#define CLI_END                                                                \
    {                                                                          \
        NULL, NULL, CLI_FLAG, NULL, 0, 0, NULL, false                          \
    }

typedef struct cli_cmd {
    const char *name;    /* "load", for messages: "roster load: ..." */
    const cli_opt *opts; /* ends with an entry whose name is NULL */
    const char *operand; /* "FILE" in messages, or NULL if none taken */
    size_t min_operands, max_operands;
} cli_cmd;

/* Parse argv (the arguments after the subcommand's name) against cmd.
 * An option takes its value from the next argument or after '='
 * (--players=10); a value may itself start with '-' (-o -).  An argument
 * that is not an option ("-" is not, nor is anything after "--") is an
 * operand and goes to operands[], at most cmd->max_operands of them;
 * *n_operands counts them.  Returns CLI_OK; CLI_HELP when --help or -h is
 * given (the caller prints its help to stdout and exits 0); or CLI_USAGE
 * after printing to stderr what is wrong (an unknown option, a missing or
 * empty value, a number that is not one or is out of range, a missing
 * required option, too few or too many operands) and where the help is. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, const char **operands,
              size_t *n_operands);

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* v with thousands separators ("1,000,000") in buf, which it returns; and
 * the same printed to stdout. */
const char *cli_grouped(uint64_t v, char buf[32]);
void cli_print_group(uint64_t v);

/* Print "roster CMD: " and the message to stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* The same for a bad argument found after cli_parse() (a value it cannot
 * judge alone), followed by where the help is; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* Write s as the inside of a JSON string: '"' and '\\' escaped, control
 * characters as \u00XX, valid UTF-8 as it is, and every byte that is not
 * part of valid UTF-8 (a stray continuation byte, an overlong form, a
 * surrogate, a code point past U+10FFFF, a cut sequence) as \ufffd, so the
 * output is valid JSON whatever bytes a file name holds. */
void cli_json_escape(FILE *f, const char *s);

/* Whether path can be written as an output, checked before any work is
 * done so that a long run does not fail at its end: an existing file that
 * can be written and is not a directory, or a new name in a directory that
 * exists and can be written.  regular: the file is replaced by a rename
 * (a snapshot), so it must be a regular file (or absent) and its
 * directory must take a new name even if it exists.  Returns 0, or
 * CLI_FAIL after printing "roster CMD: OPT PATH: why". */
int cli_check_output(const char *cmd, const char *opt, const char *path,
                     bool regular);

/* Whether path names a regular file (what a snapshot or a journal must
 * be), checked with stat() so that nothing opens a FIFO (which would wait
 * for a writer) or a device.  Returns 0, or CLI_FAIL after printing
 * "roster CMD: PATH: is a directory" (a FIFO, a device...) or the reason
 * stat() failed. */
int cli_check_regular(const char *cmd, const char *path);

/* Whether generating n canonical players (gen.c keeps every name to make
 * names unique) fits in this machine's memory and the address-space
 * limit.  Returns 0, or CLI_FAIL after printing what n needs, what there
 * is, and the largest n that fits. */
int cli_check_gen_memory(const char *cmd, uint64_t n);

#endif
