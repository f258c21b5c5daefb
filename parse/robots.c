/*
 * robots: robots.txt parsing and matching as RFC 9309 says (see robots.h).
 *
 * Runs in the coordinator and in `crawler robots`. A struct robots owns the
 * rules of the groups that apply to one product token, the crawl delay of
 * those groups and every Sitemap: line; nothing else of the file is kept.
 *
 * Parsing is one pass over at most ROBOTS_MAX_BYTES, line by line (CR, LF
 * or CRLF; a UTF-8 BOM at the start skipped; '#' to the end of the line is
 * a comment; keys case-insensitive, whitespace around the colon optional).
 * Lines without a colon, with an unknown key, with a NUL byte or longer
 * than MAX_LINE_BYTES are ignored and do not end a group. A user-agent line
 * after a rule (allow, disallow, crawl-delay) starts a new group; rules
 * before the first user-agent line belong to no group and are dropped.
 * Sitemap lines belong to no group and never split one. When the file is
 * cut at ROBOTS_MAX_BYTES, the partial last line is dropped rather than
 * read as a shorter (and maybe looser) rule.
 *
 * Percent-encoding. RFC 9309 2.2.2 has both sides percent-encoded (octets
 * outside US-ASCII and in the RFC 3986 reserved set) before comparing, and
 * its examples decode %62%61%7A to "baz" and let %2A and %24 stand for a
 * literal '*' and '$'. Since that canonical encoding is one-to-one with the
 * decoded octets, we compare decoded octets instead: every valid %XX in the
 * pattern and in the path is decoded (a '%' not followed by two hex digits
 * is a literal '%'), raw UTF-8 in the file compares equal to its %XX form
 * in the URL, hex case does not matter, and "%2F" equals "/". In a pattern,
 * '*' and a final '$' are recognized before decoding, so "%2A" and "%24"
 * are literal characters. Path comparison is case-sensitive.
 *
 * Specificity. The most specific rule is the one with the most octets
 * (2.2.2). We count the octets of the pattern in canonical form: unreserved
 * characters (escaped or not) and literal reserved characters count 1, any
 * other octet counts 3 (its %XX form), and each '*' and the final '$' count
 * 1. So "/ä", "/%c3%a4" and "/%C3%A4" weigh the same; "/a/b" and "/a%2Fb"
 * match the same paths but weigh 4 and 6.
 *
 * Invariants:
 *  1. r->rules holds only rules of the applicable groups (those naming our
 *     token, else the '*' groups), non-empty patterns, at most MAX_RULES.
 *  2. r->rules is sorted so the first matching rule decides: specificity
 *     descending, Allow before Disallow on equal specificity, then file
 *     order.
 *  3. Matching a rule costs O(pattern + path): segments between '*' are
 *     matched leftmost-first with memmem (two-way, linear), which is exact
 *     for patterns whose only wildcard is '*'; no backtracking.
 */
#define _GNU_SOURCE /* memmem */
#include "parse/robots.h"

#include <stdlib.h>
#include <string.h>

#include "crawler/xalloc.h"
#include "parse/url.h"

#define MAX_RULES 10000 /* per set (our token, '*') */
#define MAX_SITEMAPS 1000
#define MAX_LINE_BYTES 8192
#define MAX_DELAY_MS (86400LL * 1000) /* the coordinator caps it further */
#define PATH_STACK_BYTES 2048

enum rule_set {
    SET_OURS = 1,
    SET_STAR = 2,
};

struct robots_rule {
    void *mem;                /* one block: seg_end, lit, text; owned */
    const uint32_t *seg_end;  /* seg_end[k]: end of segment k in lit */
    const unsigned char *lit; /* decoded bytes of every segment */
    const char *text;         /* "Disallow: /x" */
    uint32_t n_segs;          /* runs of '*' + 1 */
    uint32_t specificity;
    uint32_t order;
    unsigned char is_allow;
    unsigned char is_anchored; /* the pattern ended with '$' */
    unsigned char sets;        /* enum rule_set bits, while parsing */
};

struct robots {
    struct robots_rule *rules;
    size_t n_rules;
    size_t alloc_rules;
    int64_t crawl_delay_ms;
    char **sitemaps;
    size_t n_sitemaps;
    size_t alloc_sitemaps;
};

struct parser {
    struct robots *r;
    const char *token; /* our product token */
    size_t token_len;
    int has_group;    /* a user-agent line was seen */
    int in_agent_run; /* no rule since the last user-agent line */
    int cur_sets;     /* enum rule_set bits of the current group */
    int found_sets;   /* enum rule_set bits of every group seen */
    size_t n_ours;
    size_t n_star;
    int64_t delay_ours;
    int64_t delay_star;
    uint32_t order;
};

enum key {
    KEY_UNKNOWN,
    KEY_USER_AGENT,
    KEY_ALLOW,
    KEY_DISALLOW,
    KEY_CRAWL_DELAY,
    KEY_SITEMAP,
};

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static int is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == '-';
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII-only so the result never depends on the locale. */
static int equal_nocase(const char *a, size_t na, const char *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int is_reserved(int c)
{
    return c != '\0' && strchr(":/?#[]@!$&'()*+,;=", c) != NULL;
}

/* Reads one octet at s[i] (a valid %XX escape or a literal byte) into *out;
 * returns the bytes used (3 or 1) and sets *is_escaped. */
static size_t decode_at(const char *s, size_t n, size_t i, unsigned char *out,
                        int *is_escaped)
{
    if (s[i] == '%' && i + 2 < n) {
        int hi = url_hexval((unsigned char)s[i + 1]);
        int lo = url_hexval((unsigned char)s[i + 2]);
        if (hi >= 0 && lo >= 0) {
            *out = (unsigned char)(hi * 16 + lo);
            *is_escaped = 1;
            return 3;
        }
    }
    *out = (unsigned char)s[i];
    *is_escaped = 0;
    return 1;
}

/* Octets of one pattern octet in canonical form (see the file comment). */
static uint32_t octet_weight(unsigned char b, int is_escaped)
{
    if (url_is_unreserved(b))
        return 1;
    if (!is_escaped && is_reserved(b))
        return 1;
    return 3;
}

/* Scans a pattern body (without its final '$'): counts segments, decoded
 * bytes and weight, and fills lit and seg_end when they are not NULL. */
static void pattern_scan(const char *pat, size_t n, unsigned char *lit,
                         uint32_t *seg_end, uint32_t *n_segs, size_t *n_lit,
                         uint32_t *weight)
{
    uint32_t segs = 1, w = 0;
    size_t o = 0;
    int prev_star = 0;
    for (size_t i = 0; i < n;) {
        if (pat[i] == '*') {
            w++;
            if (!prev_star) {
                if (seg_end)
                    seg_end[segs - 1] = (uint32_t)o;
                segs++;
            }
            prev_star = 1;
            i++;
            continue;
        }
        unsigned char b;
        int is_escaped;
        i += decode_at(pat, n, i, &b, &is_escaped);
        w += octet_weight(b, is_escaped);
        if (lit)
            lit[o] = b;
        o++;
        prev_star = 0;
    }
    if (seg_end)
        seg_end[segs - 1] = (uint32_t)o;
    *n_segs = segs;
    *n_lit = o;
    *weight = w;
}

/* Compiles pattern pat (non-empty) into rule. The rule is shown as the
 * normalized key, then pat as written, then note. */
static void rule_compile(struct robots_rule *rule, int is_allow,
                         const char *pat, size_t n, const char *note)
{
    const char *key = is_allow ? "Allow: " : "Disallow: ";
    size_t key_len = strlen(key), note_len = strlen(note);
    size_t text_len = key_len + n + note_len;
    int is_anchored = n > 0 && pat[n - 1] == '$';
    size_t body = is_anchored ? n - 1 : n;
    uint32_t n_segs, weight;
    size_t n_lit;
    pattern_scan(pat, body, NULL, NULL, &n_segs, &n_lit, &weight);

    size_t seg_bytes = (size_t)n_segs * sizeof(uint32_t);
    char *mem = xmalloc(seg_bytes + n_lit + text_len + 1);
    uint32_t *seg_end = (uint32_t *)(void *)mem;
    unsigned char *lit = (unsigned char *)mem + seg_bytes;
    char *shown = mem + seg_bytes + n_lit;
    pattern_scan(pat, body, lit, seg_end, &n_segs, &n_lit, &weight);
    memcpy(shown, key, key_len);
    memcpy(shown + key_len, pat, n);
    memcpy(shown + key_len + n, note, note_len);
    shown[text_len] = '\0';

    rule->mem = mem;
    rule->seg_end = seg_end;
    rule->lit = lit;
    rule->text = shown;
    rule->n_segs = n_segs;
    rule->specificity = weight + (is_anchored ? 1 : 0);
    rule->order = 0;
    rule->is_allow = (unsigned char)(is_allow ? 1 : 0);
    rule->is_anchored = (unsigned char)is_anchored;
    rule->sets = 0;
}

static int rule_matches(const struct robots_rule *rule, const unsigned char *p,
                        size_t n)
{
    size_t len0 = rule->seg_end[0];
    if (n < len0 || memcmp(p, rule->lit, len0) != 0)
        return 0;
    if (rule->n_segs == 1)
        return rule->is_anchored ? n == len0 : 1;
    size_t pos = len0;
    uint32_t last = rule->n_segs - 1;
    for (uint32_t k = 1; k < last; k++) {
        size_t s = rule->seg_end[k - 1];
        size_t len = rule->seg_end[k] - s;
        const unsigned char *hit = memmem(p + pos, n - pos, rule->lit + s, len);
        if (!hit)
            return 0;
        pos = (size_t)(hit - p) + len;
    }
    size_t s = rule->seg_end[last - 1];
    size_t len = rule->seg_end[last] - s;
    if (rule->is_anchored)
        return n - pos >= len && memcmp(p + n - len, rule->lit + s, len) == 0;
    return len == 0 || memmem(p + pos, n - pos, rule->lit + s, len) != NULL;
}

static int rule_compare(const void *a, const void *b)
{
    const struct robots_rule *x = a, *y = b;
    if (x->specificity != y->specificity)
        return x->specificity > y->specificity ? -1 : 1;
    if (x->is_allow != y->is_allow)
        return x->is_allow ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static struct robots_rule *robots_push_rule(struct robots *r)
{
    if (r->n_rules == r->alloc_rules) {
        r->alloc_rules = r->alloc_rules ? r->alloc_rules * 2 : 16;
        r->rules = xrealloc(r->rules, r->alloc_rules * sizeof *r->rules);
    }
    return &r->rules[r->n_rules++];
}

static struct robots *robots_new(void)
{
    struct robots *r = xcalloc(1, sizeof *r);
    r->crawl_delay_ms = -1;
    return r;
}

/* Crawl-delay value: digits with an optional fraction, in seconds. Returns
 * milliseconds (fraction below 1 ms dropped, clamped to MAX_DELAY_MS), or
 * -1 when the value is not such a number. */
static int64_t parse_delay_ms(const char *v, size_t n)
{
    int64_t ms = 0;
    int64_t scale = 1000;
    int n_digits = 0, in_fraction = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '.' && !in_fraction) {
            in_fraction = 1;
            continue;
        }
        if (c < '0' || c > '9')
            return -1;
        n_digits++;
        if (!in_fraction) {
            if (ms <= MAX_DELAY_MS)
                ms = ms * 10 + (c - '0') * 1000;
        } else {
            scale /= 10;
            ms += (c - '0') * scale;
        }
    }
    if (n_digits == 0)
        return -1;
    return ms > MAX_DELAY_MS ? MAX_DELAY_MS : ms;
}

static enum key key_of(const char *k, size_t n)
{
    if (equal_nocase(k, n, "user-agent", 10))
        return KEY_USER_AGENT;
    if (equal_nocase(k, n, "allow", 5))
        return KEY_ALLOW;
    if (equal_nocase(k, n, "disallow", 8))
        return KEY_DISALLOW;
    if (equal_nocase(k, n, "crawl-delay", 11))
        return KEY_CRAWL_DELAY;
    if (equal_nocase(k, n, "sitemap", 7))
        return KEY_SITEMAP;
    return KEY_UNKNOWN;
}

static void parser_user_agent(struct parser *ps, const char *v, size_t n)
{
    if (!ps->in_agent_run)
        ps->cur_sets = 0;
    ps->has_group = 1;
    ps->in_agent_run = 1;
    if (n >= 1 && v[0] == '*' && (n == 1 || is_ws(v[1]))) {
        ps->cur_sets |= SET_STAR;
        ps->found_sets |= SET_STAR;
        return;
    }
    size_t t = 0;
    while (t < n && is_token_char(v[t]))
        t++;
    if (t > 0 && equal_nocase(v, t, ps->token, ps->token_len)) {
        ps->cur_sets |= SET_OURS;
        ps->found_sets |= SET_OURS;
    }
}

static void parser_rule(struct parser *ps, int is_allow, const char *v,
                        size_t n)
{
    ps->in_agent_run = 0;
    int sets = ps->cur_sets;
    /* Once a group names us, '*' rules can no longer apply. */
    if (ps->found_sets & SET_OURS)
        sets &= SET_OURS;
    if ((sets & SET_OURS) && ps->n_ours >= MAX_RULES)
        sets &= ~SET_OURS;
    if ((sets & SET_STAR) && ps->n_star >= MAX_RULES)
        sets &= ~SET_STAR;
    /* An empty pattern matches nothing; one that starts with neither '/'
     * nor '*' cannot match a path, which always starts with '/'. */
    if (!ps->has_group || !sets || n == 0 || (v[0] != '/' && v[0] != '*'))
        return;

    struct robots_rule *rule = robots_push_rule(ps->r);
    rule_compile(rule, is_allow, v, n, "");
    rule->order = ps->order++;
    rule->sets = (unsigned char)sets;
    if (sets & SET_OURS)
        ps->n_ours++;
    if (sets & SET_STAR)
        ps->n_star++;
}

static void parser_crawl_delay(struct parser *ps, const char *v, size_t n)
{
    ps->in_agent_run = 0;
    if (!ps->has_group)
        return;
    int64_t ms = parse_delay_ms(v, n);
    if (ms < 0)
        return;
    if ((ps->cur_sets & SET_OURS) && ps->delay_ours < 0)
        ps->delay_ours = ms;
    if ((ps->cur_sets & SET_STAR) && ps->delay_star < 0)
        ps->delay_star = ms;
}

static void parser_sitemap(struct parser *ps, const char *v, size_t n)
{
    struct robots *r = ps->r;
    if (n == 0 || r->n_sitemaps >= MAX_SITEMAPS)
        return;
    if (r->n_sitemaps == r->alloc_sitemaps) {
        r->alloc_sitemaps = r->alloc_sitemaps ? r->alloc_sitemaps * 2 : 4;
        r->sitemaps =
            xrealloc(r->sitemaps, r->alloc_sitemaps * sizeof *r->sitemaps);
    }
    r->sitemaps[r->n_sitemaps++] = xmemdup0(v, n);
}

static void parser_line(struct parser *ps, const char *s, size_t n)
{
    if (memchr(s, '\0', n))
        return;
    const char *hash = memchr(s, '#', n);
    if (hash)
        n = (size_t)(hash - s);
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return;
    const char *k = s, *k_end = colon;
    while (k < k_end && is_ws(*k))
        k++;
    while (k_end > k && is_ws(k_end[-1]))
        k_end--;
    const char *v = colon + 1, *v_end = s + n;
    while (v < v_end && is_ws(*v))
        v++;
    while (v_end > v && is_ws(v_end[-1]))
        v_end--;
    size_t vn = (size_t)(v_end - v);

    switch (key_of(k, (size_t)(k_end - k))) {
    case KEY_USER_AGENT:
        parser_user_agent(ps, v, vn);
        break;
    case KEY_ALLOW:
        parser_rule(ps, 1, v, vn);
        break;
    case KEY_DISALLOW:
        parser_rule(ps, 0, v, vn);
        break;
    case KEY_CRAWL_DELAY:
        parser_crawl_delay(ps, v, vn);
        break;
    case KEY_SITEMAP:
        parser_sitemap(ps, v, vn);
        break;
    case KEY_UNKNOWN:
        break;
    }
}

/* Keeps the rules of the applicable set, frees the others, and sorts. */
static void parser_finish(struct parser *ps)
{
    struct robots *r = ps->r;
    int want = 0;
    if (ps->found_sets & SET_OURS) {
        want = SET_OURS;
        r->crawl_delay_ms = ps->delay_ours;
    } else if (ps->found_sets & SET_STAR) {
        want = SET_STAR;
        r->crawl_delay_ms = ps->delay_star;
    }
    size_t kept = 0;
    for (size_t i = 0; i < r->n_rules; i++) {
        if (r->rules[i].sets & want)
            r->rules[kept++] = r->rules[i];
        else
            free(r->rules[i].mem);
    }
    r->n_rules = kept;
    if (kept > 1)
        qsort(r->rules, kept, sizeof *r->rules, rule_compare);
}

struct robots *robots_parse(const char *text, size_t len, const char *agent)
{
    struct robots *r = robots_new();
    struct parser ps = {
        .r = r,
        .token = agent ? agent : "",
        .delay_ours = -1,
        .delay_star = -1,
    };
    while (is_token_char(ps.token[ps.token_len]))
        ps.token_len++;
    if (!text) {
        text = "";
        len = 0;
    }
    int is_truncated = len > ROBOTS_MAX_BYTES;
    const char *p = text, *end = text + (is_truncated ? ROBOTS_MAX_BYTES : len);
    if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\n' && *eol != '\r')
            eol++;
        if (eol == end && is_truncated)
            break;
        if ((size_t)(eol - p) <= MAX_LINE_BYTES)
            parser_line(&ps, p, (size_t)(eol - p));
        p = eol;
        if (p < end && *p == '\r' && p + 1 < end && p[1] == '\n')
            p += 2;
        else if (p < end)
            p++;
    }
    parser_finish(&ps);
    return r;
}

struct robots *robots_allow_all(void)
{
    return robots_new();
}

struct robots *robots_disallow_all(void)
{
    struct robots *r = robots_new();
    struct robots_rule *rule = robots_push_rule(r);
    rule_compile(rule, 0, "/", 1, " (robots.txt unavailable)");
    return r;
}

void robots_free(struct robots *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_rules; i++)
        free(r->rules[i].mem);
    free(r->rules);
    for (size_t i = 0; i < r->n_sitemaps; i++)
        free(r->sitemaps[i]);
    free(r->sitemaps);
    free(r);
}

int robots_allows(const struct robots *r, const char *path, const char **rule)
{
    if (!path || !*path)
        path = "/";
    size_t n = strlen(path);
    unsigned char stack[PATH_STACK_BYTES];
    unsigned char *dec = n <= sizeof stack ? stack : xmalloc(n);
    size_t dn = 0;
    for (size_t i = 0; i < n;) {
        int is_escaped;
        i += decode_at(path, n, i, &dec[dn++], &is_escaped);
    }

    const struct robots_rule *hit = NULL;
    /* RFC 9309 2.2.2: /robots.txt is implicitly allowed. */
    if (!(dn == 11 && memcmp(dec, "/robots.txt", 11) == 0)) {
        for (size_t i = 0; i < r->n_rules && !hit; i++)
            if (rule_matches(&r->rules[i], dec, dn))
                hit = &r->rules[i];
    }
    if (dec != stack)
        free(dec);
    if (rule)
        *rule = hit ? hit->text : NULL;
    return !hit || hit->is_allow;
}

int64_t robots_crawl_delay_ms(const struct robots *r)
{
    return r->crawl_delay_ms;
}

size_t robots_n_sitemaps(const struct robots *r)
{
    return r->n_sitemaps;
}

const char *robots_sitemap(const struct robots *r, size_t i)
{
    return i < r->n_sitemaps ? r->sitemaps[i] : NULL;
}

void robots_agent_token(const char *user_agent, char *out, size_t n)
{
    if (n == 0)
        return;
    size_t o = 0;
    if (user_agent) {
        while (is_ws(*user_agent))
            user_agent++;
        while (o + 1 < n && is_token_char(user_agent[o])) {
            out[o] = user_agent[o];
            o++;
        }
    }
    out[o] = '\0';
}
