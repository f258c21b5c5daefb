/*
 * html: link, title and text extraction from an HTML document with
 * libxml2's HTML parser in SAX (streaming) mode. No DOM is built.
 *
 * Runs in the parser process (and in `crawler extract`). Extracts links from
 * a, area, link, frame and iframe (rel=nofollow kept as a flag), honours
 * <base href>, reads <meta name=robots> (noindex, nofollow, none), <meta
 * http-equiv=refresh>, <link rel=canonical> and <title>, and keeps a bounded
 * excerpt of visible text (not script, style or other non-rendered
 * content) with whitespace collapsed. Every link is resolved against the
 * document base and normalized by url_resolve. The charset comes from the
 * Content-Type header when it names one, otherwise from the document
 * (<meta charset>, http-equiv, BOM); output strings are valid UTF-8.
 */
#ifndef PARSE_HTML_H
#define PARSE_HTML_H

#include <stddef.h>

#include "crawler/msg.h"

struct url_memo; /* parse/url.h */

/* The crawl's defaults for html_options. */
#define HTML_MAX_LINKS_DEFAULT 5000
#define HTML_MAX_TEXT_BYTES_DEFAULT (64 * 1024)

struct html_options {
    size_t max_links;      /* links kept per page; the rest are counted */
    size_t max_text_bytes; /* visible text kept for full-text search */
    size_t max_url_bytes;  /* longer URLs are links with URL_ETOOLONG */
    struct url_memo *memo; /* borrowed: kept across documents, or NULL */
    int no_text_marks;     /* libxml2 reads all text itself: slower, the
                              same result (html.c, "text libxml2 does not
                              walk"); for tests */
};

/* Fills *out (released with parse_result_release) from the document. url is
 * the document's URL; content_type is the header value as served (may be
 * NULL or ""). Returns 0, or PARSE_EBINARY when the bytes are not markup
 * (out is then empty but valid). out->status is set to the same value. */
int html_extract(const char *body, size_t len, const char *url,
                 const char *content_type, const struct html_options *opt,
                 struct parse_result *out);

/* META_NOINDEX and META_NOFOLLOW from a robots directive list, as in
 * <meta name=robots content=...> or an X-Robots-Tag header: tokens
 * separated by commas or spaces, any case, "none" meaning both. */
unsigned html_robots_directives(const char *content);

#endif
