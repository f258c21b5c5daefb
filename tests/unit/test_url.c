/*
 * Unit tests of URL resolution and normalization (parse/url.c).
 */
#include <stdlib.h>
#include <string.h>

#include "parse/url.h"
#include "tests/unit/check.h"

struct url_case {
    const char *base;
    const char *ref;
    const char *want; /* NULL when an error is expected */
    int err;
};

static const struct url_case cases[] = {
    {NULL, "HTTP://Example.COM/", "http://example.com/", 0},
    {NULL, "http://example.com", "http://example.com/", 0},
    {NULL, "http://example.com:80/a", "http://example.com/a", 0},
    {NULL, "https://example.com:443/a", "https://example.com/a", 0},
    {NULL, "http://example.com:8080/a", "http://example.com:8080/a", 0},
    {NULL, "http://example.com/a/./b/../c", "http://example.com/a/c", 0},
    {NULL, "http://example.com/a#frag", "http://example.com/a", 0},
    {NULL, "http://example.com/%7euser", "http://example.com/~user", 0},
    {NULL, "http://example.com/a%2fb", "http://example.com/a%2Fb", 0},
    {NULL, "http://example.com/?q=%41%3d", "http://example.com/?q=A%3D", 0},
    {NULL, "http://example.com/100%", "http://example.com/100%25", 0},
    {NULL, "  http://example.com/x  ", "http://example.com/x", 0},
    {NULL, "http://exa\tmple.com/\nx", "http://example.com/x", 0},
    {NULL, "mailto:a@example.com", NULL, URL_ESCHEME},
    {NULL, "javascript:void(0)", NULL, URL_ESCHEME},
    {NULL, "ftp://example.com/", NULL, URL_ESCHEME},
    {NULL, "not a url", NULL, URL_EINVALID},
    {NULL, "/relative", NULL, URL_EINVALID},
    {"http://h.test/a/b/c", "d", "http://h.test/a/b/d", 0},
    {"http://h.test/a/b/c", "../d", "http://h.test/a/d", 0},
    {"http://h.test/a/b/c", "../../../../d", "http://h.test/d", 0},
    {"http://h.test/a/b/c", "/d?x=1#y", "http://h.test/d?x=1", 0},
    {"http://h.test/a/b/c", "?x", "http://h.test/a/b/c?x", 0},
    {"http://h.test/a/b/c", "#top", "http://h.test/a/b/c", 0},
    {"http://h.test/a/b/c", "//other.test/p", "http://other.test/p", 0},
    {"http://h.test/a/b/c", "  d e  ", "http://h.test/a/b/d%20e", 0},
    {"http://h.test/a/b/c", "\\x\\y", "http://h.test/x/y", 0},
    {"http://h.test/a/b/c", "./k/", "http://h.test/a/b/k/", 0},
    {"https://h.test/a", "mailto:x@y", NULL, URL_ESCHEME},
    {"https://h.test/a", "tel:+123", NULL, URL_ESCHEME},
    {"https://h.test/a", "data:text/html,hi", NULL, URL_ESCHEME},
    {"https://h.test/a", "http://H.TEST:80/", "http://h.test/", 0},
    {"http://h.test/d/p.html?q=1", "", "http://h.test/d/p.html?q=1", 0},
    {"http://h.test/d/p.html?q=1", " \t ", "http://h.test/d/p.html?q=1", 0},
    {"https://h.test/a", "caf\xc3\xa9", "https://h.test/caf%C3%A9", 0},
    {NULL,
     "http://b\xc3\xbc"
     "cher.example/",
     "http://xn--bcher-kva.example/", 0},
    {NULL,
     "http://B\xc3\x9c"
     "CHER.example/",
     "http://xn--bcher-kva.example/", 0},
    {NULL, "http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/", 0},
    {"http://h.test/", "//\xe4\xbe\x8b\xe5\xad\x90.test/p",
     "http://xn--fsqu00a.test/p", 0},
    {NULL,
     "http://a\xef\xbf\xbf"
     "b.example/",
     NULL, URL_EINVALID},
};

TEST(url_normalize_table)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct url_case *c = &cases[i];
        char *got = NULL;
        int rc = url_normalize(c->ref, c->base, URL_MAX_DEFAULT, &got);
        if (c->want) {
            if (rc != 0)
                check_fail(__FILE__, __LINE__, "case %zu \"%s\": rc %d", i,
                           c->ref, rc);
            CHECK_STR(got, c->want);
        } else {
            if (rc != c->err)
                check_fail(__FILE__, __LINE__, "case %zu \"%s\": rc %d != %d",
                           i, c->ref, rc, c->err);
        }
        free(got);
    }
}

TEST(url_too_long)
{
    char ref[3000];
    memcpy(ref, "http://h.test/", 14);
    memset(ref + 14, 'a', sizeof ref - 15);
    ref[sizeof ref - 1] = '\0';
    char *got = NULL;
    CHECK_INT(url_normalize(ref, NULL, 2048, &got), URL_ETOOLONG);
    CHECK(got == NULL);
    CHECK_INT(url_normalize(ref, NULL, 4096, &got), 0);
    free(got);
}

TEST(url_parts)
{
    const char *u = "http://h.test:8080/a/b?c";
    size_t n;
    const char *host = url_host(u, &n);
    CHECK_INT(n, 6);
    CHECK(strncmp(host, "h.test", n) == 0);
    CHECK_INT(url_origin_len(u), strlen("http://h.test:8080"));
    CHECK_STR(url_path(u), "/a/b?c");
    CHECK_STR(url_path("http://h.test"), "/");
}

/* Same-document references are worked out once per base: every later one,
 * and each cap, must get what a fresh base gives. */
TEST(url_same_document_reused)
{
    static const char *const refs[] = {"#a", "", " #b ", "\t", "#", "#a"};
    const char *base = "HTTP://H.test:80/d/p%7e.html?q=1#frag";
    struct url_base *b = url_base_new(base, NULL);
    CHECK(b != NULL);
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        char *got = NULL, *want = NULL;
        CHECK_INT(url_resolve(b, refs[i], URL_MAX_DEFAULT, &got), 0);
        CHECK_INT(url_normalize(refs[i], base, URL_MAX_DEFAULT, &want), 0);
        CHECK_STR(got, "http://h.test/d/p~.html?q=1");
        CHECK_STR(got, want);
        free(got);
        free(want);
    }
    /* "http://h.test/d/p~.html?q=1" is 27 bytes */
    char *got = NULL;
    CHECK_INT(url_resolve(b, "#x", 26, &got), URL_ETOOLONG);
    CHECK(got == NULL);
    CHECK_INT(url_resolve(b, "#x", 27, &got), 0);
    CHECK_STR(got, "http://h.test/d/p~.html?q=1");
    free(got);
    /* other references are not taken for the document */
    CHECK_INT(url_resolve(b, "x#y", URL_MAX_DEFAULT, &got), 0);
    CHECK_STR(got, "http://h.test/d/x");
    free(got);
    CHECK_INT(url_resolve(b, "?r#y", URL_MAX_DEFAULT, &got), 0);
    CHECK_STR(got, "http://h.test/d/p~.html?r");
    free(got);
    url_base_free(b);
}

/* Through a memo, every resolution must be what a fresh base gives: for
 * bases that share a directory (hits), bases that do not, references that
 * depend on more than the directory, errors, caps, and past the memo's
 * bound. */
TEST(url_memo_same_results)
{
    static const char *const bases[] = {
        "http://h.test/d/a.html",     "http://h.test/d/b.html?q=1",
        "http://H.TEST:80/d/c.html",  "http://h.test/e/a.html",
        "https://h.test/d/a.html",    "http://u:p@h.test/d/a.html",
        "http://h.test/d/%7e/../a",   "http://h.test/d",
        "http://other.test/d/a.html",
    };
    static const char *const refs[] = {
        "x",
        "./x",
        "../x",
        "../../../x",
        "/x",
        "//o.test/x",
        "?q=2",
        "#f",
        "",
        " x y ",
        "x?y#z",
        "http://a.test/B/../c",
        "mailto:me@h.test",
        "x\\y",
        "%7ex",
        "http://[::1",
        "\\x",
        "\\\\o.test\\x",
        "/\t/x",
        "HTTP://A.test/x",
        "http:x",
        "https:/x",
        "ht\ttp://a.test/x",
    };
    struct url_memo *m = url_memo_new();
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
            struct url_base *b = url_base_new(bases[i], m);
            struct url_base *fresh = url_base_new(bases[i], NULL);
            CHECK(b != NULL && fresh != NULL);
            for (size_t j = 0; j < sizeof refs / sizeof refs[0]; j++)
                for (size_t cap = 20; cap <= 40; cap += 20) {
                    char *got = NULL, *want = NULL;
                    int rc = url_resolve(b, refs[j], cap, &got);
                    CHECK_INT(rc, url_resolve(fresh, refs[j], cap, &want));
                    if (rc == 0)
                        CHECK_STR(got, want);
                    free(got);
                    free(want);
                }
            url_base_free(fresh);
            url_base_free(b);
        }
    url_memo_free(m);
    /* more distinct references than the memo holds */
    m = url_memo_new();
    struct url_base *b = url_base_new("http://h.test/d/a.html", m);
    for (int i = 0; i < URL_MEMO_MAX + 100; i++) {
        char ref[32], want[64];
        snprintf(ref, sizeof ref, "p%d", i % (URL_MEMO_MAX + 50));
        snprintf(want, sizeof want, "http://h.test/d/%s", ref);
        char *got = NULL;
        CHECK_INT(url_resolve(b, ref, URL_MAX_DEFAULT, &got), 0);
        CHECK_STR(got, want);
        free(got);
    }
    CHECK_INT(url_memo_len(m), 100); /* forgot all once, at the bound */
    url_base_free(b);
    url_memo_free(m);
}

static void resolve_and_free(struct url_base *b, const char *ref)
{
    char *got = NULL;
    url_resolve(b, ref, URL_MAX_DEFAULT, &got);
    free(got);
}

/* What the memo shares, told by how many entries it holds. */
TEST(url_memo_shares_by_scope)
{
    struct url_memo *m = url_memo_new();
    struct url_base *b[] = {
        url_base_new("http://h.test/d/a.html", m),
        url_base_new("http://h.test/d/b.html?q=1", m),
        url_base_new("http://h.test/e/a.html", m),
    };
    char long_ref[URL_MEMO_BYTES + 2];
    memset(long_ref, 'x', sizeof long_ref - 1);
    long_ref[sizeof long_ref - 1] = '\0';
    static const char *const refs[] = {
        "x", "/x", "//o.test/x", "http://a.test/", "?q", "#f"};
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < sizeof refs / sizeof refs[0]; j++)
            resolve_and_free(b[i], refs[j]);
        resolve_and_free(b[i], long_ref);
    }
    /* "x" once per directory, each other URL once, "?q", "#f" and the
     * over-long reference never */
    CHECK_INT(url_memo_len(m), 5);
    for (size_t i = 0; i < 3; i++)
        url_base_free(b[i]);
    url_memo_free(m);
}

TEST(url_escapes_canonical)
{
    static const struct url_case esc[] = {
        {NULL, "http://h.test/%", "http://h.test/%25", 0},
        {NULL, "http://h.test/%4", "http://h.test/%254", 0},
        {NULL, "http://h.test/a%41%42b%2f%2F%7e%zz%",
         "http://h.test/aABb%2F%2F~%25zz%25", 0},
        {NULL, "http://h.test/?%61=%3d%%", "http://h.test/?a=%3D%25%25", 0},
        {NULL, "http://h.test/plain/path?and=query",
         "http://h.test/plain/path?and=query", 0},
    };
    for (size_t i = 0; i < sizeof esc / sizeof esc[0]; i++) {
        char *got = NULL;
        CHECK_INT(url_normalize(esc[i].ref, NULL, URL_MAX_DEFAULT, &got), 0);
        CHECK_STR(got, esc[i].want);
        free(got);
    }
}

TEST(url_is_file_by_extension)
{
    static const struct {
        const char *url;
        int want;
    } files[] = {
        {"http://h.test/files/report-3.pdf", 1},
        {"http://h.test/img/Photo.PNG", 1},
        {"http://h.test/static/site.css?v=2", 1},
        {"http://h.test/dist/app.tar.gz", 1},
        {"http://h.test/fonts/a.woff2#x", 1},
        {"http://h.test/", 0},
        {"http://h.test/a/b/", 0},
        {"http://h.test/index.html", 0},
        {"http://h.test/page.php?file=x.pdf", 0},
        {"http://h.test/v1.2/", 0},
        {"http://h.test/archive.pdf/", 0},
        {"http://h.test/README", 0},
        {"http://h.test/.pdf", 1},
        {"http://h.test/a.pdfx", 0},
        {"http://h.test/a.longext", 0},
        {"http://h.test", 0},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (url_is_file(files[i].url) != files[i].want) {
            fprintf(stderr, "  url_is_file(%s) != %d\n", files[i].url,
                    files[i].want);
            CHECK(0);
        }
}
