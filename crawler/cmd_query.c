/*
 * cmd_query: the commands that read a crawl database, finished or still
 * being crawled:
 *   crawler stats  [--db FILE] [--json]
 *   crawler query  [--db FILE] [--csv|--json] SQL
 *   crawler search [--db FILE] [--limit N] [--csv|--json] QUERY
 *   crawler index  [--db FILE]
 *   crawler export [--db FILE] --format jsonl|csv [--table pages|links|urls]
 *   crawler links  [--db FILE] URL [--in|--out] [--csv|--json]
 *
 * Each opens the database read-only (store/query.h) and prints rows as they
 * arrive: memory does not grow with the result, except that the aligned
 * table holds back its first TABLE_SAMPLE_ROWS rows to size its columns.
 * search and index also write, when no crawl holds the database, to bring
 * the search index up to date (store/text.c says why it lags).
 *
 * Output contract (scripts rely on it): CSV is RFC 4180 (CRLF line ends,
 * fields quoted when they hold a comma, quote, CR or LF; NULL is an empty
 * field, the empty string is ""); JSON is UTF-8, numbers unquoted and
 * unformatted, NULL as null, invalid UTF-8 replaced by U+FFFD; JSONL is one
 * JSON object per line. Times are the database's ISO 8601 UTC text.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/buf.h"
#include "crawler/cli.h"
#include "crawler/xalloc.h"
#include "parse/url.h"
#include "store/query.h"

#define DEFAULT_DB "crawl.db"
#define DEFAULT_SEARCH_LIMIT 20
#define TOP_HOSTS 10
/* The table format sizes its columns from the first rows it holds back. */
#define TABLE_SAMPLE_ROWS 1000
#define TABLE_SAMPLE_BYTES (8u << 20)
/* No column is padded wider than this; a longer value shifts its row. */
#define TABLE_MAX_WIDTH 80
/* How much of a statement an error message quotes. */
#define QUOTE_MAX_BYTES 60
#define CELL_MAX_BYTES ((size_t)1 << 31)

/* --- Output formats ------------------------------------------------------ */

enum out_format { OUT_TABLE, OUT_CSV, OUT_JSON, OUT_JSONL };

/* What a row callback returns when standard output fails (EPIPE with
 * SIGPIPE ignored, a full disk): the query stops, and main reports it. */
#define OUT_EWRITE (-1)

/* A result being printed; fed by out_row, ended by out_finish. */
struct out {
    FILE *f;
    enum out_format format;
    int n_cols;
    int64_t n_rows;
    /* The table format: */
    char **names; /* owned copies */
    char **held;  /* n_held rows of n_cols rendered cells */
    size_t n_held;
    size_t held_bytes;
    size_t *widths;          /* in code points */
    unsigned char *numeric;  /* per column: right-aligned */
    unsigned char *has_text; /* per column: a non-numeric value was seen */
    int started;             /* out_header was called */
    int sized;               /* header printed, rows now go straight out */
    struct buf cell;         /* scratch for one rendered cell */
};

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A blob is shown as text when it is valid UTF-8 without NULs (robots.txt
 * is stored as a blob), else as hex. */
static int blob_is_text(const struct store_value *v)
{
    const unsigned char *p = (const unsigned char *)v->p;
    for (size_t i = 0; i < v->len;) {
        size_t k = p[i] ? utf8_seq(p + i, v->len - i) : 0;
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

static void put_hex(FILE *f, const struct store_value *v)
{
    const unsigned char *p = (const unsigned char *)v->p;
    for (size_t i = 0; i < v->len; i++)
        fprintf(f, "%02x", p[i]);
}

/* The shortest of %.15g .. %.17g that reads back as d; integral values keep
 * a ".0" so that a reader sees a float column as floats. */
static void format_double(double d, char *out, size_t n)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    if (!strpbrk(out, ".eEin") && strlen(out) + 3 <= n)
        memcpy(out + strlen(out), ".0", 3);
}

static void put_double(FILE *f, double d, int json)
{
    char num[40];
    if (isfinite(d)) {
        format_double(d, num, sizeof num);
        fputs(num, f);
    } else if (json) {
        fputs("null", f);
    } else {
        fputs(isnan(d) ? "NaN" : d < 0 ? "-Inf" : "Inf", f);
    }
}

static void json_string(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        /* Plain ASCII goes out in one write: this loop is the export's
         * hot path. */
        size_t run = 0;
        while (i + run < n && p[i + run] >= 0x20 && p[i + run] < 0x80 &&
               p[i + run] != '"' && p[i + run] != '\\')
            run++;
        if (run) {
            fwrite(p + i, 1, run, f);
            i += run;
            continue;
        }
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\b':
                fputs("\\b", f);
                break;
            case '\f':
                fputs("\\f", f);
                break;
            case '\n':
                fputs("\\n", f);
                break;
            case '\r':
                fputs("\\r", f);
                break;
            case '\t':
                fputs("\\t", f);
                break;
            default:
                fprintf(f, "\\u%04x", c);
                break;
            }
            i++;
        } else {
            size_t k = utf8_seq(p + i, n - i);
            if (k)
                fwrite(p + i, 1, k, f);
            else
                fputs("\\ufffd", f);
            i += k ? k : 1;
        }
    }
    fputc('"', f);
}

static void json_value(FILE *f, const struct store_value *v)
{
    switch (v->type) {
    case STORE_INT:
        fprintf(f, "%lld", (long long)v->i);
        break;
    case STORE_FLOAT:
        put_double(f, v->f, 1);
        break;
    case STORE_TEXT:
        json_string(f, v->p, v->len);
        break;
    case STORE_BLOB:
        if (blob_is_text(v)) {
            json_string(f, v->p, v->len);
        } else {
            fputc('"', f);
            put_hex(f, v);
            fputc('"', f);
        }
        break;
    default:
        fputs("null", f);
        break;
    }
}

static void csv_text(FILE *f, const char *s, size_t n)
{
    int quote = n == 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        fwrite(s, 1, n, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        const char *q = memchr(s + i, '"', n - i);
        size_t run = q ? (size_t)(q - (s + i)) + 1 : n - i;
        fwrite(s + i, 1, run, f);
        if (q)
            fputc('"', f); /* a quote is doubled */
        i += run;
    }
    fputc('"', f);
}

static void csv_value(FILE *f, const struct store_value *v)
{
    switch (v->type) {
    case STORE_INT:
        fprintf(f, "%lld", (long long)v->i);
        break;
    case STORE_FLOAT:
        put_double(f, v->f, 0);
        break;
    case STORE_TEXT:
        csv_text(f, v->p, v->len);
        break;
    case STORE_BLOB:
        if (blob_is_text(v))
            csv_text(f, v->p, v->len);
        else
            put_hex(f, v);
        break;
    default:
        break; /* NULL: an empty field */
    }
}

/* The value as a table shows it: on one line, control characters escaped,
 * invalid UTF-8 as U+FFFD. Into o->cell. */
static void render_cell(struct out *o, const struct store_value *v)
{
    struct buf *b = &o->cell;
    buf_reset(b);
    char num[40];
    switch (v->type) {
    case STORE_INT:
        snprintf(num, sizeof num, "%lld", (long long)v->i);
        buf_append_str(b, num);
        return;
    case STORE_FLOAT:
        if (isfinite(v->f))
            format_double(v->f, num, sizeof num);
        else
            snprintf(num, sizeof num, "%s",
                     isnan(v->f) ? "NaN"
                     : v->f < 0  ? "-Inf"
                                 : "Inf");
        buf_append_str(b, num);
        return;
    case STORE_TEXT:
    case STORE_BLOB:
        break;
    default:
        return;
    }
    const unsigned char *p = (const unsigned char *)v->p;
    if (v->type == STORE_BLOB && !blob_is_text(v)) {
        for (size_t i = 0; i < v->len; i++) {
            snprintf(num, sizeof num, "%02x", p[i]);
            buf_append(b, num, 2);
        }
        return;
    }
    for (size_t i = 0; i < v->len;) {
        unsigned c = p[i];
        size_t k = c >= 0x20 ? utf8_seq(p + i, v->len - i) : 1;
        if (c == '\n') {
            buf_append(b, "\\n", 2);
        } else if (c == '\t') {
            buf_append(b, "\\t", 2);
        } else if (c == '\r') {
            buf_append(b, "\\r", 2);
        } else if (c < 0x20) {
            snprintf(num, sizeof num, "\\x%02x", c);
            buf_append_str(b, num);
        } else if (k) {
            buf_append(b, p + i, k);
        } else {
            buf_append(b, "\xef\xbf\xbd", 3);
            k = 1;
        }
        i += k;
    }
}

/* Display width, counted in code points (the text is valid UTF-8). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static void out_init(struct out *o, FILE *f, enum out_format format)
{
    memset(o, 0, sizeof *o);
    o->f = f;
    o->format = format;
    buf_init(&o->cell, CELL_MAX_BYTES);
}

static void pad(FILE *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(' ', f);
}

static void table_line(struct out *o, char *const *cells)
{
    for (int i = 0; i < o->n_cols; i++) {
        size_t w = text_width(cells[i]);
        size_t gap = w < o->widths[i] ? o->widths[i] - w : 0;
        if (i > 0)
            fputs("  ", o->f);
        if (o->numeric[i])
            pad(o->f, gap);
        fputs(cells[i], o->f);
        if (!o->numeric[i] && i + 1 < o->n_cols)
            pad(o->f, gap);
    }
    fputc('\n', o->f);
}

/* Prints the header and the rows held back, now that widths are known. */
static void table_flush(struct out *o)
{
    for (int i = 0; i < o->n_cols; i++) {
        if (o->widths[i] > TABLE_MAX_WIDTH)
            o->widths[i] = TABLE_MAX_WIDTH;
        o->numeric[i] = o->numeric[i] && !o->has_text[i];
    }
    table_line(o, o->names);
    for (int i = 0; i < o->n_cols; i++) {
        if (i > 0)
            fputs("  ", o->f);
        for (size_t k = 0; k < o->widths[i]; k++)
            fputc('-', o->f);
    }
    fputc('\n', o->f);
    for (size_t r = 0; r < o->n_held; r++) {
        char **row = o->held + r * (size_t)o->n_cols;
        table_line(o, row);
        for (int i = 0; i < o->n_cols; i++)
            free(row[i]);
    }
    free(o->held);
    o->held = NULL;
    o->n_held = 0;
    o->sized = 1;
}

static void out_header(struct out *o, int n_cols, const char *const *names)
{
    o->n_cols = n_cols;
    o->started = 1;
    if (n_cols == 0)
        return; /* a statement without columns (a PRAGMA setting one) */
    switch (o->format) {
    case OUT_CSV:
        for (int i = 0; i < n_cols; i++) {
            if (i > 0)
                fputc(',', o->f);
            csv_text(o->f, names[i], strlen(names[i]));
        }
        fputs("\r\n", o->f);
        break;
    case OUT_JSON:
        fputs("[", o->f);
        break;
    case OUT_JSONL:
        break;
    case OUT_TABLE:
        o->names = xcalloc((size_t)n_cols + 1, sizeof *o->names);
        o->widths = xcalloc((size_t)n_cols + 1, sizeof *o->widths);
        o->numeric = xcalloc((size_t)n_cols + 1, 1);
        o->has_text = xcalloc((size_t)n_cols + 1, 1);
        for (int i = 0; i < n_cols; i++) {
            struct store_value v = {
                .type = STORE_TEXT, .p = names[i], .len = strlen(names[i])};
            render_cell(o, &v);
            o->names[i] = xstrdup(o->cell.data ? o->cell.data : "");
            o->widths[i] = text_width(o->names[i]);
        }
        break;
    }
}

static void table_row(struct out *o, const struct store_value *vals)
{
    int hold = !o->sized && o->n_held < TABLE_SAMPLE_ROWS &&
               o->held_bytes < TABLE_SAMPLE_BYTES;
    if (!hold && !o->sized)
        table_flush(o);
    char **cells = NULL;
    if (hold) {
        o->held = xrealloc(o->held, (o->n_held + 1) * (size_t)o->n_cols *
                                        sizeof *o->held);
        cells = o->held + o->n_held * (size_t)o->n_cols;
        o->n_held++;
    } else {
        cells = xcalloc((size_t)o->n_cols + 1, sizeof *cells);
    }
    for (int i = 0; i < o->n_cols; i++) {
        render_cell(o, &vals[i]);
        cells[i] = xstrdup(o->cell.data ? o->cell.data : "");
        if (!hold)
            continue;
        o->held_bytes += o->cell.len;
        size_t w = text_width(cells[i]);
        if (w > o->widths[i])
            o->widths[i] = w;
        if (vals[i].type == STORE_INT || vals[i].type == STORE_FLOAT)
            o->numeric[i] = 1;
        else if (vals[i].type != STORE_NULL)
            o->has_text[i] = 1;
    }
    if (hold)
        return;
    table_line(o, cells);
    for (int i = 0; i < o->n_cols; i++)
        free(cells[i]);
    free(cells);
}

/* The row callback of store/query.h: prints one row (or the header). */
static int out_row(void *arg, int n_cols, const char *const *names,
                   const struct store_value *vals)
{
    struct out *o = arg;
    if (!vals) {
        out_header(o, n_cols, names);
        return ferror(o->f) ? OUT_EWRITE : 0;
    }
    switch (o->format) {
    case OUT_CSV:
        for (int i = 0; i < n_cols; i++) {
            if (i > 0)
                fputc(',', o->f);
            csv_value(o->f, &vals[i]);
        }
        fputs("\r\n", o->f);
        break;
    case OUT_JSON:
    case OUT_JSONL:
        if (o->format == OUT_JSON)
            fputs(o->n_rows ? ",\n" : "\n", o->f);
        fputc('{', o->f);
        for (int i = 0; i < n_cols; i++) {
            if (i > 0)
                fputc(',', o->f);
            json_string(o->f, names[i], strlen(names[i]));
            fputc(':', o->f);
            json_value(o->f, &vals[i]);
        }
        fputc('}', o->f);
        if (o->format == OUT_JSONL)
            fputc('\n', o->f);
        break;
    case OUT_TABLE:
        table_row(o, vals);
        break;
    }
    o->n_rows++;
    return ferror(o->f) ? OUT_EWRITE : 0;
}

/* Ends the output and frees o. A write error is left in the stream's error
 * indicator, for main to report. */
static void out_finish(struct out *o)
{
    if (o->started && o->format == OUT_JSON)
        fputs(o->n_rows ? "\n]\n" : "]\n", o->f);
    if (o->started && o->n_cols && o->format == OUT_TABLE && !o->sized)
        table_flush(o);
    for (int i = 0; o->names && i < o->n_cols; i++)
        free(o->names[i]);
    for (size_t r = 0; r < o->n_held * (size_t)o->n_cols; r++)
        free(o->held[r]);
    free(o->held);
    free(o->names);
    free(o->widths);
    free(o->numeric);
    free(o->has_text);
    buf_release(&o->cell);
}

/* --- Options ------------------------------------------------------------- */

enum {
    OPT_DB = 256,
    OPT_JSON,
    OPT_CSV,
    OPT_LIMIT,
    OPT_FORMAT,
    OPT_TABLE,
    OPT_IN,
    OPT_OUT,
    OPT_HELP,
};

#define ALLOW(opt) (1u << ((opt)-OPT_DB))

static const struct option options[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"json", no_argument, NULL, OPT_JSON},
    {"csv", no_argument, NULL, OPT_CSV},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"table", required_argument, NULL, OPT_TABLE},
    {"in", no_argument, NULL, OPT_IN},
    {"out", no_argument, NULL, OPT_OUT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* One command's options and arguments. */
struct spec {
    const char *name;
    const char *usage; /* after "usage: crawler " */
    const char *help;  /* what --help adds */
    unsigned allowed;  /* ALLOW() bits */
    int n_args;        /* positional arguments, exactly */
};

struct opts {
    const char *db;
    enum out_format format;
    int format_set;
    int64_t limit;
    enum store_table table;
    int inbound;
    const char *arg;
};

/* 0, or the exit status to return (0 after --help, 2 on a usage error). */
static int parse_opts(const struct spec *sp, int argc, char **argv,
                      struct opts *o, int *done)
{
    *o = (struct opts){.db = DEFAULT_DB, .limit = DEFAULT_SEARCH_LIMIT};
    *done = 0;
    optind = 1;
    opterr = 0;
    int c, at;
    /* The leading ':' tells a missing value (':') from an unknown option. */
    while ((c = getopt_long(argc, argv, ":", options, &at)) != -1) {
        if (c >= OPT_DB && c <= OPT_HELP && !(sp->allowed & ALLOW(c)) &&
            c != OPT_HELP) {
            /* another command's option: argv[optind - 1] may be its value */
            fprintf(stderr,
                    "crawler: --%s: not an option of %s (see crawler %s "
                    "--help)\n",
                    options[at].name, sp->name, sp->name);
            return EXIT_USAGE;
        }
        switch (c) {
        case OPT_DB:
            o->db = optarg;
            break;
        case OPT_JSON:
            o->format = OUT_JSON;
            break;
        case OPT_CSV:
            o->format = OUT_CSV;
            break;
        case OPT_LIMIT:
            if (cli_number("--limit", optarg, INT64_MAX / 2, &o->limit) < 0)
                return EXIT_USAGE;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "jsonl") == 0) {
                o->format = OUT_JSONL;
            } else if (strcmp(optarg, "csv") == 0) {
                o->format = OUT_CSV;
            } else {
                fprintf(stderr,
                        "crawler: --format '%s': must be jsonl or csv\n",
                        optarg);
                return EXIT_USAGE;
            }
            o->format_set = 1;
            break;
        case OPT_TABLE:
            if (strcmp(optarg, "pages") == 0) {
                o->table = STORE_TABLE_PAGES;
            } else if (strcmp(optarg, "links") == 0) {
                o->table = STORE_TABLE_LINKS;
            } else if (strcmp(optarg, "urls") == 0) {
                o->table = STORE_TABLE_URLS;
            } else {
                fprintf(stderr,
                        "crawler: --table '%s': must be pages, links or urls\n",
                        optarg);
                return EXIT_USAGE;
            }
            break;
        case OPT_IN:
            o->inbound = 1;
            break;
        case OPT_OUT:
            o->inbound = 0;
            break;
        case OPT_HELP:
            printf("usage: crawler %s\n%s", sp->usage, sp->help);
            *done = 1;
            return 0;
        case ':':
            fprintf(stderr, "crawler: %s: missing value\n", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr,
                    "crawler: %s: unknown option (see crawler %s --help)\n",
                    argv[optind - 1], sp->name);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != sp->n_args) {
        if (argc - optind > sp->n_args)
            fprintf(stderr, "crawler: unexpected argument '%s'\n",
                    argv[optind + sp->n_args]);
        fprintf(stderr, "usage: crawler %s\n", sp->usage);
        return EXIT_USAGE;
    }
    if (sp->n_args)
        o->arg = argv[optind];
    if ((sp->allowed & ALLOW(OPT_FORMAT)) && !o->format_set) {
        fprintf(stderr, "crawler: %s: --format jsonl|csv is required\n",
                sp->name);
        fprintf(stderr, "usage: crawler %s\n", sp->usage);
        return EXIT_USAGE;
    }
    return 0;
}

static struct store *open_db(const char *path)
{
    char err[512];
    struct store *s = NULL;
    if (store_open(path, 0, &s, err, sizeof err) < 0) {
        fprintf(stderr, "crawler: %s\n", err);
        return NULL;
    }
    return s;
}

/* Prints "crawler: 'TEXT': PROBLEM", TEXT on one line and cut short. */
static void fail_quoting(const char *text, const char *problem)
{
    char q[QUOTE_MAX_BYTES + 8];
    size_t n = 0;
    int space = 0;
    const char *p = text + strspn(text, " \t\r\n");
    for (; *p && n < QUOTE_MAX_BYTES; p++) {
        if (strchr(" \t\r\n", *p)) {
            space = 1;
            continue;
        }
        if (space && n < QUOTE_MAX_BYTES)
            q[n++] = ' ';
        space = 0;
        q[n++] = *p;
    }
    /* Never cut a UTF-8 sequence in two. */
    while (*p && n > 0 && ((unsigned char)q[n - 1] & 0xc0) == 0x80)
        n--;
    if (*p && n > 0 && ((unsigned char)q[n - 1] & 0xc0) == 0xc0)
        n--;
    q[n] = '\0';
    fprintf(stderr, "crawler: '%s%s': %s\n", q, *p ? "..." : "", problem);
}

/* --- crawler query ------------------------------------------------------- */

static const struct spec query_spec = {
    .name = "query",
    .usage = "query [--db FILE] [--csv|--json] SQL",
    .help =
        "Runs one read-only SQL statement on a crawl database "
        "(default " DEFAULT_DB ") and\nprints its rows: an aligned table, CSV "
        "(RFC 4180) or a JSON array of objects.\nWrites and multiple "
        "statements are refused. The schema and views are in\n"
        "README.md.\n",
    .allowed = ALLOW(OPT_DB) | ALLOW(OPT_JSON) | ALLOW(OPT_CSV),
    .n_args = 1,
};

int cmd_query(int argc, char **argv)
{
    struct opts o;
    int done;
    int status = parse_opts(&query_spec, argc, argv, &o, &done);
    if (status || done)
        return status;
    struct store *s = open_db(o.db);
    if (!s)
        return 1;
    struct out out;
    out_init(&out, stdout, o.format);
    int rc = store_query_run(s, o.arg, out_row, &out);
    if (rc < 0 && rc != OUT_EWRITE)
        fail_quoting(o.arg, store_errmsg(s));
    out_finish(&out);
    store_close(s);
    return rc < 0 && rc != OUT_EWRITE; /* a write error: main tells it */
}

/* --- crawler index and search: the search index ------------------------- */

#define INDEX_TX_PAGES 1000 /* texts indexed per transaction */

/* Indexes every stored text the search index does not cover yet and, with
 * with_links, builds the in-link index (links_to) when it is missing (a
 * crawl builds it when it ends, this after one that did not) and settles
 * the URL-seen index (store/db.h). One writer does all. 0 when all is up to
 * date, STORE_EBUSY when a crawl holds the database (it indexes texts itself
 * when idle), another <0 with the reason in err. *n gets the number of texts
 * still to index before the call. */
static int index_update(const char *path, struct store *ro, int with_links,
                        int64_t *n, char *err, size_t errlen)
{
    *n = 0;
    if (store_text_pending(ro, -1, n) < 0) {
        snprintf(err, errlen, "%s: cannot read the search index: %s", path,
                 store_errmsg(ro));
        return STORE_EFAIL;
    }
    int need_links = with_links ? store_inlinks_missing(ro) : 0;
    int64_t n_recent = with_links ? store_urls_recent(ro) : 0;
    int need_filter = with_links ? store_urls_filter_missing(ro) : 0;
    if (need_links < 0 || n_recent < 0 || need_filter < 0) {
        snprintf(err, errlen, "%s: cannot read the schema: %s", path,
                 store_errmsg(ro));
        return STORE_EFAIL;
    }
    if (*n == 0 && !need_links && n_recent == 0 && !need_filter)
        return 0;
    struct store *w = NULL;
    int rc = store_open(path, STORE_WRITE, &w, err, errlen);
    if (rc < 0)
        return rc;
    if (*n > 0 && isatty(fileno(stderr)))
        fprintf(stderr, "crawler: indexing %lld pages for search\n",
                (long long)*n);
    while (*n > 0) {
        rc = store_begin(w);
        if (rc == 0)
            rc = store_text_index(w, INDEX_TX_PAGES);
        if (rc >= 0 && store_commit(w) < 0)
            rc = STORE_EFAIL;
        if (rc <= 0)
            break;
    }
    if (rc < 0)
        snprintf(err, errlen, "%s: cannot index text for search: %s", path,
                 store_errmsg(w));
    else if (need_links && (rc = store_inlinks_build(w)) < 0)
        snprintf(err, errlen, "%s: cannot index the links: %s", path,
                 store_errmsg(w));
    else if ((n_recent > 0 || need_filter) &&
             (rc = store_urls_settle(w, 1)) < 0)
        snprintf(err, errlen, "%s: cannot index the URLs: %s", path,
                 store_errmsg(w));
    store_close(w);
    return rc;
}

static const struct spec index_spec = {
    .name = "index",
    .usage = "index [--db FILE]",
    .help = "Brings the full-text index (the page_text table) up to date "
            "with the text the\ncrawls stored. A crawl indexes when it is "
            "idle and `crawler search` before it\nsearches; this is for "
            "SQL that uses page_text MATCH directly. Also builds\nthe "
            "index of in-links (links_to), which a crawl builds when it "
            "ends, after a\ncrawl that did not end, and folds the URLs "
            "added since the URL index last\nsettled into its settled "
            "part (README, \"The database\").\n",
    .allowed = ALLOW(OPT_DB),
    .n_args = 0,
};

int cmd_index(int argc, char **argv)
{
    struct opts o;
    int done;
    int status = parse_opts(&index_spec, argc, argv, &o, &done);
    if (status || done)
        return status;
    struct store *s = open_db(o.db);
    if (!s)
        return 1;
    int64_t n;
    char err[512];
    int rc = index_update(o.db, s, 1, &n, err, sizeof err);
    if (rc == STORE_EBUSY)
        fprintf(stderr,
                "crawler: %s: a crawl is writing this database; it indexes "
                "the %lld pages left when idle, and the links when it ends\n",
                o.db, (long long)n);
    else if (rc < 0)
        fprintf(stderr, "crawler: %s\n", err);
    else if (n == 0)
        fprintf(stderr, "crawler: %s: the search index is up to date\n", o.db);
    store_close(s);
    return rc < 0 ? 1 : 0;
}

static const struct spec search_spec = {
    .name = "search",
    .usage = "search [--db FILE] [--limit N] [--csv|--json] QUERY",
    .help = "Full-text search over the titles and text of the crawled "
            "pages (not those\nmarked noindex), best match first (bm25). "
            "QUERY is FTS5 syntax: words,\n\"phrases\", AND, OR, NOT, "
            "prefix*. Prints each page's URL, title and a\nsnippet with "
            "the matches [marked] (bold on a terminal).\n"
            "  --limit N   at most N results, 0 = all (default "
            "20)\n",
    .allowed =
        ALLOW(OPT_DB) | ALLOW(OPT_LIMIT) | ALLOW(OPT_JSON) | ALLOW(OPT_CSV),
    .n_args = 1,
};

/* The readable form: URL, then title and snippet indented. */
static int search_row(void *arg, int n_cols, const char *const *names,
                      const struct store_value *vals)
{
    struct out *o = arg;
    (void)names;
    if (!vals)
        return n_cols >= 3 ? 0 : STORE_EFAIL;
    if (o->n_rows++ > 0)
        fputc('\n', o->f);
    for (int i = 0; i < 3; i++) {
        if (i > 0)
            fputs("  ", o->f);
        render_cell(o, &vals[i]);
        fputs(vals[i].type == STORE_NULL && i == 1 ? "(untitled)"
              : o->cell.data                       ? o->cell.data
                                                   : "",
              o->f);
        fputc('\n', o->f);
    }
    return ferror(o->f) ? OUT_EWRITE : 0;
}

int cmd_search(int argc, char **argv)
{
    struct opts o;
    int done;
    int status = parse_opts(&search_spec, argc, argv, &o, &done);
    if (status || done)
        return status;
    struct store *s = open_db(o.db);
    if (!s)
        return 1;
    /* Search goes on with the index as it is when it cannot be updated. */
    int64_t n_unindexed;
    char err[512];
    int rc = index_update(o.db, s, 0, &n_unindexed, err, sizeof err);
    if (rc == STORE_EBUSY)
        fprintf(stderr,
                "crawler: note: %lld pages are not searched yet: the crawl "
                "writing %s indexes them when idle\n",
                (long long)n_unindexed, o.db);
    else if (rc < 0)
        fprintf(stderr, "crawler: note: %lld pages are not searched yet: %s\n",
                (long long)n_unindexed, err);
    int bold = o.format == OUT_TABLE && isatty(fileno(stdout));
    struct out out;
    out_init(&out, stdout, o.format);
    rc = store_search(s, o.arg, o.limit, bold ? "\033[1m" : "[",
                      bold ? "\033[0m" : "]",
                      o.format == OUT_TABLE ? search_row : out_row, &out);
    if (rc < 0 && rc != OUT_EWRITE)
        fail_quoting(o.arg, store_errmsg(s));
    out_finish(&out);
    store_close(s);
    return rc < 0 && rc != OUT_EWRITE; /* a write error: main tells it */
}

/* --- crawler export ------------------------------------------------------ */

static const struct spec export_spec = {
    .name = "export",
    .usage = "export [--db FILE] --format jsonl|csv "
             "[--table pages|links|urls]",
    .help = "Streams a whole table to standard output, in constant memory: "
            "pages (with\neach URL), links (with both ends as URLs) or urls "
            "(default pages).\n",
    .allowed = ALLOW(OPT_DB) | ALLOW(OPT_FORMAT) | ALLOW(OPT_TABLE),
    .n_args = 0,
};

int cmd_export(int argc, char **argv)
{
    struct opts o;
    int done;
    int status = parse_opts(&export_spec, argc, argv, &o, &done);
    if (status || done)
        return status;
    struct store *s = open_db(o.db);
    if (!s)
        return 1;
    struct out out;
    out_init(&out, stdout, o.format);
    int rc = store_export(s, o.table, out_row, &out);
    if (rc < 0 && rc != OUT_EWRITE)
        fprintf(stderr, "crawler: %s: %s\n", o.db, store_errmsg(s));
    out_finish(&out);
    store_close(s);
    return rc < 0 && rc != OUT_EWRITE; /* a write error: main tells it */
}

/* --- crawler links ------------------------------------------------------- */

static const struct spec links_spec = {
    .name = "links",
    .usage = "links [--db FILE] URL [--in|--out] [--csv|--json]",
    .help = "The URLs a page links to (--out, the default) or the pages "
            "linking to a URL\n(--in), each once, sorted by URL, with "
            "the link's kind, its nofollow\nflag and the status of that "
            "URL's latest fetch. URL is normalized first.\n",
    .allowed = ALLOW(OPT_DB) | ALLOW(OPT_IN) | ALLOW(OPT_OUT) |
               ALLOW(OPT_JSON) | ALLOW(OPT_CSV),
    .n_args = 1,
};

int cmd_links(int argc, char **argv)
{
    struct opts o;
    int done;
    int status = parse_opts(&links_spec, argc, argv, &o, &done);
    if (status || done)
        return status;
    char *url = NULL;
    int nrc = url_normalize(o.arg, NULL, URL_MAX_DEFAULT, &url);
    struct store *s = open_db(o.db);
    if (!s) {
        free(url);
        return 1;
    }
    struct out out;
    out_init(&out, stdout, o.format);
    unsigned flags = o.inbound ? STORE_LINKS_IN : 0;
    /* A link the crawl could not use (mailto:, a bad href) is stored as
     * written: look it up so when it does not normalize. */
    int rc = store_links(s, nrc == 0 ? url : o.arg, flags, out_row, &out);
    if (rc == STORE_ENOTFOUND && nrc < 0)
        fprintf(stderr, "crawler: '%s': %s\n", o.arg, url_strerror(nrc));
    else if (rc == STORE_ENOTFOUND)
        fprintf(stderr, "crawler: %s: not in the database\n", url);
    else if (rc < 0 && rc != OUT_EWRITE)
        fprintf(stderr, "crawler: %s: %s\n", o.db, store_errmsg(s));
    out_finish(&out);
    store_close(s);
    free(url);
    return rc < 0 && rc != OUT_EWRITE; /* a write error: main tells it */
}

/* --- crawler explain ----------------------------------------------------- */

static const struct spec explain_spec = {
    .name = "explain",
    .usage = "explain [--db FILE] URL",
    .help = "Whether a URL was fetched and, if not, why (robots.txt with "
            "the deciding\nrule, scope, a pattern, depth, a limit, "
            "nofollow, a spider-trap rule, ...),\nthe page it was first "
            "found on, and each of its fetches.\n",
    .allowed = ALLOW(OPT_DB),
    .n_args = 1,
};

/* Prints a row as "name: value" lines, skipping NULLs. */
static int explain_row(void *arg, int n_cols, const char *const *names,
                       const struct store_value *vals)
{
    int *n_fetches = arg;
    if (!vals)
        return 0; /* the header: names come with each row */
    if (n_fetches)
        printf("fetch %d:\n", ++*n_fetches);
    for (int i = 0; i < n_cols; i++) {
        const struct store_value *v = &vals[i];
        if (v->type == STORE_NULL)
            continue;
        printf("%s%-14s ", n_fetches ? "  " : "", names[i]);
        if (v->type == STORE_INT)
            printf("%lld\n", (long long)v->i);
        else if (v->type == STORE_FLOAT)
            printf("%.3f\n", v->f);
        else
            printf("%.*s\n", (int)v->len, v->p);
    }
    return 0;
}

static int explain_url_row(void *arg, int n_cols, const char *const *names,
                           const struct store_value *vals)
{
    (void)arg;
    return explain_row(NULL, n_cols, names, vals);
}

int cmd_explain(int argc, char **argv)
{
    struct opts o;
    int done;
    int status = parse_opts(&explain_spec, argc, argv, &o, &done);
    if (status || done)
        return status;
    char *url = NULL;
    int nrc = url_normalize(o.arg, NULL, URL_MAX_DEFAULT, &url);
    struct store *s = open_db(o.db);
    if (!s) {
        free(url);
        return 1;
    }
    int n_fetches = 0;
    int rc = store_explain(s, nrc == 0 ? url : o.arg, explain_url_row,
                           explain_row, &n_fetches);
    if (rc == STORE_ENOTFOUND && nrc < 0) /* looked up as written, too */
        fprintf(stderr, "crawler: '%s': %s\n", o.arg, url_strerror(nrc));
    else if (rc == STORE_ENOTFOUND)
        fprintf(stderr, "crawler: %s: never discovered by this crawl\n", url);
    else if (rc < 0)
        fprintf(stderr, "crawler: %s: %s\n", o.db, store_errmsg(s));
    else if (n_fetches == 0) {
        char *stop = NULL;
        store_meta_get(s, "last_stop", &stop);
        printf("(never fetched; the last crawl ended: %s)\n",
               stop ? stop : "unknown");
        free(stop);
    }
    store_close(s);
    free(url);
    return rc < 0 ? 1 : 0;
}

/* --- crawler stats ------------------------------------------------------- */

static const struct spec stats_spec = {
    .name = "stats",
    .usage = "stats [--db FILE] [--json]",
    .help = "What a crawl database holds: fetches by status class and "
            "content type,\nhosts, URLs by state, skip reasons, bytes, "
            "duration, pages per second and\nthe top hosts. A table, or "
            "JSON with --json (keys in README.md).\n",
    .allowed = ALLOW(OPT_DB) | ALLOW(OPT_JSON),
    .n_args = 0,
};

static const char *const class_names[STATUS_N_CLASSES] = {
    [STATUS_NONE] = "no_response",
    [1] = "1xx",
    [2] = "2xx",
    [3] = "3xx",
    [4] = "4xx",
    [5] = "5xx",
    [STATUS_OTHER] = "other",
};

static const char *const state_names[5] = {
    [URL_QUEUED] = "queued", [URL_IN_FLIGHT] = "in_flight", [URL_DONE] = "done",
    [URL_FAILED] = "failed", [URL_SKIPPED] = "skipped",
};

/* Rounded to milliseconds (or thousandths), for stable output. */
static double round3(double d)
{
    return round(d * 1000.0) / 1000.0;
}

static void json_counts(FILE *f, const struct store_count *c, size_t n)
{
    fputc('{', f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        json_string(f, c[i].key, strlen(c[i].key));
        fprintf(f, ": %lld", (long long)c[i].n);
    }
    fputc('}', f);
}

static void json_time(FILE *f, const char *key, const char *t)
{
    fprintf(f, "  \"%s\": ", key);
    if (t)
        json_string(f, t, strlen(t));
    else
        fputs("null", f);
    fputs(",\n", f);
}

static void stats_json(FILE *f, const struct store_stats *st)
{
    fprintf(f, "{\n  \"pages\": %lld,\n  \"pages_by_status\": {",
            (long long)st->n_pages);
    /* Classes in a reading order: 1xx .. 5xx, then the odd ones. */
    static const int order[] = {1, 2, 3, 4, 5, STATUS_OTHER, STATUS_NONE};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        fprintf(f, "%s\"%s\": %lld", i ? ", " : "", class_names[order[i]],
                (long long)st->n_by_class[order[i]]);
    fputs("},\n  \"pages_by_content_type\": ", f);
    json_counts(f, st->types, st->n_types);
    fprintf(f, ",\n  \"hosts\": %lld,\n  \"urls\": {\"total\": %lld",
            (long long)st->n_hosts, (long long)st->n_urls);
    for (int i = 0; i < 5; i++)
        fprintf(f, ", \"%s\": %lld", state_names[i],
                (long long)st->n_by_state[i]);
    fputs("},\n  \"skipped_by_reason\": ", f);
    json_counts(f, st->reasons, st->n_reasons);
    fprintf(f, ",\n  \"bytes\": %lld,\n", (long long)st->n_bytes);
    json_time(f, "started_at", st->started_at);
    json_time(f, "last_fetch_at", st->last_fetch_at);
    fputs("  \"duration_s\": ", f);
    put_double(f, round3(st->duration_s), 1);
    fputs(",\n  \"pages_per_s\": ", f);
    if (st->duration_s > 0)
        put_double(f, round3((double)st->n_pages / st->duration_s), 1);
    else
        fputs("null", f);
    fputs(",\n  \"top_hosts\": [", f);
    for (size_t i = 0; i < st->n_top_hosts; i++) {
        const struct store_count *h = &st->top_hosts[i];
        fputs(i ? ",\n    {\"host\": " : "\n    {\"host\": ", f);
        json_string(f, h->key, strlen(h->key));
        fprintf(f, ", \"pages\": %lld, \"errors\": %lld, \"bytes\": %lld}",
                (long long)h->n, (long long)h->errors, (long long)h->bytes);
    }
    fputs(st->n_top_hosts ? "\n  ]\n}\n" : "]\n}\n", f);
}

#define LABEL_WIDTH 18

static void stats_line(FILE *f, int indent, const char *label, long long n)
{
    fprintf(f, "%*s%-*s %lld\n", indent, "", LABEL_WIDTH - indent, label, n);
}

static void stats_text(FILE *f, const struct store_stats *st)
{
    stats_line(f, 0, "pages", st->n_pages);
    for (int i = 1; i <= STATUS_OTHER; i++)
        if (st->n_by_class[i] || (i >= 2 && i <= 5))
            stats_line(f, 2, class_names[i], st->n_by_class[i]);
    stats_line(f, 2, "no response", st->n_by_class[STATUS_NONE]);
    if (st->n_types)
        fprintf(f, "content types\n");
    for (size_t i = 0; i < st->n_types; i++)
        stats_line(f, 2, *st->types[i].key ? st->types[i].key : "(none)",
                   st->types[i].n);
    stats_line(f, 0, "hosts", st->n_hosts);
    stats_line(f, 0, "urls", st->n_urls);
    static const char *const state_labels[5] = {"queued", "in flight", "done",
                                                "failed", "skipped"};
    for (int i = 0; i < 5; i++)
        stats_line(f, 2, state_labels[i], st->n_by_state[i]);
    for (size_t i = 0; i < st->n_reasons; i++)
        stats_line(f, 4, *st->reasons[i].key ? st->reasons[i].key : "(none)",
                   st->reasons[i].n);
    stats_line(f, 0, "bytes", st->n_bytes);
    fprintf(f, "%-*s %s\n", LABEL_WIDTH, "started at",
            st->started_at ? st->started_at : "-");
    fprintf(f, "%-*s %s\n", LABEL_WIDTH, "last fetch at",
            st->last_fetch_at ? st->last_fetch_at : "-");
    fprintf(f, "%-*s %.3f\n", LABEL_WIDTH, "duration (s)",
            round3(st->duration_s));
    if (st->duration_s > 0)
        fprintf(f, "%-*s %.3f\n", LABEL_WIDTH, "pages per second",
                (double)st->n_pages / st->duration_s);
    if (!st->n_top_hosts)
        return;
    int w = 4;
    for (size_t i = 0; i < st->n_top_hosts; i++) {
        size_t len = strlen(st->top_hosts[i].key);
        if (len > (size_t)w)
            w = len > TABLE_MAX_WIDTH ? TABLE_MAX_WIDTH : (int)len;
    }
    fprintf(f, "top hosts\n  %-*s  %10s  %10s  %12s\n", w, "host", "pages",
            "errors", "bytes");
    for (size_t i = 0; i < st->n_top_hosts; i++) {
        const struct store_count *h = &st->top_hosts[i];
        fprintf(f, "  %-*s  %10lld  %10lld  %12lld\n", w, h->key,
                (long long)h->n, (long long)h->errors, (long long)h->bytes);
    }
}

int cmd_stats(int argc, char **argv)
{
    struct opts o;
    int done;
    int status = parse_opts(&stats_spec, argc, argv, &o, &done);
    if (status || done)
        return status;
    struct store *s = open_db(o.db);
    if (!s)
        return 1;
    struct store_stats st;
    int rc = store_stats(s, TOP_HOSTS, &st);
    if (rc < 0) {
        fprintf(stderr, "crawler: %s: %s\n", o.db, store_errmsg(s));
        store_close(s);
        return 1;
    }
    if (o.format == OUT_JSON)
        stats_json(stdout, &st);
    else
        stats_text(stdout, &st);
    store_stats_release(&st);
    store_close(s);
    return 0; /* main checks that standard output took it all */
}
