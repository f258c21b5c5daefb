/*
 * Unit tests of link, title and text extraction (parse/html.c): each link
 * kind, base, dedupe and caps, title and text rules, meta robots, refresh
 * and canonical, malformed and hostile markup, binary bodies and charsets,
 * and that text handed to libxml2 as marks changes no result.
 * `make asan` runs them under AddressSanitizer and UBSan; every case
 * releases what it gets, so a leak report points at parse/html.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "crawler/hash.h"
#include "crawler/msg.h"
#include "crawler/xalloc.h"
#include "parse/html.h"
#include "parse/url.h"
#include "tests/parse_result_diff.h"
#include "tests/unit/check.h"

#define DOC_URL "http://h.test/dir/page.html"

static const struct html_options default_opt = {
    .max_links = 100, .max_text_bytes = 4096, .max_url_bytes = 2048};

static int extract_with(const char *html, size_t len, const char *ctype,
                        const struct html_options *opt, struct parse_result *r)
{
    return html_extract(html, len, DOC_URL, ctype, opt, r);
}

static int extract(const char *html, const char *ctype, struct parse_result *r)
{
    return extract_with(html, strlen(html), ctype, &default_opt, r);
}

static const struct link *link_find(const struct parse_result *r,
                                    const char *url, uint32_t kind)
{
    for (size_t i = 0; i < r->n_links; i++)
        if (r->links[i].kind == kind && strcmp(r->links[i].url, url) == 0)
            return &r->links[i];
    return NULL;
}

/* An independent check that s is well-formed UTF-8 (no overlongs,
 * surrogates or values past U+10FFFF). */
static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned long cp;
        int n;
        if (*p < 0x80) {
            p++;
            continue;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = *p & 0x1F;
            n = 1;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = *p & 0x0F;
            n = 2;
        } else if ((*p & 0xF8) == 0xF0) {
            cp = *p & 0x07;
            n = 3;
        } else {
            return 0;
        }
        const unsigned char *start = p++;
        for (int i = 0; i < n; i++, p++) {
            if ((*p & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (*p & 0x3F);
        }
        static const unsigned long min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[p - start - 1] || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    return 1;
}

/* Every string of a result is set and well-formed. */
static void check_result(const struct parse_result *r)
{
    CHECK(r->title && r->canonical && r->refresh && r->text);
    CHECK(utf8_ok(r->title));
    CHECK(utf8_ok(r->text));
    for (size_t i = 0; i < r->n_links; i++) {
        CHECK(r->links[i].url != NULL);
        CHECK(utf8_ok(r->links[i].url));
    }
}

/* ---- links ---- */

TEST(html_link_kinds)
{
    struct parse_result r;
    CHECK_INT(extract("<html><head><link rel=stylesheet href=/s.css></head>"
                      "<body><a href=a.html>a</a>"
                      "<map name=m><area href=/area shape=rect></map>"
                      "<iframe src=/if></iframe></body></html>",
                      NULL, &r),
              0);
    check_result(&r);
    CHECK_INT(r.status, 0);
    CHECK_INT(r.n_links, 4);
    const struct link *l = link_find(&r, "http://h.test/s.css", LINK_LINK);
    CHECK(l != NULL);
    CHECK_INT(l->error, 0);
    CHECK_INT(l->flags, 0);
    CHECK_INT(l->hash, hash64(l->url, strlen(l->url)));
    CHECK(link_find(&r, "http://h.test/dir/a.html", LINK_A) != NULL);
    CHECK(link_find(&r, "http://h.test/area", LINK_AREA) != NULL);
    CHECK(link_find(&r, "http://h.test/if", LINK_IFRAME) != NULL);
    parse_result_release(&r);

    CHECK_INT(extract("<html><frameset cols=50%,50%><frame src=left.html>"
                      "<frame src=/right></frameset></html>",
                      NULL, &r),
              0);
    CHECK_INT(r.n_links, 2);
    CHECK(link_find(&r, "http://h.test/dir/left.html", LINK_FRAME) != NULL);
    CHECK(link_find(&r, "http://h.test/right", LINK_FRAME) != NULL);
    parse_result_release(&r);
}

TEST(html_link_order_and_resolution)
{
    struct parse_result r;
    extract("<a href=x>1</a><a href=../y>2</a><a href=//other.test/z>3</a>"
            "<a href='?q=1'>4</a><a href='HTTP://Other.TEST:80/%7ea'>5</a>",
            NULL, &r);
    check_result(&r);
    CHECK_INT(r.n_links, 5);
    CHECK_STR(r.links[0].url, "http://h.test/dir/x");
    CHECK_STR(r.links[1].url, "http://h.test/y");
    CHECK_STR(r.links[2].url, "http://other.test/z");
    CHECK_STR(r.links[3].url, "http://h.test/dir/page.html?q=1");
    CHECK_STR(r.links[4].url, "http://other.test/~a");
    parse_result_release(&r);
}

TEST(html_a_without_href)
{
    struct parse_result r;
    extract("<a name=top>x</a><a>y</a><a id=z title=t>w</a>", NULL, &r);
    CHECK_INT(r.n_links, 0);
    parse_result_release(&r);

    /* An empty href is the document itself. */
    extract("<a href=\"\">self</a><a href=\"#top\">top</a>", NULL, &r);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, DOC_URL);
    CHECK_INT(r.links[0].error, 0);
    parse_result_release(&r);
}

TEST(html_base_relative)
{
    struct parse_result r;
    extract("<html><head><title>t</title></head><body>"
            "<a href=before>b</a><base href=\"/other/\">"
            "<a href=x>x</a><a href=/abs>a</a></body></html>",
            NULL, &r);
    check_result(&r);
    CHECK_INT(r.n_links, 3);
    CHECK_STR(r.links[0].url, "http://h.test/dir/before");
    CHECK_STR(r.links[1].url, "http://h.test/other/x");
    CHECK_STR(r.links[2].url, "http://h.test/abs");
    parse_result_release(&r);
}

TEST(html_base_first_only)
{
    struct parse_result r;
    extract("<head><base href=\"http://b.test/one/\">"
            "<base href=\"http://c.test/two/\"></head>"
            "<a href=x>x</a><a href=\"x\">again</a>",
            NULL, &r);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://b.test/one/x");
    parse_result_release(&r);

    /* A base without href does not count; one that does not resolve
     * leaves the document URL. */
    extract("<base target=_blank><base href=\"mailto:a@b\">"
            "<base href=\"http://d.test/\"><a href=x>x</a>",
            NULL, &r);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/dir/x");
    parse_result_release(&r);
}

TEST(html_same_href_across_base)
{
    /* One href, two bases: resolved once per base, two targets. */
    struct parse_result r;
    extract("<a href=x>1</a><base href=\"http://b.test/\"><a href=x>2</a>",
            NULL, &r);
    CHECK_INT(r.n_links, 2);
    CHECK_STR(r.links[0].url, "http://h.test/dir/x");
    CHECK_STR(r.links[1].url, "http://b.test/x");
    parse_result_release(&r);
}

TEST(html_href_entities)
{
    struct parse_result r;
    extract("<a href=\"/s?a=1&amp;b=2\">1</a><a href=\"/p&#47;q\">2</a>"
            "<a href='/caf&eacute;'>3</a>",
            NULL, &r);
    check_result(&r);
    CHECK_INT(r.n_links, 3);
    CHECK_STR(r.links[0].url, "http://h.test/s?a=1&b=2");
    CHECK_STR(r.links[1].url, "http://h.test/p/q");
    CHECK_STR(r.links[2].url, "http://h.test/caf%C3%A9");
    parse_result_release(&r);
}

TEST(html_nofollow)
{
    struct parse_result r;
    extract("<a href=/1 rel=nofollow>1</a>"
            "<a href=/2 rel=\"external  NoFollow\">2</a>"
            "<a href=/3 rel=\"nofollowing follow\">3</a>"
            "<area href=/4 rel=nofollow>"
            "<link href=/5 rel=\"stylesheet\tnofollow\">"
            "<a href=/6>6</a>",
            NULL, &r);
    CHECK_INT(r.n_links, 6);
    CHECK_INT(link_find(&r, "http://h.test/1", LINK_A)->flags, LINK_NOFOLLOW);
    CHECK_INT(link_find(&r, "http://h.test/2", LINK_A)->flags, LINK_NOFOLLOW);
    CHECK_INT(link_find(&r, "http://h.test/3", LINK_A)->flags, 0);
    CHECK_INT(link_find(&r, "http://h.test/4", LINK_AREA)->flags,
              LINK_NOFOLLOW);
    CHECK_INT(link_find(&r, "http://h.test/5", LINK_LINK)->flags,
              LINK_NOFOLLOW);
    CHECK_INT(link_find(&r, "http://h.test/6", LINK_A)->flags, 0);
    parse_result_release(&r);
}

TEST(html_duplicates_deduped)
{
    struct parse_result r;
    extract("<a href=/a>1</a><a href=\"http://H.TEST/a#x\">2</a>"
            "<a href=\"/dir/../a\">3</a><a href=/a>4</a>"
            "<link rel=prev href=/a>"
            "<a href=/a rel=nofollow>5</a><a href=/a rel=nofollow>6</a>"
            "<a href=mailto:x@y>m</a><a href=mailto:x@y>m</a>",
            NULL, &r);
    check_result(&r);
    /* one per (target, kind, flags), the first kept */
    CHECK_INT(r.n_links, 4);
    CHECK_INT(r.n_links_dropped, 0);
    CHECK_STR(r.links[0].url, "http://h.test/a");
    CHECK_INT(r.links[0].kind, LINK_A);
    CHECK_INT(r.links[0].flags, 0);
    CHECK_INT(r.links[1].kind, LINK_LINK);
    CHECK_INT(r.links[2].flags, LINK_NOFOLLOW);
    CHECK_STR(r.links[3].url, "mailto:x@y");
    parse_result_release(&r);
}

TEST(html_link_cap)
{
    struct html_options opt = default_opt;
    opt.max_links = 3;
    char html[2048] = "";
    size_t n = 0;
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(html + n, sizeof html - n,
                              "<a href=/p%d>x</a><a href=/p%d#again>y</a>", i,
                              i);
    struct parse_result r;
    CHECK_INT(extract_with(html, n, NULL, &opt, &r), 0);
    CHECK_INT(r.n_links, 3);
    CHECK_INT(r.n_links_dropped, 7);
    CHECK_STR(r.links[2].url, "http://h.test/p2");
    parse_result_release(&r);

    opt.max_links = 0;
    CHECK_INT(extract_with(html, n, NULL, &opt, &r), 0);
    CHECK_INT(r.n_links, 0);
    CHECK_INT(r.n_links_dropped, 10);
    parse_result_release(&r);
}

TEST(html_scheme_errors)
{
    struct parse_result r;
    extract("<a href=\"mailto:a@h.test\">m</a>"
            "<a href=\"javascript:void(0)\">j</a>"
            "<a href=\"tel:+1-555\">t</a><a href=\"data:text/plain,x\">d</a>"
            "<a href=\"http://[bad\">b</a><a href=/ok>ok</a>",
            NULL, &r);
    check_result(&r);
    CHECK_INT(r.n_links, 6);
    CHECK_STR(r.links[0].url, "mailto:a@h.test");
    CHECK_INT(r.links[0].error, URL_ESCHEME);
    CHECK_INT(r.links[0].hash, 0);
    CHECK_STR(r.links[1].url, "javascript:void(0)");
    CHECK_INT(r.links[1].error, URL_ESCHEME);
    CHECK_INT(r.links[2].error, URL_ESCHEME);
    CHECK_INT(r.links[3].error, URL_ESCHEME);
    CHECK_STR(r.links[4].url, "http://[bad");
    CHECK_INT(r.links[4].error, URL_EINVALID);
    CHECK_INT(r.links[5].error, 0);
    parse_result_release(&r);
}

TEST(html_href_too_long)
{
    size_t n_href = 10000;
    char *html = xmalloc(n_href * 2 + 64);
    size_t n = (size_t)snprintf(html, 64, "<a href=\"/");
    for (size_t i = 0; i < n_href / 2; i++) {
        memcpy(html + n, "\xC3\xA9", 2); /* e-acute: cuts must respect it */
        n += 2;
    }
    n += (size_t)snprintf(html + n, 64, "\">x</a><a href=/next>n</a>");
    struct parse_result r;
    CHECK_INT(extract_with(html, n, NULL, &default_opt, &r), 0);
    check_result(&r);
    CHECK_INT(r.n_links, 2);
    CHECK_INT(r.links[0].error, URL_ETOOLONG);
    CHECK(strlen(r.links[0].url) <= default_opt.max_url_bytes);
    CHECK(strlen(r.links[0].url) >= default_opt.max_url_bytes - 3);
    CHECK(strncmp(r.links[0].url, "/\xC3\xA9", 3) == 0);
    CHECK_STR(r.links[1].url, "http://h.test/next");
    parse_result_release(&r);
    free(html);
}

/* ---- title ---- */

TEST(html_title_whitespace)
{
    struct parse_result r;
    extract("<html><head><title>\n   Hello \t\r\n  World  \n</title></head>"
            "<body>body</body></html>",
            NULL, &r);
    CHECK_STR(r.title, "Hello World");
    CHECK_STR(r.text, "body");
    parse_result_release(&r);
}

TEST(html_title_entities)
{
    struct parse_result r;
    extract("<title>A &amp; B &lt;3 caf&eacute; &#x263A;</title>", NULL, &r);
    CHECK_STR(r.title, "A & B <3 caf\xC3\xA9 \xE2\x98\xBA");
    parse_result_release(&r);
}

TEST(html_title_missing)
{
    struct parse_result r;
    extract("<html><body><h1>No title</h1></body></html>", NULL, &r);
    check_result(&r);
    CHECK_STR(r.title, "");
    CHECK_STR(r.canonical, "");
    CHECK_STR(r.refresh, "");
    CHECK_STR(r.text, "No title");
    parse_result_release(&r);

    extract("<title></title><p>x", NULL, &r);
    CHECK_STR(r.title, "");
    parse_result_release(&r);
}

TEST(html_title_first_only)
{
    struct parse_result r;
    extract("<svg><title>icon</title></svg><title>First</title>"
            "<title>Second</title><p>x</p>",
            NULL, &r);
    CHECK_STR(r.title, "First");
    CHECK_STR(r.text, "x");
    parse_result_release(&r);
}

TEST(html_title_cap_utf8)
{
    char html[4096] = "<title>a";
    size_t n = strlen(html);
    for (int i = 0; i < 1500; i++) {
        memcpy(html + n, "\xC3\xA9", 2);
        n += 2;
    }
    memcpy(html + n, "</title>", 8);
    n += 8;
    struct parse_result r;
    extract_with(html, n, NULL, &default_opt, &r);
    check_result(&r);
    CHECK_INT(strlen(r.title), 1023); /* "a" + 511 two-byte characters */
    parse_result_release(&r);
}

/* ---- text ---- */

TEST(html_text_skips_hidden)
{
    struct parse_result r;
    extract("<html><head><title>T</title><style>p{color:red}</style>"
            "<script>var s = '<p>no</p>';</script></head>"
            "<body>one<script>alert(1)</script> two"
            "<noscript>enable js</noscript><style>.x{}</style>"
            "<template><p>tpl</p></template> three</body></html>",
            NULL, &r);
    CHECK_STR(r.title, "T");
    CHECK_STR(r.text, "one two three");
    parse_result_release(&r);
}

TEST(html_text_blocks_and_inline)
{
    struct parse_result r;
    extract("<p>a</p><p>b</p><div>c<br>d</div><ul><li>e</li><li>f</li></ul>"
            "<b>g</b>h<span>i</span><a href=/x>j</a><em>k</em>"
            "<table><tr><td>l</td><td>m</td></tr></table>",
            NULL, &r);
    CHECK_STR(r.text, "a b c d e f ghijk l m");
    parse_result_release(&r);
}

TEST(html_text_whitespace)
{
    struct parse_result r;
    extract("<body>\n\n   Hello,\t\t  \r\n world!   \n"
            "<p>  next  </p>   </body>",
            NULL, &r);
    CHECK_STR(r.text, "Hello, world! next");
    parse_result_release(&r);
}

TEST(html_text_cap_utf8)
{
    /* "ab" then four three-byte euro signs */
    const char *html = "<p>ab\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC";
    struct html_options opt = default_opt;
    struct parse_result r;
    opt.max_text_bytes = 8;
    extract_with(html, strlen(html), NULL, &opt, &r);
    CHECK_STR(r.text, "ab\xE2\x82\xAC\xE2\x82\xAC");
    parse_result_release(&r);
    opt.max_text_bytes = 7;
    extract_with(html, strlen(html), NULL, &opt, &r);
    CHECK_STR(r.text, "ab\xE2\x82\xAC");
    parse_result_release(&r);

    /* no dangling space at the cut */
    html = "<p>hello</p><p>\xE2\x82\xAC</p>";
    opt.max_text_bytes = 7;
    extract_with(html, strlen(html), NULL, &opt, &r);
    CHECK_STR(r.text, "hello");
    parse_result_release(&r);

    opt.max_text_bytes = 0;
    extract_with(html, strlen(html), NULL, &opt, &r);
    CHECK_STR(r.text, "");
    parse_result_release(&r);
}

/* The text as the rules say, worked out simply: runs of blanks become one
 * space, none at either end; at the cap, a space goes only with the
 * character after it, and a word is cut on a character boundary. Input
 * is well-formed UTF-8. */
static void collapse_ref(const char *in, size_t cap, char *out)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)in;
    while (*p) {
        while (*p && (*p <= 0x20 || *p == 0x7F))
            p++;
        if (!*p)
            break;
        size_t n = 0;
        while (p[n] && !(p[n] <= 0x20 || p[n] == 0x7F))
            n++;
        size_t first = p[0] < 0x80 ? 1 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
        if (o > 0) {
            if (cap - o < 1 + first)
                break;
            out[o++] = ' ';
        }
        size_t k = n <= cap - o ? n : cap - o;
        while (k < n && k > 0 && (p[k] & 0xC0) == 0x80)
            k--;
        memcpy(out + o, p, k);
        o += k;
        if (k < n)
            break;
        p += n;
    }
    out[o] = '\0';
}

/* Word-sized runs, blanks of every kind and characters of every length,
 * at every alignment, with and without a cap. */
TEST(html_text_collapse_random)
{
    static const char *const pieces[] = {
        "a",
        "bc",
        "def",
        "ghij",
        "klmno",
        "pqrstuvwxyz0123",
        " ",
        " ",
        " ",
        "  ",
        "\t",
        "\n",
        " \n ",
        "\xC3\xA9",
        "\xE2\x82\xAC",
        "\xF0\x9F\x98\x80",
        ".",
        "!?",
        "-_-",
    };
    unsigned seed = 12345;
    char body[1200], html[1300], want[1300];
    for (int iter = 0; iter < 400; iter++) {
        size_t n = 0;
        int k = (int)(iter % 97);
        for (int i = 0; i < k; i++) {
            seed = seed * 1103515245 + 12345;
            const char *piece =
                pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
            size_t len = strlen(piece);
            memcpy(body + n, piece, len);
            n += len;
        }
        body[n] = '\0';
        snprintf(html, sizeof html, "<p>%s</p>", body);
        struct html_options opt = default_opt;
        opt.max_text_bytes = iter % 3 == 0 ? (size_t)(iter % 50) : 4096;
        struct parse_result r;
        extract_with(html, strlen(html), "text/html; charset=utf-8", &opt, &r);
        collapse_ref(body, opt.max_text_bytes, want);
        if (strcmp(r.text, want) != 0)
            check_fail(__FILE__, __LINE__, "iter %d: \"%s\" != \"%s\"", iter,
                       r.text, want);
        parse_result_release(&r);
    }
}

/* Blanks other than spaces, and ill-formed bytes, inside a long run.
 * (libxml2 drops the C0 control; DEL is a blank like the others.) */
TEST(html_text_run_breaks)
{
    struct parse_result r;
    extract("<p>aaaa bbbb cccc dddd\x01"
            "eeee ffff gggg hhhh\x7Fiiii jjjj  kkkk llll \xFFmmmm nnnn "
            "oooo\xE2\x82 pppp</p>",
            "text/html; charset=utf-8", &r);
    check_result(&r);
    CHECK_STR(r.text, "aaaa bbbb cccc ddddeeee ffff gggg hhhh iiii jjjj kkkk "
                      "llll \xEF\xBF\xBDmmmm nnnn oooo\xEF\xBF\xBD pppp");
    parse_result_release(&r);
}

/* ---- meta ---- */

struct robots_case {
    const char *html;
    uint32_t want;
};

TEST(html_meta_robots)
{
    static const struct robots_case cases[] = {
        {"<meta name=robots content=\"noindex, nofollow\">",
         META_NOINDEX | META_NOFOLLOW},
        {"<meta name=\"ROBOTS\" content=\"NoIndex\">", META_NOINDEX},
        {"<meta name=robots content=\"nofollow\">", META_NOFOLLOW},
        {"<meta name=robots content=none>", META_NOINDEX | META_NOFOLLOW},
        {"<meta name=robots content=\"index,follow\">", 0},
        {"<meta name=robots content=\"noindexer\">", 0},
        {"<meta name=googlebot content=noindex>", 0},
        {"<meta name=robots content=noindex>"
         "<meta name=robots content=nofollow>",
         META_NOINDEX | META_NOFOLLOW},
        {"<meta content=\"all,noindex\" name=\" robots \">", META_NOINDEX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct parse_result r;
        char html[256];
        snprintf(html, sizeof html, "%s<a href=/x>x</a>", cases[i].html);
        extract(html, NULL, &r);
        if (r.meta_robots != cases[i].want)
            check_fail(__FILE__, __LINE__, "case %zu: %u != %u", i,
                       r.meta_robots, cases[i].want);
        CHECK_INT(r.n_links, 1); /* links are kept regardless */
        parse_result_release(&r);
    }
}

struct refresh_case {
    const char *content;
    const char *want; /* "" when there is no target */
};

TEST(html_meta_refresh)
{
    static const struct refresh_case cases[] = {
        {"5; url=/next", "http://h.test/next"},
        {"0;URL='/quoted?a=1'", "http://h.test/quoted?a=1"},
        {"0; url=&quot;dq&quot;", "http://h.test/dir/dq"},
        {"3, /comma", "http://h.test/comma"},
        {"  7 ;  URL = /spaced  ", "http://h.test/spaced"},
        {"1.5; http://other.test/p", "http://other.test/p"},
        {"0;url=HTTP://Other.Test:80/x#f", "http://other.test/x"},
        {"5", ""},
        {"5;", ""},
        {"soon; url=/x", ""},
        {"0; url=mailto:a@b", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct parse_result r;
        char html[256];
        snprintf(html, sizeof html,
                 "<meta http-equiv=\"Refresh\" content=\"%s\">",
                 cases[i].content);
        extract(html, NULL, &r);
        check_result(&r);
        if (strcmp(r.refresh, cases[i].want) != 0)
            check_fail(__FILE__, __LINE__, "case %zu \"%s\": \"%s\" != \"%s\"",
                       i, cases[i].content, r.refresh, cases[i].want);
        if (*cases[i].want) {
            CHECK_INT(r.n_links, 1);
            CHECK_INT(r.links[0].kind, LINK_REDIRECT);
            CHECK_STR(r.links[0].url, cases[i].want);
        }
        parse_result_release(&r);
    }
}

TEST(html_meta_refresh_first_and_base)
{
    struct parse_result r;
    extract("<base href=\"http://b.test/d/\">"
            "<meta http-equiv=refresh content=\"0; url=n\">"
            "<meta http-equiv=refresh content=\"0; url=/other\">",
            NULL, &r);
    CHECK_STR(r.refresh, "http://b.test/d/n");
    CHECK_INT(r.n_links, 1);
    parse_result_release(&r);

    /* the error link is still reported */
    extract("<meta http-equiv=refresh content=\"0; url=javascript:x()\">", NULL,
            &r);
    CHECK_STR(r.refresh, "");
    CHECK_INT(r.n_links, 1);
    CHECK_INT(r.links[0].kind, LINK_REDIRECT);
    CHECK_INT(r.links[0].error, URL_ESCHEME);
    parse_result_release(&r);
}

TEST(html_canonical)
{
    struct parse_result r;
    extract("<head><link rel=\"Canonical\" href=\"HTTP://H.TEST:80/c/./d#x\">"
            "<link rel=canonical href=/second></head><a href=/c/d>x</a>",
            NULL, &r);
    CHECK_STR(r.canonical, "http://h.test/c/d");
    CHECK_INT(r.n_links, 3);
    CHECK(link_find(&r, "http://h.test/c/d", LINK_LINK) != NULL);
    CHECK(link_find(&r, "http://h.test/second", LINK_LINK) != NULL);
    CHECK(link_find(&r, "http://h.test/c/d", LINK_A) != NULL);
    parse_result_release(&r);

    /* set even when the links are over the cap */
    struct html_options opt = default_opt;
    opt.max_links = 0;
    const char *html = "<link rel=\"alternate canonical\" href=/z>";
    extract_with(html, strlen(html), NULL, &opt, &r);
    CHECK_STR(r.canonical, "http://h.test/z");
    CHECK_INT(r.n_links_dropped, 1);
    parse_result_release(&r);
}

/* ---- malformed and hostile input ---- */

TEST(html_malformed)
{
    struct parse_result r;
    extract("</div></span><div><p>one<p>two</div></div></td>"
            "<a href=/u1 class=k>x<a href=/u2 id=q>y</a>"
            "<a href='/u3'title=t>z</a><a href = \"/u4\" >w</a>"
            "<img src=x alt=\"unterminated><a href=/lost>l</a>",
            NULL, &r);
    check_result(&r);
    CHECK(link_find(&r, "http://h.test/u1", LINK_A) != NULL);
    CHECK(link_find(&r, "http://h.test/u2", LINK_A) != NULL);
    CHECK(link_find(&r, "http://h.test/u3", LINK_A) != NULL);
    CHECK(link_find(&r, "http://h.test/u4", LINK_A) != NULL);
    CHECK(strncmp(r.text, "one two xyzw", 12) == 0);
    parse_result_release(&r);

    extract("<html><body><p>unclosed <b>bold <i>italic", NULL, &r);
    CHECK_STR(r.text, "unclosed bold italic");
    parse_result_release(&r);

    extract("<a href=/1>1</a><!-- <a href=/comment> --><a href=/2>2</a>"
            "<!-- unterminated comment <a href=/3>",
            NULL, &r);
    CHECK(link_find(&r, "http://h.test/1", LINK_A) != NULL);
    CHECK(link_find(&r, "http://h.test/2", LINK_A) != NULL);
    CHECK(link_find(&r, "http://h.test/comment", LINK_A) == NULL);
    parse_result_release(&r);
}

TEST(html_deep_nesting)
{
    size_t depth = 100000;
    const char *tail = "<a href=/deep>found</a>";
    size_t n = depth * 5 + strlen(tail);
    char *html = xmalloc(n + 1);
    for (size_t i = 0; i < depth; i++)
        memcpy(html + i * 5, "<div>", 5);
    memcpy(html + depth * 5, tail, strlen(tail) + 1);
    struct parse_result r;
    CHECK_INT(extract_with(html, n, NULL, &default_opt, &r), 0);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/deep");
    CHECK_STR(r.text, "found");
    parse_result_release(&r);
    free(html);
}

static char *many_links(size_t count, size_t *len)
{
    char *html = xmalloc(count * 40 + 1);
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += (size_t)snprintf(html + n, 41, "<a href=\"/p/%zu\">l</a>\n", i);
    *len = n;
    return html;
}

TEST(html_many_links)
{
    size_t n;
    char *html = many_links(50000, &n);
    struct html_options opt = default_opt;
    struct parse_result r;
    opt.max_links = 60000;
    CHECK_INT(extract_with(html, n, NULL, &opt, &r), 0);
    CHECK_INT(r.n_links, 50000);
    CHECK_INT(r.n_links_dropped, 0);
    CHECK_STR(r.links[49999].url, "http://h.test/p/49999");
    parse_result_release(&r);

    CHECK_INT(extract_with(html, n, NULL, &default_opt, &r), 0);
    CHECK_INT(r.n_links, default_opt.max_links);
    CHECK_INT(r.n_links_dropped, 50000 - default_opt.max_links);
    parse_result_release(&r);
    free(html);
}

TEST(html_nul_bytes)
{
    static const char html[] = "<title>a\0b</title><p>x\0y</p>\0"
                               "<a href=\"/n\0m\">l</a>\0<a href=/after>z</a>";
    struct parse_result r;
    CHECK_INT(extract_with(html, sizeof html - 1, NULL, &default_opt, &r), 0);
    check_result(&r);
    CHECK_STR(r.title, "ab");
    CHECK_INT(r.n_links, 2);
    CHECK(link_find(&r, "http://h.test/nm", LINK_A) != NULL);
    CHECK(link_find(&r, "http://h.test/after", LINK_A) != NULL);
    parse_result_release(&r);
}

static void check_binary(const char *body, size_t len, const char *ctype)
{
    struct parse_result r;
    CHECK_INT(html_extract(body, len, DOC_URL, ctype, &default_opt, &r),
              PARSE_EBINARY);
    CHECK_INT(r.status, PARSE_EBINARY);
    CHECK_STR(r.title, "");
    CHECK_STR(r.text, "");
    CHECK_STR(r.canonical, "");
    CHECK_STR(r.refresh, "");
    CHECK_INT(r.n_links, 0);
    parse_result_release(&r);
}

TEST(html_binary_signatures)
{
    static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10"
                              "<a href=/x>";
    check_binary(png, sizeof png - 1, "text/html");
    static const char pdf[] = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n"
                              "<< /Type /Catalog >>\nendobj\n";
    check_binary(pdf, sizeof pdf - 1, "text/html; charset=utf-8");
    static const char gz[] = "\x1F\x8B\x08\x00\x00\x00\x00\x00\x00\x03";
    check_binary(gz, sizeof gz - 1, NULL);
    static const char jpeg[] = "\xFF\xD8\xFF\xE0\0\x10JFIF";
    check_binary(jpeg, sizeof jpeg - 1, NULL);
}

TEST(html_binary_control_bytes)
{
    /* no signature, but the zero-filled fields of a binary format */
    char body[2048];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)(i % 4 == 0 ? 'A' + i % 26 : i % 7 ? 0 : 1);
    check_binary(body, sizeof body, NULL);

    /* a handful of stray NULs in a page is not binary */
    char page[512];
    int n = snprintf(page, sizeof page, "<p>text</p>%s", "<a href=/k>k</a>");
    for (int i = 0; i < 8; i++)
        page[n + i] = '\0';
    memcpy(page + n + 8, "<a href=/j>j</a>", 16);
    struct parse_result r;
    CHECK_INT(extract_with(page, (size_t)n + 24, NULL, &default_opt, &r), 0);
    CHECK_INT(r.n_links, 2);
    parse_result_release(&r);
}

TEST(html_empty_body)
{
    struct parse_result r;
    CHECK_INT(html_extract("", 0, DOC_URL, NULL, &default_opt, &r), 0);
    check_result(&r);
    CHECK_INT(r.n_links, 0);
    parse_result_release(&r);
    CHECK_INT(html_extract(NULL, 0, DOC_URL, "", &default_opt, &r), 0);
    check_result(&r);
    parse_result_release(&r);
}

TEST(html_bad_document_url)
{
    const char *html = "<a href=rel>r</a><a href=http://a.test/>a</a>";
    struct parse_result r;
    CHECK_INT(
        html_extract(html, strlen(html), "not a url", NULL, &default_opt, &r),
        0);
    CHECK_INT(r.n_links, 2);
    CHECK_INT(r.links[0].error, URL_EINVALID);
    CHECK_STR(r.links[0].url, "rel");
    CHECK_STR(r.links[1].url, "http://a.test/");
    parse_result_release(&r);
}

/* ---- charsets ---- */

TEST(html_latin1_header)
{
    struct parse_result r;
    extract("<title>caf\xE9 cr\xE8me</title><p>na\xEFve</p>",
            "text/html; charset=ISO-8859-1", &r);
    check_result(&r);
    CHECK_STR(r.title, "caf\xC3\xA9 cr\xC3\xA8me");
    CHECK_STR(r.text, "na\xC3\xAFve");
    parse_result_release(&r);

    /* quoted and mixed case, with other parameters */
    extract("<title>\xE9</title>", "Text/HTML; Charset=\"latin1\"; x=y", &r);
    CHECK_STR(r.title, "\xC3\xA9");
    parse_result_release(&r);
}

TEST(html_windows1252_meta)
{
    struct parse_result r;
    extract("<html><head><meta charset=\"windows-1252\">"
            "<title>\x93quoted\x94 \x80</title></head>"
            "<body><p>a\x81"
            "b</p><a href=/after>z</a></body></html>",
            NULL, &r);
    check_result(&r);
    CHECK_STR(r.title, "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x82\xAC");
    /* an undefined byte becomes U+FFFD and does not end the page */
    CHECK_STR(r.text, "a\xEF\xBF\xBD"
                      "b z");
    CHECK(link_find(&r, "http://h.test/after", LINK_A) != NULL);
    parse_result_release(&r);

    extract("<meta http-equiv=\"Content-Type\" "
            "content=\"text/html; charset=windows-1252\"><title>\x93</title>",
            NULL, &r);
    CHECK_STR(r.title, "\xE2\x80\x9C");
    parse_result_release(&r);
}

TEST(html_shift_jis)
{
    static const char nihongo[] = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
    struct parse_result r;
    extract("<title>\x93\xFA\x96\x7B\x8C\xEA</title>"
            "<a href=\"/\x83\x65\x83\x58\x83\x67\">t</a>",
            "text/html; charset=Shift_JIS", &r);
    check_result(&r);
    CHECK_STR(r.title, nihongo);
    CHECK_STR(r.links[0].url, "http://h.test/%E3%83%86%E3%82%B9%E3%83%88");
    parse_result_release(&r);

    extract("<meta charset=sjis><title>\x93\xFA\x96\x7B\x8C\xEA</title>", NULL,
            &r);
    CHECK_STR(r.title, nihongo);
    parse_result_release(&r);
}

TEST(html_invalid_utf8)
{
    struct parse_result r;
    extract("<title>a\xFF\xFE"
            "b\xC3</title>"
            "<p>\xED\xA0\x80x \xC0\xAF \xF4\x90\x80\x80 ok\xE2\x82</p>"
            "<a href=\"mailto:\xFF\">m</a>",
            "text/html; charset=utf-8", &r);
    check_result(&r);
    CHECK(strstr(r.title, "\xEF\xBF\xBD") != NULL);
    CHECK(strncmp(r.title, "a", 1) == 0);
    CHECK(strstr(r.text, "x") != NULL);
    CHECK(strstr(r.text, "ok") != NULL);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "mailto:\xEF\xBF\xBD");
    parse_result_release(&r);
}

TEST(html_header_beats_meta)
{
    struct parse_result r;
    extract("<meta charset=utf-8><title>\xE9t\xE9</title>",
            "text/html;charset=iso-8859-1", &r);
    CHECK_STR(r.title, "\xC3\xA9t\xC3\xA9");
    parse_result_release(&r);

    /* an unknown label in the header is passed over */
    extract("<meta charset=windows-1252><title>\x93</title>",
            "text/html; charset=x-no-such-charset", &r);
    CHECK_STR(r.title, "\xE2\x80\x9C");
    parse_result_release(&r);
}

/* The first declaration that can be used counts, wherever the prescan's
 * steps cut the document. */
TEST(html_prescan_first_declaration)
{
    struct parse_result r;
    extract("<meta charset=windows-1252><meta charset=koi8-r>"
            "<title>\x93</title>",
            NULL, &r);
    CHECK_STR(r.title, "\xE2\x80\x9C");
    parse_result_release(&r);

    extract("<meta charset=\"\"><meta charset=windows-1252>"
            "<title>\x93</title>",
            NULL, &r);
    CHECK_STR(r.title, "\xE2\x80\x9C");
    parse_result_release(&r);

    /* a declaration straddling each step boundary, or past the first */
    static char html[4200];
    for (size_t at = 1000; at < 4100; at += at < 1100 || at > 3000 ? 1 : 97) {
        memset(html, ' ', at);
        memcpy(html, "<head>", 6);
        static const char tail[] = "<meta charset=koi8-r><title>\xC1</title>";
        memcpy(html + at, tail, sizeof tail);
        extract(html, NULL, &r);
        if (strcmp(r.title, "\xD0\xB0") != 0)
            check_fail(__FILE__, __LINE__, "at %zu: \"%s\"", at, r.title);
        parse_result_release(&r);
    }
}

TEST(html_undeclared_charset)
{
    struct parse_result r;
    extract("<title>caf\xC3\xA9</title>", NULL, &r);
    CHECK_STR(r.title, "caf\xC3\xA9");
    parse_result_release(&r);

    /* not UTF-8 and not declared: read as windows-1252 */
    extract("<title>caf\xE9 \x93q\x94</title>", NULL, &r);
    CHECK_STR(r.title, "caf\xC3\xA9 \xE2\x80\x9Cq\xE2\x80\x9D");
    parse_result_release(&r);
}

TEST(html_utf16_bom)
{
    static const char ascii[] = "<title>wide \x01</title><a href=/w>w</a>";
    char body[256];
    size_t n = 0;
    body[n++] = '\xFF';
    body[n++] = '\xFE';
    for (size_t i = 0; i < sizeof ascii - 1; i++) {
        body[n++] = ascii[i] == '\x01' ? '\xAC' : ascii[i];
        body[n++] = ascii[i] == '\x01' ? '\x20' : '\0'; /* U+20AC */
    }
    struct parse_result r;
    CHECK_INT(extract_with(body, n, NULL, &default_opt, &r), 0);
    CHECK_STR(r.title, "wide \xE2\x82\xAC");
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/w");
    parse_result_release(&r);

    /* UTF-8 BOM */
    extract("\xEF\xBB\xBF<title>bom</title>", NULL, &r);
    CHECK_STR(r.title, "bom");
    parse_result_release(&r);
}

TEST(html_content_after_html_end)
{
    /* libxml2's push parser alone would stop at </html> */
    struct parse_result r;
    extract("<html><head><title>t</title></head><body><p>in</p></body>"
            "</html>\n<p>after</p><a href=/after>a</a></html>"
            "<a href=/later>b</a><title>not this</title>",
            NULL, &r);
    check_result(&r);
    CHECK_STR(r.title, "t");
    CHECK_STR(r.text, "in after a b");
    CHECK_INT(r.n_links, 2);
    CHECK_STR(r.links[0].url, "http://h.test/after");
    CHECK_STR(r.links[1].url, "http://h.test/later");
    parse_result_release(&r);

    /* stray end tags before anything else */
    extract("</p></div>\n</span><a href=/first>f</a>", NULL, &r);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.text, "f");
    parse_result_release(&r);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

TEST(html_deep_with_stray_end_tags)
{
    /* Deep nesting then end tags that match nothing: libxml2 scans all
     * open elements for each, which took seconds before the depth bound. */
    size_t depth = 50000, n = 0;
    const char *tail = "<a href=/end>end</a>";
    char *html = xmalloc(depth * 12 + strlen(tail) + 1);
    for (size_t i = 0; i < depth; i++, n += 5)
        memcpy(html + n, "<div>", 5);
    for (size_t i = 0; i < depth; i++, n += 7)
        memcpy(html + n, "</span>", 7);
    memcpy(html + n, tail, strlen(tail) + 1);
    n += strlen(tail);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct parse_result r;
    CHECK_INT(extract_with(html, n, NULL, &default_opt, &r), 0);
    CHECK(seconds_since(&t0) < 5.0);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/end");
    CHECK_STR(r.text, "end");
    parse_result_release(&r);
    free(html);
}

/* ---- text handed to libxml2 as marks ---- */

/* Extracts html with and without marks (html.c, "text libxml2 does not
 * walk") and checks that the results are the same, field by field. what
 * names the case in a failure. */
static void check_marks_change_nothing(const char *what, const char *html,
                                       size_t len)
{
    struct html_options plain_opt = default_opt;
    plain_opt.no_text_marks = 1;
    struct parse_result m, p;
    extract_with(html, len, NULL, &default_opt, &m);
    extract_with(html, len, NULL, &plain_opt, &p);
    const char *field = parse_result_diff(&m, &p);
    if (field)
        check_fail(__FILE__, __LINE__,
                   "%s: %s differs with marks\n  marked: \"%s\"\n  plain:  "
                   "\"%s\"\n  html: %.*s",
                   what, field, m.text, p.text, (int)len, html);
    parse_result_release(&m);
    parse_result_release(&p);
}

/* Stretches that libxml2 reads as something other than text: in an
 * attribute (the document is parsed again unmarked, else the href would
 * hold the mark), a comment, a script, a processing instruction, a
 * declaration; and text next to what libxml2 treats specially. */
TEST(html_text_marks_where_libxml2_reads_otherwise)
{
    static const char *const cases[] = {
        "<p>plain paragraph text that is long enough to be marked</p>",
        "<a href=\"/x > long enough text inside the href < y\">link text long "
        "enough to be marked</a>",
        "<p title='it > is quoted and long enough to mark < ok'>text long "
        "enough to be marked</p>",
        "<!-- a comment > with a stretch long enough < to mark -->"
        "<p>after the comment, text long enough</p>",
        "<script>if (a > some long enough script text < b) { x = \"<b>\"; }"
        "</script><p>after the script, text long enough</p>",
        "<style>p > span.a-long-enough-selector-name < x {}</style><p>text</p>",
        "<?php echo \"a > long processing instruction text < b\"; ?>"
        "<p>after the instruction, text long enough</p>",
        "<![CDATA[ x > long enough cdata section text < y ]]><p>after</p>",
        "<!DOCTYPE html><!x > long enough declaration text < y>text",
        "<p>AT&T is a company with text long enough &copy 2024 and more words"
        " &#169; &amp; &bogus; &#; & end of the text here</p>",
        "<p>a form feed \x0C and a control \x01 inside text long enough</p>",
        "<p>noncharacter \xEF\xBF\xBE and fullwidth \xEF\xBC\x81 in text long "
        "enough to be marked</p>",
        "<p>the mark character \xEF\xA3\xBF itself in a long enough text</p>",
        "<!-- the mark \xEF\xA3\xBF in a comment --><p>text long enough to "
        "mark</p>",
        "<title>a title long enough to be marked</title><p>body text long "
        "enough</p><title>a second title, long enough</title>",
        "<textarea>textarea > content long enough to mark < more</textarea>",
        "<p>text\r\nwith CRLF line ends long enough to be marked\r\nmore</p>",
        "text before any tag, long enough to be marked <p>then a paragraph "
        "long enough</p>",
        "<p>unclosed at the end, text long enough to be marked",
        "<p>unterminated <a href=\"/z\" title=\"oops>missing quote, long "
        "enough</a> after it, text long enough</p>",
        "<html><body><p>in</p></body></html><p>after the end of html, text "
        "long enough</p>",
        "<noscript>noscript text long enough to be marked</noscript><svg>"
        "<text>svg text long enough to be marked</text></svg>",
        "<p>x &lt; y text long enough &gt; z</p>",
    };
    char what[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(what, sizeof what, "case %zu", i);
        check_marks_change_nothing(what, cases[i], strlen(cases[i]));
    }

    /* long runs of white space before a stretch; a stretch past the
     * first 64 KiB chunk; more open elements than the parser keeps */
    size_t cap = 200000, n = 0;
    char *html = xmalloc(cap);
    n += (size_t)snprintf(html + n, cap - n, "<p>");
    memset(html + n, ' ', 3000);
    n += 3000;
    n += (size_t)snprintf(html + n, cap - n, "text after 3000 spaces</p>");
    while (n < 70000)
        n += (size_t)snprintf(html + n, cap - n,
                              "<p>filler paragraph with some text %zu</p>", n);
    for (int i = 0; i < 1100; i++)
        n += (size_t)snprintf(html + n, cap - n, "<div>");
    n += (size_t)snprintf(html + n, cap - n,
                          "deep text long enough to be marked<a href=/d>d</a>");
    check_marks_change_nothing("long document", html, n);
    free(html);
}

/* Random markup, mostly ill-formed: tags, quoted attributes holding '<'
 * and '>', comments, scripts, declarations, references, controls and
 * private use characters between long and short stretches of text. */
TEST(html_text_marks_random)
{
    static const char *const pieces[] = {
        "<p>",
        "</p>",
        "<div class=\"a > b < c\">",
        "</div>",
        "<a href=/x>",
        "<a href='/y > long enough href text < z'>",
        "<a rel=nofollow href=\"/n\">",
        "</a>",
        "<link rel=canonical href=/c>",
        "<base href=/base/>",
        "<meta name=robots content=noindex>",
        "<title>",
        "</title>",
        "<script>",
        "</script>",
        "<style>",
        "</style>",
        "<!--",
        "-->",
        "<?pi ",
        "<!DOCTYPE html>",
        "<![CDATA[",
        "]]>",
        "<br/>",
        "<img alt=\"x\" src=/i.png>",
        "<td>",
        "<textarea>",
        "</textarea>",
        "some words of text long enough to be marked ",
        "more text, with punctuation; and numbers 12345 too. ",
        "short ",
        " ",
        "\n",
        "\r\n",
        "\t",
        ">",
        "<",
        "\"",
        "'",
        "=",
        "&amp;",
        "&lt;",
        "&copy",
        "&#169;",
        "&bogus;",
        "&",
        "\x0C",
        "\x01",
        "\xC3\xA9t\xC3\xA9 ",
        "\xE4\xB8\xAD\xE6\x96\x87 ",
        "\xEF\xBC\x81",
        "\xEF\xBF\xBE",
        "\xEF\xA3\xBF",
        "\xF0\x9F\x98\x80",
    };
    unsigned seed = 424242;
    char html[4096], what[32];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 0;
        seed = seed * 1103515245 + 12345;
        int k = (int)((seed >> 16) % 60);
        for (int i = 0; i < k; i++) {
            seed = seed * 1103515245 + 12345;
            unsigned pick = (seed >> 16) % 100;
            /* text half the time, so that many documents stay marked */
            const char *piece =
                pick < 50 ? pieces[28 + pick % 3]
                          : pieces[pick % (sizeof pieces / sizeof pieces[0])];
            size_t len = strlen(piece);
            memcpy(html + n, piece, len);
            n += len;
        }
        snprintf(what, sizeof what, "iteration %d", iter);
        check_marks_change_nothing(what, html, n);
    }
}
