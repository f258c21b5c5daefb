/*
 * cmd_tools: the building blocks exposed for debugging and tests, each on
 * the exact code path the crawl uses:
 *   crawler normalize URL [BASE]
 *   crawler extract FILE [--base URL]
 *   crawler robots FILE AGENT URL...
 * and the parsing helpers every subcommand shares.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/cli.h"
#include "crawler/config.h"
#include "crawler/msg.h"
#include "crawler/xalloc.h"
#include "parse/html.h"
#include "parse/robots.h"
#include "parse/url.h"

#define EXTRACT_MAX_BYTES (128 * 1024 * 1024)

int cli_number(const char *opt, const char *text, int64_t max, int64_t *out)
{
    const char *p = text;
    if (!*p) {
        fprintf(stderr, "crawler: %s: empty number\n", opt);
        return -1;
    }
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') {
            fprintf(stderr,
                    "crawler: %s '%s': not a non-negative whole "
                    "number\n",
                    opt, text);
            return -1;
        }
        if (v > (max - (*p - '0')) / 10) {
            fprintf(stderr, "crawler: %s '%s': larger than %lld\n", opt, text,
                    (long long)max);
            return -1;
        }
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return 0;
}

char *cli_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "crawler: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct buf b;
    buf_init(&b, max);
    char chunk[65536];
    size_t n;
    int too_big = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf_append(&b, chunk, n) < 0) {
            too_big = 1;
            break;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (failed || too_big) {
        fprintf(stderr, "crawler: %s: %s\n", path,
                too_big ? "file too large" : "read error");
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, len);
}

#define NORMALIZE_USAGE "crawler normalize URL [BASE]"
#define EXTRACT_USAGE "crawler extract FILE [--base URL]"
#define ROBOTS_USAGE "crawler robots FILE AGENT URL..."

/* Prints usage to standard output when argv asks for help; 1 if it did. */
static int asked_help(int argc, char **argv, const char *usage)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s\n", usage);
            return 1;
        }
    return 0;
}

/* 0 when base is an absolute http(s) URL; else says so, naming it by
 * what (the argument it came as), and returns -1. */
static int check_base(const char *what, const char *base)
{
    char *url = NULL;
    int rc = url_normalize(base, NULL, URL_MAX_DEFAULT, &url);
    free(url);
    if (rc < 0) {
        fprintf(stderr, "crawler: %s '%s': %s\n", what, base, url_strerror(rc));
        return -1;
    }
    return 0;
}

int cmd_normalize(int argc, char **argv)
{
    if (asked_help(argc, argv, NORMALIZE_USAGE))
        return 0;
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: " NORMALIZE_USAGE "\n");
        return EXIT_USAGE;
    }
    if (argc == 3 && check_base("BASE", argv[2]) < 0)
        return 1;
    char *out = NULL;
    int rc = url_normalize(argv[1], argc == 3 ? argv[2] : NULL, URL_MAX_DEFAULT,
                           &out);
    if (rc < 0) {
        fprintf(stderr, "crawler: '%s': %s\n", argv[1], url_strerror(rc));
        return 1;
    }
    printf("%s\n", out);
    free(out);
    return 0;
}

static const char *const link_kind_names[] = {
    [LINK_A] = "a",
    [LINK_AREA] = "area",
    [LINK_LINK] = "link",
    [LINK_FRAME] = "frame",
    [LINK_IFRAME] = "iframe",
    [LINK_REDIRECT] = "refresh",
    [LINK_SITEMAP] = "sitemap",
};

int cmd_extract(int argc, char **argv)
{
    const char *path = NULL, *base = "http://localhost/";
    if (asked_help(argc, argv, EXTRACT_USAGE))
        return 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--base") == 0 && i + 1 < argc)
            base = argv[++i];
        else if (!path && argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "usage: " EXTRACT_USAGE "\n");
            return EXIT_USAGE;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: " EXTRACT_USAGE "\n");
        return EXIT_USAGE;
    }
    if (check_base("--base", base) < 0)
        return EXIT_USAGE;
    size_t len;
    char *body = cli_read_file(path, EXTRACT_MAX_BYTES, &len);
    if (!body)
        return 1;
    struct html_options opt = {.max_links = HTML_MAX_LINKS_DEFAULT,
                               .max_text_bytes = HTML_MAX_TEXT_BYTES_DEFAULT,
                               .max_url_bytes = URL_MAX_DEFAULT};
    struct parse_result res = {0};
    int rc = html_extract(body, len, base, NULL, &opt, &res);
    if (rc == PARSE_EBINARY)
        fprintf(stderr, "crawler: %s: not HTML (binary content)\n", path);
    for (size_t i = 0; i < res.n_links; i++) {
        const struct link *l = &res.links[i];
        const char *kind =
            l->kind < sizeof link_kind_names / sizeof link_kind_names[0]
                ? link_kind_names[l->kind]
                : "?";
        printf("%s\t%s%s%s%s\n", l->url, kind,
               (l->flags & LINK_NOFOLLOW) ? "\tnofollow" : "",
               l->error ? "\tskipped: " : "",
               l->error ? url_strerror(l->error) : "");
    }
    if (res.n_links_dropped)
        fprintf(stderr, "crawler: %zu links over the cap were dropped\n",
                res.n_links_dropped);
    parse_result_release(&res);
    free(body);
    return rc == PARSE_EBINARY ? 1 : 0;
}

int cmd_robots(int argc, char **argv)
{
    if (asked_help(argc, argv, ROBOTS_USAGE))
        return 0;
    if (argc < 4) {
        fprintf(stderr, "usage: " ROBOTS_USAGE "\n");
        return EXIT_USAGE;
    }
    size_t len;
    char *text = cli_read_file(argv[1], ROBOTS_MAX_BYTES * 4, &len);
    if (!text)
        return 1;
    char token[64];
    robots_agent_token(argv[2], token, sizeof token);
    struct robots *r = robots_parse(text, len, token);
    int status = 0;
    for (int i = 3; i < argc; i++) {
        char *url = NULL;
        int rc = url_normalize(argv[i], NULL, URL_MAX_DEFAULT, &url);
        if (rc < 0) {
            fprintf(stderr, "crawler: '%s': %s\n", argv[i], url_strerror(rc));
            status = 1;
            continue;
        }
        const char *rule = NULL;
        int ok = robots_allows(r, url_path(url), &rule);
        printf("%s\t%s\t%s\n", ok ? "allowed" : "disallowed", url,
               rule ? rule : "(no rule matched)");
        free(url);
    }
    robots_free(r);
    free(text);
    return status;
}
