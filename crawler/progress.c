/*
 * progress: the progress line and the summary (see progress.h).
 */
#include "crawler/progress.h"

#include <stdio.h>
#include <unistd.h>

#include "store/store.h"

#define REDRAW_MS 250

void progress_init(struct progress *p, int quiet, int64_t now_ms)
{
    *p = (struct progress){.quiet = quiet,
                           .is_tty = isatty(2),
                           .started_ms = now_ms,
                           .last_ms = now_ms};
}

static double rate(int64_t n, int64_t ms)
{
    return ms > 0 ? (double)n * 1000.0 / (double)ms : 0.0;
}

void progress_tick(struct progress *p, int64_t now_ms, size_t in_flight)
{
    if (p->quiet || !p->is_tty || now_ms - p->last_ms < REDRAW_MS)
        return;
    p->last_ms = now_ms;
    fprintf(stderr,
            "\r\033[Kpages %lld  %.1f/s  queued %lld%s  in flight %zu  "
            "errors %lld  %.1f MB",
            (long long)p->n_pages, rate(p->n_pages, now_ms - p->started_ms),
            (long long)p->n_queued, p->is_queued_floor ? "+" : "", in_flight,
            (long long)p->n_errors, (double)p->n_bytes / 1e6);
}

void progress_end(struct progress *p, int64_t now_ms)
{
    p->ended_ms = now_ms;
    if (!p->quiet && p->is_tty)
        fprintf(stderr, "\r\033[K");
}

void progress_summary(const struct progress *p, struct store *s,
                      const struct config *cfg, int failed)
{
    int64_t ms = p->ended_ms - p->started_ms;
    if (failed)
        fprintf(stderr,
                "crawl %s: stopped, the database could not be written; %lld "
                "pages fetched in %.1f s, those since the last commit not "
                "stored (a resume fetches them again)\n",
                cfg->db_path, (long long)p->n_pages, (double)ms / 1000.0);
    else
        fprintf(stderr,
                "crawl %s: %lld pages in %.1f s (%.1f pages/s), %.1f MB, "
                "%lld failed\n",
                cfg->db_path, (long long)p->n_pages, (double)ms / 1000.0,
                rate(p->n_pages, ms), (double)p->n_bytes / 1e6,
                (long long)p->n_errors);
    int64_t n[URL_N_STATES];
    if (store_url_counts(s, n) == 0)
        fprintf(stderr,
                "urls: %lld done, %lld failed, %lld skipped, %lld queued\n",
                (long long)n[URL_DONE], (long long)n[URL_FAILED],
                (long long)n[URL_SKIPPED], (long long)n[URL_QUEUED]);
    if (p->n_hosts_parked)
        fprintf(stderr,
                "%lld hosts waited on an unavailable robots.txt; their "
                "URLs stay queued for the next run\n",
                (long long)p->n_hosts_parked);
    int64_t n_unindexed = 0;
    if (store_text_pending(s, -1, &n_unindexed) == 0 && n_unindexed > 0)
        fprintf(stderr,
                "search: %lld pages not indexed yet; `crawler search` or "
                "`crawler index` indexes them\n",
                (long long)n_unindexed);
    if (!cfg->robots)
        fprintf(stderr, "WARNING: robots.txt was IGNORED (--no-robots)\n");
}
