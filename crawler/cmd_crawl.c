/*
 * cmd_crawl: `crawler crawl`: options, the seeds file, then the
 * coordinator. Everything the user can get wrong is checked here, before
 * any process is forked or any file written.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crawler/cli.h"
#include "crawler/config.h"
#include "crawler/coord.h"
#include "crawler/xalloc.h"
#include "parse/html.h"
#include "parse/url.h"

#define SEEDS_MAX_LINE 65536
#define SEEDS_MAX_SKIP (16 << 20)
/* parse_options: --help printed the usage; nothing more to do */
#define HELP_SHOWN (-1)
#define MAX_PATTERNS 256

enum {
    OPT_DB = 256,
    OPT_SEEDS,
    OPT_MAX_PAGES,
    OPT_MAX_DEPTH,
    OPT_FETCHERS,
    OPT_PARSERS,
    OPT_CONNECTIONS,
    OPT_HOST_CONNECTIONS,
    OPT_DELAY,
    OPT_MAX_CRAWL_DELAY,
    OPT_SCOPE,
    OPT_ALLOW,
    OPT_DENY,
    OPT_USER_AGENT,
    OPT_TIMEOUT,
    OPT_MAX_SIZE,
    OPT_MAX_REDIRECTS,
    OPT_MAX_LINKS,
    OPT_MAX_URL_LENGTH,
    OPT_MAX_ATTEMPTS,
    OPT_NO_ROBOTS,
    OPT_ROBOTS_ERROR,
    OPT_QUIET,
    OPT_VERBOSE,
    OPT_HELP,
    OPT_SITEMAP,
    OPT_MAX_PAGES_PER_HOST,
    OPT_MAX_PATH_SEGMENTS,
    OPT_MAX_TEXT,
    OPT_PARSE_TIMEOUT,
};

static const struct option options[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"seeds", required_argument, NULL, OPT_SEEDS},
    {"max-pages", required_argument, NULL, OPT_MAX_PAGES},
    {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
    {"max-pages-per-host", required_argument, NULL, OPT_MAX_PAGES_PER_HOST},
    {"max-path-segments", required_argument, NULL, OPT_MAX_PATH_SEGMENTS},
    {"fetchers", required_argument, NULL, OPT_FETCHERS},
    {"parsers", required_argument, NULL, OPT_PARSERS},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"host-connections", required_argument, NULL, OPT_HOST_CONNECTIONS},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"max-crawl-delay", required_argument, NULL, OPT_MAX_CRAWL_DELAY},
    {"scope", required_argument, NULL, OPT_SCOPE},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"deny", required_argument, NULL, OPT_DENY},
    {"user-agent", required_argument, NULL, OPT_USER_AGENT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"max-redirects", required_argument, NULL, OPT_MAX_REDIRECTS},
    {"max-links", required_argument, NULL, OPT_MAX_LINKS},
    {"max-text", required_argument, NULL, OPT_MAX_TEXT},
    {"parse-timeout", required_argument, NULL, OPT_PARSE_TIMEOUT},
    {"max-url-length", required_argument, NULL, OPT_MAX_URL_LENGTH},
    {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
    {"no-robots", no_argument, NULL, OPT_NO_ROBOTS},
    {"sitemap", required_argument, NULL, OPT_SITEMAP},
    {"robots-error", required_argument, NULL, OPT_ROBOTS_ERROR},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void set_defaults(struct config *cfg)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    *cfg = (struct config){
        .seeds_path = "seeds.txt",
        .db_path = "crawl.db",
        .n_fetchers = cores >= 4 ? (int)(cores / 2) : 1,
        .n_parsers = (int)cores,
        .connections = 32,
        .host_connections = 1,
        .delay_ms = 1000,
        .max_crawl_delay_ms = 30000,
        .scope = SCOPE_HOST,
        .user_agent = "crawler/" CRAWLER_VERSION " (+" CRAWLER_URL ")",
        .timeout_ms = 30000,
        .connect_timeout_ms = 10000,
        .parse_timeout_ms = 30000,
        .max_body_bytes = 10 * 1024 * 1024,
        .max_redirects = 10,
        .max_path_segments = 32,
        .max_links = HTML_MAX_LINKS_DEFAULT,
        .max_url_bytes = URL_MAX_DEFAULT,
        .max_text_bytes = HTML_MAX_TEXT_BYTES_DEFAULT,
        .max_attempts = 3,
        .robots = 1,
    };
}

static void usage(FILE *out, const struct config *d)
{
    fprintf(out,
            "usage: crawler crawl [SEEDS_FILE] [options]\n"
            "Crawls from the seed URLs (one per line; # comments) into a "
            "SQLite database.\nRunning it again on the same database "
            "resumes the crawl.\n\n"
            "  --seeds FILE           seeds file (default %s)\n"
            "  --db FILE              database (default %s)\n"
            "  --max-pages N          stop after N fetched URLs, 0 = no "
            "limit (default 0)\n"
            "  --max-depth N          links deeper than N from a seed are "
            "skipped, 0 = no limit (default 0)\n"
            "  --max-pages-per-host N fetched URLs per host, 0 = no limit "
            "(default 0)\n"
            "  --max-path-segments N  longer paths are skipped as spider "
            "traps, 0 = no limit (default %d)\n"
            "  --scope host|domain|any  hosts of the seeds, their "
            "registrable domains, or anything (default host)\n"
            "  --allow REGEX          only URLs matching one of these "
            "(repeatable, POSIX extended)\n"
            "  --deny REGEX           never URLs matching any of these "
            "(repeatable)\n"
            "  --delay MS             minimum gap between two requests to "
            "one host (default %lld)\n"
            "  --host-connections N   concurrent requests per host "
            "(default %d)\n"
            "  --max-crawl-delay MS   cap on robots.txt Crawl-delay "
            "(default %lld)\n"
            "  --fetchers N           fetcher processes (default %d)\n"
            "  --parsers N            parser processes (default %d)\n"
            "  --connections N        concurrent transfers per fetcher "
            "(default %d)\n"
            "  --user-agent STR       User-Agent (default \"%s\")\n"
            "  --timeout S            per-transfer time limit in seconds "
            "(default %lld)\n"
            "  --parse-timeout S      a parser stuck this long on one "
            "document is replaced (default %lld)\n"
            "  --max-size BYTES       cap on a decoded body (default "
            "%lld)\n"
            "  --max-redirects N      longest redirect chain followed "
            "(default %d)\n"
            "  --max-links N          links kept per page (default %d)\n"
            "  --max-text BYTES       visible text kept per page for "
            "full-text search, 0 = none (default %lld)\n"
            "  --max-url-length N     longer URLs are skipped (default "
            "%d)\n"
            "  --max-attempts N       fetches of one URL before it fails "
            "(default %d)\n"
            "  --robots-error allow|disallow  a host whose robots.txt "
            "cannot be fetched (default disallow)\n"
            "  --sitemap URL          also crawl the URLs of this XML "
            "sitemap (repeatable)\n"
            "  --no-robots            ignore robots.txt (never the "
            "default)\n"
            "  --quiet                print errors only\n"
            "  --verbose              log debugging detail\n",
            d->seeds_path, d->db_path, d->max_path_segments,
            (long long)d->delay_ms, d->host_connections,
            (long long)d->max_crawl_delay_ms, d->n_fetchers, d->n_parsers,
            d->connections, d->user_agent, (long long)d->timeout_ms / 1000,
            (long long)d->parse_timeout_ms / 1000, (long long)d->max_body_bytes,
            d->max_redirects, d->max_links, (long long)d->max_text_bytes,
            d->max_url_bytes, d->max_attempts);
}

static int number_opt(const char *opt, int64_t max, int64_t min, int64_t *out)
{
    int64_t v;
    if (cli_number(opt, optarg, max, &v) < 0)
        return -1;
    if (v < min) {
        fprintf(stderr, "crawler: %s '%s': must be at least %lld\n", opt,
                optarg, (long long)min);
        return -1;
    }
    *out = v;
    return 0;
}

static int int_opt(const char *opt, int64_t max, int64_t min, int *out)
{
    int64_t v;
    if (number_opt(opt, max, min, &v) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* A whole number of seconds (1 s to a day), stored in milliseconds. */
static int seconds_opt(const char *opt, int64_t *out_ms)
{
    int64_t v;
    if (number_opt(opt, 86400, 1, &v) < 0)
        return -1;
    *out_ms = v * 1000;
    return 0;
}

/* Fills cfg from argv; 0, HELP_SHOWN, or EXIT_USAGE after printing why.
 * Patterns are stored in arrays the caller frees. */
static int parse_options(int argc, char **argv, struct config *cfg)
{
    struct config defaults;
    set_defaults(&defaults);
    *cfg = defaults;
    cfg->allow = xcalloc(MAX_PATTERNS, sizeof *cfg->allow);
    cfg->deny = xcalloc(MAX_PATTERNS, sizeof *cfg->deny);
    cfg->sitemaps = xcalloc(MAX_PATTERNS, sizeof *cfg->sitemaps);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case OPT_DB:
            cfg->db_path = optarg;
            break;
        case OPT_SEEDS:
            cfg->seeds_path = optarg;
            break;
        case OPT_MAX_PAGES:
            rc = number_opt("--max-pages", INT64_MAX / 2, 0, &cfg->max_pages);
            break;
        case OPT_MAX_DEPTH:
            rc = int_opt("--max-depth", 1000000, 0, &cfg->max_depth);
            break;
        case OPT_MAX_PAGES_PER_HOST:
            rc = number_opt("--max-pages-per-host", INT64_MAX / 2, 0,
                            &cfg->max_pages_per_host);
            break;
        case OPT_MAX_PATH_SEGMENTS:
            rc = int_opt("--max-path-segments", 100000, 0,
                         &cfg->max_path_segments);
            break;
        case OPT_FETCHERS:
            rc = int_opt("--fetchers", 64, 1, &cfg->n_fetchers);
            break;
        case OPT_PARSERS:
            rc = int_opt("--parsers", 64, 1, &cfg->n_parsers);
            break;
        case OPT_CONNECTIONS:
            rc = int_opt("--connections", 1024, 1, &cfg->connections);
            break;
        case OPT_HOST_CONNECTIONS:
            rc = int_opt("--host-connections", 64, 1, &cfg->host_connections);
            break;
        case OPT_DELAY:
            rc = number_opt("--delay", 3600000, 0, &cfg->delay_ms);
            break;
        case OPT_MAX_CRAWL_DELAY:
            rc = number_opt("--max-crawl-delay", 3600000, 0,
                            &cfg->max_crawl_delay_ms);
            break;
        case OPT_SCOPE:
            if (strcmp(optarg, "host") == 0)
                cfg->scope = SCOPE_HOST;
            else if (strcmp(optarg, "domain") == 0)
                cfg->scope = SCOPE_DOMAIN;
            else if (strcmp(optarg, "any") == 0)
                cfg->scope = SCOPE_ANY;
            else {
                fprintf(stderr,
                        "crawler: --scope '%s': must be host, "
                        "domain or any\n",
                        optarg);
                rc = -1;
            }
            break;
        case OPT_ALLOW:
        case OPT_DENY: {
            int *n = c == OPT_ALLOW ? &cfg->n_allow : &cfg->n_deny;
            const char **list = c == OPT_ALLOW ? cfg->allow : cfg->deny;
            if (*n == MAX_PATTERNS) {
                fprintf(stderr, "crawler: more than %d patterns\n",
                        MAX_PATTERNS);
                rc = -1;
                break;
            }
            list[(*n)++] = optarg;
            break;
        }
        case OPT_USER_AGENT:
            if (!*optarg || strpbrk(optarg, "\r\n")) {
                fprintf(stderr, "crawler: --user-agent: must be one "
                                "non-empty line\n");
                rc = -1;
            }
            cfg->user_agent = optarg;
            break;
        case OPT_TIMEOUT:
            rc = seconds_opt("--timeout", &cfg->timeout_ms);
            if (cfg->connect_timeout_ms > cfg->timeout_ms)
                cfg->connect_timeout_ms = cfg->timeout_ms;
            break;
        case OPT_MAX_SIZE:
            rc = number_opt("--max-size", 128 * 1024 * 1024, 1,
                            &cfg->max_body_bytes);
            break;
        case OPT_MAX_REDIRECTS:
            rc = int_opt("--max-redirects", 100, 0, &cfg->max_redirects);
            break;
        case OPT_MAX_LINKS:
            rc = int_opt("--max-links", 1000000, 0, &cfg->max_links);
            break;
        case OPT_PARSE_TIMEOUT:
            rc = seconds_opt("--parse-timeout", &cfg->parse_timeout_ms);
            break;
        case OPT_MAX_TEXT:
            rc = number_opt("--max-text", 16 * 1024 * 1024, 0,
                            &cfg->max_text_bytes);
            break;
        case OPT_MAX_URL_LENGTH:
            rc = int_opt("--max-url-length", 65536, 16, &cfg->max_url_bytes);
            break;
        case OPT_MAX_ATTEMPTS:
            rc = int_opt("--max-attempts", 100, 1, &cfg->max_attempts);
            break;
        case OPT_NO_ROBOTS:
            cfg->robots = 0;
            break;
        case OPT_SITEMAP: {
            char *u = NULL;
            int urc =
                url_normalize(optarg, NULL, (size_t)cfg->max_url_bytes, &u);
            if (urc < 0) {
                fprintf(stderr, "crawler: --sitemap '%s': %s\n", optarg,
                        url_strerror(urc));
                rc = -1;
                break;
            }
            if (cfg->n_sitemaps == MAX_PATTERNS) {
                fprintf(stderr, "crawler: more than %d sitemaps\n",
                        MAX_PATTERNS);
                free(u);
                rc = -1;
                break;
            }
            cfg->sitemaps[cfg->n_sitemaps++] = u;
            break;
        }
        case OPT_ROBOTS_ERROR:
            if (strcmp(optarg, "allow") == 0)
                cfg->robots_error_allow = 1;
            else if (strcmp(optarg, "disallow") == 0)
                cfg->robots_error_allow = 0;
            else {
                fprintf(stderr,
                        "crawler: --robots-error '%s': must be "
                        "allow or disallow\n",
                        optarg);
                rc = -1;
            }
            break;
        case OPT_QUIET:
            cfg->quiet = 1;
            break;
        case OPT_VERBOSE:
            cfg->verbose = 1;
            break;
        case OPT_HELP:
            usage(stdout, &defaults);
            return HELP_SHOWN;
        case ':':
            fprintf(stderr, "crawler: %s: missing value\n", argv[optind - 1]);
            rc = -1;
            break;
        default:
            fprintf(stderr,
                    "crawler: unknown option '%s' (see crawler "
                    "crawl --help)\n",
                    argv[optind - 1]);
            rc = -1;
            break;
        }
        if (rc < 0)
            return EXIT_USAGE;
    }
    if (optind < argc)
        cfg->seeds_path = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "crawler: unexpected argument '%s'\n", argv[optind]);
        return EXIT_USAGE;
    }
    return 0;
}

/* One line of f into buf (NUL-terminated), ended by "\n", "\r\n" or a
 * lone "\r" (old Mac files). Returns its length, -1 at the end of the
 * file, or -2 for a line that goes on past SEEDS_MAX_SKIP bytes (not a
 * seeds file: /dev/zero would never end). A longer line than cap - 1
 * bytes is otherwise read to its end and *too_long set; *has_nul is set
 * when it holds a NUL byte. */
static long read_line(FILE *f, char *buf, size_t cap, int *too_long,
                      int *has_nul)
{
    size_t n = 0, n_read = 0;
    int c;
    *too_long = *has_nul = 0;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (++n_read > SEEDS_MAX_SKIP)
            return -2;
        if (c == '\r') {
            int next = getc(f);
            if (next != '\n' && next != EOF)
                ungetc(next, f);
            break;
        }
        if (c == '\0')
            *has_nul = 1;
        if (n + 1 < cap)
            buf[n++] = (char)c;
        else
            *too_long = 1;
    }
    if (c == EOF && n == 0 && !*too_long)
        return -1;
    buf[n] = '\0';
    return (long)n;
}

/* s with its control bytes shown as '?', for an error message. */
static const char *printable(char *s)
{
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return s;
}

/* Reads and normalizes the seeds: one URL a line, blank lines and lines
 * starting with '#' ignored, a '#' comment allowed after the URL. A bad
 * line is reported with its number and skipped; the others still crawl.
 * -1 when the file cannot be read. */
static int read_seeds(const struct config *cfg, char ***out, int *n_out)
{
    FILE *f = fopen(cfg->seeds_path, "r");
    if (!f) {
        fprintf(stderr, "crawler: %s: cannot read the seeds file: %s\n",
                cfg->seeds_path, strerror(errno));
        return -1;
    }
    char **seeds = NULL;
    int n = 0;
    char *line = xmalloc(SEEDS_MAX_LINE + 1);
    int lineno = 0, too_long, has_nul;
    long len;
    while ((len = read_line(f, line, SEEDS_MAX_LINE + 1, &too_long,
                            &has_nul)) >= 0) {
        lineno++;
        const char *why = too_long  ? "line too long"
                          : has_nul ? "a NUL byte in the line"
                                    : NULL;
        if (why) {
            fprintf(stderr, "crawler: %s:%d: %s, skipped\n", cfg->seeds_path,
                    lineno, why);
            continue;
        }
        char *p = line;
        if (lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3; /* a UTF-8 byte order mark */
        p += strspn(p, " \t");
        if (!*p || *p == '#')
            continue;
        char *end = p + strcspn(p, " \t");
        const char *rest = end + strspn(end, " \t");
        if (*rest && *rest != '#') {
            fprintf(stderr,
                    "crawler: %s:%d: '%s': more than one field (one URL a "
                    "line), skipped\n",
                    cfg->seeds_path, lineno, printable(p));
            continue;
        }
        *end = '\0';
        char *url = NULL;
        int rc = url_normalize(p, NULL, (size_t)cfg->max_url_bytes, &url);
        if (rc < 0) {
            fprintf(stderr, "crawler: %s:%d: '%s': %s, skipped\n",
                    cfg->seeds_path, lineno, printable(p), url_strerror(rc));
            continue;
        }
        seeds = xrealloc(seeds, (size_t)(n + 1) * sizeof *seeds);
        seeds[n++] = url;
    }
    int failed = ferror(f) ? errno : 0;
    free(line);
    fclose(f);
    if (failed || len == -2) {
        if (failed)
            fprintf(stderr, "crawler: %s: cannot read the seeds file: %s\n",
                    cfg->seeds_path, strerror(failed));
        else
            fprintf(stderr,
                    "crawler: %s:%d: no line end in %d MiB: not a seeds "
                    "file\n",
                    cfg->seeds_path, lineno + 1, SEEDS_MAX_SKIP >> 20);
        for (int i = 0; i < n; i++)
            free(seeds[i]);
        free(seeds);
        return -1;
    }
    *out = seeds;
    *n_out = n;
    return 0;
}

int cmd_crawl(int argc, char **argv)
{
    struct config cfg;
    int status = parse_options(argc, argv, &cfg);
    char **seeds = NULL;
    int n_seeds = 0;
    if (status != 0) {
        if (status == HELP_SHOWN)
            status = 0;
        goto out;
    }
    if (read_seeds(&cfg, &seeds, &n_seeds) < 0) {
        status = 1;
        goto out;
    }
    /* Nothing to start from and nothing to resume: no database is made. */
    if (n_seeds == 0 && cfg.n_sitemaps == 0 && access(cfg.db_path, F_OK) != 0) {
        fprintf(stderr, "crawler: %s: no URL to crawl\n", cfg.seeds_path);
        status = 1;
        goto out;
    }
    status = coord_run(&cfg, seeds, n_seeds);
out:
    for (int i = 0; i < n_seeds; i++)
        free(seeds[i]);
    free(seeds);
    free(cfg.allow);
    free(cfg.deny);
    for (int i = 0; i < cfg.n_sitemaps; i++)
        free(cfg.sitemaps[i]);
    free(cfg.sitemaps);
    return status;
}
