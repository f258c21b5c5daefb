/*
 * cli: the subcommands of the `crawler` binary, one cmd_* per subcommand,
 * and the small parsing helpers they share. Each returns the process exit
 * status: 0 success, 1 failure, 2 usage error.
 */
#ifndef CRAWLER_CLI_H
#define CRAWLER_CLI_H

#include <stddef.h>
#include <stdint.h>

#define EXIT_USAGE 2

int cmd_crawl(int argc, char **argv);
int cmd_normalize(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_robots(int argc, char **argv);
/* The read side (cmd_query.c): each opens the database read-only. */
int cmd_stats(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_links(int argc, char **argv);
int cmd_explain(int argc, char **argv);

/* Parses a whole non-negative decimal number no larger than max; on error
 * prints "crawler: OPT 'TEXT': ..." and returns -1. */
int cli_number(const char *opt, const char *text, int64_t max, int64_t *out);
/* Reads a whole file of at most max bytes. Caller frees; NULL on error,
 * with the reason printed, naming the file. */
char *cli_read_file(const char *path, size_t max, size_t *len);

#endif
