/*
 * trap: spider-trap rules (see trap.h). Works on the normalized URL text;
 * the path and query are split on '/', '&' and '=' only, which is all the
 * rules need (no decoding: a normalized URL is canonical already).
 */
#include "crawler/trap.h"

#include <string.h>

#include "parse/url.h"

/* How many times the item [s, s+n) occurs in the list of earlier items of
 * the same separator, counted by a scan. trap_check calls it for at most
 * TRAP_SCAN_SEGMENTS segments and TRAP_MAX_QUERY_PARAMS + 1 parameters,
 * so the quadratic scan stays small and needs no allocation. */
static int count_before(const char *start, const char *s, size_t n, char sep,
                        const char *stop)
{
    int count = 0;
    const char *p = start;
    while (p < s) {
        size_t len = strcspn(p, stop);
        const char *end = p + len;
        size_t item = len;
        if (sep == '&') {
            const char *eq = memchr(p, '=', len);
            if (eq)
                item = (size_t)(eq - p);
        }
        if (item == n && memcmp(p, s, n) == 0)
            count++;
        if (*end != sep)
            break;
        p = end + 1;
    }
    return count;
}

const char *trap_check(const char *url, int max_segments)
{
    const char *path = url_path(url);
    const char *query = strchr(path, '?');
    const char *path_end = query ? query : path + strlen(path);
    int n_segments = 0;
    for (const char *p = path + 1; p < path_end;) {
        size_t len = strcspn(p, "/?");
        if (len > 0) {
            n_segments++;
            /* Stopping at the limits keeps the quadratic scan small
             * whatever --max-url-length allows. */
            if (max_segments > 0 && n_segments > max_segments)
                return "path segments";
            if (n_segments <= TRAP_SCAN_SEGMENTS &&
                count_before(path + 1, p, len, '/', "/?") >=
                    TRAP_MAX_SEGMENT_REPEATS)
                return "repeated segments";
        }
        p += len + 1;
    }
    if (!query)
        return NULL;
    int n_params = 0;
    for (const char *p = query + 1; *p;) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t name = eq ? (size_t)(eq - p) : len;
        if (len > 0) {
            n_params++;
            if (count_before(query + 1, p, name, '&', "&") >=
                TRAP_MAX_PARAM_REPEATS)
                return "repeated parameters";
            if (n_params > TRAP_MAX_QUERY_PARAMS)
                return "query parameters";
        }
        if (!p[len])
            break;
        p += len + 1;
    }
    return NULL;
}
