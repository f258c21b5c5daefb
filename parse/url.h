/*
 * url: resolution and normalization of URLs with libcurl's URL API.
 *
 * Runs in the parser (links) and the coordinator (seeds, redirects). A
 * normalized URL is absolute http(s), scheme and host lower-case, default
 * port dropped, dot segments removed, fragment dropped, percent-encoding
 * canonical (unreserved characters decoded, hex digits upper-case), and at
 * most max_len bytes. Two spellings of one resource normalize to one string,
 * which is what the URL-seen test compares (by hash).
 *
 * Before parsing, an href is cleaned as the WHATWG URL Standard does for
 * special schemes: leading and trailing C0 controls and spaces stripped, tab
 * and newlines removed, backslashes taken as slashes (before the query),
 * and spaces percent-encoded.
 */
#ifndef PARSE_URL_H
#define PARSE_URL_H

#include <stddef.h>

#define URL_MAX_DEFAULT 2048

enum url_error {
    URL_EINVALID = -1101, /* not a URL (or an unresolvable reference) */
    URL_ESCHEME = -1102,  /* a scheme other than http or https */
    URL_ETOOLONG = -1103, /* longer than max_len once normalized */
};

/* Resolutions remembered across bases: pages of one directory share most
 * of their links ("/", "index.html", the stylesheet), and libcurl takes
 * ~15,000 instructions a resolution. Holds at most URL_MEMO_MAX entries
 * (forgets them all when full), each of a reference and a result of at
 * most URL_MEMO_BYTES (longer ones are not remembered). Owned by its
 * creator; freed with url_memo_free after every base that uses it. */
#define URL_MEMO_MAX 8192
#define URL_MEMO_BYTES 512
struct url_memo;
struct url_memo *url_memo_new(void);
void url_memo_free(struct url_memo *m);
/* Entries held now. */
size_t url_memo_len(const struct url_memo *m);

/* A parsed base URL to resolve many references against. */
struct url_base;

/* NULL when base is not a valid absolute http(s) URL. Resolutions go
 * through memo (borrowed) unless it is NULL. */
struct url_base *url_base_new(const char *base, struct url_memo *memo);
void url_base_free(struct url_base *b);

/* Resolves ref (an href or a full URL) against base (NULL: ref must be
 * absolute) and normalizes it. On success *out is the new URL (caller
 * frees) and the result is 0; otherwise a url_error and *out is untouched.
 * The base keeps what a same-document reference ("#top") resolves to. */
int url_resolve(struct url_base *base, const char *ref, size_t max_len,
                char **out);
/* The same with a base given as a string (NULL for none). */
int url_normalize(const char *ref, const char *base, size_t max_len,
                  char **out);

/* Length of "scheme://host[:port]" at the start of a normalized URL. */
size_t url_origin_len(const char *normalized);
/* Start and length of the host name in a normalized URL (no brackets for
 * IPv6 literals are removed: the host is as it appears in the URL). */
const char *url_host(const char *normalized, size_t *len);
/* The path and query of a normalized URL ("/" at least). Borrowed. */
const char *url_path(const char *normalized);

/* 1 when the last segment of a normalized URL's path ends in the
 * extension of a file that is not a web page (an image, a document, audio
 * or video, an archive, a font, a style sheet or a script), else 0. The
 * frontier fetches such URLs after a host's pages. */
int url_is_file(const char *normalized);

const char *url_strerror(int rc);

/* The value of a hex digit, or -1. */
int url_hexval(int c);
/* RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
int url_is_unreserved(int c);

#endif
