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
#include <string.h>

#include "crawler/msg.h"
#include "parse/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int links_differ(const struct parse_result *a,
                        const struct parse_result *b)
{
    if (a->n_links != b->n_links || a->n_links_dropped != b->n_links_dropped)
        return 1;
    for (size_t i = 0; i < a->n_links; i++) {
        const struct link *x = &a->links[i], *y = &b->links[i];
        if (strcmp(x->url, y->url) != 0 || x->hash != y->hash ||
            x->kind != y->kind || x->flags != y->flags || x->error != y->error)
            return 1;
    }
    return 0;
}

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
    int rc_m =
        html_extract(body, size, "http://h.test/d/p.html", type, &marked, &m);
    int rc_p =
        html_extract(body, size, "http://h.test/d/p.html", type, &plain, &p);
    if (rc_m != rc_p || m.meta_robots != p.meta_robots ||
        strcmp(m.title, p.title) != 0 || strcmp(m.text, p.text) != 0 ||
        strcmp(m.canonical, p.canonical) != 0 ||
        strcmp(m.refresh, p.refresh) != 0 || links_differ(&m, &p)) {
        fprintf(stderr, "marked and plain differ\n  marked: %s\n  plain:  %s\n",
                m.text, p.text);
        abort();
    }
    parse_result_release(&m);
    parse_result_release(&p);
    return 0;
}
