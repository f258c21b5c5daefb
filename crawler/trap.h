/*
 * trap: rules that cut off spider traps, URL spaces that never end:
 * too many path segments, a segment repeated over and over
 * (/a/b/a/b/a/b/...), and query strings that keep growing (many
 * parameters, or one parameter repeated). Runs in the coordinator on every
 * new URL; --max-depth and --max-pages-per-host bound the rest (calendars).
 */
#ifndef CRAWLER_TRAP_H
#define CRAWLER_TRAP_H

#define TRAP_MAX_SEGMENT_REPEATS 3
#define TRAP_MAX_QUERY_PARAMS 32
#define TRAP_MAX_PARAM_REPEATS 3
/* Repeats are looked for among the first this many path segments only
 * (with --max-path-segments 0 the path is otherwise unbounded). */
#define TRAP_SCAN_SEGMENTS 256

/* NULL when the normalized URL looks finite, else the reason to skip it
 * (a static string). max_segments 0 means no limit on path segments. */
const char *trap_check(const char *url, int max_segments);

#endif
