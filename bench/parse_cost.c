/*
 * parse_cost: the CPU that the crawl's HTML parsing alone costs for a set
 * of files. Each file goes through html_extract as a text/html body (what
 * the benchmark's nginx says), with the crawl's default limits, as in a
 * parser process, but with no fetch, no messages and no database. The
 * files are read into memory first; a pass parses each of them once, with
 * a URL memo of its own (a parser's memo starts empty too); the result is
 * the median and the least CPU time (user + system) of the passes, as one
 * JSON line.
 *
 * bench/run runs it on the real site's files, so that BENCH.md shows how
 * much of the crawler's CPU is parsing with libxml2, next to the CPU of
 * wget2's whole crawl of the same site.
 *
 *   parse_cost PASSES DIR BASE_URL < LIST
 *
 * LIST holds one path a line ("/admin.html"): the file is DIR followed by
 * the path, and the document's URL is BASE_URL followed by it.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "crawler/buf.h"
#include "crawler/cli.h"
#include "crawler/msg.h"
#include "crawler/xalloc.h"
#include "parse/html.h"
#include "parse/url.h"

#define MAX_PASSES 100
#define MAX_FILE_BYTES ((size_t)64 << 20)
#define MAX_PATH_BYTES 4096

struct doc {
    char *body;
    size_t len;
    char *url;
};

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static char *join(const char *a, const char *b)
{
    struct buf s;
    buf_init(&s, SIZE_MAX);
    buf_append_str(&s, a);
    buf_append_str(&s, b);
    return buf_detach(&s, NULL);
}

static void free_docs(struct doc *docs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(docs[i].body);
        free(docs[i].url);
    }
    free(docs);
}

/* Every file LIST names, read whole, into *out (n_out of them); -1 after
 * cli_read_file said which file failed and why. */
static int read_docs(const char *dir, const char *base, struct doc **out,
                     size_t *n_out)
{
    struct doc *docs = NULL;
    size_t n = 0, cap = 0;
    char line[MAX_PATH_BYTES];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line)
            continue;
        char *path = join(dir, line);
        size_t len;
        char *body = cli_read_file(path, MAX_FILE_BYTES, &len);
        free(path);
        if (!body) {
            free_docs(docs, n);
            return -1;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            docs = xrealloc(docs, cap * sizeof *docs);
        }
        docs[n].body = body;
        docs[n].len = len;
        docs[n].url = join(base, line);
        n++;
    }
    *out = docs;
    *n_out = n;
    return 0;
}

int main(int argc, char **argv)
{
    setlocale(LC_CTYPE, "C.UTF-8"); /* as the crawler runs (crawler/main.c) */
    if (argc != 4) {
        fprintf(stderr, "usage: parse_cost PASSES DIR BASE_URL < LIST\n");
        return 2;
    }
    int64_t passes;
    if (cli_number("PASSES", argv[1], MAX_PASSES, &passes) < 0)
        return 2;
    if (passes < 1) {
        fprintf(stderr, "parse_cost: PASSES '%s': at least 1\n", argv[1]);
        return 2;
    }
    struct doc *docs;
    size_t n_docs;
    if (read_docs(argv[2], argv[3], &docs, &n_docs) < 0)
        return 1;
    if (n_docs == 0) {
        free(docs);
        fprintf(stderr, "parse_cost: no file listed on standard input\n");
        return 1;
    }
    size_t n_bytes = 0, n_links = 0;
    for (size_t i = 0; i < n_docs; i++)
        n_bytes += docs[i].len;
    double took[MAX_PASSES] = {0};
    for (int64_t p = 0; p < passes; p++) {
        double t0 = cpu_s();
        struct url_memo *memo = url_memo_new();
        for (size_t i = 0; i < n_docs; i++) {
            struct html_options opt = {
                .max_links = HTML_MAX_LINKS_DEFAULT,
                .max_text_bytes = HTML_MAX_TEXT_BYTES_DEFAULT,
                .max_url_bytes = URL_MAX_DEFAULT,
                .memo = memo,
            };
            struct parse_result res;
            html_extract(docs[i].body, docs[i].len, docs[i].url, "text/html",
                         &opt, &res);
            if (p == 0)
                n_links += res.n_links;
            parse_result_release(&res);
        }
        url_memo_free(memo);
        took[p] = cpu_s() - t0;
    }
    qsort(took, (size_t)passes, sizeof took[0], by_value);
    printf("{\"files\": %zu, \"bytes\": %zu, \"links\": %zu, \"passes\": %d, "
           "\"cpu_s\": %.4f, \"cpu_s_min\": %.4f}\n",
           n_docs, n_bytes, n_links, (int)passes, took[passes / 2], took[0]);
    free_docs(docs, n_docs);
    return 0;
}
