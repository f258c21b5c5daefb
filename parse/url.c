/*
 * url: resolve and normalize with curl_url (see url.h).
 *
 * libcurl does the parsing, reference resolution and dot-segment removal;
 * this file adds what the URL API leaves to its caller: WHATWG-style
 * cleaning of the input, lower-casing the host, canonical percent-encoding
 * of path and query, and a memo of results (struct url_memo).
 */
#include "parse/url.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crawler/buf.h"
#include "crawler/hash.h"
#include "crawler/imap.h"
#include "crawler/xalloc.h"

/* How much of the base a reference's resolution depends on (RFC 3986
 * 5.2.2): none (a URL of its own), the scheme ("//host/x"), the origin
 * ("/x"), or the directory: scheme, authority and path up to its last '/',
 * where a relative path is merged. */
enum memo_scope { MEMO_ANY, MEMO_SCHEME, MEMO_ORIGIN, MEMO_DIR, MEMO_N_SCOPES };

struct url_base {
    CURLU *h;
    /* What a same-document reference resolves to, worked out on first
     * use (see resolve_self). */
    int is_self_known;
    int has_host;
    int self_rc;
    char *self; /* when self_rc is 0: the base, normalized, without a cap */
    struct url_memo *memo; /* borrowed, or NULL */
    /* The base as libcurl holds it, up to the last '/' of its path, on
     * first use of the memo (base_keys); its prefixes key the memo. */
    char *dir;
    size_t key_len[MEMO_N_SCOPES];
    uint64_t key_hash[MEMO_N_SCOPES];
};

/* One remembered resolution: key is the part of the base the result
 * depends on (memo_scope), a NUL, the reference. */
struct memo_entry {
    char *key;
    size_t key_len;
    int rc;
    char *url; /* when rc is 0: normalized, without a cap */
};

struct url_memo {
    struct imap entries; /* hash of the key -> struct memo_entry */
};

static int is_c0_or_space(unsigned char c)
{
    return c <= 0x20;
}

/* ref past the leading C0 controls and spaces that clean_ref strips. */
static const char *skip_c0_or_space(const char *ref)
{
    while (*ref && is_c0_or_space((unsigned char)*ref))
        ref++;
    return ref;
}

/* Strips, removes tab/newlines, turns backslashes before the query into
 * slashes and encodes spaces and other bytes curl would reject. */
static char *clean_ref(const char *ref)
{
    ref = skip_c0_or_space(ref);
    size_t n = strlen(ref);
    while (n && is_c0_or_space((unsigned char)ref[n - 1]))
        n--;
    char *out = xmalloc(n * 3 + 1);
    size_t o = 0;
    int in_query = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)ref[i];
        if (c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c == '?' || c == '#')
            in_query = 1;
        if (c == '\\' && !in_query)
            c = '/';
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' ||
            c == '`' || c == '{' || c == '}' || c == '|' || c == '^') {
            static const char hex[] = "0123456789ABCDEF";
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
            continue;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

int url_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int url_is_unreserved(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Decodes %XX of unreserved characters, upper-cases the rest, and encodes
 * a stray '%' that starts no escape. In place is not possible (a stray '%'
 * grows), so it appends to out. */
static void canonical_escapes(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    while (*s) {
        size_t k = strcspn(s, "%");
        buf_append(out, s, k); /* up to the next '%' as it is */
        s += k;
        if (!*s)
            break;
        int hi = url_hexval((unsigned char)s[1]);
        int lo = hi < 0 ? -1 : url_hexval((unsigned char)s[2]);
        if (lo < 0) {
            buf_append(out, "%25", 3);
            s++;
            continue;
        }
        int c = hi * 16 + lo;
        if (url_is_unreserved(c)) {
            char ch = (char)c;
            buf_append(out, &ch, 1);
        } else {
            char esc[3] = {'%', hex[hi], hex[lo]};
            buf_append(out, esc, 3);
        }
        s += 3;
    }
}

static int is_http_scheme(const char *scheme)
{
    return strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0;
}

static int scheme_ok(CURLU *h)
{
    char *scheme = NULL;
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        return 0;
    int ok = is_http_scheme(scheme);
    curl_free(scheme);
    return ok;
}

/* Builds the normalized string from a parsed handle, without a cap
 * (capped_result applies it). */
static int assemble(CURLU *h, char **out)
{
    int rc = URL_EINVALID;
    char *host = NULL, *path = NULL, *query = NULL, *port = NULL;
    char *scheme = NULL;
    struct buf b;
    buf_init(&b, (size_t)-1 / 2);
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        !is_http_scheme(scheme)) {
        rc = URL_ESCHEME;
        goto out;
    }
    /* A host in Unicode goes in its ASCII form (IDNA), the one DNS and
     * the fetch know, and its case folded; one that has none is invalid. */
    if (curl_url_get(h, CURLUPART_HOST, &host, CURLU_PUNYCODE) != CURLUE_OK ||
        !*host)
        goto out;
    if (curl_url_get(h, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT) !=
        CURLUE_OK)
        port = NULL;
    if (curl_url_get(h, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(h, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
        query = NULL;
    for (char *p = host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    buf_append_str(&b, scheme);
    buf_append_str(&b, "://");
    buf_append_str(&b, host);
    if (port) {
        buf_append_str(&b, ":");
        buf_append_str(&b, port);
    }
    canonical_escapes(&b, *path ? path : "/");
    if (query) {
        buf_append_str(&b, "?");
        canonical_escapes(&b, query);
    }
    rc = 0;
    *out = buf_detach(&b, NULL);
out:
    buf_release(&b);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    return rc;
}

/* A reference that names a scheme (RFC 3986 "scheme:") other than http(s)
 * is refused before parsing: mailto: or javascript: have no host and would
 * otherwise read as invalid rather than as unsupported. */
static int foreign_scheme(const char *s)
{
    size_t n = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    while (s[n] && (isalnum((unsigned char)s[n]) || s[n] == '+' ||
                    s[n] == '-' || s[n] == '.'))
        n++;
    if (s[n] != ':')
        return 0;
    return !((n == 4 && strncasecmp(s, "http", 4) == 0) ||
             (n == 5 && strncasecmp(s, "https", 5) == 0));
}

static int h_has_url(CURLU *h)
{
    char *host = NULL;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        return 0;
    curl_free(host);
    return 1;
}

static int parse_into(CURLU *h, const char *ref)
{
    char *clean = clean_ref(ref);
    if (foreign_scheme(clean)) {
        free(clean);
        return URL_ESCHEME;
    }
    CURLUcode uc;
    /* libcurl 7.88 resolves a query-only reference against the base's
     * directory rather than its path (RFC 3986 5.2.2 keeps the path). */
    if (clean[0] == '?' && h_has_url(h)) {
        char *q = xstrdup(clean + 1);
        q[strcspn(q, "#")] = '\0';
        uc = curl_url_set(h, CURLUPART_QUERY, q, 0);
        free(q);
    } else if ((clean[0] == '#' || clean[0] == '\0') && h_has_url(h)) {
        /* An empty reference is the document itself (RFC 3986 5.2.2). */
        uc = CURLUE_OK;
    } else {
        uc = curl_url_set(h, CURLUPART_URL, clean, CURLU_NON_SUPPORT_SCHEME);
    }
    free(clean);
    if (uc == CURLUE_UNSUPPORTED_SCHEME)
        return URL_ESCHEME;
    if (uc == CURLUE_OK)
        curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0);
    return uc == CURLUE_OK ? 0 : URL_EINVALID;
}

struct url_base *url_base_new(const char *base, struct url_memo *memo)
{
    CURLU *h = curl_url();
    if (!h)
        abort();
    if (parse_into(h, base) < 0 || !scheme_ok(h)) {
        curl_url_cleanup(h);
        return NULL;
    }
    struct url_base *b = xcalloc(1, sizeof *b);
    b->h = h;
    b->memo = memo;
    return b;
}

void url_base_free(struct url_base *b)
{
    if (!b)
        return;
    curl_url_cleanup(b->h);
    free(b->self);
    free(b->dir);
    free(b);
}

struct url_memo *url_memo_new(void)
{
    struct url_memo *m = xcalloc(1, sizeof *m);
    imap_init(&m->entries);
    return m;
}

static void memo_release(struct url_memo *m)
{
    size_t i = 0;
    struct memo_entry *e;
    while ((e = imap_next(&m->entries, &i, NULL))) {
        free(e->key);
        free(e->url);
        free(e);
    }
    imap_release(&m->entries);
}

void url_memo_free(struct url_memo *m)
{
    if (!m)
        return;
    memo_release(m);
    free(m);
}

size_t url_memo_len(const struct url_memo *m)
{
    return m->entries.len;
}

static int is_slash(char c)
{
    return c == '/' || c == '\\'; /* clean_ref turns one into the other */
}

/* The scope of ref, or -1 when the memo is no use for it: an empty or
 * fragment reference is the base itself (resolve_self), and a query-only
 * one keeps the base's path. Where the cleaned reference could be read
 * more than one way (a tab inside "//", "http:x"), the scope is the
 * narrowest, MEMO_DIR. */
static int memo_scope(const char *ref)
{
    ref = skip_c0_or_space(ref);
    if (*ref == '\0' || *ref == '#' || *ref == '?')
        return -1;
    if (is_slash(ref[0]))
        return is_slash(ref[1]) ? MEMO_SCHEME : MEMO_ORIGIN;
    if (foreign_scheme(ref))
        return MEMO_ANY;
    size_t n = strspn(ref, "HTPShtps");
    if ((n == 4 || n == 5) && strncasecmp(ref, "https", n) == 0 &&
        strncmp(ref + n, "://", 3) == 0)
        return MEMO_ANY;
    return MEMO_DIR;
}

/* Fills b's memo keys from the base as libcurl holds it. libcurl 7.88
 * resolves a relative reference by cutting this same string (after "://",
 * at the path, at the last '/' before the query), so each prefix is what a
 * scope's results depend on. 0, or -1 when it has no path (the memo is not
 * used). */
static int base_keys(struct url_base *b)
{
    if (b->dir)
        return 0;
    char *u = NULL;
    if (curl_url_get(b->h, CURLUPART_URL, &u, 0) != CURLUE_OK)
        return -1;
    const char *auth = strstr(u, "://");
    const char *path = auth ? strchr(auth + 3, '/') : NULL;
    if (!path) {
        curl_free(u);
        return -1;
    }
    size_t end = (size_t)(path - u) + strcspn(path, "?");
    while (u[end - 1] != '/')
        end--;
    b->dir = xmemdup0(u, end);
    b->key_len[MEMO_ANY] = 0;
    b->key_len[MEMO_SCHEME] = (size_t)(auth - u) + 1; /* "http:" */
    b->key_len[MEMO_ORIGIN] = (size_t)(path - u);
    b->key_len[MEMO_DIR] = end;
    for (int i = 0; i < MEMO_N_SCOPES; i++)
        b->key_hash[i] = (uint64_t)hash64(u, b->key_len[i]);
    curl_free(u);
    return 0;
}

/* The entry for ref in scope, or NULL; *h is its key's hash. */
static struct memo_entry *memo_find(struct url_base *b, int scope,
                                    const char *ref, size_t ref_len,
                                    uint64_t *h)
{
    size_t n = b->key_len[scope];
    *h = hash_mix64(b->key_hash[scope] ^ (uint64_t)hash64(ref, ref_len));
    struct memo_entry *e = imap_get(&b->memo->entries, *h);
    if (e && e->key_len == n + 1 + ref_len && memcmp(e->key, b->dir, n) == 0 &&
        e->key[n] == '\0' && memcmp(e->key + n + 1, ref, ref_len) == 0)
        return e;
    return NULL;
}

static void memo_add(struct url_base *b, int scope, uint64_t h, const char *ref,
                     size_t ref_len, int rc, const char *url)
{
    struct url_memo *m = b->memo;
    if (b->key_len[scope] + ref_len > URL_MEMO_BYTES ||
        (url && strlen(url) > URL_MEMO_BYTES))
        return;
    if (m->entries.len >= URL_MEMO_MAX) {
        memo_release(m);
        imap_init(&m->entries);
    }
    struct memo_entry *old = imap_get(&m->entries, h);
    if (old) { /* a different key with the same hash: the newer wins */
        free(old->key);
        free(old->url);
        free(old);
    }
    size_t n = b->key_len[scope];
    struct memo_entry *e = xcalloc(1, sizeof *e);
    e->key_len = n + 1 + ref_len;
    e->key = xmalloc(e->key_len + 1);
    memcpy(e->key, b->dir, n);
    e->key[n] = '\0';
    memcpy(e->key + n + 1, ref, ref_len + 1);
    e->rc = rc;
    e->url = rc == 0 ? xstrdup(url) : NULL;
    imap_put(&m->entries, h, e);
}

/* A result kept without a cap (the memo's, resolve_self's) as
 * url_resolve returns it: capped at max_len, and a copy. */
static int capped_result(int rc, const char *url, size_t max_len, char **out)
{
    if (rc == 0 && strlen(url) > max_len)
        return URL_ETOOLONG;
    if (rc == 0)
        *out = xstrdup(url);
    return rc;
}

/* "", "#top": a reference to the document itself, once cleaned. */
static int is_same_document(const char *ref)
{
    ref = skip_c0_or_space(ref);
    return *ref == '#' || *ref == '\0';
}

/* What parse_into and assemble make of a same-document reference, worked
 * out once per base (pages link to "#top" and the like a lot). Returns 1
 * with the result in *rc (and *out), or 0 when the base has no host:
 * parse_into then reads the reference as a URL of its own. */
static int resolve_self(struct url_base *b, size_t max_len, char **out, int *rc)
{
    if (!b->is_self_known) {
        b->is_self_known = 1;
        b->has_host = h_has_url(b->h);
        if (!b->has_host)
            return 0;
        CURLU *h = curl_url_dup(b->h);
        if (!h)
            abort();
        b->self_rc = parse_into(h, "");
        if (b->self_rc == 0)
            b->self_rc = assemble(h, &b->self);
        curl_url_cleanup(h);
    }
    if (!b->has_host)
        return 0;
    *rc = capped_result(b->self_rc, b->self, max_len, out);
    return 1;
}

int url_resolve(struct url_base *base, const char *ref, size_t max_len,
                char **out)
{
    /* A reference far over the cap cannot shrink below it: skip the work. */
    size_t ref_len = strlen(ref);
    if (ref_len > max_len * 4 + 64)
        return URL_ETOOLONG;
    int rc;
    if (base && is_same_document(ref) && resolve_self(base, max_len, out, &rc))
        return rc;
    int scope = base && base->memo ? memo_scope(ref) : -1;
    int is_memo = scope >= 0 && base_keys(base) == 0;
    uint64_t key = 0;
    if (is_memo) {
        const struct memo_entry *e = memo_find(base, scope, ref, ref_len, &key);
        if (e)
            return capped_result(e->rc, e->url, max_len, out);
    }
    CURLU *h = base ? curl_url_dup(base->h) : curl_url();
    if (!h)
        abort();
    rc = parse_into(h, ref);
    char *url = NULL;
    if (rc == 0)
        rc = assemble(h, &url);
    curl_url_cleanup(h);
    if (is_memo)
        memo_add(base, scope, key, ref, ref_len, rc, url);
    if (rc == 0 && strlen(url) > max_len)
        rc = URL_ETOOLONG;
    if (rc == 0)
        *out = url;
    else
        free(url);
    return rc;
}

int url_normalize(const char *ref, const char *base, size_t max_len, char **out)
{
    struct url_base *b = NULL;
    if (base) {
        b = url_base_new(base, NULL);
        if (!b)
            return URL_EINVALID;
    }
    int rc = url_resolve(b, ref, max_len, out);
    url_base_free(b);
    return rc;
}

size_t url_origin_len(const char *u)
{
    const char *p = strstr(u, "://");
    if (!p)
        return 0;
    p += 3;
    p += strcspn(p, "/?");
    return (size_t)(p - u);
}

const char *url_host(const char *u, size_t *len)
{
    const char *p = strstr(u, "://");
    if (!p) {
        *len = 0;
        return u;
    }
    p += 3;
    size_t n;
    if (*p == '[')
        n = strcspn(p, "]") + 1;
    else
        n = strcspn(p, ":/?");
    *len = n;
    return p;
}

const char *url_path(const char *u)
{
    const char *p = u + url_origin_len(u);
    return *p ? p : "/";
}

/* Sorted for bsearch; lower case, at most FILE_EXT_MAX bytes. */
#define FILE_EXT_MAX 5
static const char *const file_exts[] = {
    "7z",   "aac",  "apk",  "avi",   "avif", "bmp",  "bz2",  "css",  "csv",
    "deb",  "dmg",  "doc",  "docx",  "eot",  "epub", "exe",  "flac", "gif",
    "gz",   "ico",  "iso",  "jpeg",  "jpg",  "js",   "m4a",  "m4v",  "mjs",
    "mkv",  "mov",  "mp3",  "mp4",   "mpeg", "mpg",  "msi",  "odp",  "ods",
    "odt",  "oga",  "ogg",  "ogv",   "otf",  "pdf",  "png",  "ppt",  "pptx",
    "rar",  "rpm",  "svg",  "tar",   "tgz",  "tif",  "tiff", "ttf",  "wav",
    "webm", "webp", "woff", "woff2", "xls",  "xlsx", "xz",   "zip",  "zst",
};

static int ext_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

int url_is_file(const char *normalized)
{
    const char *path = url_path(normalized);
    size_t n = strcspn(path, "?#");
    const char *dot = NULL;
    for (size_t i = n; i > 0 && path[i - 1] != '/'; i--)
        if (path[i - 1] == '.') {
            dot = path + i;
            break;
        }
    size_t len = dot ? (size_t)(path + n - dot) : 0;
    if (len == 0 || len > FILE_EXT_MAX)
        return 0;
    char ext[FILE_EXT_MAX + 1];
    for (size_t i = 0; i < len; i++)
        ext[i] = (char)tolower((unsigned char)dot[i]);
    ext[len] = '\0';
    return bsearch(ext, file_exts, sizeof file_exts / sizeof *file_exts,
                   sizeof *file_exts, ext_cmp) != NULL;
}

const char *url_strerror(int rc)
{
    switch (rc) {
    case 0:
        return "ok";
    case URL_EINVALID:
        return "not a valid URL";
    case URL_ESCHEME:
        return "unsupported scheme (only http and https are crawled)";
    case URL_ETOOLONG:
        return "URL too long";
    default:
        return "unknown URL error";
    }
}
