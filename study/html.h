/*
 * html.h — the one escaping function for text that goes into an HTML page
 * (posenc report).
 *
 * posenc report puts every string that comes from a run folder (labels,
 * names, config values, file paths) into the page in exactly one place: a
 * JSON document inside <script type="application/json">. The page's script
 * parses it and puts strings into the document only as text (textContent),
 * never as markup. html_escape_script_json makes JSON text safe for that
 * place and, because it also escapes the quote characters, for a
 * double-quoted attribute value or element text:
 *
 *   <  >  &  '  "(outside JSON strings: none occur)  ->  \u003c \u003e \u0026 \u0027
 *   U+2028 U+2029 (line/paragraph separators)        ->  \u2028 \u2029
 *
 * so "</script>", "<!--" and "]]>" cannot end or change the script element,
 * and the result is still JSON that parses to the same value. The input must
 * be JSON (cJSON's output): the escapes are only valid inside JSON strings,
 * which is the only place cJSON's output can hold these characters.
 */
#ifndef POSENC_HTML_H
#define POSENC_HTML_H

#include <stddef.h>

/* A malloc'd, NUL-terminated copy of the JSON text `json` with the
 * characters above escaped; *n (optional) receives its length. */
char *html_escape_script_json(const char *json, size_t *n);

#endif
