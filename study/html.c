/*
 * html.c — JSON text made safe to embed in an HTML <script> element (html.h).
 */
#include "study/html.h"

#include <string.h>

#include "core/alloc.h"

char *html_escape_script_json(const char *json, size_t *n) {
    const size_t len = strlen(json);
    char *out = core_calloc(len * 6 + 1, 1); /* every byte at most 6 ("\u003c") */
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        const unsigned char c = (unsigned char)json[i];
        if (c == '<' || c == '>' || c == '&' || c == '\'') {
            static const char hex[] = "0123456789abcdef";
            memcpy(out + k, "\\u00", 4);
            out[k + 4] = hex[c >> 4];
            out[k + 5] = hex[c & 15];
            k += 6;
        } else if (c == 0xE2 && i + 2 < len && (unsigned char)json[i + 1] == 0x80 &&
                   ((unsigned char)json[i + 2] == 0xA8 || (unsigned char)json[i + 2] == 0xA9)) {
            /* U+2028 / U+2029 in UTF-8: E2 80 A8 / E2 80 A9 */
            memcpy(out + k, (unsigned char)json[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            k += 6;
            i += 2;
        } else {
            out[k++] = (char)c;
        }
    }
    out[k] = '\0';
    if (n) *n = k;
    return out;
}
