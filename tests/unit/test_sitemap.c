/*
 * Unit tests of sitemap parsing (parse/sitemap.c): urlset and sitemapindex
 * with and without the namespace, gzip (and a gzip bomb), the URL cap,
 * loc errors, entities and whitespace, text sitemaps, documents that are
 * not sitemaps, hostile DTDs (external entities, billion laughs) and
 * truncated XML. Run under AddressSanitizer by `make asan` to prove the
 * reader and the inflate state are freed on every path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "crawler/buf.h"
#include "crawler/hash.h"
#include "crawler/msg.h"
#include "crawler/xalloc.h"
#include "parse/sitemap.h"
#include "parse/url.h"
#include "tests/unit/check.h"

#define DOC_URL "http://h.test/sitemap.xml"
#define NS "http://www.sitemaps.org/schemas/sitemap/0.9"
#define MIB ((size_t)1024 * 1024)

static const struct sitemap_options default_opt = {
    SITEMAP_MAX_URLS, URL_MAX_DEFAULT, SITEMAP_MAX_INFLATED_BYTES};

static int extract_with(const char *doc, size_t len,
                        const struct sitemap_options *opt,
                        struct parse_result *r)
{
    return sitemap_extract(doc, len, DOC_URL, opt, r);
}

static int extract(const char *doc, struct parse_result *r)
{
    return extract_with(doc, strlen(doc), &default_opt, r);
}

/* Every string of a result is set; links are sitemap links whose hash
 * matches (or whose error is set). */
static void check_result(const struct parse_result *r)
{
    CHECK(r->title && r->canonical && r->refresh && r->text);
    CHECK_STR(r->title, "");
    CHECK_STR(r->canonical, "");
    CHECK_STR(r->refresh, "");
    CHECK_STR(r->text, "");
    for (size_t i = 0; i < r->n_links; i++) {
        const struct link *l = &r->links[i];
        CHECK(l->url != NULL);
        CHECK_INT(l->kind, LINK_SITEMAP);
        if (l->error == 0)
            CHECK_INT(l->hash, hash64(l->url, strlen(l->url)));
    }
}

static const struct link *link_find(const struct parse_result *r,
                                    const char *url)
{
    for (size_t i = 0; i < r->n_links; i++)
        if (strcmp(r->links[i].url, url) == 0)
            return &r->links[i];
    return NULL;
}

static int has_link_containing(const struct parse_result *r, const char *s)
{
    for (size_t i = 0; i < r->n_links; i++)
        if (strstr(r->links[i].url, s))
            return 1;
    return 0;
}

/* Appends n url entries, http://h.test/<first> onwards. */
static void put_urls(struct buf *b, int first, int n)
{
    for (int i = first; i < first + n; i++) {
        char line[80];
        snprintf(line, sizeof line, "<url><loc>http://h.test/%d</loc></url>",
                 i);
        CHECK_INT(buf_append_str(b, line), 0);
    }
}

/* Appends a comment of about n bytes. libxml2's reader parses ahead of
 * the node it returns (512 bytes at a time in 2.9) and a well-formedness
 * error in that window ends the read before the nodes in it are returned,
 * so the tests put this much between the locs they expect and an error. */
static void put_padding(struct buf *b, size_t n)
{
    CHECK_INT(buf_append_str(b, "<!--"), 0);
    for (size_t i = 0; i < n; i++)
        CHECK_INT(buf_append(b, "p", 1), 0);
    CHECK_INT(buf_append_str(b, "-->"), 0);
}

#define PADDING_BYTES 8192

/* True when the links are http://h.test/<first>, <first + 1>, ... */
static int links_numbered(const struct parse_result *r, int first)
{
    for (size_t i = 0; i < r->n_links; i++) {
        char want[40];
        snprintf(want, sizeof want, "http://h.test/%d", first + (int)i);
        if (r->links[i].error != 0 || strcmp(r->links[i].url, want) != 0)
            return 0;
    }
    return 1;
}

/* ---- gzip helpers ---- */

/* Starts a gzip stream (windowBits 16 + MAX_WBITS writes the header). */
static void gz_begin(z_stream *zs)
{
    memset(zs, 0, sizeof *zs);
    CHECK_INT(
        deflateInit2(zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
}

/* Deflates n bytes at p into out (unbounded in the test). */
static void gz_put(z_stream *zs, const void *p, size_t n, int flush,
                   struct buf *out)
{
    unsigned char chunk[16384];
    zs->next_in = (unsigned char *)(uintptr_t)p;
    zs->avail_in = (uInt)n;
    int zrc;
    do {
        zs->next_out = chunk;
        zs->avail_out = sizeof chunk;
        zrc = deflate(zs, flush);
        CHECK(zrc == Z_OK || zrc == Z_STREAM_END || zrc == Z_BUF_ERROR);
        CHECK_INT(buf_append(out, chunk, sizeof chunk - zs->avail_out), 0);
    } while (zs->avail_out == 0 || (flush == Z_FINISH && zrc != Z_STREAM_END));
}

static void gzip(const char *s, size_t n, struct buf *out)
{
    z_stream zs;
    gz_begin(&zs);
    gz_put(&zs, s, n, Z_FINISH, out);
    deflateEnd(&zs);
}

static long maxrss_kib(void)
{
    struct rusage ru;
    CHECK_INT(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* ---- urlset and sitemapindex ---- */

TEST(sitemap_urlset_namespace)
{
    struct parse_result r;
    CHECK_INT(extract("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<urlset xmlns=\"" NS "\">\n"
                      "  <url>\n"
                      "    <loc>http://h.test/</loc>\n"
                      "    <lastmod>2024-01-01</lastmod>\n"
                      "    <changefreq>daily</changefreq>\n"
                      "    <priority>0.8</priority>\n"
                      "  </url>\n"
                      "  <url><loc>HTTP://H.TEST:80/a/./b/../c#x</loc></url>\n"
                      "  <url><loc>https://other.test/%7euser</loc></url>\n"
                      "</urlset>\n",
                      &r),
              0);
    check_result(&r);
    CHECK_INT(r.status, 0);
    CHECK_INT(r.n_links, 3);
    CHECK_INT(r.n_links_dropped, 0);
    CHECK_STR(r.links[0].url, "http://h.test/");
    CHECK_STR(r.links[1].url, "http://h.test/a/c");
    CHECK_STR(r.links[2].url, "https://other.test/~user");
    for (size_t i = 0; i < r.n_links; i++) {
        CHECK_INT(r.links[i].error, 0);
        CHECK_INT(r.links[i].flags, 0);
    }
    parse_result_release(&r);

    /* A prefixed namespace is the same namespace. */
    CHECK_INT(extract("<sm:urlset xmlns:sm=\"" NS "\">"
                      "<sm:url><sm:loc>http://h.test/p</sm:loc></sm:url>"
                      "</sm:urlset>",
                      &r),
              0);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/p");
    parse_result_release(&r);
}

TEST(sitemap_urlset_no_namespace)
{
    struct parse_result r;
    CHECK_INT(extract("<urlset><url><loc>http://h.test/1</loc></url>"
                      "<url><loc>http://h.test/2</loc></url></urlset>",
                      &r),
              0);
    check_result(&r);
    CHECK_INT(r.n_links, 2);
    CHECK_STR(r.links[0].url, "http://h.test/1");
    CHECK_STR(r.links[1].url, "http://h.test/2");
    parse_result_release(&r);
}

TEST(sitemap_index_flag)
{
    struct parse_result r;
    CHECK_INT(extract("<?xml version=\"1.0\"?>"
                      "<sitemapindex xmlns=\"" NS "\">"
                      "<sitemap><loc>http://h.test/s1.xml.gz</loc>"
                      "<lastmod>2024-01-01T00:00:00Z</lastmod></sitemap>"
                      "<sitemap><loc>http://h.test/s2.xml</loc></sitemap>"
                      "</sitemapindex>",
                      &r),
              0);
    check_result(&r);
    CHECK_INT(r.n_links, 2);
    CHECK_STR(r.links[0].url, "http://h.test/s1.xml.gz");
    CHECK_STR(r.links[1].url, "http://h.test/s2.xml");
    CHECK_INT(r.links[0].flags, LINK_SITEMAP_INDEX);
    CHECK_INT(r.links[1].flags, LINK_SITEMAP_INDEX);
    parse_result_release(&r);
}

/* Entries must pair with the root; extension elements (image:loc,
 * xhtml:link) and locs outside an entry are not entries. */
TEST(sitemap_only_entry_locs)
{
    struct parse_result r;
    CHECK_INT(
        extract(
            "<urlset xmlns=\"" NS "\""
            " xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\""
            " xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">"
            "<loc>http://h.test/stray</loc>"
            "<url><loc>http://h.test/page</loc>"
            "<image:image><image:loc>http://h.test/img.png</image:loc>"
            "</image:image>"
            "<xhtml:link rel=\"alternate\" href=\"http://h.test/de\"/>"
            "</url>"
            "<sitemap><loc>http://h.test/wrong-entry</loc></sitemap>"
            "<url><image:loc>http://h.test/img2.png</image:loc></url>"
            "<url><x><loc>http://h.test/deep</loc></x></url>"
            "<url><loc/></url>"
            "<url><loc>   </loc></url>"
            "</urlset>",
            &r),
        0);
    check_result(&r);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/page");
    parse_result_release(&r);

    /* An entry in another namespace than the root is not an entry. */
    CHECK_INT(extract("<urlset xmlns=\"" NS "\"><url xmlns=\"urn:x\">"
                      "<loc>http://h.test/other-ns</loc></url></urlset>",
                      &r),
              0);
    CHECK_INT(r.n_links, 0);
    parse_result_release(&r);
}

/* ---- gzip ---- */

TEST(sitemap_gzip)
{
    static const char doc[] = "<urlset xmlns=\"" NS "\">"
                              "<url><loc>http://h.test/gz1</loc></url>"
                              "<url><loc>http://h.test/gz2</loc></url>"
                              "</urlset>";
    struct buf z;
    buf_init(&z, 1 * MIB);
    gzip(doc, sizeof doc - 1, &z);
    CHECK((unsigned char)z.data[0] == 0x1F);
    CHECK((unsigned char)z.data[1] == 0x8B);
    struct parse_result r;
    CHECK_INT(extract_with(z.data, z.len, &default_opt, &r), 0);
    check_result(&r);
    CHECK_INT(r.n_links, 2);
    CHECK_STR(r.links[0].url, "http://h.test/gz1");
    CHECK_STR(r.links[1].url, "http://h.test/gz2");
    parse_result_release(&r);

    /* Cut in the middle (a body stopped at max_body_bytes): the locs that
     * inflated whole are kept, the cut one is not. */
    struct buf big, zbig;
    buf_init(&big, 1 * MIB);
    buf_init(&zbig, 1 * MIB);
    buf_append_str(&big, "<urlset xmlns=\"" NS "\">");
    put_urls(&big, 0, 2000);
    buf_append_str(&big, "</urlset>");
    gzip(big.data, big.len, &zbig);
    CHECK_INT(extract_with(zbig.data, zbig.len / 2, &default_opt, &r), 0);
    check_result(&r);
    CHECK(r.n_links >= 100);
    CHECK(r.n_links < 2000);
    CHECK(links_numbered(&r, 0));
    parse_result_release(&r);
    buf_release(&zbig);
    buf_release(&big);

    /* Two gzip members one after the other are one document. */
    struct buf z2;
    buf_init(&z2, 1 * MIB);
    gzip(doc, 60, &z2);
    gzip(doc + 60, sizeof doc - 1 - 60, &z2);
    CHECK_INT(extract_with(z2.data, z2.len, &default_opt, &r), 0);
    CHECK_INT(r.n_links, 2);
    parse_result_release(&r);

    /* A gzip text sitemap. */
    buf_reset(&z2);
    gzip("http://h.test/t1\nhttp://h.test/t2\n", 34, &z2);
    CHECK_INT(extract_with(z2.data, z2.len, &default_opt, &r), 0);
    CHECK_INT(r.n_links, 2);
    CHECK_STR(r.links[1].url, "http://h.test/t2");
    parse_result_release(&r);

    /* Garbage after the magic inflates to nothing: not a sitemap. */
    CHECK_INT(extract_with("\x1f\x8b\x08\x00garbage", 11, &default_opt, &r),
              PARSE_EFAILED);
    check_result(&r);
    CHECK_INT(r.n_links, 0);
    parse_result_release(&r);
    buf_release(&z2);
    buf_release(&z);
}

/* 200 MiB of zeros after a valid start, deflated to a few hundred KiB:
 * inflating stops at the cap, the reader stops at the first NUL, and the
 * locs before it are kept. Memory stays near the cap, not near 200 MiB. */
TEST(sitemap_gzip_bomb)
{
    struct buf head;
    buf_init(&head, 1 * MIB);
    buf_append_str(&head, "<urlset xmlns=\"" NS "\">");
    put_urls(&head, 0, 3);
    put_padding(&head, PADDING_BYTES);
    struct buf z;
    buf_init(&z, 16 * MIB);
    char *zeros = xcalloc(1, MIB);
    z_stream zs;
    gz_begin(&zs);
    gz_put(&zs, head.data, head.len, Z_NO_FLUSH, &z);
    buf_release(&head);
    for (int i = 0; i < 200; i++)
        gz_put(&zs, zeros, MIB, Z_NO_FLUSH, &z);
    gz_put(&zs, "", 0, Z_FINISH, &z);
    deflateEnd(&zs);
    free(zeros);
    CHECK(z.len < 2 * MIB);

    struct sitemap_options opt = default_opt;
    opt.max_inflated_bytes = 4 * MIB;
    struct timespec t0, t1;
    long rss0 = maxrss_kib();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct parse_result r;
    CHECK_INT(extract_with(z.data, z.len, &opt, &r), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long rss1 = maxrss_kib();
    check_result(&r);
    CHECK_INT(r.n_links, 3);
    CHECK(links_numbered(&r, 0));
    parse_result_release(&r);
    /* Inflating all of it would add 200 MiB. */
    if (rss1 - rss0 > 64 * 1024)
        check_fail(__FILE__, __LINE__, "max rss grew by %ld KiB", rss1 - rss0);
    double s = (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (s > 5.0)
        check_fail(__FILE__, __LINE__, "took %.2f s", s);

    /* At the default cap too: a body of zeros only is not a sitemap. */
    buf_reset(&z);
    zeros = xcalloc(1, MIB);
    gz_begin(&zs);
    for (int i = 0; i < 200; i++)
        gz_put(&zs, zeros, MIB, Z_NO_FLUSH, &z);
    gz_put(&zs, "", 0, Z_FINISH, &z);
    deflateEnd(&zs);
    free(zeros);
    CHECK_INT(extract_with(z.data, z.len, &default_opt, &r), PARSE_EFAILED);
    CHECK_INT(r.n_links, 0);
    parse_result_release(&r);
    buf_release(&z);
}

/* ---- caps and errors ---- */

TEST(sitemap_url_cap)
{
    struct buf doc;
    buf_init(&doc, 1 * MIB);
    buf_append_str(&doc, "<urlset xmlns=\"" NS "\">");
    put_urls(&doc, 0, 25);
    buf_append_str(&doc, "</urlset>");
    struct sitemap_options opt = default_opt;
    opt.max_urls = 10;
    struct parse_result r;
    CHECK_INT(extract_with(doc.data, doc.len, &opt, &r), 0);
    check_result(&r);
    CHECK_INT(r.n_links, 10);
    CHECK_INT(r.n_links_dropped, 15);
    CHECK(links_numbered(&r, 0));
    parse_result_release(&r);

    /* The same cap for a text sitemap. */
    buf_reset(&doc);
    for (int i = 0; i < 25; i++) {
        char line[80];
        snprintf(line, sizeof line, "http://h.test/%d\n", i);
        buf_append_str(&doc, line);
    }
    CHECK_INT(extract_with(doc.data, doc.len, &opt, &r), 0);
    CHECK_INT(r.n_links, 10);
    CHECK_INT(r.n_links_dropped, 15);
    parse_result_release(&r);

    opt.max_urls = 0;
    CHECK_INT(extract_with(doc.data, doc.len, &opt, &r), 0);
    CHECK_INT(r.n_links, 0);
    CHECK_INT(r.n_links_dropped, 25);
    parse_result_release(&r);
    buf_release(&doc);
}

TEST(sitemap_loc_errors)
{
    struct parse_result r;
    CHECK_INT(extract("<urlset>"
                      "<url><loc>/relative/page</loc></url>"
                      "<url><loc>page.html</loc></url>"
                      "<url><loc>ftp://h.test/file</loc></url>"
                      "<url><loc>mailto:a@h.test</loc></url>"
                      "<url><loc>http://h.test/fine</loc></url>"
                      "</urlset>",
                      &r),
              0);
    check_result(&r);
    CHECK_INT(r.n_links, 5);
    CHECK_STR(r.links[0].url, "/relative/page");
    CHECK_INT(r.links[0].error, URL_EINVALID);
    CHECK_INT(r.links[0].hash, 0);
    CHECK_STR(r.links[1].url, "page.html");
    CHECK_INT(r.links[1].error, URL_EINVALID);
    CHECK_STR(r.links[2].url, "ftp://h.test/file");
    CHECK_INT(r.links[2].error, URL_ESCHEME);
    CHECK_INT(r.links[3].error, URL_ESCHEME);
    CHECK_STR(r.links[4].url, "http://h.test/fine");
    CHECK_INT(r.links[4].error, 0);
    parse_result_release(&r);
}

TEST(sitemap_loc_too_long)
{
    struct sitemap_options opt = default_opt;
    opt.max_url_bytes = 64;
    struct buf doc;
    buf_init(&doc, 1 * MIB);
    /* Just over the cap once normalized, and far over it (more than the
     * loc text we hold): both URL_ETOOLONG, text cut to the cap. */
    buf_append_str(&doc, "<urlset><url><loc>http://h.test/");
    for (int i = 0; i < 60; i++)
        buf_append_str(&doc, "a");
    buf_append_str(&doc, "</loc></url><url><loc>http://h.test/");
    for (int i = 0; i < 100000; i++)
        buf_append_str(&doc, "b");
    buf_append_str(&doc, "</loc></url><url><loc>http://h.test/x");
    for (int i = 0; i < 60; i++)
        buf_append_str(&doc, "\xC3\xA9"); /* a cut must not split it */
    buf_append_str(&doc, "</loc></url>"
                         "<url><loc>http://h.test/%7e%7e%7e%7e%7e%7e%7e%7e"
                         "%7e%7e%7e%7e%7e%7e%7e%7e%7e%7e%7e%7e</loc></url>"
                         "</urlset>");
    struct parse_result r;
    CHECK_INT(extract_with(doc.data, doc.len, &opt, &r), 0);
    check_result(&r);
    CHECK_INT(r.n_links, 4);
    CHECK_INT(r.links[0].error, URL_ETOOLONG);
    CHECK_INT(strlen(r.links[0].url), 64);
    CHECK_INT(r.links[1].error, URL_ETOOLONG);
    CHECK_INT(strlen(r.links[1].url), 64);
    CHECK_INT(r.links[2].error, URL_ETOOLONG);
    CHECK_INT(strlen(r.links[2].url), 63); /* 15 + 24 * 2, not 64 */
    /* Longer than the cap as written, within it once %7E becomes '~'. */
    CHECK_INT(r.links[3].error, 0);
    CHECK_STR(r.links[3].url, "http://h.test/~~~~~~~~~~~~~~~~~~~~");
    parse_result_release(&r);
    buf_release(&doc);
}

TEST(sitemap_loc_entities)
{
    struct parse_result r;
    CHECK_INT(extract("<urlset xmlns=\"" NS "\">"
                      "<url><loc>http://h.test/?a=1&amp;b=2</loc></url>"
                      "<url><loc>http://h.test/&#x63;af&#xE9;</loc></url>"
                      "<url><loc>http://h.test/q?x=&quot;&lt;&gt;&apos;"
                      "</loc></url>"
                      "<url><loc><![CDATA[http://h.test/c?d=1&e=2]]></loc>"
                      "</url>"
                      "<url><loc>http://h.test/<!-- note -->split</loc></url>"
                      "</urlset>",
                      &r),
              0);
    check_result(&r);
    CHECK_INT(r.n_links, 5);
    CHECK_STR(r.links[0].url, "http://h.test/?a=1&b=2");
    CHECK_STR(r.links[1].url, "http://h.test/caf%C3%A9");
    CHECK_STR(r.links[2].url, "http://h.test/q?x=%22%3C%3E'");
    CHECK_STR(r.links[3].url, "http://h.test/c?d=1&e=2");
    CHECK_STR(r.links[4].url, "http://h.test/split");
    parse_result_release(&r);

    /* Another charset, declared in the document. */
    CHECK_INT(extract("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
                      "<urlset><url><loc>http://h.test/caf\xE9</loc></url>"
                      "</urlset>",
                      &r),
              0);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/caf%C3%A9");
    parse_result_release(&r);
}

TEST(sitemap_loc_whitespace)
{
    struct parse_result r;
    CHECK_INT(extract("\xEF\xBB\xBF  \n<urlset>\n<url>\n<loc>\n\t  "
                      "http://h.test/trim  \t\r\n</loc>\n</url>"
                      "<url><loc>  http://h.test/a b  </loc></url>"
                      "</urlset>",
                      &r),
              0);
    check_result(&r);
    CHECK_INT(r.n_links, 2);
    CHECK_STR(r.links[0].url, "http://h.test/trim");
    CHECK_INT(r.links[0].error, 0);
    CHECK_STR(r.links[1].url, "http://h.test/a%20b");
    parse_result_release(&r);
}

/* ---- not a sitemap ---- */

TEST(sitemap_not_a_sitemap)
{
    static const char *const docs[] = {
        "<!DOCTYPE html><html><head><title>x</title></head><body>"
        "<a href=\"http://h.test/a\">a</a></body></html>",
        "<html><body><p>unclosed <br> tags</body></html>",
        "<rss version=\"2.0\"><channel><link>http://h.test/</link>"
        "</channel></rss>",
        "<urlset xmlns=\"http://example.com/not-sitemaps\"><url>"
        "<loc>http://h.test/x</loc></url></urlset>",
        "<url><loc>http://h.test/x</loc></url>",
        "<",
        "<?xml version=\"1.0\"?>",
        "",
        "{\"urls\": [\"http://h.test/\"]}",
        "not a url\nnor this\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        struct parse_result r;
        int rc = extract(docs[i], &r);
        if (rc != PARSE_EFAILED)
            check_fail(__FILE__, __LINE__, "doc %zu: rc %d", i, rc);
        check_result(&r);
        CHECK_INT(r.status, PARSE_EFAILED);
        CHECK_INT(r.n_links, 0);
        CHECK(r.links == NULL);
        parse_result_release(&r);
    }

    struct parse_result r;
    CHECK_INT(sitemap_extract(NULL, 0, NULL, &default_opt, &r), PARSE_EFAILED);
    check_result(&r);
    parse_result_release(&r);

    /* Binary bytes, NULs included. */
    static const char bin[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0";
    CHECK_INT(extract_with(bin, sizeof bin - 1, &default_opt, &r),
              PARSE_EFAILED);
    CHECK_INT(r.n_links, 0);
    parse_result_release(&r);
}

/* An empty urlset is a sitemap with no URLs. */
TEST(sitemap_empty_urlset)
{
    struct parse_result r;
    CHECK_INT(extract("<urlset xmlns=\"" NS "\"/>", &r), 0);
    check_result(&r);
    CHECK_INT(r.n_links, 0);
    parse_result_release(&r);
}

/* ---- text sitemaps ---- */

TEST(sitemap_text)
{
    struct parse_result r;
    CHECK_INT(extract("\xEF\xBB\xBFhttp://h.test/one\r\n"
                      "\n"
                      "   https://h.test/two?a=1&b=2   \n"
                      "relative/skipped\n"
                      "ftp://h.test/skipped\n"
                      "\t\r\n"
                      "HTTP://H.TEST/three",
                      &r),
              0);
    check_result(&r);
    CHECK_INT(r.n_links, 3);
    CHECK_STR(r.links[0].url, "http://h.test/one");
    CHECK_STR(r.links[1].url, "https://h.test/two?a=1&b=2");
    CHECK_STR(r.links[2].url, "http://h.test/three");
    for (size_t i = 0; i < r.n_links; i++) {
        CHECK_INT(r.links[i].error, 0);
        CHECK_INT(r.links[i].flags, 0);
    }
    parse_result_release(&r);

    /* A NUL inside a line spoils that line only; a line far over the URL
     * cap is passed over. */
    struct buf doc;
    buf_init(&doc, 1 * MIB);
    buf_append(&doc, "http://h.test/a\0b\nhttp://h.test/ok\nhttp://h.test/",
               49);
    for (int i = 0; i < 50000; i++)
        buf_append_str(&doc, "x");
    CHECK_INT(extract_with(doc.data, doc.len, &default_opt, &r), 0);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/ok");
    parse_result_release(&r);
    buf_release(&doc);
}

/* ---- hostile XML ---- */

/* An external entity is neither opened nor expanded, and no external DTD
 * is loaded: the DTD here is a FIFO nobody writes, so opening it would
 * hang the case until its time limit. */
TEST(sitemap_external_entity)
{
    char dir[] = "/tmp/sitemap-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char secret[128], fifo[128];
    snprintf(secret, sizeof secret, "%s/secret", dir);
    snprintf(fifo, sizeof fifo, "%s/dtd", dir);
    FILE *f = fopen(secret, "w");
    CHECK(f != NULL);
    fputs("http://h.test/leaked", f);
    fclose(f);
    CHECK_INT(mkfifo(fifo, 0600), 0);

    char doc[2048];
    snprintf(doc, sizeof doc,
             "<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE urlset [\n"
             "  <!ENTITY xxe SYSTEM \"file://%s\">\n"
             "  <!ENTITY net SYSTEM \"http://127.0.0.1:9/x\">\n"
             "  <!ENTITY fifo SYSTEM \"file://%s\">\n"
             "  <!ENTITY %% pe SYSTEM \"file://%s\">\n"
             "  %%pe;\n"
             "]>\n"
             "<urlset xmlns=\"" NS "\">"
             "<url><loc>&xxe;</loc></url>"
             "<url><loc>http://h.test/a&net;</loc></url>"
             "<url><loc>&fifo;</loc></url>"
             "<url><loc>http://h.test/ok</loc></url>"
             "</urlset>",
             secret, fifo, fifo);
    struct parse_result r;
    CHECK_INT(extract(doc, &r), 0);
    check_result(&r);
    CHECK(!has_link_containing(&r, "leaked"));
    CHECK(link_find(&r, "http://h.test/ok") != NULL);
    CHECK(link_find(&r, "http://h.test/a") != NULL);
    CHECK_INT(r.n_links, 2);
    parse_result_release(&r);

    /* An external subset. */
    snprintf(doc, sizeof doc,
             "<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE urlset SYSTEM \"file://%s\">\n"
             "<urlset><url><loc>http://h.test/ok</loc></url></urlset>",
             fifo);
    CHECK_INT(extract(doc, &r), 0);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/ok");
    parse_result_release(&r);

    unlink(fifo);
    unlink(secret);
    rmdir(dir);
}

/* Internal entities are not substituted either: a reference is skipped. */
TEST(sitemap_internal_entity)
{
    struct parse_result r;
    CHECK_INT(extract("<?xml version=\"1.0\"?>\n"
                      "<!DOCTYPE urlset [\n"
                      " <!ENTITY u \"http://h.test/from-entity\">\n"
                      " <!ENTITY p \"path\">\n"
                      "]>\n"
                      "<urlset><url><loc>&u;</loc></url>"
                      "<url><loc>http://h.test/&p;/x</loc></url>"
                      "<url><loc>http://h.test/after</loc></url>"
                      "</urlset>",
                      &r),
              0);
    check_result(&r);
    CHECK(!has_link_containing(&r, "from-entity"));
    CHECK_INT(r.n_links, 2);
    CHECK_STR(r.links[0].url, "http://h.test//x");
    CHECK_STR(r.links[1].url, "http://h.test/after");
    parse_result_release(&r);
}

/* The classic exponential entity, referenced in content and in an
 * attribute (where XML always expands): libxml2 keeps the reference or
 * stops at its amplification limit, quickly either way, and nothing of
 * the expansion becomes a link. */
TEST(sitemap_billion_laughs)
{
    static const char dtd[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE urlset [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 "
        "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"
        "&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"
        "&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"
        "&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"
        "&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"
        "&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"
        "&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"
        "&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;"
        "&lol8;&lol8;\">\n"
        "]>\n";
    static const char *const bodies[] = {
        "<url><loc>http://h.test/x&lol9;</loc></url>",
        "<url a=\"&lol9;\"><loc>http://h.test/y</loc></url>",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        struct buf doc;
        buf_init(&doc, 1 * MIB);
        buf_append_str(&doc, dtd);
        buf_append_str(&doc, "<urlset>");
        put_urls(&doc, 0, 3);
        put_padding(&doc, PADDING_BYTES);
        buf_append_str(&doc, bodies[i]);
        buf_append_str(&doc, "</urlset>");
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct parse_result r;
        CHECK_INT(extract_with(doc.data, doc.len, &default_opt, &r), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        check_result(&r);
        CHECK(!has_link_containing(&r, "lol"));
        CHECK(r.n_links >= 3 && r.n_links <= 4);
        CHECK_STR(r.links[2].url, "http://h.test/2");
        double s = (double)(t1.tv_sec - t0.tv_sec) +
                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (s > 5.0)
            check_fail(__FILE__, __LINE__, "case %zu took %.2f s", i, s);
        parse_result_release(&r);
        buf_release(&doc);
    }
}

TEST(sitemap_malformed_truncated)
{
    static const char doc[] = "<urlset xmlns=\"" NS "\">"
                              "<url><loc>http://h.test/1</loc></url>"
                              "<url><loc>http://h.test/2</loc></url>"
                              "<url><loc>http://h.test/3</loc></url>";
    struct parse_result r;
    /* Cut inside the third loc: its text may be cut too, so it is not a
     * link; the two before it are. */
    size_t cut = strstr(doc, "/3<") - doc;
    CHECK_INT(extract_with(doc, cut, &default_opt, &r), 0);
    check_result(&r);
    CHECK_INT(r.n_links, 2);
    CHECK_STR(r.links[0].url, "http://h.test/1");
    CHECK_STR(r.links[1].url, "http://h.test/2");
    parse_result_release(&r);

    /* Unclosed at the end. */
    CHECK_INT(extract_with(doc, sizeof doc - 1, &default_opt, &r), 0);
    CHECK_INT(r.n_links, 3);
    parse_result_release(&r);

    /* A well-formedness error in the middle ends the document there. */
    struct buf bad;
    buf_init(&bad, 1 * MIB);
    buf_append_str(&bad, "<urlset>");
    put_urls(&bad, 0, 3);
    put_padding(&bad, PADDING_BYTES);
    buf_append_str(&bad, "<url><loc>http://h.test/3</lox></url>");
    put_urls(&bad, 4, 3);
    buf_append_str(&bad, "</urlset>");
    CHECK_INT(extract_with(bad.data, bad.len, &default_opt, &r), 0);
    check_result(&r);
    CHECK_INT(r.n_links, 3);
    CHECK(links_numbered(&r, 0));
    parse_result_release(&r);

    /* An error before the root ends it too: not a sitemap. */
    CHECK_INT(extract("<?xml version=\"1.0\"?><!DOCTYPE [ <urlset>"
                      "<url><loc>http://h.test/1</loc></url></urlset>",
                      &r),
              PARSE_EFAILED);
    CHECK_INT(r.n_links, 0);
    parse_result_release(&r);
    buf_release(&bad);

    /* Every prefix of a document parses without leaks or crashes. */
    for (size_t n = 0; n < sizeof doc - 1; n++) {
        int rc = extract_with(doc, n, &default_opt, &r);
        CHECK(rc == 0 || rc == PARSE_EFAILED);
        CHECK(r.n_links <= 3);
        parse_result_release(&r);
    }
}

/* A UTF-16 document (with its BOM) is XML too. */
TEST(sitemap_utf16)
{
    static const char ascii[] = "<urlset><url><loc>http://h.test/w</loc>"
                                "</url></urlset>";
    char doc[2 + 2 * sizeof ascii];
    doc[0] = (char)0xFF;
    doc[1] = (char)0xFE;
    for (size_t i = 0; i < sizeof ascii - 1; i++) {
        doc[2 + 2 * i] = ascii[i];
        doc[3 + 2 * i] = 0;
    }
    struct parse_result r;
    CHECK_INT(extract_with(doc, 2 * sizeof ascii, &default_opt, &r), 0);
    CHECK_INT(r.n_links, 1);
    CHECK_STR(r.links[0].url, "http://h.test/w");
    parse_result_release(&r);
}
