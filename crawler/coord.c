/*
 * coord: the coordinator process (see coord.h).
 *
 * One thread, one poll loop over: a signal self-pipe, and one channel per
 * child. Owns the store (the only writer), the scheduler, the job table
 * and the children (forked by children.c; what a death means for the work
 * is decided here). Children are forked before the store is opened; a child
 * respawned later closes every descriptor but its channel and stderr, and
 * never touches the database handle it inherited.
 *
 * A page job goes: leased URL -> FETCH at a fetcher -> FETCH_RESULT ->
 * (HTML: PARSE at a parser -> PARSE_RESULT) -> recorded and finished. A
 * robots job goes FETCH -> FETCH_RESULT -> parsed here with parse/robots.
 *
 * Invariants:
 *  1. A child never has more outstanding jobs than its capacity.
 *  2. Every job in the table is at exactly one child, or waiting in the
 *     parse queue (parse stage, child NULL).
 *  3. A URL is finished (DONE/FAILED/SKIPPED) in the store only in the same
 *     transaction as its page row and links, so a kill at any moment leaves
 *     it either recorded whole or still QUEUED: a lease lives in memory
 *     only (store/frontier.c).
 *  4. Memory is bounded: the parse queue is bounded by the fetch credits
 *     (fetching pauses while it is long); ready URLs are bounded per host.
 */
#define _GNU_SOURCE
#include "crawler/coord.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crawler/bodies.h"
#include "crawler/children.h"
#include "crawler/frame.h"
#include "crawler/hash.h"
#include "crawler/log.h"
#include "crawler/msg.h"
#include "crawler/progress.h"
#include "crawler/sched.h"
#include "crawler/scope.h"
#include "crawler/trap.h"
#include "crawler/xalloc.h"
#include "parse/html.h"
#include "parse/robots.h"
#include "parse/url.h"
#include "store/store.h"

#define LEASE_BATCH 8
/* Batches one refill reads at most while it looks for a page. */
#define MAX_LEASE_ROUNDS 16
/* A kill loses at most this much work, which is fetched again on resume;
 * shorter intervals rewrite the same index pages more often. */
#define COMMIT_INTERVAL_MS 1000
#define STOP_GRACE_MS 5000
/* Jobs a parser holds: one it parses and the rest waiting in its socket,
 * so it never idles while the coordinator is busy with a batch of results
 * or a commit (with 2, parsers sat idle ~40% of a fast crawl; with 8, a
 * 20,000-page crawl left 0.46 core-s idle midway, with 32 0.35). A commit
 * holds the coordinator 12-47 ms, one that restarts the log 120-150 ms,
 * and 32 documents last a parser ~6 ms: with 64, in four sets of 6-10
 * interleaved 20,000-page crawls, 0.12-0.20 core-s less sat idle and the
 * median wall time was 1-2% shorter, at the same CPU; with 128 the CPU
 * rose 5-8%. 64 bodies are ~1.3 MB. When a parser dies, only the
 * document it was on counts an attempt (requeue_child_jobs). */
#define PARSER_CAPACITY 64
/* Bodies up to this size go from fetcher to parser in shared memory
 * (bodies.h); longer ones, rare, through the sockets. */
#define BODY_SLOT_BYTES ((size_t)256 << 10)
/* All fetchers' slots together: 1 GiB of address space at most, of which
 * only the pages bodies touched become memory. */
#define MAX_BODY_SLOTS 4096u
#define ROBOTS_TTL_MS (24LL * 3600 * 1000)
#define ROBOTS_MAX_ATTEMPTS 3
#define MAX_BACKOFF_MS (5LL * 60 * 1000)
#define MAX_RETRY_AFTER_MS (3600LL * 1000)
#define SEEN_CACHE_SLOTS ((size_t)1 << 20)
#define SEEN_CACHE_BYTES (SEEN_CACHE_SLOTS * sizeof(int64_t))
/* Texts indexed for search each time the loop has been idle: a few ms of
 * work, so a host that became due meanwhile waits that much at most. */
#define INDEX_BATCH 8
/* A crawl that ends with at most this many texts waiting indexes them
 * (~0.2 s), so a small or polite crawl leaves a complete index. */
#define END_INDEX_MAX_PAGES 1000
#define ROBOTS_JOB_BIT (1ULL << 62)
/* libcurl's CURLE_TOO_MANY_REDIRECTS; curl.h stays in fetch/ (STYLE). */
#define CURLE_TOO_MANY_REDIRECTS_CODE 47

enum job_kind { JOB_PAGE, JOB_ROBOTS };
enum job_stage { STAGE_FETCH, STAGE_PARSE };

struct job {
    uint64_t id;
    enum job_kind kind;
    enum job_stage stage;
    struct child *child; /* NULL while queued for a parser */
    struct host *host;
    struct url_lease url;   /* pages only */
    struct fetch_result fr; /* kept from fetch to parse; body not kept */
    uint32_t slot;          /* lent with the fetch (bodies.h) or NONE */
    uint32_t result_slot;   /* lent with the parse, or NONE */
    char *body;             /* owned copy while queued for a parser, when
                             * the body is in no slot */
    size_t body_len;
    uint64_t parse_seq; /* its place in its parser's documents */
    struct job *next_queued;
};

struct coord {
    const struct config *cfg;
    struct store *store;
    struct sched sched;
    struct scope *scope;
    struct child *children;
    int n_children;
    struct bodies bodies; /* one part per child, its index in children */
    struct imap jobs;
    struct imap parsing; /* body hash -> the job parsing that body */
    struct job *parse_head, *parse_tail;
    int n_parse_queued;
    int64_t *seen;       /* hash cache in front of urls.hash */
    int64_t n_finished;  /* pages done or failed, all runs */
    int is_index_behind; /* texts may wait for the search index */
    int64_t n_unindexed; /* texts this run stored and did not index */
    int n_page_jobs;     /* pages being fetched or parsed */
    int64_t last_commit_ms;
    int stopping;
    int64_t stop_deadline_ms;
    int failed; /* a store error: stop and report */
    struct progress progress;
};

static volatile sig_atomic_t n_signals;
static volatile sig_atomic_t got_sigchld;
static int sig_pipe[2] = {-1, -1};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Store times (next_at_ms, robots age) are wall-clock: they outlive the
 * process. Scheduling inside the process uses the monotonic clock. */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGCHLD)
        got_sigchld = 1;
    else
        n_signals++;
    ssize_t ignored = write(sig_pipe[1], "x", 1);
    (void)ignored;
    errno = saved;
}

static int install_signals(void)
{
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    return 0;
}

/* --- Store helpers ------------------------------------------------------- */

static void check_store(struct coord *c, int rc, const char *what)
{
    if (rc >= 0 || c->failed)
        return;
    log_error("cannot %s: %s db=%s", what, store_errmsg(c->store),
              c->cfg->db_path);
    c->failed = 1;
    c->stopping = 1;
}

static void begin(struct coord *c)
{
    check_store(c, store_begin(c->store), "begin a transaction");
}

static void commit(struct coord *c, int64_t now)
{
    check_store(c, store_commit(c->store), "commit");
    check_store(c, store_urls_settle(c->store, 0), "settle the URL index");
    c->last_commit_ms = now;
}

/* Converts between the store's wall-clock times and the loop's monotonic
 * ones, so a back-off or Retry-After survives a restart. */
static int64_t to_wall(int64_t mono, int64_t now)
{
    return wall_ms() + (mono - now);
}

static void host_restore(struct coord *c, struct host *h, struct host_row *row)
{
    int64_t now = now_ms();
    h->n_queued = row->n_queued;
    h->n_done = row->n_done;
    h->crawl_delay_ms = row->crawl_delay_ms;
    h->error_streak = (int)row->error_streak;
    int64_t wait = row->next_at_ms - wall_ms();
    if (wait > MAX_RETRY_AFTER_MS)
        wait = MAX_RETRY_AFTER_MS;
    h->next_at_ms = wait > 0 ? now + wait : now;
    int fresh = wall_ms() - row->robots_fetched_ms < ROBOTS_TTL_MS;
    if (fresh && row->robots_state == ROBOTS_PARSED) {
        char token[64];
        robots_agent_token(c->cfg->user_agent, token, sizeof token);
        h->robots = robots_parse(row->robots_txt, row->robots_len, token);
        h->robots_state = ROBOTS_PARSED;
        h->robots_fetched_ms = row->robots_fetched_ms;
    } else if (fresh && row->robots_state == ROBOTS_NONE) {
        h->robots = robots_allow_all();
        h->robots_state = ROBOTS_NONE;
        h->robots_fetched_ms = row->robots_fetched_ms;
    }
}

/* Writes the host's scheduler state (and robots.txt text when given). */
static void host_save(struct coord *c, struct host *h, const char *robots_txt,
                      size_t robots_len)
{
    struct host_row row = {
        .id = h->id,
        .robots_state = h->robots_state,
        .robots_txt = (char *)robots_txt,
        .robots_len = robots_len,
        .robots_fetched_ms = h->robots_fetched_ms,
        .crawl_delay_ms = h->crawl_delay_ms,
        .delay_ms = host_gap_ms(&c->sched, h),
        .next_at_ms = to_wall(h->next_at_ms, now_ms()),
        .error_streak = h->error_streak,
    };
    begin(c);
    check_store(c, store_host_save(c->store, &row, robots_txt != NULL),
                "save a host");
}

static struct host *host_for(struct coord *c, const char *url)
{
    size_t len = url_origin_len(url);
    struct host *h = sched_find(&c->sched, url, len);
    if (h)
        return h;
    int64_t id;
    int rc = store_host_id(c->store, url, len, &id);
    check_store(c, rc, "add a host");
    if (rc < 0)
        return NULL;
    h = sched_add(&c->sched, id, url, len);
    struct host_row row;
    if (store_host_load(c->store, id, &row) == 0) {
        host_restore(c, h, &row);
        host_row_release(&row);
    }
    return h;
}

static int seen_hit(struct coord *c, int64_t hash)
{
    return c->seen[(uint64_t)hash & (SEEN_CACHE_SLOTS - 1)] == hash;
}

static void seen_add(struct coord *c, int64_t hash)
{
    c->seen[(uint64_t)hash & (SEEN_CACHE_SLOTS - 1)] = hash;
}

/* Writes a URL row; when it becomes queued (only possible with a host),
 * the host counts it and may enter the heap. Returns store_url_add's
 * result. */
static int store_and_count(struct coord *c, struct host *h,
                           const struct url_new *u)
{
    int rc = store_url_add(c->store, u);
    check_store(c, rc, "add a URL");
    if (rc > 0 && h) {
        h->n_queued++;
        if (rc == 2)
            h->read_to = h->files_to = 0; /* queued again under its old id */
        c->progress.n_queued++;
        sched_update(&c->sched, h);
    }
    return rc;
}

/* Adds one discovered URL to the frontier, queued or skipped with the
 * reason it will not be fetched. */
static void add_url(struct coord *c, const char *url, int64_t hash,
                    const char *reason, int depth, int hops, int64_t from_id,
                    int kind)
{
    if (seen_hit(c, hash))
        return;
    const struct config *cfg = c->cfg;
    if (!reason)
        reason = scope_check(c->scope, url);
    if (!reason && cfg->max_depth > 0 && depth > cfg->max_depth)
        reason = "depth";
    if (!reason && hops > cfg->max_redirects)
        reason = "redirects";
    if (!reason)
        reason = trap_check(url, cfg->max_path_segments);
    struct host *h = reason ? NULL : host_for(c, url);
    if (!reason && !h)
        return;
    struct url_new u = {
        .url = url,
        .hash = hash,
        .host_id = h ? h->id : 0,
        .state = reason ? URL_SKIPPED : URL_QUEUED,
        .reason = reason,
        .depth = depth,
        .hops = hops,
        .from_id = from_id,
        .kind = kind,
    };
    int rc = store_and_count(c, h, &u);
    /* Skips that a later, followable path can undo stay out of the cache. */
    if (rc >= 0 && (!reason || strcmp(reason, "nofollow") != 0) &&
        (!reason || strcmp(reason, "depth") != 0))
        seen_add(c, hash);
}

static const char *link_reject_reason(int error)
{
    switch (error) {
    case URL_ESCHEME:
        return "scheme";
    case URL_ETOOLONG:
        return "too long";
    default:
        return "invalid";
    }
}

/* Slots per child. A body rarely finds none free: its slot is held from
 * the fetch until the parse result, so a fetcher needs one per transfer,
 * per body waiting in the parse queue (can_fetch, plus the transfers that
 * end meanwhile) and its share of the documents the parsers hold. A
 * parser needs one per document it holds, for the result. */
static uint32_t body_slots_per_part(const struct config *cfg)
{
    uint32_t n_parts = (uint32_t)(cfg->n_fetchers + cfg->n_parsers);
    uint32_t n = 2 * (uint32_t)cfg->connections +
                 ((uint32_t)cfg->n_parsers * (PARSER_CAPACITY + 4) + 8) /
                     (uint32_t)cfg->n_fetchers;
    if (n < PARSER_CAPACITY)
        n = PARSER_CAPACITY;
    return n < MAX_BODY_SLOTS / n_parts ? n : MAX_BODY_SLOTS / n_parts;
}

/* --- Finishing jobs ------------------------------------------------------ */

static void job_free(struct coord *c, struct job *j)
{
    imap_del(&c->jobs, j->id);
    if (j->stage == STAGE_PARSE &&
        imap_get(&c->parsing, (uint64_t)j->fr.body_hash) == j)
        imap_del(&c->parsing, (uint64_t)j->fr.body_hash);
    url_lease_release(&j->url);
    fetch_result_release(&j->fr);
    bodies_give_back(&c->bodies, j->slot);
    bodies_give_back(&c->bodies, j->result_slot);
    free(j->body);
    free(j);
}

/* The next request to h starts at least a gap after this one went out
 * (the fetcher's clock is the same CLOCK_MONOTONIC as ours). */
static void host_gap_from(struct coord *c, struct host *h,
                          const struct fetch_result *fr)
{
    if (fr->sent_at_us <= 0)
        return;
    int64_t at = (fr->sent_at_us + 999) / 1000 + host_gap_ms(&c->sched, h);
    if (h->next_at_ms < at)
        h->next_at_ms = at;
}

static void host_done_with(struct coord *c, struct host *h)
{
    h->in_flight--;
    sched_update(&c->sched, h);
}

/* A page job stops counting against --max-pages and its host's limit. */
static void page_job_end(struct coord *c, struct job *j)
{
    c->n_page_jobs--;
    j->host->n_page_jobs--;
}

/* Ends a page job with a final state; the page row (if any) is written by
 * the caller in the same transaction. */
static void page_finish(struct coord *c, struct job *j, int state,
                        const char *reason)
{
    begin(c);
    check_store(
        c,
        store_url_finish(c->store, j->url.id, state, reason, j->url.attempts),
        "finish a URL");
    page_job_end(c, j);
    if (state == URL_DONE || state == URL_FAILED) {
        c->n_finished++;
        j->host->n_done++;
    }
    job_free(c, j);
}

/* Puts a page job's URL back in its host's ready queue. */
static void page_requeue(struct coord *c, struct job *j)
{
    begin(c);
    check_store(c,
                store_url_finish(c->store, j->url.id, URL_QUEUED, NULL,
                                 j->url.attempts),
                "queue a URL again");
    host_push_ready(j->host, &j->url, 1);
    j->url.url = NULL; /* moved to the ready queue */
    sched_update(&c->sched, j->host);
    page_job_end(c, j);
    job_free(c, j);
}

/* The same after a failed attempt, or fails it when its attempts are used
 * up. */
static void page_retry(struct coord *c, struct job *j, const char *why)
{
    j->url.attempts++;
    if (j->url.attempts >= c->cfg->max_attempts) {
        c->progress.n_errors++;
        page_finish(c, j, URL_FAILED, why);
        return;
    }
    page_requeue(c, j);
}

static void record_page(struct coord *c, struct job *j,
                        const struct fetch_result *fr,
                        const struct parse_result *pr, int64_t duplicate_of,
                        int64_t *page_id)
{
    begin(c);
    check_store(
        c, store_page_add(c->store, j->url.id, fr, pr, duplicate_of, page_id),
        "record a page");
    c->progress.n_pages++;
    c->progress.n_bytes += fr->n_bytes;
}

/* Back-off after an error from a host: Retry-After when given, else an
 * exponential delay per consecutive error. */
static void host_backoff(struct coord *c, struct host *h, int64_t retry_s,
                         int64_t now)
{
    h->error_streak++;
    if (retry_s > 0) {
        int64_t ms = retry_s * 1000;
        if (ms > MAX_RETRY_AFTER_MS)
            ms = MAX_RETRY_AFTER_MS;
        if (h->next_at_ms < now + ms)
            h->next_at_ms = now + ms;
        return;
    }
    int64_t base = c->cfg->delay_ms > 250 ? c->cfg->delay_ms : 250;
    int shift = h->error_streak > 10 ? 10 : h->error_streak - 1;
    h->backoff_ms = base << shift;
    if (h->backoff_ms > MAX_BACKOFF_MS)
        h->backoff_ms = MAX_BACKOFF_MS;
    int64_t at = now + host_gap_ms(&c->sched, h);
    if (h->next_at_ms < at)
        h->next_at_ms = at;
}

/* body is NULL when in the job's slot. The parser leaves its result in a
 * slot of its own part: a parser killed before it could write it is
 * reaped before that part's slots go to its successor. */
static void send_parse(struct coord *c, struct child *ch, struct job *j,
                       const char *body, size_t len, int64_t now)
{
    bodies_give_back(&c->bodies, j->result_slot);
    j->result_slot = bodies_lend(&c->bodies, (uint32_t)(ch - c->children));
    struct parse_job m = {
        .kind = j->url.kind == URL_KIND_SITEMAP ? PARSE_SITEMAP : PARSE_HTML,
        .url = j->url.url,
        .content_type = j->fr.content_type,
        .result_slot = j->result_slot,
        .slot = j->slot,
        .body = body,
        .body_len = len,
    };
    msg_send_parse_job(&ch->ch, j->id, &m);
    if (ch->n_out == 0)
        ch->busy_since_ms = now;
    ch->n_out++;
    j->parse_seq = ch->n_sent++;
    j->stage = STAGE_PARSE;
    j->child = ch;
}

/* Hands the body to a parser at once when one is free (the common case:
 * no copy), else keeps a copy in the parse queue, unless it is in a slot. */
static void queue_parse(struct coord *c, struct job *j, const char *body,
                        size_t len, int64_t now)
{
    struct child *ch =
        c->parse_head ? NULL
                      : children_pick(c->children, c->n_children, CHILD_PARSE);
    if (ch) {
        send_parse(c, ch, j, body, len, now);
        return;
    }
    j->stage = STAGE_PARSE;
    j->child = NULL;
    j->body = j->slot == BODY_SLOT_NONE ? xmemdup0(body, len) : NULL;
    j->body_len = len;
    j->next_queued = NULL;
    if (c->parse_tail)
        c->parse_tail->next_queued = j;
    else
        c->parse_head = j;
    c->parse_tail = j;
    c->n_parse_queued++;
}

static void add_redirect(struct coord *c, struct job *j, const char *location)
{
    char *target = NULL;
    int rc = url_normalize(location, j->url.url, (size_t)c->cfg->max_url_bytes,
                           &target);
    int64_t hash;
    if (rc == 0) {
        hash = hash64(target, strlen(target));
        add_url(c, target, hash, NULL, j->url.depth, j->url.hops + 1, j->url.id,
                j->url.kind);
    } else {
        hash = hash64(location, strlen(location));
        add_url(c, location, hash, link_reject_reason(rc), j->url.depth,
                j->url.hops + 1, j->url.id, j->url.kind);
    }
    check_store(c, store_link_add(c->store, j->url.id, hash, LINK_REDIRECT, 0),
                "record a redirect");
    free(target);
}

static void on_page_fetched(struct coord *c, struct job *j,
                            struct fetch_result *fr, int64_t now)
{
    struct host *h = j->host;
    host_gap_from(c, h, fr);
    host_done_with(c, h);
    int transient = (fr->curl_code != 0 && !fr->truncated) ||
                    fr->status == 429 || fr->status >= 500;
    if (transient) {
        record_page(c, j, fr, NULL, 0, NULL);
        host_backoff(c, h, fr->retry_after_s, now);
        host_save(c, h, NULL, 0);
        sched_update(&c->sched, h);
        /* libcurl's words say more than a status it may have got before
         * the transfer broke. */
        char why[300];
        if (fr->curl_code != 0)
            snprintf(why, sizeof why, "%s", fr->error);
        else
            snprintf(why, sizeof why, "http %d", fr->status);
        page_retry(c, j, why);
        return;
    }
    if (h->error_streak || h->backoff_ms) {
        h->error_streak = 0;
        h->backoff_ms = 0;
        host_save(c, h, NULL, 0); /* the back-off is over: say so */
    }
    int64_t original = 0;
    int is_parsed =
        fr->status >= 200 && fr->status < 300 && fr->body_len > 0 &&
        (j->url.kind == URL_KIND_SITEMAP || msg_is_html(fr->content_type));
    /* A body already seen at another URL is recorded as its duplicate and
     * not parsed: its links are the original's, and a host that serves
     * the same page under endless URLs is not followed further. */
    if (is_parsed && !fr->truncated) {
        struct job *first = imap_get(&c->parsing, (uint64_t)fr->body_hash);
        int rc = first ? 1
                       : store_page_by_body(c->store, fr->body_hash, j->url.id,
                                            &original);
        check_store(c, rc, "look up a body");
        if (first)
            original = first->url.id;
        is_parsed = rc == 0;
    }
    if (is_parsed) {
        const char *body = fr->body;
        j->fr = *fr;
        j->fr.body = NULL;
        memset(fr, 0, sizeof *fr); /* strings moved into the job */
        if (!j->fr.truncated)
            imap_put(&c->parsing, (uint64_t)j->fr.body_hash, j);
        queue_parse(c, j, body, j->fr.body_len, now);
        return;
    }
    record_page(c, j, fr, NULL, original, NULL);
    if (fr->status >= 300 && fr->status < 400 && *fr->location)
        add_redirect(c, j, fr->location);
    page_finish(c, j, URL_DONE, NULL);
}

/* Sitemap: lines of robots.txt enter the frontier as sitemaps (within
 * scope, like any URL). */
static void add_robots_sitemaps(struct coord *c, struct host *h)
{
    for (size_t i = 0; i < robots_n_sitemaps(h->robots); i++) {
        char *u = NULL;
        const char *raw = robots_sitemap(h->robots, i);
        if (url_normalize(raw, h->origin, (size_t)c->cfg->max_url_bytes, &u) <
            0)
            continue;
        add_url(c, u, hash64(u, strlen(u)), NULL, 0, 0, 0, URL_KIND_SITEMAP);
        free(u);
    }
}

static void on_robots_fetched(struct coord *c, struct job *j,
                              const struct fetch_result *fr, int64_t now)
{
    struct host *h = j->host;
    h->robots_in_flight = 0;
    h->in_flight--;
    int with_text = 0;
    robots_free(h->robots);
    h->robots = NULL;
    if (fr->curl_code == 0 && fr->status >= 200 && fr->status < 300) {
        char token[64];
        robots_agent_token(c->cfg->user_agent, token, sizeof token);
        h->robots = robots_parse(fr->body, fr->body_len, token);
        h->robots_state = ROBOTS_PARSED;
        with_text = 1;
    } else if ((fr->curl_code == 0 && fr->status >= 400 && fr->status < 500) ||
               fr->curl_code == CURLE_TOO_MANY_REDIRECTS_CODE) {
        /* RFC 9309 2.3.1.2-3: unavailable (4xx, or more than five
         * redirects) means no restrictions. */
        h->robots = robots_allow_all();
        h->robots_state = ROBOTS_NONE;
    } else if (c->cfg->robots_error_allow) {
        h->robots = robots_allow_all();
        h->robots_state = ROBOTS_NONE;
    } else {
        /* RFC 9309 2.3.1.4: unreachable means fully disallowed for now.
         * The host waits; its URLs stay queued for a later attempt. */
        h->robots_attempts++;
        log_warn("robots.txt unavailable host=%s status=%d error=\"%s\"",
                 h->origin, fr->status, fr->error);
        host_backoff(c, h, fr->retry_after_s, now);
        if (h->robots_attempts >= ROBOTS_MAX_ATTEMPTS) {
            h->parked = 1;
            c->progress.n_hosts_parked++;
        }
        h->robots_state = ROBOTS_UNKNOWN;
    }
    if (h->robots_state != ROBOTS_UNKNOWN) {
        h->robots_attempts = 0;
        h->robots_fetched_ms = wall_ms();
        int64_t cd = robots_crawl_delay_ms(h->robots);
        if (cd > c->cfg->max_crawl_delay_ms)
            cd = c->cfg->max_crawl_delay_ms;
        h->crawl_delay_ms = cd;
    }
    /* robots.txt was a request too: the first page keeps the gap, the
     * Crawl-delay it may just have set included. */
    host_gap_from(c, h, fr);
    size_t keep =
        fr->body_len < ROBOTS_MAX_BYTES ? fr->body_len : ROBOTS_MAX_BYTES;
    host_save(c, h, with_text ? fr->body : NULL, with_text ? keep : 0);
    if (h->robots)
        add_robots_sitemaps(c, h);
    sched_update(&c->sched, h);
    job_free(c, j);
}

static void on_fetch_result(struct coord *c, struct child *ch,
                            const struct frame *f, int64_t now)
{
    struct job *j = imap_get(&c->jobs, f->job);
    struct fetch_result fr;
    if (!j || j->child != ch || msg_get_fetch_result(f, &fr) < 0) {
        log_error("unexpected fetch result job=%llu",
                  (unsigned long long)f->job);
        return;
    }
    if (fr.slot != BODY_SLOT_NONE) {
        fr.body =
            (const char *)(fr.slot == j->slot
                               ? bodies_at(&c->bodies, fr.slot, fr.body_len)
                               : NULL);
        if (!fr.body) {
            log_error("fetch result in a wrong body slot job=%llu",
                      (unsigned long long)f->job);
            fetch_result_release(&fr);
            return;
        }
    } else {
        /* Not used (no body kept, or one too long for the slot). */
        bodies_give_back(&c->bodies, j->slot);
        j->slot = BODY_SLOT_NONE;
    }
    ch->n_out--;
    if (j->kind == JOB_ROBOTS)
        on_robots_fetched(c, j, &fr, now);
    else
        on_page_fetched(c, j, &fr, now);
    fetch_result_release(&fr);
}

static void record_links(struct coord *c, struct job *j,
                         struct parse_result *pr, int follow)
{
    /* An uncrawlable link is recorded (and skipped) under its href. */
    for (size_t i = 0; i < pr->n_links; i++)
        if (pr->links[i].error)
            pr->links[i].hash =
                hash64(pr->links[i].url, strlen(pr->links[i].url));
    check_store(c, store_links_add(c->store, j->url.id, pr->links, pr->n_links),
                "record links");
    for (size_t i = 0; i < pr->n_links; i++) {
        const struct link *l = &pr->links[i];
        const char *reason = NULL;
        if (l->error)
            reason = link_reject_reason(l->error);
        else if (!follow || (l->flags & LINK_NOFOLLOW))
            reason = "nofollow";
        int hops = l->kind == LINK_REDIRECT ? j->url.hops + 1 : 0;
        int depth = l->kind == LINK_REDIRECT ? j->url.depth : j->url.depth + 1;
        int kind =
            (l->flags & LINK_SITEMAP_INDEX) ? URL_KIND_SITEMAP : URL_KIND_PAGE;
        add_url(c, l->url, l->hash, reason, depth, hops, j->url.id, kind);
    }
}

/* The frame of a parse result, its payload read from the job's result
 * slot when the parser left it there. */
static int result_frame(const struct coord *c, const struct job *j,
                        const struct frame *f, struct frame *out)
{
    *out = *f;
    if (!(f->flags & FRAME_IN_SLOT))
        return 0;
    uint32_t slot;
    size_t len;
    if (frame_slot(f, &slot, &len) < 0 || slot != j->result_slot)
        return FRAME_EPROTO;
    const unsigned char *p = bodies_at(&c->bodies, slot, len);
    if (!p)
        return FRAME_EPROTO;
    out->flags = 0;
    out->payload = p;
    out->len = len;
    return 0;
}

static void on_parse_result(struct coord *c, struct child *ch,
                            const struct frame *f)
{
    struct job *j = imap_get(&c->jobs, f->job);
    struct frame whole;
    struct parse_result pr;
    if (!j || j->child != ch || result_frame(c, j, f, &whole) < 0 ||
        msg_get_parse_result(&whole, &pr) < 0) {
        log_error("unexpected parse result job=%llu",
                  (unsigned long long)f->job);
        return;
    }
    ch->n_out--;
    ch->busy_since_ms = now_ms(); /* the next document, if any, starts */
    /* X-Robots-Tag says what <meta name=robots> says, from the header. */
    pr.meta_robots |= html_robots_directives(j->fr.x_robots_tag);
    int64_t page_id;
    record_page(c, j, &j->fr, &pr, 0, &page_id);
    if (!(pr.meta_robots & META_NOINDEX) && (*pr.title || *pr.text)) {
        check_store(c, store_text_add(c->store, page_id, pr.title, pr.text),
                    "store text");
        c->is_index_behind = 1;
        c->n_unindexed++;
    }
    record_links(c, j, &pr, !(pr.meta_robots & META_NOFOLLOW));
    parse_result_release(&pr);
    page_finish(c, j, URL_DONE, NULL);
}

/* --- Dispatch ------------------------------------------------------------ */

/* The host's next request may start a gap after this one, counted from
 * now and not from the loop's time, which work earlier in the round has
 * made stale: the job goes out at the end of the dispatch (flush_children). */
static void send_fetch(struct coord *c, struct child *ch, struct job *j,
                       const char *url)
{
    /* Bodies parsed here (robots.txt) come in the frame: the coordinator
     * keeps off the slots' pages, which would count in its memory. */
    j->slot = j->kind == JOB_ROBOTS
                  ? BODY_SLOT_NONE
                  : bodies_lend(&c->bodies, (uint32_t)(ch - c->children));
    struct fetch_job m = {
        .kind = j->kind == JOB_ROBOTS             ? FETCH_ROBOTS
                : j->url.kind == URL_KIND_SITEMAP ? FETCH_SITEMAP
                                                  : FETCH_PAGE,
        .url = (char *)url,
        .slot = j->slot,
    };
    msg_put_fetch_job(&ch->ch.out, j->id, &m);
    ch->n_out++;
    j->child = ch;
    j->stage = STAGE_FETCH;
    imap_put(&c->jobs, j->id, j);
    struct host *h = j->host;
    h->in_flight++;
    h->next_at_ms = now_ms() + host_gap_ms(&c->sched, h);
}

static void start_robots(struct coord *c, struct child *ch, struct host *h)
{
    struct job *j = xcalloc(1, sizeof *j);
    j->id = ROBOTS_JOB_BIT | (uint64_t)h->id;
    j->kind = JOB_ROBOTS;
    j->host = h;
    h->robots_in_flight = 1;
    char url[4096];
    snprintf(url, sizeof url, "%s/robots.txt", h->origin);
    send_fetch(c, ch, j, url);
}

/* A sitemap is read for the URLs it lists, whatever its name (.xml.gz). */
static int lease_is_file(const struct url_lease *l)
{
    return l->kind != URL_KIND_SITEMAP && url_is_file(l->url);
}

/* Leases the host's next queued URLs, its pages before its files
 * (lease_is_file): with a page budget, the budget goes to pages, which lead
 * on to more of the site, and a host's files come once its queue holds
 * no page. The pages pass reads the host's queued rows in id order from
 * read_to and passes over files; the files pass reads the rows the pages
 * pass has read (up to read_to) from files_to and passes over pages, which
 * are then in flight. Each row is read once by each pass, and one call reads
 * at most MAX_LEASE_ROUNDS batches; a host that has only files left gets
 * them from the first round on. Only an empty ready queue is refilled, so
 * what else of the host is in flight is in the job table: after a rewind to
 * an old id (store_and_count), rows already leased are passed over there. */
static void refill(struct coord *c, struct host *h)
{
    int kept = 0, is_pages_done = 0, is_queue_done = 0;
    for (int round = 0; h->n_ready == 0 && round < MAX_LEASE_ROUNDS; round++) {
        int is_files = is_pages_done || round == MAX_LEASE_ROUNDS - 1;
        int64_t *cursor = is_files ? &h->files_to : &h->read_to;
        int64_t upto = is_files ? h->read_to : INT64_MAX;
        struct url_lease l[LEASE_BATCH];
        int n = 0;
        int rc = store_url_queued(c->store, h->id, *cursor, upto, LEASE_BATCH,
                                  l, &n);
        check_store(c, rc, "read queued URLs");
        if (rc < 0)
            return;
        for (int i = 0; i < n; i++) {
            *cursor = l[i].id;
            if (imap_get(&c->jobs, (uint64_t)l[i].id) ||
                lease_is_file(&l[i]) != is_files) {
                url_lease_release(&l[i]);
                continue;
            }
            host_push_ready(h, &l[i], 0);
            kept++;
        }
        if (n == LEASE_BATCH)
            continue;
        if (is_files) {
            is_queue_done = is_pages_done;
            break;
        }
        is_pages_done = 1;
    }
    c->progress.n_queued =
        c->progress.n_queued > kept ? c->progress.n_queued - kept : 0;
    /* The count is a hint kept in memory, and at start-up at most
     * STORE_QUEUED_COUNT_MAX; the store is the truth: a host stays due
     * until a refill finds its queue empty. */
    if (is_queue_done)
        h->n_queued = 0;
    else
        h->n_queued = h->n_queued > kept ? h->n_queued - kept : 1;
}

static int page_budget_left(const struct coord *c)
{
    return c->cfg->max_pages == 0 ||
           c->n_finished + c->n_page_jobs < c->cfg->max_pages;
}

static void dispatch_parses(struct coord *c, int64_t now)
{
    while (c->parse_head) {
        struct child *ch =
            children_pick(c->children, c->n_children, CHILD_PARSE);
        if (!ch)
            return;
        struct job *j = c->parse_head;
        c->parse_head = j->next_queued;
        if (!c->parse_head)
            c->parse_tail = NULL;
        c->n_parse_queued--;
        send_parse(c, ch, j, j->body, j->body_len, now);
        free(j->body);
        j->body = NULL;
    }
}

/* While parsers lag, fetching waits: bodies would pile up here. */
static int can_fetch(struct coord *c)
{
    return c->n_parse_queued < 4 * c->cfg->n_parsers + 8 &&
           page_budget_left(c) &&
           children_pick(c->children, c->n_children, CHILD_FETCH) != NULL;
}

static void dispatch_fetches(struct coord *c, int64_t now)
{
    int64_t wall = wall_ms();
    while (can_fetch(c)) {
        struct child *ch =
            children_pick(c->children, c->n_children, CHILD_FETCH);
        int64_t wait;
        struct host *h = sched_next(&c->sched, now, &wait);
        if (!h)
            return;
        /* A long crawl refreshes robots.txt once a day. */
        if (h->robots_state != ROBOTS_UNKNOWN &&
            wall - h->robots_fetched_ms > ROBOTS_TTL_MS)
            h->robots_state = ROBOTS_UNKNOWN;
        if (host_needs_robots(&c->sched, h)) {
            start_robots(c, ch, h);
            sched_update(&c->sched, h);
            continue;
        }
        if (h->n_ready == 0 && h->n_queued > 0)
            refill(c, h);
        struct url_lease l;
        if (!host_pop_ready(h, &l)) {
            sched_update(&c->sched, h);
            continue;
        }
        const char *rule = NULL;
        char reason[600] = "";
        if (c->cfg->max_pages_per_host > 0 &&
            h->n_done + h->n_page_jobs >= c->cfg->max_pages_per_host)
            snprintf(reason, sizeof reason, "host page limit");
        else if (c->cfg->robots && h->robots &&
                 !robots_allows(h->robots, url_path(l.url), &rule))
            snprintf(reason, sizeof reason, "robots: %s",
                     rule ? rule : "disallowed");
        if (*reason) {
            begin(c);
            check_store(c,
                        store_url_finish(c->store, l.id, URL_SKIPPED, reason,
                                         l.attempts),
                        "skip a URL");
            url_lease_release(&l);
            sched_update(&c->sched, h);
            continue;
        }
        struct job *j = xcalloc(1, sizeof *j);
        j->id = (uint64_t)l.id;
        j->kind = JOB_PAGE;
        j->host = h;
        j->url = l;
        c->n_page_jobs++;
        h->n_page_jobs++;
        send_fetch(c, ch, j, l.url);
        sched_update(&c->sched, h);
    }
}

/* --- Supervision --------------------------------------------------------- */

/* The jobs at one child (all jobs when ch is NULL), collected so that the
 * caller may free them while walking the list. Caller frees the array. */
static struct job **jobs_of(struct coord *c, const struct child *ch, size_t *n)
{
    struct job **list = xcalloc(c->jobs.len + 1, sizeof *list);
    size_t i = 0, k = 0;
    struct job *j;
    while ((j = imap_next(&c->jobs, &i, NULL)))
        if (!ch || j->child == ch)
            list[k++] = j;
    *n = k;
    return list;
}

/* blame_fetches: the URLs a fetcher was fetching count an attempt (it
 * crashed, or broke the protocol); not when someone else killed it. */
static void requeue_child_jobs(struct coord *c, struct child *ch,
                               int blame_fetches)
{
    size_t n;
    struct job **lost = jobs_of(c, ch, &n);
    /* A parser reads its documents in the order sent: the first of them
     * still unanswered is the one it died (or stalled) on. The others only
     * waited behind it: fetched again, no attempt counted. */
    struct job *culprit = NULL;
    for (size_t k = 0; k < n; k++)
        if (lost[k]->stage == STAGE_PARSE &&
            (!culprit || lost[k]->parse_seq < culprit->parse_seq))
            culprit = lost[k];
    for (size_t k = 0; k < n; k++) {
        struct job *j = lost[k];
        if (j->kind == JOB_ROBOTS) {
            j->host->robots_in_flight = 0;
            host_done_with(c, j->host);
            job_free(c, j);
        } else if (j->stage == STAGE_FETCH) {
            host_done_with(c, j->host);
            if (blame_fetches)
                page_retry(c, j, "fetcher crashed");
            else
                page_requeue(c, j);
        } else if (j != culprit) {
            page_requeue(c, j);
        } else {
            /* A document that keeps killing parsers is quarantined. */
            if (j->url.attempts + 1 >= c->cfg->max_attempts)
                record_page(c, j, &j->fr, NULL, 0, NULL);
            page_retry(c, j, "crashed or stalled the parser");
        }
    }
    free(lost);
    ch->n_out = 0;
}

/* A signal someone sent (the OOM killer, an operator): it says nothing
 * against the URLs the child was fetching. */
static int killed_from_outside(int status)
{
    if (!WIFSIGNALED(status))
        return 0;
    int sig = WTERMSIG(status);
    return sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
}

static void log_exit(const struct coord *c, const struct child *ch, pid_t pid,
                     int status)
{
    const char *role = ch->role == CHILD_FETCH ? "fetcher" : "parser";
    if (WIFSIGNALED(status))
        log_warn("%s exited on signal %d pid=%d", role, WTERMSIG(status),
                 (int)pid);
    else if (!c->stopping)
        log_warn("%s exited with status %d pid=%d", role, WEXITSTATUS(status),
                 (int)pid);
}

/* blame_fetches: see requeue_child_jobs. */
static void child_lost(struct coord *c, struct child *ch, int64_t now,
                       int blame_fetches)
{
    if (ch->pid > 0)
        kill(ch->pid, SIGKILL);
    close(ch->ch.fd);
    chan_release(&ch->ch);
    ch->pid = -ch->pid; /* dead, not yet reaped: negative until waitpid */
    requeue_child_jobs(c, ch, blame_fetches);
    ch->n_deaths++;
    int shift = ch->n_deaths > 6 ? 6 : ch->n_deaths;
    ch->respawn_at_ms = now + (50LL << shift);
}

static void reap(struct coord *c)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < c->n_children; i++) {
            struct child *ch = &c->children[i];
            if (ch->pid != pid && ch->pid != -pid)
                continue;
            log_exit(c, ch, pid, status);
            if (ch->pid > 0)
                child_lost(c, ch, now_ms(), !killed_from_outside(status));
            ch->pid = 0;
        }
    }
}

/* A child's channel failed: it died, or is dying (it closes its end only
 * by exiting). It is reaped here, before its jobs are requeued, to learn
 * whether it crashed or was killed from outside. */
static void child_died(struct coord *c, struct child *ch, int64_t now)
{
    pid_t pid = ch->pid;
    int status = 0;
    if (pid > 0)
        kill(pid, SIGKILL); /* so that waitpid cannot wait on a live one */
    if (pid <= 0 || waitpid(pid, &status, 0) != pid) {
        child_lost(c, ch, now, 1); /* reap() sees to it */
        return;
    }
    log_exit(c, ch, pid, status);
    child_lost(c, ch, now, !killed_from_outside(status));
    ch->pid = 0;
}

static void respawn_due(struct coord *c, int64_t now)
{
    for (int i = 0; i < c->n_children; i++) {
        struct child *ch = &c->children[i];
        if (ch->pid != 0 || ch->respawn_at_ms > now || c->stopping)
            continue;
        int rc = child_spawn(ch, c->cfg, &c->bodies);
        if (rc < 0) {
            log_error("cannot fork a child: %s", strerror(-rc));
            ch->respawn_at_ms = now + 1000;
        }
    }
}

/* A parser that has spent --parse-timeout on one document is killed;
 * supervision requeues its documents and counts the attempt. */
static void kill_stalled_parsers(struct coord *c, int64_t now)
{
    for (int i = 0; i < c->n_children; i++) {
        struct child *ch = &c->children[i];
        if (ch->role != CHILD_PARSE || ch->pid <= 0 || ch->n_out == 0 ||
            now - ch->busy_since_ms < c->cfg->parse_timeout_ms)
            continue;
        log_warn("parser stalled on a document for %d s, killing it pid=%d",
                 (int)(c->cfg->parse_timeout_ms / 1000), (int)ch->pid);
        kill(ch->pid, SIGKILL);
        ch->busy_since_ms = now; /* once: the channel's EOF follows */
    }
}

/* --- The loop ------------------------------------------------------------ */

static void read_child(struct coord *c, struct child *ch, int64_t now)
{
    for (;;) {
        int rc = chan_fill(&ch->ch);
        if (rc == -EAGAIN)
            break;
        if (rc < 0) {
            child_died(c, ch, now);
            return;
        }
        struct frame f;
        while ((rc = chan_next(&ch->ch, &f)) == 1) {
            if (f.type == FRAME_FETCH_RESULT && ch->role == CHILD_FETCH)
                on_fetch_result(c, ch, &f, now);
            else if (f.type == FRAME_PARSE_RESULT && ch->role == CHILD_PARSE)
                on_parse_result(c, ch, &f);
            else
                rc = FRAME_EPROTO;
            if (rc < 0)
                break;
        }
        if (rc < 0) {
            log_error("protocol error from a child pid=%d", (int)ch->pid);
            child_lost(c, ch, now, 1);
            return;
        }
    }
}

static int64_t poll_timeout(struct coord *c, int64_t now)
{
    int64_t t = 1000;
    int64_t wait;
    /* A due host matters only when a fetch could start: otherwise the
     * next result wakes the loop, and waiting 0 ms would spin. */
    if (c->sched.n_heap > 0 && can_fetch(c)) {
        struct host *h = c->sched.heap[0];
        wait = h->next_at_ms - now;
        if (wait < t)
            t = wait;
    }
    wait = c->last_commit_ms + COMMIT_INTERVAL_MS - now;
    if (wait < t)
        t = wait;
    for (int i = 0; i < c->n_children; i++)
        if (c->children[i].pid == 0 && c->children[i].respawn_at_ms - now < t)
            t = c->children[i].respawn_at_ms - now;
    return t < 0 ? 0 : t;
}

/* Work for an idle loop: the search index catches up with the stored
 * texts (store/text.c says why it lags). */
static void index_some(struct coord *c)
{
    if (!c->is_index_behind)
        return;
    begin(c);
    int n = store_text_index(c->store, INDEX_BATCH);
    check_store(c, n, "index text for search");
    c->is_index_behind = n == INDEX_BATCH; /* fewer: it has caught up */
    if (n > 0)
        c->n_unindexed = n < c->n_unindexed ? c->n_unindexed - n : 0;
}

/* At the end: the rest of a small backlog, unless the user asked to stop;
 * a large one is left to crawler index or search, and the summary tells
 * how many texts wait. */
static void index_rest(struct coord *c, int may_index)
{
    int64_t n = 0;
    /* At least n_unindexed wait: a large backlog is known without reading
     * its rows (counting up to the cap read ~500 pages, 10-40 ms). */
    if (!c->is_index_behind || c->failed || !may_index ||
        c->n_unindexed > END_INDEX_MAX_PAGES)
        return;
    check_store(c, store_text_pending(c->store, END_INDEX_MAX_PAGES + 1, &n),
                "count texts to index");
    if (!c->failed && n > 0 && n <= END_INDEX_MAX_PAGES) {
        begin(c);
        check_store(c, store_text_index(c->store, (int)n),
                    "index text for search");
    }
}

/* At the end: the in-link index that the crawl did without (store.h),
 * unless the user asked twice to stop at once. */
static void index_links(struct coord *c)
{
    if (c->failed || n_signals > 1)
        return;
    begin(c);
    check_store(c, store_inlinks_build(c->store), "index the links");
}

static int crawl_done(const struct coord *c)
{
    if (c->jobs.len > 0 || c->parse_head)
        return 0;
    return c->sched.n_heap == 0 || !page_budget_left(c);
}

/* Hands the children what this round queued for them, without waiting
 * for POLLOUT. */
static void flush_children(struct coord *c, int64_t now)
{
    for (int i = 0; i < c->n_children; i++) {
        struct child *ch = &c->children[i];
        if (ch->pid > 0 && chan_pending(&ch->ch) && chan_flush(&ch->ch, 0) < 0)
            child_died(c, ch, now);
    }
}

static void run_loop(struct coord *c)
{
    struct pollfd *pfd = xcalloc((size_t)c->n_children + 1, sizeof *pfd);
    c->last_commit_ms = now_ms();
    for (;;) {
        int64_t now = now_ms();
        if (got_sigchld) {
            got_sigchld = 0;
            reap(c);
        }
        if (n_signals > 0 && !c->stopping) {
            log_info("stopping: finishing the work in flight (signal again "
                     "to stop at once)");
            c->stopping = 1;
            c->stop_deadline_ms = now + STOP_GRACE_MS;
        }
        if (n_signals > 1)
            break;
        respawn_due(c, now);
        dispatch_parses(c, now);
        if (!c->stopping)
            dispatch_fetches(c, now);
        /* Before the commit: jobs that waited through it (30-130 ms) went
         * out that late, the fetcher idle meanwhile; and a host's next
         * request, timed from the dispatch until this one's result comes
         * back (host_gap_from), could follow it sooner than the gap. */
        flush_children(c, now);
        kill_stalled_parsers(c, now);
        if (now - c->last_commit_ms >= COMMIT_INTERVAL_MS ||
            store_commit_due(c->store))
            commit(c, now);
        progress_tick(&c->progress, now, c->jobs.len);
        if (c->failed || (!c->stopping && crawl_done(c)))
            break;
        if (c->stopping && (c->jobs.len == 0 || now >= c->stop_deadline_ms))
            break;
        pfd[0].fd = sig_pipe[0];
        pfd[0].events = POLLIN;
        int n = 1;
        for (int i = 0; i < c->n_children; i++) {
            struct child *ch = &c->children[i];
            if (ch->pid <= 0) {
                pfd[i + 1].fd = -1;
                continue;
            }
            pfd[i + 1].fd = ch->ch.fd;
            pfd[i + 1].events = POLLIN | (chan_pending(&ch->ch) ? POLLOUT : 0);
            n = i + 2;
        }
        int64_t timeout = poll_timeout(c, now);
        if (c->stopping && c->stop_deadline_ms - now < timeout)
            timeout = c->stop_deadline_ms - now;
        int rc = poll(pfd, (nfds_t)n, timeout < 0 ? 0 : (int)timeout);
        if (rc < 0 && errno != EINTR) {
            log_error("poll failed: %s", strerror(errno));
            c->failed = 1;
            break;
        }
        if (rc == 0 && timeout > 0)
            index_some(c);
        if (pfd[0].revents & POLLIN) {
            char drain[64];
            while (read(sig_pipe[0], drain, sizeof drain) > 0)
                ;
        }
        now = now_ms();
        for (int i = 0; i < c->n_children && rc > 0; i++) {
            struct child *ch = &c->children[i];
            short ev = pfd[i + 1].revents;
            if (ch->pid <= 0 || pfd[i + 1].fd < 0 || !ev)
                continue;
            if (ev & POLLOUT) {
                if (chan_flush(&ch->ch, 0) < 0) {
                    child_died(c, ch, now);
                    continue;
                }
            }
            if (ev & (POLLIN | POLLHUP | POLLERR))
                read_child(c, ch, now);
        }
        flush_children(c, now);
    }
    free(pfd);
}

/* --- Start and stop ------------------------------------------------------ */

static void load_host(void *arg, struct host_row *row)
{
    struct coord *c = arg;
    struct host *h =
        sched_add(&c->sched, row->id, row->origin, strlen(row->origin));
    host_restore(c, h, row);
    c->progress.n_queued += row->n_queued;
    if (row->n_queued >= STORE_QUEUED_COUNT_MAX)
        c->progress.is_queued_floor = 1;
    host_row_release(row);
    sched_update(&c->sched, h);
}

static int add_seeds(struct coord *c, char **seeds, int n_seeds)
{
    /* Seeds of earlier runs keep the scope they gave; new ones join. */
    char *saved = NULL;
    check_store(c, store_meta_get(c->store, "seeds", &saved), "read the seeds");
    struct buf all;
    buf_init(&all, (size_t)1 << 30);
    if (saved)
        buf_append_str(&all, saved);
    free(saved);
    for (char *p = all.data, *nl; p && *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        scope_add_seed(c->scope, p);
        *nl = '\n';
    }
    begin(c);
    for (int i = 0; i < n_seeds && !c->failed; i++) {
        scope_add_seed(c->scope, seeds[i]);
        /* A seed is in scope by definition, even under --allow/--deny. */
        struct host *h = host_for(c, seeds[i]);
        if (!h)
            break;
        struct url_new u = {.url = seeds[i],
                            .hash = hash64(seeds[i], strlen(seeds[i])),
                            .host_id = h->id,
                            .state = URL_QUEUED};
        if (store_and_count(c, h, &u) == 1) {
            buf_append_str(&all, seeds[i]);
            buf_append_str(&all, "\n");
        }
    }
    for (int i = 0; i < c->cfg->n_sitemaps && !c->failed; i++) {
        const char *u = c->cfg->sitemaps[i];
        add_url(c, u, hash64(u, strlen(u)), NULL, 0, 0, 0, URL_KIND_SITEMAP);
    }
    if (all.len)
        check_store(c, store_meta_set(c->store, "seeds", all.data),
                    "save the seeds");
    buf_release(&all);
    commit(c, now_ms());
    return c->failed ? -1 : 0;
}

/* Persists every host's scheduler state (back-off, next allowed time). */
static void save_hosts(struct coord *c)
{
    size_t i = 0;
    struct host *h;
    while ((h = imap_next(&c->sched.by_id, &i, NULL)))
        if (h->error_streak > 0 || h->backoff_ms > 0 || h->parked)
            host_save(c, h, NULL, 0);
}

static void free_jobs(struct coord *c)
{
    size_t n;
    struct job **all = jobs_of(c, NULL, &n);
    for (size_t k = 0; k < n; k++)
        job_free(c, all[k]);
    free(all);
}

int coord_run(const struct config *cfg, char **seeds, int n_seeds)
{
    struct coord c = {.cfg = cfg};
    char err[512];
    int status = 1;
    c.scope = scope_new(cfg, err, sizeof err);
    if (!c.scope) {
        fprintf(stderr, "crawler: %s\n", err);
        return 2;
    }
    if (install_signals() < 0) {
        fprintf(stderr, "crawler: cannot set up signals\n");
        scope_free(c.scope);
        return 1;
    }
    /* Children first: none of them may inherit an open database. They
     * all share the bodies' mapping. */
    int rc =
        bodies_init(&c.bodies, (uint32_t)(cfg->n_fetchers + cfg->n_parsers),
                    body_slots_per_part(cfg), BODY_SLOT_BYTES);
    if (rc < 0) {
        fprintf(stderr, "crawler: cannot map memory for bodies: %s\n",
                strerror(-rc));
        goto out;
    }
    c.n_children = cfg->n_fetchers + cfg->n_parsers;
    c.children = xcalloc((size_t)c.n_children, sizeof *c.children);
    for (int i = 0; i < c.n_children; i++) {
        struct child *ch = &c.children[i];
        ch->role = i < cfg->n_fetchers ? CHILD_FETCH : CHILD_PARSE;
        ch->capacity =
            ch->role == CHILD_FETCH ? cfg->connections : PARSER_CAPACITY;
        rc = child_spawn(ch, cfg, &c.bodies);
        if (rc < 0) {
            fprintf(stderr, "crawler: cannot start a child process: %s\n",
                    strerror(-rc));
            goto out;
        }
    }
    rc = store_open(cfg->db_path, STORE_WRITE, &c.store, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "crawler: %s\n", err);
        goto out;
    }
    int requeued = store_url_requeue_all(c.store);
    if (requeued > 0)
        log_info("resuming: %d URLs an older version left in flight are "
                 "queued again",
                 requeued);
    sched_init(&c.sched, cfg->host_connections, cfg->robots, cfg->delay_ms);
    imap_init(&c.jobs);
    imap_init(&c.parsing);
    /* Faulted in at random 4 KiB at a time, its pages took 2.6% of the
     * coordinator's time (perf: mostly copies of the zero page and TLB
     * flushes); on huge pages it is four faults. */
    c.seen = xmap_huge(SEEN_CACHE_BYTES);
    check_store(&c, store_urls_finished(c.store, &c.n_finished),
                "count finished URLs");
    c.is_index_behind = 1; /* an earlier run may have left some */
    /* The progress counters start here; loading hosts and adding seeds
     * count the queued URLs. */
    progress_init(&c.progress, cfg->quiet, now_ms());
    check_store(&c, store_hosts_with_work(c.store, load_host, &c),
                "load hosts");
    if (add_seeds(&c, seeds, n_seeds) < 0)
        goto out_store;
    /* Only now: a crawl that cannot start leaves the index in place. */
    check_store(&c, store_inlinks_drop(c.store), "drop the in-link index");
    run_loop(&c);
    /* No more work for them: they exit while the store winds down, and
     * children_stop finds them gone instead of sleeping on them. */
    children_hang_up(c.children, c.n_children);
    save_hosts(&c);
    store_wind_down(c.store); /* copies the crawl's log during what follows */
    commit(&c, now_ms());
    index_rest(&c, !n_signals);
    index_links(&c);
    /* Why the URLs still queued were not fetched, for `crawler explain`. */
    check_store(&c,
                store_meta_set(c.store, "last_stop",
                               n_signals ? "interrupted by a signal"
                               : !page_budget_left(&c) ? "--max-pages reached"
                               : c.progress.n_hosts_parked
                                   ? "hosts waiting on robots.txt"
                                   : "complete"),
                "record the stop");
    commit(&c, now_ms());
    status = c.failed ? 1 : 0;
out_store:
    progress_end(&c.progress, now_ms());
    free_jobs(&c);
    if (!cfg->quiet)
        progress_summary(&c.progress, c.store, cfg, c.failed);
    if (store_empty_log(c.store) == STORE_EFAIL) {
        log_error("cannot copy the log into the database file: %s db=%s; "
                  "the database needs its -wal file, keep them together",
                  store_errmsg(c.store), cfg->db_path);
        status = 1;
    }
    sched_release(&c.sched);
    imap_release(&c.jobs);
    imap_release(&c.parsing);
    xunmap(c.seen, SEEN_CACHE_BYTES);
    store_close(c.store);
    c.store = NULL;
out:
    children_stop(c.children, c.n_children); /* no-op when already stopped */
    free(c.children);
    bodies_release(&c.bodies);
    scope_free(c.scope);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    return status;
}
