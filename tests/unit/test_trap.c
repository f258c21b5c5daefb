/*
 * Unit tests of the spider-trap rules (crawler/trap.c).
 */
#include "crawler/trap.h"
#include "tests/unit/check.h"

struct trap_case {
    const char *url;
    int max_segments;
    const char *want; /* NULL: no trap */
};

static const struct trap_case cases[] = {
    {"http://h/", 0, NULL},
    {"http://h/a/b/c/", 0, NULL},
    {"http://h/a/b/a/b/", 0, NULL},
    {"http://h/a/b/a/b/a/b/", 0, NULL},
    {"http://h/a/b/a/b/a/b/a/", 0, "repeated segments"},
    {"http://h/x/x/x/x", 0, "repeated segments"},
    {"http://h/x/x/x", 0, NULL},
    {"http://h/2026/01/01/2026/01/02/", 0, NULL},
    {"http://h/a/b/c/d/e", 4, "path segments"},
    {"http://h/a/b/c/d", 4, NULL},
    {"http://h/a//b///c", 2, "path segments"},
    {"http://h/a?x=1&y=2", 0, NULL},
    {"http://h/a?x=1&x=2&x=3", 0, NULL},
    {"http://h/a?x=1&x=2&x=3&x=4", 0, "repeated parameters"},
    {"http://h/a?s&s&s&s", 0, "repeated parameters"},
    {"http://h/a?a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1&l=1&m=1"
     "&n=1&o=1&p=1&q=1&r=1&s=1&t=1&u=1&v=1&w=1&x=1&y=1&z=1&A=1&B=1&C=1"
     "&D=1&E=1&F=1&G=1",
     0, "query parameters"},
    {"http://h/a/?q=/a/a/a/a", 0, NULL},
    {"http://h:8080/a/a/a/a?x", 0, "repeated segments"},
};

TEST(trap_rules_table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = trap_check(cases[i].url, cases[i].max_segments);
        const char *want = cases[i].want;
        if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
            check_fail(__FILE__, __LINE__, "case %zu %s: \"%s\" != \"%s\"", i,
                       cases[i].url, got ? got : "(none)",
                       want ? want : "(none)");
    }
}
