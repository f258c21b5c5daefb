/*
 * libFuzzer target for parse/html.c. Any bytes, as a body served with one
 * of a few Content-Type values, must be extracted without a crash, a leak
 * or undefined behaviour (the sanitizers watch), and with text marks give
 * the same result as without (html.c, "text libxml2 does not walk"): a
 * difference aborts.
 *
 *   make fuzz
 *   build-fuzz/fuzz_html -max_total_time=300 CORPUS_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "crawler/msg.h"
#include "parse/html.h"
#include "tests/parse_result_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {
        NULL,
        "text/html; charset=utf-8",
        "text/html; charset=windows-1252",
        "text/html; charset=shift_jis",
    };
    const char *type = size ? types[data[0] % 4] : NULL;
    struct html_options marked = {
        .max_links = 50, .max_text_bytes = 2048, .max_url_bytes = 512};
    struct html_options plain = marked;
    plain.no_text_marks = 1;
    struct parse_result m, p;
    const char *body = (const char *)data;
    html_extract(body, size, "http://h.test/d/p.html", type, &marked, &m);
    html_extract(body, size, "http://h.test/d/p.html", type, &plain, &p);
    const char *field = parse_result_diff(&m, &p);
    if (field) {
        fprintf(stderr, "%s differs with marks\n  marked: %s\n  plain:  %s\n",
                field, m.text, p.text);
        abort();
    }
    parse_result_release(&m);
    parse_result_release(&p);
    return 0;
}
