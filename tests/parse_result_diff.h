/*
 * parse_result_diff: where two parse results differ, for the tests that
 * extract one document two ways (tests/unit/test_html.c, and
 * tests/fuzz/fuzz_html.c, which must not depend on the unit runner).
 */
#ifndef TESTS_PARSE_RESULT_DIFF_H
#define TESTS_PARSE_RESULT_DIFF_H

#include <string.h>

#include "crawler/msg.h"

/* The first field of a that differs from b ("title", "a link", ...), or
 * NULL when they are the same. */
static inline const char *parse_result_diff(const struct parse_result *a,
                                            const struct parse_result *b)
{
    if (a->status != b->status)
        return "status";
    if (a->meta_robots != b->meta_robots)
        return "meta robots";
    if (strcmp(a->title, b->title) != 0)
        return "title";
    if (strcmp(a->text, b->text) != 0)
        return "text";
    if (strcmp(a->canonical, b->canonical) != 0)
        return "canonical";
    if (strcmp(a->refresh, b->refresh) != 0)
        return "refresh";
    if (a->n_links != b->n_links || a->n_links_dropped != b->n_links_dropped)
        return "link count";
    for (size_t i = 0; i < a->n_links; i++) {
        const struct link *x = &a->links[i], *y = &b->links[i];
        if (strcmp(x->url, y->url) != 0 || x->hash != y->hash ||
            x->kind != y->kind || x->flags != y->flags || x->error != y->error)
            return "a link";
    }
    return NULL;
}

#endif
