/*
 * sitemap: the <loc> URLs of an XML sitemap (sitemaps.org protocol), a
 * sitemap index, or a plain-text sitemap, possibly gzip-compressed.
 *
 * Runs in the parser process. XML is read with libxml2's streaming reader
 * with the network, DTD loading and entity substitution all off, so a
 * document can neither fetch anything nor expand into more than its own
 * bytes. Every size that input drives has a cap in struct sitemap_options.
 */
#ifndef PARSE_SITEMAP_H
#define PARSE_SITEMAP_H

#include <stddef.h>

#include "crawler/msg.h"

/* An entry of a <sitemapindex>: the URL is another sitemap. (LINK_NOFOLLOW
 * is 0x1u in msg.h.) */

/* The protocol's own limits (sitemaps.org): per file, 50,000 URLs and
 * 50 MiB uncompressed. */
#define SITEMAP_MAX_URLS 50000
#define SITEMAP_MAX_INFLATED_BYTES ((size_t)50 * 1024 * 1024)

struct sitemap_options {
    size_t max_urls;           /* links kept; the rest are counted */
    size_t max_url_bytes;      /* longer URLs are links with URL_ETOOLONG */
    size_t max_inflated_bytes; /* a gzip body is inflated up to this much */
};

/* Fills *out (released with parse_result_release, see crawler/msg.h) with
 * the <loc> URLs of a sitemap document: links of kind LINK_SITEMAP, in
 * document order; entries of a <sitemapindex> also carry the flag
 * LINK_SITEMAP_INDEX. A loc must be an absolute URL; one that does not
 * normalize is kept as its text (cut to max_url_bytes) with error set to
 * the url_error. In a text sitemap (one URL per line), only lines that
 * normalize are links.
 *
 * body is borrowed for the call (may be NULL when len is 0); url is the
 * sitemap's own URL, used only by libxml2's diagnostics (may be NULL).
 *
 * Returns 0, or PARSE_EFAILED when the document is not a sitemap (out is
 * then empty but valid): XML whose root is not a urlset or sitemapindex in
 * the sitemaps.org namespace (or none), XML that breaks before its root,
 * or a text body without one URL (empty and binary bodies included).
 * out->status is set to the same value. A sitemap
 * cut short (truncated, or inflated past the cap) keeps the locs closed
 * before the cut and returns 0; at a well-formedness error in the middle,
 * locs in libxml2's read-ahead window (up to 512 bytes) before it may be
 * lost too (see sitemap.c). */
int sitemap_extract(const char *body, size_t len, const char *url,
                    const struct sitemap_options *opt,
                    struct parse_result *out);

#endif
