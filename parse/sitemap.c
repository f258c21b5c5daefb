/*
 * sitemap: the <loc> URLs of a sitemap document (see sitemap.h).
 *
 * Runs in the parser process. The pipeline is
 *
 *   gzip magic? -> inflate, capped -> sniff: '<' after a BOM and blanks?
 *     yes -> libxml2 streaming reader -> <loc> text -> links
 *     no  -> one URL per line -> links
 *
 * XML is read with xmlReaderForMemory and these options only: no network
 * (XML_PARSE_NONET), no DTD loading (no XML_PARSE_DTDLOAD), no entity
 * substitution (no XML_PARSE_NOENT), and no XML_PARSE_HUGE so libxml2's
 * own size and entity amplification limits stay on. A reference to a
 * declared entity is then a node we skip, never its text, and an external
 * entity is never opened; predefined entities (&amp;) and character
 * references are decoded as usual.
 *
 * A loc counts when it is a child of an entry (url in a urlset, sitemap in
 * a sitemapindex) that is a child of the root, all in the root's namespace,
 * which must be the sitemaps.org one or none. So image:loc, video:loc and
 * other extension elements are passed over.
 *
 * Errors: the reader stops at the first well-formedness error. A loc
 * still open there is dropped (its text may be cut). The reader parses
 * ahead of the node it hands out (512 bytes at a time in libxml2 2.9) and
 * reports an error as soon as that parse meets it, so locs in the last
 * few hundred bytes before a mid-document error can be lost with it; a
 * document that simply ends early (a body cut at max_body_bytes) keeps
 * every loc that was closed.
 *
 * Owns, for one call: the inflated body (struct buf), the reader (created
 * and freed in read_xml) and the loc text being read. Nothing survives the
 * call; we never call xmlCleanupParser.
 *
 * Invariants: at most max_urls links, the rest counted in n_links_dropped;
 * at most max_inflated_bytes inflated, however large the gzip claims to
 * be; a loc's text is held up to a fixed multiple of max_url_bytes; links
 * are in document order; every string put in out is well-formed UTF-8.
 */
#include "parse/sitemap.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "crawler/buf.h"
#include "crawler/hash.h"
#include "crawler/xalloc.h"
#include "parse/url.h"

#define SITEMAP_NS "http://www.sitemaps.org/schemas/sitemap/0.9"
#define INFLATE_CHUNK_BYTES (64 * 1024)

/* The raw text of a loc may be longer than the URL it normalizes to
 * (%7E becomes ~, a default port goes), but not by more than this factor;
 * longer text is URL_ETOOLONG without asking the URL parser. */
#define LOC_TEXT_FACTOR 4

#define XML_OPTIONS                                                            \
    (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |               \
     XML_PARSE_NOCDATA)

static const char xml_ws[] = " \t\r\n";

/* XML white space (a NUL is not: strchr would find the terminator). */
static int is_ws(char ch)
{
    return ch != '\0' && strchr(xml_ws, ch) != NULL;
}

/* ---- links ---- */

struct collect {
    const struct sitemap_options *opt;
    struct parse_result *out; /* links are appended to it as found */
    size_t links_alloc;
    size_t loc_max; /* longest loc text we look at */
};

static void collect_init(struct collect *c, const struct sitemap_options *opt,
                         struct parse_result *out)
{
    c->opt = opt;
    c->out = out;
    c->links_alloc = 0;
    c->loc_max = opt->max_url_bytes > SIZE_MAX / LOC_TEXT_FACTOR - 16
                     ? SIZE_MAX / 2
                     : opt->max_url_bytes * LOC_TEXT_FACTOR + 16;
}

static void link_push(struct collect *c, char *url, int error, uint32_t flags)
{
    struct parse_result *out = c->out;
    if (out->n_links == c->links_alloc) {
        size_t n = c->links_alloc ? c->links_alloc * 2 : 64;
        if (n > c->opt->max_urls)
            n = c->opt->max_urls;
        out->links = xrealloc(out->links, n * sizeof *out->links);
        c->links_alloc = n;
    }
    struct link *l = &out->links[out->n_links++];
    l->url = url;
    l->hash = error == 0 ? hash64(url, strlen(url)) : 0;
    l->kind = LINK_SITEMAP;
    l->flags = flags;
    l->error = error;
}

/* A copy of UTF-8 text cut to at most max bytes on a character boundary. */
static char *utf8_dup_cut(const char *p, size_t n, size_t max)
{
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
            n--;
    }
    return xmemdup0(p, n);
}

/* Adds the URL in p[0..n) (blanks around it are trimmed; an empty one is no
 * link). keep_errors: a URL that does not normalize is a link with error
 * set (p must then be UTF-8); otherwise it is passed over. Returns 1 when
 * it was a link (kept or counted as dropped), 0 when not. */
static int loc_add(struct collect *c, const char *p, size_t n, uint32_t flags,
                   int keep_errors)
{
    while (n > 0 && is_ws(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_ws(p[n - 1]))
        n--;
    if (n == 0)
        return 0;
    struct parse_result *out = c->out;
    int is_full = out->n_links >= c->opt->max_urls;
    if (is_full && keep_errors) {
        out->n_links_dropped++;
        return 1;
    }
    char *u = NULL;
    int rc;
    if (n > c->loc_max) {
        rc = URL_ETOOLONG;
    } else if (memchr(p, '\0', n)) {
        rc = URL_EINVALID;
    } else {
        char *s = xmemdup0(p, n);
        rc = url_normalize(s, NULL, c->opt->max_url_bytes, &u);
        free(s);
    }
    if (rc != 0 && !keep_errors)
        return 0;
    if (is_full) {
        free(u);
        out->n_links_dropped++;
        return 1;
    }
    if (rc != 0)
        u = utf8_dup_cut(p, n, c->opt->max_url_bytes);
    link_push(c, u, rc, flags);
    return 1;
}

/* ---- gzip ---- */

static int is_gzip(const char *p, size_t n)
{
    return n >= 2 && (unsigned char)p[0] == 0x1F && (unsigned char)p[1] == 0x8B;
}

/* Inflates the gzip stream (or concatenated members) at p into out, whose
 * cap bounds the work: we stop as soon as it is full, so a bomb costs at
 * most the cap. A truncated or corrupt stream leaves what inflated before
 * the break. */
static void inflate_capped(const char *p, size_t n, struct buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return;
    unsigned char *chunk = xmalloc(INFLATE_CHUNK_BYTES);
    const unsigned char *in = (const unsigned char *)p;
    size_t left = n; /* not yet handed to zlib */
    for (;;) {
        if (zs.avail_in == 0 && left > 0) {
            uInt take = left > UINT_MAX ? UINT_MAX : (uInt)left;
            zs.next_in = in;
            zs.avail_in = take;
            in += take;
            left -= take;
        }
        zs.next_out = chunk;
        zs.avail_out = INFLATE_CHUNK_BYTES;
        int zrc = inflate(&zs, Z_NO_FLUSH);
        size_t got = INFLATE_CHUNK_BYTES - zs.avail_out;
        if (buf_append_some(out, chunk, got) < got || out->len == out->max)
            break;
        if (zrc == Z_STREAM_END) {
            /* Another member may follow (gzip allows concatenation). */
            if (zs.avail_in < 2 ||
                !is_gzip((const char *)zs.next_in, zs.avail_in) ||
                inflateReset(&zs) != Z_OK)
                break;
            continue;
        }
        if (zrc != Z_OK)
            break; /* Z_BUF_ERROR: input ran out mid-stream; or corrupt */
    }
    free(chunk);
    inflateEnd(&zs);
}

/* ---- XML ---- */

/* Where the reader is, as far as locs go. */
struct xml_walk {
    const xmlChar *ns; /* the root's namespace (NULL: none); a dict string */
    const char *entry; /* "url" or "sitemap" */
    uint32_t flags;    /* for every link of this document */
    int in_entry;      /* inside an entry element (depth 1) */
    int in_loc;        /* inside its loc (depth 2) */
    struct buf loc;    /* the loc's text so far, capped */
};

static int ns_is_sitemap(const xmlChar *ns)
{
    return ns == NULL || xmlStrEqual(ns, BAD_CAST SITEMAP_NS);
}

static int is_named(xmlTextReaderPtr r, const struct xml_walk *w,
                    const char *local)
{
    const xmlChar *name = xmlTextReaderConstLocalName(r);
    const xmlChar *ns = xmlTextReaderConstNamespaceUri(r);
    return name && xmlStrEqual(name, BAD_CAST local) && xmlStrEqual(ns, w->ns);
}

/* The root decides: a urlset or a sitemapindex in the sitemaps.org
 * namespace (or none), else the document is not a sitemap. */
static int on_root(xmlTextReaderPtr r, struct xml_walk *w)
{
    const xmlChar *name = xmlTextReaderConstLocalName(r);
    const xmlChar *ns = xmlTextReaderConstNamespaceUri(r);
    if (!name || !ns_is_sitemap(ns))
        return PARSE_EFAILED;
    if (xmlStrEqual(name, BAD_CAST "urlset")) {
        w->entry = "url";
        w->flags = 0;
    } else if (xmlStrEqual(name, BAD_CAST "sitemapindex")) {
        w->entry = "sitemap";
        w->flags = LINK_SITEMAP_INDEX;
    } else {
        return PARSE_EFAILED;
    }
    w->ns = ns;
    return 0;
}

static void on_element(xmlTextReaderPtr r, struct xml_walk *w, int depth)
{
    int is_empty = xmlTextReaderIsEmptyElement(r) == 1;
    if (depth == 1) {
        w->in_entry = !is_empty && is_named(r, w, w->entry);
    } else if (depth == 2 && w->in_entry && !is_empty &&
               is_named(r, w, "loc")) {
        w->in_loc = 1;
        buf_reset(&w->loc);
    }
}

/* Text of the loc, leading blanks skipped (so indentation does not use up
 * the cap); what goes over the cap is dropped and makes it too long. */
static void on_text(xmlTextReaderPtr r, struct xml_walk *w)
{
    const char *s = (const char *)xmlTextReaderConstValue(r);
    if (!s)
        return;
    if (w->loc.len == 0)
        s += strspn(s, xml_ws);
    buf_append_some(&w->loc, s, strlen(s));
}

static void on_end(struct collect *c, struct xml_walk *w, int depth)
{
    if (depth == 2 && w->in_loc) {
        w->in_loc = 0;
        loc_add(c, w->loc.data ? w->loc.data : "", w->loc.len, w->flags, 1);
    } else if (depth == 1) {
        w->in_entry = 0;
    }
}

/* Reads the XML document; the reader is the only libxml2 object and is
 * freed here on every path. A loc still open when the reader stops is
 * dropped: its text may be cut. */
static int read_xml(struct collect *c, const char *doc, size_t len,
                    const char *url)
{
    struct xml_walk w;
    int rc = PARSE_EFAILED; /* until a sitemap root is seen */
    memset(&w, 0, sizeof w);
    buf_init(&w.loc, c->loc_max + 1);
    xmlInitParser();
    int n = len > INT_MAX ? INT_MAX : (int)len;
    xmlTextReaderPtr r = xmlReaderForMemory(doc, n, url, NULL, XML_OPTIONS);
    if (!r)
        goto out;
    while (xmlTextReaderRead(r) == 1) {
        int depth = xmlTextReaderDepth(r);
        switch (xmlTextReaderNodeType(r)) {
        case XML_READER_TYPE_ELEMENT:
            if (depth == 0) {
                rc = on_root(r, &w);
                if (rc != 0)
                    goto out;
            } else {
                on_element(r, &w, depth);
            }
            break;
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA:
        case XML_READER_TYPE_WHITESPACE:
        case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
            if (w.in_loc)
                on_text(r, &w);
            break;
        case XML_READER_TYPE_END_ELEMENT:
            on_end(c, &w, depth);
            break;
        default:
            break; /* entity references, comments, PIs: not loc text */
        }
    }
out:
    xmlFreeTextReader(r);
    buf_release(&w.loc);
    return rc;
}

/* ---- text ---- */

/* One URL per line (LF or CRLF), UTF-8. Lines that do not normalize are
 * passed over; a body without a single URL is not a sitemap. */
static int read_text(struct collect *c, const char *p, size_t n)
{
    int has_url = 0;
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t line = nl ? (size_t)(nl - p) : n;
        if (loc_add(c, p, line, 0, 0))
            has_url = 1;
        if (!nl)
            break;
        p += line + 1;
        n -= line + 1;
    }
    return has_url ? 0 : PARSE_EFAILED;
}

/* ---- the entry point ---- */

static int starts_utf8_bom(const char *p, size_t n)
{
    return n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0;
}

/* Markup, by its first character after a BOM and blanks. A UTF-16 BOM is
 * taken as XML: libxml2 decodes it, and text sitemaps must be UTF-8. */
static int is_markup(const char *p, size_t n)
{
    if (n >= 2 &&
        (memcmp(p, "\xFF\xFE", 2) == 0 || memcmp(p, "\xFE\xFF", 2) == 0))
        return 1;
    if (starts_utf8_bom(p, n)) {
        p += 3;
        n -= 3;
    }
    while (n > 0 && is_ws(*p)) {
        p++;
        n--;
    }
    return n > 0 && *p == '<';
}

int sitemap_extract(const char *body, size_t len, const char *url,
                    const struct sitemap_options *opt, struct parse_result *out)
{
    struct collect c;
    struct buf inflated;
    int rc;
    memset(out, 0, sizeof *out);
    collect_init(&c, opt, out);
    buf_init(&inflated, opt->max_inflated_bytes);
    if (!body) {
        body = "";
        len = 0;
    }
    if (is_gzip(body, len)) {
        inflate_capped(body, len, &inflated);
        body = inflated.data ? inflated.data : "";
        len = inflated.len;
    }
    if (is_markup(body, len)) {
        rc = read_xml(&c, body, len, url);
    } else {
        if (starts_utf8_bom(body, len)) {
            body += 3;
            len -= 3;
        }
        rc = read_text(&c, body, len);
    }
    buf_release(&inflated);
    if (rc != 0) {
        /* Not a sitemap: nothing of it is reported. */
        parse_result_release(out);
    }
    out->title = xstrdup("");
    out->canonical = xstrdup("");
    out->refresh = xstrdup("");
    out->text = xstrdup("");
    out->status = (uint32_t)rc;
    return rc;
}
