/*
 * escape.h — strings that leave posenc for another program, one function per
 * target language. Whatever a string holds (it may come from a run folder
 * someone else wrote), the result is read by the target as exactly one
 * literal value: nothing in it is executed, expanded or ends the command.
 *
 *   esc_gnuplot  a gnuplot string expression: the pieces between quotes as
 *                '...', each quote as "'", joined by gnuplot's concatenation
 *                operator '.' (gnuplot's own doubled-quote escape is
 *                unreliable: four quotes read as two empty strings); control
 *                characters (a newline would end the command) become spaces.
 *                gnuplot performs no `command` or @macro substitution inside
 *                single quotes, and "'" holds nothing a double-quoted string
 *                expands. With enhanced != 0, the characters of gnuplot's
 *                enhanced text mode (^ _ @ & ~ { } \) are escaped too, so
 *                that they print as themselves.
 *   esc_sh       a POSIX shell word '...': ' becomes '\'' ; every other byte,
 *                newline included, is literal.
 *   esc_sh_dq    the default word of a double-quoted "${VAR:-...}" (the
 *                program of a plan line): \ before $ ` " \ and } ; a newline
 *                is refused (plan lines are one command per line).
 *   esc_sbatch   the value of an #SBATCH option line: sbatch splits those
 *                lines at whitespace and has no escape for quotes, so
 *                whitespace, quotes, backslashes and control characters are
 *                refused; in a file-name pattern (--output) % is doubled.
 *
 * Each returns a malloc'd string, or NULL after core_errorf naming `what` (the
 * value's role, e.g. "the sweep folder") and the character refused.
 */
#ifndef POSENC_ESCAPE_H
#define POSENC_ESCAPE_H

#include <stddef.h>

char *esc_gnuplot(const char *s, int enhanced);
char *esc_sh(const char *s);
/* The inverse of esc_sh for the word starting at *p ('...' pieces and \'
 * escapes, up to unquoted whitespace or the end): into buf (cap bytes); *p
 * is advanced past it. 0, or -1 if it is not such a word or does not fit. */
int esc_sh_unquote(const char **p, char *buf, size_t cap);
char *esc_sh_dq(const char *s, const char *what);
char *esc_sbatch(const char *s, int filename_pattern, const char *what);

#endif
