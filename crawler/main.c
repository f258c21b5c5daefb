/*
 * main: the `crawler` binary: picks the subcommand.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "crawler/cli.h"
#include "crawler/config.h"
#include "crawler/log.h"
#include "crawler/xalloc.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"crawl", cmd_crawl, "crawl from a seeds file into a database"},
    {"normalize", cmd_normalize, "print a URL resolved and normalized"},
    {"extract", cmd_extract, "print the links an HTML file yields"},
    {"robots", cmd_robots, "check URLs against a robots.txt file"},
    {"explain", cmd_explain, "why a URL was or was not fetched"},
    {"stats", cmd_stats, "summarize a crawl database"},
    {"query", cmd_query, "run one read-only SQL statement"},
    {"search", cmd_search, "full-text search of the crawled pages"},
    {"index", cmd_index, "bring the full-text search index up to date"},
    {"export", cmd_export, "stream a table as JSON lines or CSV"},
    {"links", cmd_links, "the links of a page, or the pages linking to it"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: crawler COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\n'crawler COMMAND --help' for a command's options.\n");
}

/* status, or 1 when it was 0 but standard output did not take everything
 * written to it (a full disk, a closed pipe): an answer cut short must not
 * look whole. */
static int flushed(int status)
{
    if ((fflush(stdout) != 0 || ferror(stdout)) && status == 0) {
        fprintf(stderr, "crawler: standard output: write error\n");
        return 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    /* libcurl turns a host written in Unicode into its ASCII form (IDNA)
     * through libidn2, which reads its input in the locale's character
     * set: under "C" every such host would be invalid. Only the character
     * type is set; numbers and messages stay as in "C". */
    setlocale(LC_CTYPE, "C.UTF-8");
    log_init("crawler", LOG_INFO);
    xalloc_keep_freed();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return flushed(0);
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("crawler %s\n", CRAWLER_VERSION);
        return flushed(0);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return flushed(commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "crawler: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
