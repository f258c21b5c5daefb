/*
 * html: links, title and visible text from an HTML document (see html.h).
 *
 * Runs in the parser process. The pipeline is
 *
 *   sniff (binary?) -> pick a charset -> decode to UTF-8 in 64 KiB chunks
 *     -> stretches of text set aside, a mark in their place
 *     -> libxml2 push parser (SAX callbacks only, fed 1024 tags at a time,
 *        restarted where it would stop or nest without bound; see
 *        struct sax_session) -> struct extract -> out
 *
 * We decode ourselves (iconv, with our own error recovery) and hand libxml2
 * only well-formed UTF-8 without NUL bytes, telling it to ignore charset
 * hints in the document. libxml2 2.9.14 stops decoding for good at the
 * first byte iconv refuses (one undefined byte in a windows-1252 page loses
 * the rest of the page, and the error is printed on stderr), and a NUL
 * inside an attribute derails its tokenizer. The in-document hints are
 * read by a short prescan instead (libxml2 again, over the first 64 KiB at
 * most: it stops at the first declaration).
 *
 * Owns, for one call: the libxml2 contexts (created and freed in
 * sax_run), the iconv descriptor and decode buffer (struct decoder), the
 * base URL, a per-page cache of href resolutions, the link dedupe sets
 * and the stretches of text set aside (struct extract). Nothing survives the
 * call but what url_resolve puts in the caller's memo (html_options); we never
 * call xmlCleanupParser.
 *
 * Invariants: every string put in out is well-formed UTF-8; text and title
 * never exceed their caps and are cut on a character boundary; per page,
 * each distinct href is resolved once per base, and each (target, kind,
 * flags) is reported once; our own time and memory are linear in the body
 * (a document whose marks go astray is parsed twice; libxml2 still checks
 * the attributes of one element for duplicates in time quadratic in their
 * number).
 */
#define _GNU_SOURCE /* memrchr */
#include "parse/html.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "crawler/buf.h"
#include "crawler/hash.h"
#include "crawler/xalloc.h"
#include "parse/url.h"

#define CHUNK_BYTES (64 * 1024)   /* body bytes decoded and fed per step */
#define PRESCAN_BYTES (64 * 1024) /* where we look for <meta charset> */
#define PRESCAN_STEP_BYTES 1024   /* decoded per step of the prescan */
#define SNIFF_BYTES 1024          /* looked at by the binary test */
#define TITLE_MAX_BYTES 1024
#define LABEL_MAX 40 /* longest charset label we accept */

#define HTML_OPTIONS                                                           \
    (HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |              \
     HTML_PARSE_NOWARNING | HTML_PARSE_IGNORE_ENC)

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
static const char ascii_ws[] = " \t\n\f\r";

static int is_ascii_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* ---- UTF-8 ---- */

/* Looks at the UTF-8 sequence at s (n > 0 bytes). Returns 1 with the length
 * of a well-formed character in *len; 0 with the length of the maximal
 * ill-formed subpart (at least 1), to be replaced by one U+FFFD; or -1 when
 * all n bytes are a proper prefix of a character (*len = n). The ranges are
 * those of Unicode's table 3-7: no overlongs, surrogates or values above
 * U+10FFFF. */
static int utf8_char(const unsigned char *s, size_t n, size_t *len)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80) {
        *len = 1;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        *len = 1;
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        if (i == n) {
            *len = n;
            return -1;
        }
        if (s[i] < lo || s[i] > hi) {
            *len = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    *len = need;
    return 1;
}

/* Runs of ASCII are most of a page: they are found a word at a time. */
#define BYTES_01 0x0101010101010101ULL
#define BYTES_80 0x8080808080808080ULL

/* Length of the longest prefix of p without a byte over 0x7F (and, with
 * stop_at_nul, without a NUL). When no byte of w has its top bit set,
 * w - BYTES_01 has one only if some byte of w is 0. */
static size_t ascii_len(const unsigned char *p, size_t n, int stop_at_nul)
{
    uint64_t nul_test = stop_at_nul ? ~0ULL : 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if ((w | ((w - BYTES_01) & nul_test)) & BYTES_80)
            break;
    }
    while (i < n && p[i] < 0x80 && !(stop_at_nul && p[i] == 0))
        i++;
    return i;
}

/* Length of the longest prefix of p that is well-formed UTF-8 and ends on a
 * character boundary. */
static size_t utf8_valid_len(const unsigned char *p, size_t n)
{
    size_t i = 0;
    for (;;) {
        i += ascii_len(p + i, n - i, 0);
        size_t k;
        if (i == n || utf8_char(p + i, n - i, &k) <= 0)
            return i;
        i += k;
    }
}

/* True when p is well-formed UTF-8, allowing a cut character at the end (a
 * body stopped at max_body_bytes). */
static int utf8_is_valid(const unsigned char *p, size_t n)
{
    size_t i = utf8_valid_len(p, n), k;
    return i == n || utf8_char(p + i, n - i, &k) < 0;
}

/* Appends well-formed UTF-8 to b; at the cap, keeps the longest prefix that
 * ends on a character boundary and fails. */
static int put_valid(struct buf *b, const char *p, size_t n)
{
    size_t room = b->max - b->len;
    if (n <= room)
        return buf_append(b, p, n);
    size_t k = room;
    while (k > 0 && ((unsigned char)p[k] & 0xC0) == 0x80)
        k--;
    buf_append(b, p, k);
    return -E2BIG;
}

/* Appends p to b as well-formed UTF-8 (ill-formed parts become U+FFFD).
 * Returns 0, or -E2BIG once the cap is reached (b keeps what fit). */
static int put_utf8(struct buf *b, const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_valid_len(p + i, n - i);
        if (k > 0 && put_valid(b, (const char *)p + i, k) < 0)
            return -E2BIG;
        i += k;
        if (i == n)
            break;
        utf8_char(p + i, n - i, &k);
        if (put_valid(b, replacement, 3) < 0)
            return -E2BIG;
        i += k;
    }
    return 0;
}

/* A copy of the n bytes at p as well-formed UTF-8, at most max bytes. */
static char *utf8_dup_capped(const char *p, size_t n, size_t max)
{
    struct buf b;
    buf_init(&b, max);
    put_utf8(&b, (const unsigned char *)p, n);
    return buf_detach(&b, NULL);
}

/* ---- collapsed text with a cap ---- */

/* Text as a reader sees it: runs of white space (and of control
 * characters, which are not visible) become one space, with none at either
 * end. The space is written only with the character after it, so a cut
 * never leaves one dangling. */
struct text_sink {
    struct buf b;
    int want_space; /* white space (or a block boundary) since the last word */
    int is_full;    /* the cap was reached: take no more */
};

static void sink_init(struct text_sink *s, size_t max)
{
    buf_init(&s->b, max);
    s->want_space = 0;
    s->is_full = 0;
}

static int is_blank(unsigned char c)
{
    return c <= 0x20 || c == 0x7F;
}

/* The top bit of each byte of w that equals c (rep is c in every byte).
 * Exact: no byte borrows from or carries into another. */
static uint64_t bytes_equal(uint64_t w, uint64_t rep)
{
    uint64_t x = w ^ rep;
    return ~(((x & ~BYTES_80) + ~BYTES_80) | x) & BYTES_80;
}

/* The same for the bytes below 0x20. */
static uint64_t bytes_below_20(uint64_t w)
{
    return ~(((w & ~BYTES_80) + 0x6060606060606060ULL) | w) & BYTES_80;
}

/* The end of the run of words joined by single spaces that starts at p
 * (p[0] is not blank): the first blank byte that is not one space between
 * two words. *bits gets the OR of the run's bytes. Goes 8 bytes at a time
 * while all 8 are in the run: no blank other than a space, no two spaces
 * in a row, none last (the byte after it decides). */
static size_t run_end(const unsigned char *p, size_t n, uint64_t *bits)
{
    size_t j = 0;
    uint64_t seen = 0;
    while (j < n) {
        if (n - j >= 8 && p[j + 7] != ' ') {
            uint64_t w;
            memcpy(&w, p + j, 8);
            uint64_t sp = bytes_equal(w, 0x2020202020202020ULL);
            if (!(bytes_below_20(w) | bytes_equal(w, 0x7F7F7F7F7F7F7F7FULL) |
                  (sp & (sp >> 8)))) {
                seen |= w;
                j += 8;
                continue;
            }
        }
        if (is_blank(p[j]) &&
            !(p[j] == ' ' && j + 1 < n && !is_blank(p[j + 1])))
            break;
        seen |= p[j];
        j++;
    }
    *bits = seen;
    return j;
}

/* Words joined by single spaces come out as they went in: such a run is
 * appended in one piece when it is well-formed and fits. Anything else
 * (ill-formed bytes, the run that reaches the cap) goes a word at a time. */
static void sink_add(struct text_sink *s, const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && !s->is_full) {
        if (is_blank(p[i])) {
            s->want_space = 1;
            i++;
            continue;
        }
        size_t space = s->want_space && s->b.len > 0;
        uint64_t bits;
        size_t j = i + run_end(p + i, n - i, &bits);
        if (space + (j - i) <= s->b.max - s->b.len &&
            (!(bits & BYTES_80) || utf8_valid_len(p + i, j - i) == j - i)) {
            if (space)
                buf_append(&s->b, " ", 1);
            buf_append(&s->b, p + i, j - i);
            s->want_space = 0;
            i = j;
            continue;
        }
        j = i;
        while (j < n && !is_blank(p[j]))
            j++;
        if (space) {
            size_t first;
            if (utf8_char(p + i, j - i, &first) <= 0)
                first = 3; /* it will be U+FFFD */
            if (s->b.max - s->b.len < 1 + first) {
                s->is_full = 1;
                return;
            }
            buf_append(&s->b, " ", 1);
        }
        s->want_space = 0;
        if (put_utf8(&s->b, p + i, j - i) < 0)
            s->is_full = 1;
        i = j;
    }
}

/* ---- charsets and decoding ---- */

/* Labels whose WHATWG Encoding Standard meaning differs from iconv's
 * reading of the same name (latin1 and ascii mean windows-1252 on the web,
 * shift_jis means Microsoft's superset, ...), or that iconv does not know.
 * Any other label goes to iconv as it is. */
struct charset_alias {
    const char *label;
    const char *name;
};

static const struct charset_alias charset_aliases[] = {
    {"ascii", "WINDOWS-1252"},
    {"cp819", "WINDOWS-1252"},
    {"csshiftjis", "CP932"},
    {"euc-kr", "CP949"},
    {"gb2312", "GBK"},
    {"big5", "BIG5-HKSCS"},
    {"ibm819", "WINDOWS-1252"},
    {"iso-8859-1", "WINDOWS-1252"},
    {"iso-8859-9", "WINDOWS-1254"},
    {"iso8859-1", "WINDOWS-1252"},
    {"iso_8859-1", "WINDOWS-1252"},
    {"ks_c_5601-1987", "CP949"},
    {"l1", "WINDOWS-1252"},
    {"latin1", "WINDOWS-1252"},
    {"ms932", "CP932"},
    {"ms_kanji", "CP932"},
    {"shift-jis", "CP932"},
    {"shift_jis", "CP932"},
    {"sjis", "CP932"},
    {"us-ascii", "WINDOWS-1252"},
    {"windows-31j", "CP932"},
    {"x-cp1252", "WINDOWS-1252"},
    {"x-gbk", "GBK"},
    {"x-sjis", "CP932"},
    {"x-user-defined", "WINDOWS-1252"},
};

/* Copies a charset label, trimmed and lower-cased, into label. Returns 0,
 * or -1 when it is empty, too long or has characters no label has. */
static int label_clean(const char *s, size_t n, char label[LABEL_MAX + 1])
{
    while (n && is_ascii_ws(s[0])) {
        s++;
        n--;
    }
    while (n && is_ascii_ws(s[n - 1]))
        n--;
    if (n == 0 || n > LABEL_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == ':'))
            return -1;
        label[i] = c;
    }
    label[n] = '\0';
    return 0;
}

/* Finds the charset parameter of a Content-Type value (a header, or the
 * content of <meta http-equiv=content-type>). Returns 0 with the label, or
 * -1 when there is none we can use. */
static int charset_param(const char *s, char label[LABEL_MAX + 1])
{
    for (const char *p = s; *p; p++) {
        if ((*p != 'c' && *p != 'C') || strncasecmp(p, "charset", 7) != 0)
            continue;
        if (p > s && p[-1] != ';' && !is_ascii_ws(p[-1]))
            continue;
        const char *v = p + 7;
        v += strspn(v, ascii_ws);
        if (*v != '=')
            continue;
        v++;
        v += strspn(v, ascii_ws);
        if (*v == '"' || *v == '\'')
            v++;
        return label_clean(v, strcspn(v, "\"'; \t\n\f\r"), label);
    }
    return -1;
}

static int label_is(const char *label, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(label, *names) == 0)
            return 1;
    return 0;
}

static const char *const utf8_labels[] = {
    "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8", NULL,
};
static const char *const utf16_labels[] = {
    "utf-16", "utf-16le", "utf-16be", "ucs-2", "unicode",
    "utf-32", "utf-32le", "utf-32be", NULL,
};

/* How to decode a body: cd converts to UTF-8, or is (iconv_t)-1 when the
 * body is UTF-8 already (then we only repair it). */
struct charset {
    iconv_t cd;
    size_t unit; /* bytes to skip over an undecodable unit */
};

/* Opens the decoder a label names. from_meta: the label came from the
 * document, which we could read as ASCII, so a UTF-16 label there is wrong
 * and means UTF-8 (as the Encoding Standard says). Returns 0, or -1 when
 * the label names no charset iconv knows. */
static int charset_open(const char *label, int from_meta, struct charset *cs)
{
    cs->cd = (iconv_t)-1;
    cs->unit = 1;
    if (label_is(label, utf8_labels))
        return 0;
    if (label_is(label, utf16_labels)) {
        if (from_meta)
            return 0;
        if (strstr(label, "32")) {
            cs->unit = 4;
            label = strstr(label, "be") ? "UTF-32BE" : "UTF-32LE";
        } else {
            cs->unit = 2;
            label = strstr(label, "be") ? "UTF-16BE" : "UTF-16LE";
        }
    }
    for (size_t i = 0; i < sizeof charset_aliases / sizeof *charset_aliases;
         i++) {
        if (strcmp(label, charset_aliases[i].label) == 0) {
            label = charset_aliases[i].name;
            break;
        }
    }
    cs->cd = iconv_open("UTF-8", label);
    return cs->cd == (iconv_t)-1 ? -1 : 0;
}

static void charset_close(struct charset *cs)
{
    if (cs->cd != (iconv_t)-1)
        iconv_close(cs->cd);
    cs->cd = (iconv_t)-1;
}

/* Hands the body out as UTF-8 a chunk at a time. A character cut by a
 * chunk boundary waits for the next chunk; ill-formed input becomes U+FFFD
 * and NUL bytes are dropped (the tree builder of a browser drops them from
 * text, and libxml2 would end the token at them). */
struct decoder {
    const struct charset *cs; /* borrowed */
    const char *p;            /* the undecoded rest of the body */
    size_t left;
    size_t chunk;
    char *out; /* the last chunk, decoded */
    size_t out_len;
    size_t out_cap;
};

static void decoder_init(struct decoder *d, const struct charset *cs,
                         const char *p, size_t n, size_t chunk)
{
    d->cs = cs;
    d->p = p;
    d->left = n;
    d->chunk = chunk;
    /* At most 3 output bytes per input byte, except for the rare charsets
     * where one byte is several characters; those stop early (E2BIG) and
     * carry on in the next call. */
    d->out_cap = 3 * (n < chunk ? n : chunk) + 16;
    d->out = xmalloc(d->out_cap);
    d->out_len = 0;
}

static void decoder_release(struct decoder *d)
{
    free(d->out);
    d->out = NULL;
}

static size_t drop_nuls(char *p, size_t n)
{
    char *z = memchr(p, '\0', n);
    if (!z)
        return n;
    size_t o = (size_t)(z - p);
    for (size_t i = o; i < n; i++)
        if (p[i])
            p[o++] = p[i];
    return o;
}

/* Repairs UTF-8 input into d->out. Returns the bytes consumed. */
static size_t decode_utf8(struct decoder *d, size_t n, int is_last)
{
    const unsigned char *in = (const unsigned char *)d->p;
    size_t i = 0, o = 0;
    while (i < n) {
        size_t k = ascii_len(in + i, n - i, 1);
        memcpy(d->out + o, in + i, k);
        o += k;
        i += k;
        if (i == n)
            break;
        if (in[i] == 0) {
            i++;
            continue;
        }
        int r = utf8_char(in + i, n - i, &k);
        if (r < 0 && !is_last)
            break;
        if (r > 0)
            memcpy(d->out + o, in + i, k);
        else
            memcpy(d->out + o, replacement, 3);
        o += r > 0 ? k : 3;
        i += k;
    }
    d->out_len = o;
    return i;
}

/* Converts with iconv into d->out. Returns the bytes consumed. */
static size_t decode_iconv(struct decoder *d, size_t n, int is_last)
{
    char *in = (char *)d->p;
    size_t in_left = n;
    char *o = d->out;
    size_t o_left = d->out_cap;
    while (in_left > 0) {
        if (iconv(d->cs->cd, &in, &in_left, &o, &o_left) != (size_t)-1)
            break;
        if (errno == E2BIG || (errno == EINVAL && !is_last) || o_left < 3)
            break;
        /* EILSEQ, or a character cut by the end of the body */
        size_t skip = errno == EINVAL ? in_left : d->cs->unit;
        if (skip > in_left)
            skip = in_left;
        memcpy(o, replacement, 3);
        o += 3;
        o_left -= 3;
        in += skip;
        in_left -= skip;
    }
    d->out_len = drop_nuls(d->out, (size_t)(o - d->out));
    return n - in_left;
}

/* Decodes the next chunk into d->out/d->out_len (which may be empty).
 * Returns 0 when the body is used up. */
static int decoder_next(struct decoder *d)
{
    if (d->left == 0)
        return 0;
    size_t n = d->left < d->chunk ? d->left : d->chunk;
    int is_last = n == d->left;
    size_t used = d->cs->cd == (iconv_t)-1 ? decode_utf8(d, n, is_last)
                                           : decode_iconv(d, n, is_last);
    if (used == 0) {
        /* Cannot happen with chunks this size; never loop on it. */
        used = n;
        d->out_len = 0;
    }
    d->p += used;
    d->left -= used;
    return 1;
}

/* ---- libxml2 ---- */

/* One parse of a document, which may take more than one libxml2 context.
 *
 * The push parser of libxml2 2.9.14 stops for good at content that follows
 * the close of its last open element ("Extra content at the end of the
 * document"), as after </html> or after a stray end tag at the very start.
 * Browsers read on, and so do we: a fresh context takes what the stopped
 * one had not read.
 *
 * Its cost per end tag that matches nothing open, and per misnested one,
 * grows with the number of open elements, which it does not limit: 50,000
 * unclosed <div> and as many stray </span> take seconds. So we feed it in
 * slices of at most FEED_TAGS tags and, once more than MAX_DEPTH elements
 * are open, close them all (for the handler) and go on in a fresh context:
 * deeper than any browser nests (Blink stops nesting at 512), and the work
 * per slice stays bounded. Links and text are read as before; only the
 * nesting is lost.
 *
 * Slices are cut by tags, not bytes, so that an ordinary page is one slice,
 * fed with terminate set: only then does libxml2 parse a run of text
 * without first scanning ahead for the '<' that ends it (8% of its time).
 *
 * A page that needs more than MAX_RESTARTS fresh contexts is hostile, and
 * the rest of it is dropped. A handler that has what it wants ends the
 * parse at once with session_stop. */
#define FEED_TAGS 1024
#define MAX_DEPTH 1024

/* ---- text libxml2 does not walk ---- */

/*
 * libxml2 2.9.14 reads character data a character at a time, ~75
 * instructions a byte: half of a parser's time on a page of prose. So each
 * stretch of plain text of MARK_MIN_BYTES or more goes to it as one mark
 * (MARK, a private use character), the stretch itself is kept aside, and
 * on_text puts it back where the mark comes out.
 *
 * A stretch lies between a '>' and the next '<', starts with a byte that
 * is not white space and holds none of the bytes libxml2 treats specially
 * in text (is_mark_stop). Where libxml2 reads such a stretch as text (or
 * as a comment or script), it reads the mark as the same, in the same
 * state from start to end (neither holds '<', '>' or '&', and both are
 * valid characters that are not blank), so it makes the same calls and
 * the text comes out the same. Stretches are chosen by looking at bytes,
 * not by parsing, so one may also lie where libxml2 reads something else,
 * a quoted attribute value or a declaration; that mark does not come out
 * as text or a comment. Every mark in the input is ours (a document that
 * holds MARK is not marked) and libxml2 hands out each input character at
 * most once, so when as many marks come out as went in, all were read as
 * text; otherwise the document is parsed again unmarked.
 */
#define MARK "\xEF\xA3\xBF" /* U+F8FF */
#define MARK_LEN 3
#define MARK_MIN_BYTES 4 /* shorter stretches are left in place */

struct marks {
    int is_on;       /* this document is being marked */
    struct buf text; /* the stretches, back to back: no cap of its own,
                        they are part of the decoded body */
    size_t *ends;    /* stretch k is text[ends[k - 1] (0 for k = 0), ends[k]) */
    size_t n, alloc;
    size_t n_seen; /* marks that came out so far, extra ones too */
    char *out;     /* the marked copy of the chunk being fed */
    size_t out_alloc;
};

static void marks_init(struct marks *m, int is_on)
{
    memset(m, 0, sizeof *m);
    m->is_on = is_on;
    buf_init(&m->text, SIZE_MAX);
}

static void marks_release(struct marks *m)
{
    buf_release(&m->text);
    free(m->ends);
    free(m->out);
}

static int is_mark_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Bytes a stretch does not hold: '&' (a reference), controls libxml2
 * drops (it does not take form feed either), and the lead byte of
 * U+F000-U+FFFF, which holds MARK and the non-characters libxml2 drops. */
static int is_mark_stop(unsigned char c)
{
    return c == '&' || c == 0xEF || (c < 0x20 && !is_mark_ws(c));
}

/* The length of the run of bytes at p that are not stop bytes, 8 at a
 * time while a word holds none of '&', 0xEF or a byte below 0x20 (white
 * space below 0x20 goes the slow way). */
static size_t mark_span(const unsigned char *p, size_t n)
{
    size_t j = 0;
    for (;;) {
        while (n - j >= 8) {
            uint64_t w;
            memcpy(&w, p + j, 8);
            if (bytes_below_20(w) | bytes_equal(w, 0x2626262626262626ULL) |
                bytes_equal(w, 0xEFEFEFEFEFEFEFEFULL))
                break;
            j += 8;
        }
        size_t stop = n - j < 8 ? n : j + 8;
        while (j < stop && !is_mark_stop(p[j]))
            j++;
        if (j < stop || j == n)
            return j;
    }
}

/* Marks the stretches of [a, b), the bytes between a '>' and a '<'.
 * *from: the first input byte not yet copied to *o. After a stop byte the
 * next stretch starts past white space, where no reference can still be
 * going on. */
static void mark_run(struct marks *m, const char *a, const char *b,
                     const char **from, char **o)
{
    const char *i = a;
    while (i < b) {
        while (i < b && is_mark_ws((unsigned char)*i))
            i++;
        const char *s = i;
        i += mark_span((const unsigned char *)i, (size_t)(b - i));
        if (i - s >= MARK_MIN_BYTES) {
            memcpy(*o, *from, (size_t)(s - *from));
            *o += s - *from;
            memcpy(*o, MARK, MARK_LEN);
            *o += MARK_LEN;
            buf_append(&m->text, s, (size_t)(i - s));
            if (m->n == m->alloc) {
                m->alloc = m->alloc ? 2 * m->alloc : 64;
                m->ends = xrealloc(m->ends, m->alloc * sizeof *m->ends);
            }
            m->ends[m->n++] = m->text.len;
            *from = i;
        }
        while (i < b && !is_mark_ws((unsigned char)*i))
            i++;
    }
}

/* The next mark in p, n, or NULL. */
static const char *mark_find(const char *p, size_t n)
{
    const char *end = p + n;
    while ((p = memchr(p, 0xEF, (size_t)(end - p))) != NULL) {
        if (end - p >= MARK_LEN && memcmp(p, MARK, MARK_LEN) == 0)
            return p;
        p++;
    }
    return NULL;
}

/* The chunk p, n as it is to be fed: marked (*len bytes, valid until the
 * next call) or as it is. */
static const char *marks_apply(struct marks *m, const char *p, size_t n,
                               size_t *len)
{
    *len = n;
    if (!m->is_on)
        return p;
    if (mark_find(p, n)) {
        /* Ours could not be told from the document's: those still to come
         * out are not counted, and the document is parsed again. */
        m->is_on = 0;
        return p;
    }
    if (m->out_alloc < n) {
        free(m->out);
        m->out = xmalloc(n);
        m->out_alloc = n;
    }
    const char *q = p, *end = p + n, *from = p;
    char *o = m->out;
    for (;;) {
        const char *lt = memchr(q, '<', (size_t)(end - q));
        if (!lt)
            break;
        const char *gt = memrchr(q, '>', (size_t)(lt - q));
        if (gt)
            mark_run(m, gt + 1, lt, &from, &o);
        q = lt + 1;
    }
    if (from == p)
        return p;
    memcpy(o, from, (size_t)(end - from));
    o += end - from;
    *len = (size_t)(o - m->out);
    return m->out;
}

/* The stretch of the next mark to come out, or NULL for a mark more than
 * went in (the document then went astray). */
static const char *mark_take(struct marks *m, size_t *len)
{
    size_t k = m->n_seen++;
    if (k >= m->n)
        return NULL;
    size_t at = k ? m->ends[k - 1] : 0;
    *len = m->ends[k] - at;
    return m->text.data + at;
}

/* Not every mark came out as text or a comment, or more came out than
 * went in: the result is wrong, and the document is parsed unmarked. */
static int marks_astray(const struct marks *m)
{
    return m->n_seen != m->n;
}

#define MAX_RESTARTS 10000

struct sax_session {
    htmlSAXHandler *sax; /* borrowed */
    void *user;
    htmlParserCtxtPtr ctxt;
    int n_restarts;
    int is_done; /* out of restarts, or stopped by the handler */
};

/* The handler has no startDocument, so libxml2 builds no tree. */
static htmlParserCtxtPtr parser_new(htmlSAXHandler *sax, void *user)
{
    htmlParserCtxtPtr ctxt = htmlCreatePushParserCtxt(sax, user, NULL, 0, NULL,
                                                      XML_CHAR_ENCODING_UTF8);
    if (!ctxt)
        abort();
    htmlCtxtUseOptions(ctxt, HTML_OPTIONS);
    return ctxt;
}

static void parser_free(htmlParserCtxtPtr ctxt)
{
    if (ctxt->myDoc)
        xmlFreeDoc(ctxt->myDoc);
    ctxt->myDoc = NULL;
    htmlFreeParserCtxt(ctxt);
}

/* For a handler, from inside a callback: no more callbacks, nothing more
 * is read. xmlStopParser leaves the context empty and safe to free. */
static void session_stop(struct sax_session *s)
{
    s->is_done = 1;
    xmlStopParser(s->ctxt);
}

/* Replaces the context with a fresh one, first closing (for the handler)
 * the elements the old one has open. 0, or -1 at the cap. */
static int session_restart(struct sax_session *s)
{
    if (s->n_restarts == MAX_RESTARTS) {
        s->is_done = 1;
        return -1;
    }
    htmlParserCtxtPtr old = s->ctxt;
    if (s->sax->endElement)
        for (int i = old->nameNr - 1; i >= 0; i--)
            s->sax->endElement(s->user, old->nameTab[i]);
    parser_free(old);
    s->ctxt = parser_new(s->sax, s->user);
    s->n_restarts++;
    return 0;
}

/* Past blanks and end tags at the start of what an old context had not
 * read: a fresh context has nothing open for them to close, and would stop
 * at once on each. */
static const char *skip_stray_end_tags(const char *p, const char *end)
{
    for (;;) {
        const char *q = p;
        while (q < end && is_ascii_ws(*q))
            q++;
        if (end - q < 3 || q[0] != '<' || q[1] != '/' ||
            !((q[2] >= 'a' && q[2] <= 'z') || (q[2] >= 'A' && q[2] <= 'Z')))
            return p;
        const char *gt = memchr(q, '>', (size_t)(end - q));
        if (!gt)
            return p;
        p = gt + 1;
    }
}

static void session_feed(struct sax_session *s, const char *p, size_t n,
                         int terminate)
{
    char *carry = NULL;
    if (s->is_done)
        return;
    if (s->ctxt->instate == XML_PARSER_EOF && session_restart(s) < 0)
        return;
    for (;;) {
        htmlParseChunk(s->ctxt, p, (int)n, terminate);
        if (s->is_done)
            break; /* session_stop */
        int is_stopped = s->ctxt->instate == XML_PARSER_EOF;
        if (!is_stopped && s->ctxt->nameNr <= MAX_DEPTH)
            break;
        xmlParserInputPtr in = s->ctxt->input;
        const char *rest = NULL;
        size_t n_rest = 0;
        if (in && in->cur && in->end) {
            const char *end = (const char *)in->end;
            rest = skip_stray_end_tags((const char *)in->cur, end);
            n_rest = (size_t)(end - rest);
        }
        if (is_stopped && n_rest == 0)
            break; /* the end, or a stop with nothing left to read */
        /* copied before the context that holds it is freed */
        char *unread = n_rest ? xmemdup0(rest, n_rest) : NULL;
        if (session_restart(s) < 0) {
            free(unread);
            break;
        }
        free(carry);
        carry = unread;
        p = carry;
        n = n_rest;
    }
    free(carry);
}

/* The length of the slice at p: up to its (FEED_TAGS + 1)th '<', or all
 * of it. A cut before a '<' never splits a character. */
static size_t slice_len(const char *p, size_t n)
{
    const char *q = p, *end = p + n;
    for (int i = 0;; i++) {
        q = memchr(q, '<', (size_t)(end - q));
        if (!q)
            return n;
        if (i == FEED_TAGS)
            return (size_t)(q - p);
        q++;
    }
}

/* Runs the parser over everything d yields, or until it is done, in
 * slices (slice_len); the last one is fed with terminate set. s is the
 * session, for the handler to stop (session_stop); its context lives for
 * this call only. */
static void sax_run(struct sax_session *s, htmlSAXHandler *sax, void *user,
                    struct decoder *d, struct marks *m)
{
    *s = (struct sax_session){sax, user, parser_new(sax, user), 0, 0};
    int is_terminated = 0;
    while (!s->is_done && decoder_next(d)) {
        size_t at = 0, len = d->out_len;
        const char *p = m ? marks_apply(m, d->out, d->out_len, &len) : d->out;
        while (at < len && !s->is_done) {
            size_t n = slice_len(p + at, len - at);
            at += n;
            is_terminated = d->left == 0 && at == len;
            session_feed(s, p + at - n, n, is_terminated);
        }
    }
    if (!is_terminated)
        session_feed(s, NULL, 0, 1);
    parser_free(s->ctxt);
}

static const char *attr_get(const xmlChar **atts, const char *name)
{
    for (size_t i = 0; atts && atts[i]; i += 2)
        if (strcasecmp((const char *)atts[i], name) == 0)
            return atts[i + 1] ? (const char *)atts[i + 1] : "";
    return NULL;
}

/* True when s is word, give or take white space and case. */
static int is_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    s += strspn(s, ascii_ws);
    if (strncasecmp(s, word, n) != 0)
        return 0;
    return s[n + strspn(s + n, ascii_ws)] == '\0';
}

/* True when the seps-separated list holds token (ASCII case-insensitive). */
static int has_token(const char *list, const char *token, const char *seps)
{
    size_t n = strlen(token);
    const char *p = list;
    while (*p) {
        p += strspn(p, seps);
        size_t k = strcspn(p, seps);
        if (k == n && strncasecmp(p, token, n) == 0)
            return 1;
        p += k;
    }
    return 0;
}

/* ---- the charset prescan ---- */

struct prescan {
    struct sax_session *session;
    int is_found;
    char label[LABEL_MAX + 1];
};

static void prescan_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    struct prescan *ps = ctx;
    if (ps->is_found || strcmp((const char *)name, "meta") != 0)
        return;
    const char *cs = attr_get(atts, "charset");
    if (cs) {
        ps->is_found = label_clean(cs, strlen(cs), ps->label) == 0;
    } else {
        const char *equiv = attr_get(atts, "http-equiv");
        const char *content = attr_get(atts, "content");
        if (equiv && content && is_word(equiv, "content-type"))
            ps->is_found = charset_param(content, ps->label) == 0;
    }
    if (ps->is_found)
        session_stop(ps->session); /* the first usable one counts */
}

/* The charset the document declares in <meta charset> or <meta
 * http-equiv=content-type> within its first PRESCAN_BYTES. Reading the
 * bytes as UTF-8 is good enough: the markup around a charset declaration is
 * ASCII in every charset we can then decode with. */
static int prescan_label(const char *p, size_t n, char label[LABEL_MAX + 1])
{
    struct charset utf8 = {(iconv_t)-1, 1};
    struct decoder d;
    struct sax_session s;
    struct prescan ps = {&s, 0, ""};
    htmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.startElement = prescan_start;
    /* Decoded in small steps: the declaration is usually in the first. */
    decoder_init(&d, &utf8, p, n < PRESCAN_BYTES ? n : PRESCAN_BYTES,
                 PRESCAN_STEP_BYTES);
    sax_run(&s, &sax, &ps, &d, NULL);
    decoder_release(&d);
    if (!ps.is_found)
        return -1;
    memcpy(label, ps.label, sizeof ps.label);
    return 0;
}

/* ---- binary bodies ---- */

struct signature {
    const char *bytes;
    size_t len;
};

static const struct signature signatures[] = {
    {"%PDF-", 5},
    {"\x89PNG\r\n\x1a\n", 8},
    {"GIF87a", 6},
    {"GIF89a", 6},
    {"\xFF\xD8\xFF", 3},     /* JPEG */
    {"PK\x03\x04", 4},       /* ZIP, and so docx, jar, epub */
    {"\x1F\x8B", 2},         /* gzip */
    {"\x7F\x45\x4C\x46", 4}, /* ELF */
    {"wOFF", 4},             /* web fonts */
    {"wOF2", 4},
    {"OggS", 4},
    {"fLaC", 4},
    {"7z\xBC\xAF\x27\x1C", 6},
    {"Rar!\x1A\x07", 6},
};

/* Binary, not markup: the body starts with the signature of a common binary
 * format, or more than 8 of its first 1024 bytes, and more than 1 in 32 of
 * them, are bytes that text never holds (WHATWG's "binary data bytes": C0
 * controls other than TAB, LF, FF, CR and ESC, so NUL among them). A few
 * stray NULs in a real page stay under that bar (they are dropped before
 * parsing); binary formats have far more (zero padding, small integers)
 * within their first KiB. UTF-16 and UTF-32 text is full of NULs, so for a
 * body the BOM or the header says is in one of those, only signatures
 * count. */
static int is_binary(const unsigned char *p, size_t n, int is_wide)
{
    for (size_t i = 0; i < sizeof signatures / sizeof *signatures; i++)
        if (n >= signatures[i].len &&
            memcmp(p, signatures[i].bytes, signatures[i].len) == 0)
            return 1;
    if (is_wide)
        return 0;
    size_t window = n < SNIFF_BYTES ? n : SNIFF_BYTES, n_ctrl = 0;
    for (size_t i = 0; i < window; i++) {
        unsigned char c = p[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r' &&
            c != 0x1B)
            n_ctrl++;
    }
    return n_ctrl > 8 && n_ctrl * 32 > window;
}

/* ---- a small hash table of indexes ---- */

/* Open addressing, linear probing, at most half full. It stores a 64-bit
 * hash and an index into an array the caller owns; same() tells whether the
 * entry at an index is the one looked for (NULL: the hash decides). */
struct slot {
    uint64_t hash;
    size_t ref; /* index + 1; 0 for an empty slot */
};

struct table {
    struct slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

static size_t table_find(const struct table *t, uint64_t hash,
                         int (*same)(const void *key, size_t index),
                         const void *key)
{
    if (t->cap == 0)
        return SIZE_MAX;
    for (size_t i = hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        const struct slot *s = &t->slots[i];
        if (s->ref == 0)
            return SIZE_MAX;
        if (s->hash == hash && (!same || same(key, s->ref - 1)))
            return s->ref - 1;
    }
}

static void table_put(struct slot *slots, size_t cap, uint64_t hash, size_t ref)
{
    size_t i = hash & (cap - 1);
    while (slots[i].ref != 0)
        i = (i + 1) & (cap - 1);
    slots[i].hash = hash;
    slots[i].ref = ref;
}

static void table_add(struct table *t, uint64_t hash, size_t index)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct slot *slots = xcalloc(cap, sizeof *slots);
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].ref != 0)
                table_put(slots, cap, t->slots[i].hash, t->slots[i].ref);
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    table_put(t->slots, t->cap, hash, index + 1);
    t->n++;
}

static void table_release(struct table *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->n = 0;
}

/* ---- extraction state ---- */

/* One href resolved against one base. */
struct resolution {
    char *href;   /* as written (entities decoded) */
    uint32_t gen; /* the base it was resolved against */
    int error;    /* 0 or a url_error */
    char *url;    /* normalized; or the href cut to max_url_bytes */
    int64_t hash; /* hash64 of url when error == 0 */
    uint64_t key; /* hash64 of url, for the link dedupe */
};

enum title_state { TITLE_NONE, TITLE_IN, TITLE_DONE };

struct extract {
    const struct html_options *opt;
    struct parse_result *out; /* links are appended to it as found */
    size_t links_alloc;
    struct url_base *base; /* the document URL, then <base href> */
    uint32_t base_gen;     /* bumped when base changes */
    int has_base;          /* the first <base href> was seen */
    int has_canonical;
    int has_refresh;
    int skip_depth;    /* inside script, style, head, ... */
    int foreign_depth; /* inside svg or math */
    int title_depth;
    enum title_state title_state;
    struct text_sink title;
    struct text_sink text;
    struct marks marks;
    /* Per-page dedupe. Resolutions: each distinct (href, base) is resolved
     * once. Links: each (normalized target, kind, flags) is reported once,
     * the first time it is seen; so are links that fail to resolve, by the
     * href they keep. Past max_links, the hashes of distinct dropped links
     * are kept to count them (a 64-bit hash collision would undercount by
     * one, which is harmless). */
    struct resolution *res;
    size_t n_res, res_alloc;
    struct table res_index;
    struct table link_index;
    struct table dropped;
};

struct res_key {
    const struct extract *st;
    const char *href;
    uint32_t gen;
};

static int res_same(const void *key, size_t index)
{
    const struct res_key *k = key;
    const struct resolution *r = &k->st->res[index];
    return r->gen == k->gen && strcmp(r->href, k->href) == 0;
}

/* Resolves href against the current base, once per page. Returns an index
 * into st->res. */
static size_t resolve(struct extract *st, const char *href)
{
    size_t n = strlen(href);
    uint64_t h = hash_mix64((uint64_t)hash64(href, n) + st->base_gen);
    struct res_key k = {st, href, st->base_gen};
    size_t i = table_find(&st->res_index, h, res_same, &k);
    if (i != SIZE_MAX)
        return i;
    if (st->n_res == st->res_alloc) {
        st->res_alloc = st->res_alloc ? st->res_alloc * 2 : 64;
        st->res = xrealloc(st->res, st->res_alloc * sizeof *st->res);
    }
    struct resolution *r = &st->res[st->n_res];
    char *u = NULL;
    r->href = xmemdup0(href, n);
    r->gen = st->base_gen;
    r->error = url_resolve(st->base, href, st->opt->max_url_bytes, &u);
    if (r->error == 0) {
        r->url = u;
        r->hash = hash64(u, strlen(u));
        r->key = (uint64_t)r->hash;
    } else {
        r->url = utf8_dup_capped(href, n, st->opt->max_url_bytes);
        r->hash = 0;
        r->key = (uint64_t)hash64(r->url, strlen(r->url));
    }
    table_add(&st->res_index, h, st->n_res);
    return st->n_res++;
}

struct link_key {
    const struct parse_result *out;
    const char *url;
    uint32_t kind;
    uint32_t flags;
    int32_t error;
};

static int link_same(const void *key, size_t index)
{
    const struct link_key *k = key;
    const struct link *l = &k->out->links[index];
    return l->kind == k->kind && l->flags == k->flags && l->error == k->error &&
           strcmp(l->url, k->url) == 0;
}

/* Records a link unless this page already has it (see struct extract).
 * Returns its resolution, valid until the next resolve(). */
static const struct resolution *link_add(struct extract *st, const char *href,
                                         uint32_t kind, uint32_t flags)
{
    size_t ri = resolve(st, href); /* before reading st->res: it moves */
    const struct resolution *r = &st->res[ri];
    struct parse_result *out = st->out;
    uint64_t tag =
        ((uint64_t)(r->error != 0) << 40) | ((uint64_t)kind << 32) | flags;
    uint64_t h = hash_mix64(r->key ^ hash_mix64(tag));
    struct link_key k = {out, r->url, kind, flags, r->error};
    if (table_find(&st->link_index, h, link_same, &k) != SIZE_MAX)
        return r;
    if (out->n_links >= st->opt->max_links) {
        if (table_find(&st->dropped, h, NULL, NULL) == SIZE_MAX) {
            table_add(&st->dropped, h, 0);
            out->n_links_dropped++;
        }
        return r;
    }
    if (out->n_links == st->links_alloc) {
        size_t n = st->links_alloc ? st->links_alloc * 2 : 32;
        if (n > st->opt->max_links)
            n = st->opt->max_links;
        out->links = xrealloc(out->links, n * sizeof *out->links);
        st->links_alloc = n;
    }
    struct link *l = &out->links[out->n_links];
    l->url = xstrdup(r->url);
    l->hash = r->hash;
    l->kind = kind;
    l->flags = flags;
    l->error = r->error;
    table_add(&st->link_index, h, out->n_links);
    out->n_links++;
    return r;
}

/* ---- elements ---- */

enum {
    TAG_INLINE = 1 << 0,  /* no word break at its edges */
    TAG_SKIP = 1 << 1,    /* its text is not visible */
    TAG_FOREIGN = 1 << 2, /* svg, math: their <title> is not the page's */
    TAG_TITLE = 1 << 3,
    TAG_LINK = 1 << 4, /* carries a link in attr */
    TAG_BASE = 1 << 5,
    TAG_META = 1 << 6,
};

struct tag {
    const char *name;
    unsigned what;
    uint32_t kind;    /* enum link_kind, with TAG_LINK */
    const char *attr; /* the attribute holding the link */
};

/* Sorted by name (bsearch). An element not listed breaks words: block
 * elements, br, and the unknown (better a space too many than two words
 * glued into one). */
static const struct tag tags[] = {
    {"a", TAG_INLINE | TAG_LINK, LINK_A, "href"},
    {"abbr", TAG_INLINE, 0, NULL},
    {"area", TAG_INLINE | TAG_LINK, LINK_AREA, "href"},
    {"b", TAG_INLINE, 0, NULL},
    {"base", TAG_BASE, 0, NULL},
    {"bdi", TAG_INLINE, 0, NULL},
    {"bdo", TAG_INLINE, 0, NULL},
    {"big", TAG_INLINE, 0, NULL},
    {"cite", TAG_INLINE, 0, NULL},
    {"code", TAG_INLINE, 0, NULL},
    {"data", TAG_INLINE, 0, NULL},
    {"dfn", TAG_INLINE, 0, NULL},
    {"em", TAG_INLINE, 0, NULL},
    {"font", TAG_INLINE, 0, NULL},
    {"frame", TAG_LINK, LINK_FRAME, "src"},
    {"head", TAG_SKIP, 0, NULL},
    {"i", TAG_INLINE, 0, NULL},
    {"iframe", TAG_LINK, LINK_IFRAME, "src"},
    {"img", TAG_INLINE, 0, NULL},
    {"kbd", TAG_INLINE, 0, NULL},
    {"label", TAG_INLINE, 0, NULL},
    {"link", TAG_LINK, LINK_LINK, "href"},
    {"mark", TAG_INLINE, 0, NULL},
    {"math", TAG_FOREIGN, 0, NULL},
    {"meta", TAG_META, 0, NULL},
    {"noscript", TAG_SKIP, 0, NULL},
    {"q", TAG_INLINE, 0, NULL},
    {"rp", TAG_INLINE, 0, NULL},
    {"rt", TAG_INLINE, 0, NULL},
    {"ruby", TAG_INLINE, 0, NULL},
    {"s", TAG_INLINE, 0, NULL},
    {"samp", TAG_INLINE, 0, NULL},
    {"script", TAG_SKIP, 0, NULL},
    {"small", TAG_INLINE, 0, NULL},
    {"span", TAG_INLINE, 0, NULL},
    {"strike", TAG_INLINE, 0, NULL},
    {"strong", TAG_INLINE, 0, NULL},
    {"style", TAG_SKIP, 0, NULL},
    {"sub", TAG_INLINE, 0, NULL},
    {"sup", TAG_INLINE, 0, NULL},
    {"svg", TAG_FOREIGN, 0, NULL},
    {"template", TAG_SKIP, 0, NULL},
    {"time", TAG_INLINE, 0, NULL},
    {"title", TAG_TITLE, 0, NULL},
    {"tt", TAG_INLINE, 0, NULL},
    {"u", TAG_INLINE, 0, NULL},
    {"var", TAG_INLINE, 0, NULL},
    {"wbr", TAG_INLINE, 0, NULL},
};

/* Names are a few letters: comparing here beats a call to strcmp. */
static int tag_cmp(const void *key, const void *elem)
{
    const unsigned char *a = key;
    const unsigned char *b =
        (const unsigned char *)((const struct tag *)elem)->name;
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a - *b;
}

/* libxml2's HTML parser gives element names in lower case. */
static const struct tag *tag_find(const char *name)
{
    return bsearch(name, tags, sizeof tags / sizeof *tags, sizeof *tags,
                   tag_cmp);
}

static void on_link_element(struct extract *st, const struct tag *t,
                            const xmlChar **atts)
{
    const char *href = attr_get(atts, t->attr);
    if (!href)
        return;
    uint32_t flags = 0;
    const char *rel = NULL;
    if (t->kind == LINK_A || t->kind == LINK_AREA || t->kind == LINK_LINK)
        rel = attr_get(atts, "rel");
    if (rel && has_token(rel, "nofollow", ascii_ws))
        flags |= LINK_NOFOLLOW;
    const struct resolution *r = link_add(st, href, t->kind, flags);
    if (t->kind == LINK_LINK && rel && has_token(rel, "canonical", ascii_ws) &&
        !st->has_canonical) {
        st->has_canonical = 1;
        if (r->error == 0)
            st->out->canonical = xstrdup(r->url);
    }
}

/* Only the first <base href> counts, resolved against the document URL;
 * links before it keep the document URL as their base. A base that does
 * not resolve leaves the document URL in place. */
static void on_base(struct extract *st, const xmlChar **atts)
{
    const char *href = attr_get(atts, "href");
    if (!href || st->has_base)
        return;
    st->has_base = 1;
    char *u = NULL;
    if (url_resolve(st->base, href, st->opt->max_url_bytes, &u) != 0)
        return;
    struct url_base *b = url_base_new(u, st->opt->memo);
    free(u);
    if (!b)
        return;
    url_base_free(st->base);
    st->base = b;
    st->base_gen++;
}

/* The URL in a refresh value ("5; url=/next", "0;URL='x'", "3, /x"), as the
 * HTML Standard's shared declarative refresh steps find it. Returns 0 with
 * its start and length, or -1 when there is none (a bare delay, or no
 * delay at all, which makes the value invalid). */
static int refresh_url(const char *s, const char **url, size_t *len)
{
    const char *p = s + strspn(s, ascii_ws);
    if (strspn(p, "0123456789") == 0 && *p != '.')
        return -1;
    p += strspn(p, "0123456789.");
    if (*p && *p != ';' && *p != ',' && !is_ascii_ws(*p))
        return -1;
    p += strspn(p, ascii_ws);
    if (*p == ';' || *p == ',')
        p++;
    p += strspn(p, ascii_ws);
    const char *u = p;
    if (strncasecmp(p, "url", 3) == 0) {
        const char *q = p + 3 + strspn(p + 3, ascii_ws);
        if (*q == '=')
            u = q + 1 + strspn(q + 1, ascii_ws);
    }
    size_t n;
    if (*u == '"' || *u == '\'') {
        const char *end = strchr(u + 1, *u);
        u++;
        n = end ? (size_t)(end - u) : strlen(u);
    } else {
        n = strlen(u);
    }
    while (n && is_ascii_ws(u[n - 1]))
        n--;
    if (n == 0)
        return -1;
    *url = u;
    *len = n;
    return 0;
}

unsigned html_robots_directives(const char *content)
{
    static const char seps[] = ", \t\n\f\r";
    unsigned bits = 0;
    if (has_token(content, "none", seps))
        bits |= META_NOINDEX | META_NOFOLLOW;
    if (has_token(content, "noindex", seps))
        bits |= META_NOINDEX;
    if (has_token(content, "nofollow", seps))
        bits |= META_NOFOLLOW;
    return bits;
}

/* <meta name=robots content=...> adds to meta_robots (see
 * html_robots_directives). The first <meta
 * http-equiv=refresh> sets refresh when it names a target that resolves,
 * and the target is a LINK_REDIRECT link either way. */
static void on_meta(struct extract *st, const xmlChar **atts)
{
    const char *content = attr_get(atts, "content");
    if (!content)
        return;
    const char *name = attr_get(atts, "name");
    if (name && is_word(name, "robots"))
        st->out->meta_robots |= html_robots_directives(content);
    const char *equiv = attr_get(atts, "http-equiv");
    if (!equiv || !is_word(equiv, "refresh") || st->has_refresh)
        return;
    st->has_refresh = 1;
    const char *u;
    size_t n;
    if (refresh_url(content, &u, &n) != 0)
        return;
    char *target = xmemdup0(u, n);
    const struct resolution *r = link_add(st, target, LINK_REDIRECT, 0);
    if (r->error == 0)
        st->out->refresh = xstrdup(r->url);
    free(target);
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    struct extract *st = ctx;
    const struct tag *t = tag_find((const char *)name);
    unsigned what = t ? t->what : 0;
    if (!(what & TAG_INLINE))
        st->text.want_space = 1;
    if (what & TAG_SKIP)
        st->skip_depth++;
    if (what & TAG_FOREIGN)
        st->foreign_depth++;
    if (what & TAG_TITLE) {
        if (st->title_state == TITLE_NONE && st->foreign_depth == 0)
            st->title_state = TITLE_IN;
        st->title_depth++;
    }
    if (what & TAG_LINK)
        on_link_element(st, t, atts);
    if (what & TAG_BASE)
        on_base(st, atts);
    if (what & TAG_META)
        on_meta(st, atts);
}

/* libxml2 pairs every start with an end (it closes what the markup leaves
 * open); the guards only keep a surprise from going negative. */
static void on_end(void *ctx, const xmlChar *name)
{
    struct extract *st = ctx;
    const struct tag *t = tag_find((const char *)name);
    unsigned what = t ? t->what : 0;
    if (!(what & TAG_INLINE))
        st->text.want_space = 1;
    if ((what & TAG_SKIP) && st->skip_depth > 0)
        st->skip_depth--;
    if ((what & TAG_FOREIGN) && st->foreign_depth > 0)
        st->foreign_depth--;
    if ((what & TAG_TITLE) && st->title_depth > 0) {
        st->title_depth--;
        if (st->title_depth == 0 && st->title_state == TITLE_IN)
            st->title_state = TITLE_DONE;
    }
}

/* Text of the first <title> goes to the title; text of any title, and text
 * inside script, style, noscript, template and head, goes nowhere. */
static void text_put(struct extract *st, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (st->title_depth > 0) {
        if (st->title_state == TITLE_IN)
            sink_add(&st->title, (const unsigned char *)p, n);
        return;
    }
    if (st->skip_depth == 0)
        sink_add(&st->text, (const unsigned char *)p, n);
}

/* libxml2's characters p, n, each mark replaced by its stretch: put to
 * the text when is_kept, only counted as seen otherwise (a comment). */
static void unmark(struct extract *st, const char *p, size_t n, int is_kept)
{
    const char *end = p + n, *mk;
    while (st->marks.is_on && (mk = mark_find(p, (size_t)(end - p))) != NULL) {
        size_t len;
        const char *t = mark_take(&st->marks, &len);
        if (is_kept) {
            text_put(st, p, (size_t)(mk - p));
            if (t)
                text_put(st, t, len);
        }
        p = mk + MARK_LEN;
    }
    if (is_kept)
        text_put(st, p, (size_t)(end - p));
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
    if (len > 0)
        unmark(ctx, (const char *)ch, (size_t)len, 1);
}

static void on_comment(void *ctx, const xmlChar *value)
{
    struct extract *st = ctx;
    if (st->marks.is_on)
        unmark(st, (const char *)value, strlen((const char *)value), 0);
}

static void extract_init(struct extract *st, const char *url,
                         const struct html_options *opt,
                         struct parse_result *out, int is_marked)
{
    memset(st, 0, sizeof *st);
    st->opt = opt;
    st->out = out;
    /* NULL: only absolute links */
    st->base = url ? url_base_new(url, opt->memo) : NULL;
    st->title_state = TITLE_NONE;
    sink_init(&st->title, TITLE_MAX_BYTES);
    sink_init(&st->text, opt->max_text_bytes);
    marks_init(&st->marks, is_marked);
}

/* Moves the collected strings to out and frees the rest. */
static void extract_finish(struct extract *st)
{
    struct parse_result *out = st->out;
    out->title = buf_detach(&st->title.b, NULL);
    out->text = buf_detach(&st->text.b, NULL);
    if (!out->canonical)
        out->canonical = xstrdup("");
    if (!out->refresh)
        out->refresh = xstrdup("");
    for (size_t i = 0; i < st->n_res; i++) {
        free(st->res[i].href);
        free(st->res[i].url);
    }
    free(st->res);
    table_release(&st->res_index);
    table_release(&st->link_index);
    table_release(&st->dropped);
    url_base_free(st->base);
    marks_release(&st->marks);
}

/* ---- the entry point ---- */

/* The charset to decode with, in the order a browser picks one: a BOM, the
 * Content-Type header, the document's own declaration, and last a guess:
 * UTF-8 when the bytes are well-formed UTF-8, windows-1252 when not (the
 * usual charset of old undeclared pages). An unknown label is passed
 * over. *skip is the length of the BOM. */
static void charset_pick(const char *p, size_t n, const char *content_type,
                         struct charset *cs, size_t *skip)
{
    char label[LABEL_MAX + 1];
    const unsigned char *u = (const unsigned char *)p;
    *skip = 0;
    if (n >= 3 && memcmp(u, "\xEF\xBB\xBF", 3) == 0) {
        *skip = 3;
        charset_open("utf-8", 0, cs);
        return;
    }
    if (n >= 2 &&
        (memcmp(u, "\xFF\xFE", 2) == 0 || memcmp(u, "\xFE\xFF", 2) == 0)) {
        *skip = 2;
        if (charset_open(u[0] == 0xFF ? "utf-16le" : "utf-16be", 0, cs) == 0)
            return;
    }
    if (content_type && charset_param(content_type, label) == 0 &&
        charset_open(label, 0, cs) == 0)
        return;
    if (prescan_label(p, n, label) == 0 && charset_open(label, 1, cs) == 0)
        return;
    if (utf8_is_valid(u, n) || charset_open("windows-1252", 0, cs) != 0)
        charset_open("utf-8", 0, cs);
}

/* Whether the BOM or the header says the body is UTF-16 or UTF-32. */
static int is_wide_text(const char *p, size_t n, const char *content_type)
{
    char label[LABEL_MAX + 1];
    if (n >= 2 &&
        (memcmp(p, "\xFF\xFE", 2) == 0 || memcmp(p, "\xFE\xFF", 2) == 0))
        return 1;
    return content_type && charset_param(content_type, label) == 0 &&
           label_is(label, utf16_labels);
}

/* Decodes the body and runs the extracting parser over it. */
static void parse_body(struct extract *st, const char *body, size_t len,
                       const char *content_type)
{
    struct charset cs;
    struct decoder d;
    struct sax_session s;
    htmlSAXHandler sax;
    size_t skip;
    xmlInitParser();
    charset_pick(body, len, content_type, &cs, &skip);
    decoder_init(&d, &cs, body + skip, len - skip, CHUNK_BYTES);
    memset(&sax, 0, sizeof sax);
    sax.startElement = on_start;
    sax.endElement = on_end;
    sax.characters = on_text;
    sax.ignorableWhitespace = on_text;
    sax.comment = on_comment;
    sax_run(&s, &sax, st, &d, &st->marks);
    decoder_release(&d);
    charset_close(&cs);
}

int html_extract(const char *body, size_t len, const char *url,
                 const char *content_type, const struct html_options *opt,
                 struct parse_result *out)
{
    struct extract st;
    int rc = 0;
    memset(out, 0, sizeof *out);
    extract_init(&st, url, opt, out, !opt->no_text_marks);
    if (!body) {
        body = "";
        len = 0;
    }
    if (is_binary((const unsigned char *)body, len,
                  is_wide_text(body, len, content_type))) {
        rc = PARSE_EBINARY;
    } else {
        parse_body(&st, body, len, content_type);
        if (marks_astray(&st.marks)) {
            extract_finish(&st);
            parse_result_release(out);
            memset(out, 0, sizeof *out);
            extract_init(&st, url, opt, out, 0);
            parse_body(&st, body, len, content_type);
        }
    }
    extract_finish(&st);
    out->status = (uint32_t)rc;
    return rc;
}
