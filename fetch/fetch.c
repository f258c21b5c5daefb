/*
 * fetch: the fetcher process (see fetch.h).
 *
 * Owns one curl multi handle, one struct transfer per running transfer,
 * hung on its easy handle (CURLOPT_PRIVATE) and freed in transfer_free
 * only, and the easy handles of finished transfers, kept for the next ones
 * (a new handle per transfer cost an allocation and a copy of every option
 * each time).
 * The fetcher reports outcomes; it decides nothing about retries, back-off
 * or what a status means: that is the coordinator's job.
 *
 * Invariants: the number of running transfers never exceeds the credits the
 * coordinator grants (it never sends more jobs than cfg->connections); a
 * body never exceeds cfg->max_body_bytes in memory; only HTML, robots.txt
 * and sitemap bodies are kept at all (others are counted and hashed); a
 * slot the job came with is written only while its transfer runs.
 */
#include "fetch/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crawler/buf.h"
#include "crawler/frame.h"
#include "crawler/hash.h"
#include "crawler/log.h"
#include "crawler/msg.h"
#include "crawler/xalloc.h"

/* libcurl's receive buffer per handle (easy_new). */
#define RECV_BUFFER_BYTES 65536L

struct transfer {
    CURL *easy;
    uint64_t job;
    uint32_t kind;
    int keep_body; /* decided from Content-Type at the first byte */
    int decided;
    int truncated;
    size_t bytes;                 /* decoded body bytes received */
    struct transfer *prev, *next; /* the fetcher's list of transfers */
    uint32_t slot;                /* the body's slot; BODY_SLOT_NONE: in body */
    unsigned char *in_slot;       /* its memory, NULL when none */
    size_t slot_bytes;
    struct buf body;
    struct body_hash hash;
    char errbuf[CURL_ERROR_SIZE];
};

struct fetcher {
    const struct config *cfg;
    const struct bodies *bodies; /* NULL: every body in the frame */
    CURLM *multi;
    struct chan ch;
    struct transfer *transfers; /* every running transfer, owned */
    int n_running;
    CURL **idle; /* easy handles of finished transfers, owned */
    int n_idle;  /* at most cfg->connections, the most ever running */
    int chan_closed;
};

/* robots.txt and sitemaps always; pages only when a parser will read them
 * (others are counted and hashed, not carried). */
static int wants_body(struct transfer *t)
{
    if (t->kind != FETCH_PAGE)
        return 1;
    char *ct = NULL;
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
    return msg_is_html(ct);
}

/* The whole body in one allocation rather than seven doublings from 256
 * bytes: the declared length, trusted up to 1 MiB, or (compressed,
 * chunked) room for a typical page. */
static void reserve_body(struct transfer *t)
{
    curl_off_t declared = -1;
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared);
    const size_t guess = (size_t)32 << 10, trusted = (size_t)1 << 20;
    size_t n = guess;
    if (declared > 0)
        n = (uint64_t)declared < trusted ? (size_t)declared : trusted;
    buf_reserve(&t->body, n);
}

/* Into the slot while the body fits it, else into t->body, with what the
 * slot held so far. */
static void keep(struct transfer *t, const char *data, size_t n)
{
    if (t->in_slot && t->bytes + n <= t->slot_bytes) {
        memcpy(t->in_slot + t->bytes, data, n);
        return;
    }
    if (t->in_slot) {
        reserve_body(t);
        buf_append(&t->body, (const char *)t->in_slot, t->bytes);
        t->in_slot = NULL;
        t->slot = BODY_SLOT_NONE;
    }
    buf_append(&t->body, data, n);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n;
    if (!t->decided) {
        t->keep_body = wants_body(t);
        t->decided = 1;
        if (t->keep_body && !t->in_slot)
            reserve_body(t);
    }
    size_t room = t->body.max > t->bytes ? t->body.max - t->bytes : 0;
    size_t take = len < room ? len : room;
    body_hash_update(&t->hash, data, take);
    if (t->keep_body)
        keep(t, data, take);
    t->bytes += take;
    if (take < len) {
        t->truncated = 1;
        return CURL_WRITEFUNC_ERROR; /* stops the transfer at the cap */
    }
    return len;
}

static void transfer_free(struct fetcher *f, struct transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        f->transfers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    f->n_running--;
    curl_multi_remove_handle(f->multi, t->easy);
    if (f->n_idle < f->cfg->connections)
        f->idle[f->n_idle++] = t->easy;
    else
        curl_easy_cleanup(t->easy);
    buf_release(&t->body);
    free(t);
}

/* A handle with the options every transfer shares. */
static CURL *easy_new(const struct config *cfg)
{
    CURL *e = curl_easy_init();
    if (!e)
        abort();
    curl_easy_setopt(e, CURLOPT_USERAGENT, cfg->user_agent);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)cfg->connect_timeout_ms);
    /* A server that trickles under 64 bytes/s for 10 s loses the slot. */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 64L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 10L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    /* A typical page in one read: with the default 16 KiB, a 20 KB page
     * took two reads and more polls (strace, 3,000 pages: 5,469 reads and
     * 12,616 polls, against 3,059 and 10,843). At most --connections
     * handles are kept. */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUFFER_BYTES);
    return e;
}

static void start_transfer(struct fetcher *f, uint64_t job,
                           const struct fetch_job *m)
{
    const struct config *cfg = f->cfg;
    struct transfer *t = xcalloc(1, sizeof *t);
    t->job = job;
    t->kind = m->kind;
    t->in_slot = bodies_at(f->bodies, m->slot, 0);
    t->slot = t->in_slot ? m->slot : BODY_SLOT_NONE;
    t->slot_bytes = t->in_slot ? f->bodies->slot_bytes : 0;
    buf_init(&t->body, (size_t)cfg->max_body_bytes);
    body_hash_init(&t->hash);
    CURL *e = f->n_idle > 0 ? f->idle[--f->n_idle] : easy_new(cfg);
    t->easy = e;
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_URL, m->url);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    /* Redirects of pages go back to the frontier (scope, robots, dedup
     * apply); robots.txt redirects are followed as RFC 9309 says. */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION,
                     (long)(m->kind == FETCH_ROBOTS));
    curl_multi_add_handle(f->multi, e);
    t->next = f->transfers;
    if (t->next)
        t->next->prev = t;
    f->transfers = t;
    f->n_running++;
}

static char *header_value(CURL *e, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return NULL;
    return h->value;
}

static char *info_str(CURL *e, CURLINFO what)
{
    char *v = NULL;
    curl_easy_getinfo(e, what, &v);
    return v;
}

static int64_t info_us(CURL *e, CURLINFO what)
{
    curl_off_t v = 0;
    curl_easy_getinfo(e, what, &v);
    return (int64_t)v;
}

static int64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void finish_transfer(struct fetcher *f, struct transfer *t,
                            CURLcode code)
{
    CURL *e = t->easy;
    /* Now is no earlier than the transfer's end, so this is no earlier
     * than the moment the request was sent: politeness gaps measured from
     * it are never short. */
    int64_t total_us = info_us(e, CURLINFO_TOTAL_TIME_T);
    int64_t sent_at_us =
        monotonic_us() - total_us + info_us(e, CURLINFO_PRETRANSFER_TIME_T);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t retry_after = 0;
    curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &retry_after);
    struct fetch_result r = {
        .status = (int32_t)status,
        .curl_code = (int32_t)code,
        .truncated = (uint32_t)t->truncated,
        .final_url = info_str(e, CURLINFO_EFFECTIVE_URL),
        .content_type = info_str(e, CURLINFO_CONTENT_TYPE),
        .location = info_str(e, CURLINFO_REDIRECT_URL),
        .etag = header_value(e, "ETag"),
        .last_modified = header_value(e, "Last-Modified"),
        .x_robots_tag = header_value(e, "X-Robots-Tag"),
        .remote_ip = info_str(e, CURLINFO_PRIMARY_IP),
        .retry_after_s = (int64_t)retry_after,
        .connect_us = info_us(e, CURLINFO_CONNECT_TIME_T),
        .ttfb_us = info_us(e, CURLINFO_STARTTRANSFER_TIME_T),
        .total_us = total_us,
        .sent_at_us = sent_at_us,
        .body_hash = body_hash_final(&t->hash),
        .n_bytes = (int64_t)t->bytes,
        .slot = t->slot,
        .body = t->in_slot ? NULL : t->body.data,
        .body_len = t->in_slot ? t->bytes : t->body.len,
    };
    if (t->truncated) {
        /* The cap, not the network, ended it: a result, not an error. */
        r.curl_code = 0;
        r.error = "body truncated at --max-size";
    } else if (code != CURLE_OK) {
        r.error = t->errbuf[0] ? t->errbuf : (char *)curl_easy_strerror(code);
    }
    if (!t->keep_body) {
        r.slot = BODY_SLOT_NONE;
        r.body = NULL;
        r.body_len = 0;
    }
    msg_put_fetch_result(&f->ch.out, t->job, &r);
    transfer_free(f, t);
}

static int read_jobs(struct fetcher *f)
{
    for (;;) {
        int rc = chan_fill(&f->ch);
        if (rc == -EAGAIN)
            break;
        if (rc < 0) {
            f->chan_closed = 1;
            break;
        }
    }
    struct frame fr;
    int rc;
    while ((rc = chan_next(&f->ch, &fr)) == 1) {
        struct fetch_job job;
        if (fr.type != FRAME_FETCH || msg_get_fetch_job(&fr, &job) < 0) {
            log_error("malformed frame from the coordinator type=%d", fr.type);
            return -1;
        }
        start_transfer(f, fr.job, &job);
        fetch_job_release(&job);
    }
    if (rc < 0) {
        log_error("malformed frame header from the coordinator");
        return -1;
    }
    return 0;
}

int fetch_main(int chan_fd, const struct config *cfg,
               const struct bodies *bodies)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("curl_global_init failed");
        return 1;
    }
    struct fetcher f = {.cfg = cfg, .bodies = bodies};
    chan_init(&f.ch, chan_fd);
    fcntl(chan_fd, F_SETFL, fcntl(chan_fd, F_GETFL) | O_NONBLOCK);
    f.multi = curl_multi_init();
    f.idle = xcalloc((size_t)cfg->connections, sizeof *f.idle);
    curl_multi_setopt(f.multi, CURLMOPT_MAXCONNECTS,
                      (long)(cfg->connections * 2));
    int status = 0;
    while (!f.chan_closed) {
        struct curl_waitfd extra = {
            .fd = chan_fd,
            .events = CURL_WAIT_POLLIN |
                      (chan_pending(&f.ch) ? CURL_WAIT_POLLOUT : 0),
        };
        int nfds = 0;
        curl_multi_poll(f.multi, &extra, 1, 1000, &nfds);
        if (read_jobs(&f) < 0) {
            status = 1;
            break;
        }
        int running = 0;
        curl_multi_perform(f.multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(f.multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct transfer *t = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &t);
            finish_transfer(&f, t, m->data.result);
        }
        /* Once the channel is closed nobody reads results: stop at once. */
        if (!f.chan_closed && chan_pending(&f.ch) && chan_flush(&f.ch, 0) < 0) {
            f.chan_closed = 1;
            break;
        }
    }
    while (f.transfers)
        transfer_free(&f, f.transfers);
    while (f.n_idle > 0)
        curl_easy_cleanup(f.idle[--f.n_idle]);
    free(f.idle);
    chan_release(&f.ch);
    curl_multi_cleanup(f.multi);
    curl_global_cleanup();
    return status;
}
