/*
 * msg: the typed messages carried in frames, and their codecs.
 *
 * Each message is encoded field by field in a fixed order (frame.h has the
 * field encodings). Decoders return 0 or FRAME_EPROTO; on success the caller
 * owns the decoded strings and releases them with the matching *_release,
 * except bodies, which are borrowed from the frame (valid until the chan is
 * read again). A body may instead lie in a shared slot (bodies.h): then
 * the frame carries the slot and the length, and body is NULL until the
 * receiver points it at the slot (bodies_at).
 */
#ifndef CRAWLER_MSG_H
#define CRAWLER_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "crawler/bodies.h"
#include "crawler/buf.h"
#include "crawler/frame.h"

/* What a fetch is for; decides redirect handling and what follows. */
enum fetch_kind {
    FETCH_PAGE = 0,    /* redirects come back as results */
    FETCH_ROBOTS = 1,  /* redirects followed (up to 5, RFC 9309) */
    FETCH_SITEMAP = 2, /* redirects come back as results */
};

/* FETCH: coordinator -> fetcher. Frame job = the coordinator's job id. */
struct fetch_job {
    uint32_t kind; /* enum fetch_kind */
    char *url;
    uint32_t slot; /* where to leave the body, or BODY_SLOT_NONE */
};

/* FETCH_RESULT: fetcher -> coordinator. */
struct fetch_result {
    int32_t status;     /* HTTP status, 0 when no response */
    int32_t curl_code;  /* CURLE_*, 0 on success */
    uint32_t truncated; /* body stopped at max_body_bytes */
    char *error;        /* libcurl's error text, "" when none */
    char *final_url;    /* the URL answered (differs for robots redirects) */
    char *content_type;
    char *location; /* absolute redirect target, "" when none */
    char *etag;
    char *last_modified;
    char *x_robots_tag;
    char *remote_ip;
    int64_t retry_after_s; /* from Retry-After, 0 when absent */
    int64_t connect_us;
    int64_t ttfb_us;
    int64_t total_us;
    int64_t sent_at_us; /* CLOCK_MONOTONIC when the request went out
                         * (estimated no earlier than it did) */
    int64_t body_hash;
    int64_t n_bytes;  /* decoded body bytes received (even when the
                       * body itself is not carried) */
    uint32_t slot;    /* the body's slot, or BODY_SLOT_NONE: in the frame */
    const char *body; /* borrowed (see above) */
    size_t body_len;
};

enum parse_kind {
    PARSE_HTML = 0,
    PARSE_SITEMAP = 1,
};

/* PARSE: coordinator -> parser. */
struct parse_job {
    uint32_t kind;        /* enum parse_kind */
    char *url;            /* the document's URL, the base for links */
    char *content_type;   /* as served, for the charset */
    uint32_t result_slot; /* where to leave the result, or BODY_SLOT_NONE */
    uint32_t slot;        /* as in fetch_result */
    const char *body;     /* borrowed */
    size_t body_len;
};

/* Where a link was found. */
enum link_kind {
    LINK_A = 0,
    LINK_AREA = 1,
    LINK_LINK = 2,
    LINK_FRAME = 3,
    LINK_IFRAME = 4,
    LINK_REDIRECT = 5, /* Location header or meta refresh */
    LINK_SITEMAP = 6,  /* sitemap entry */
};

#define LINK_NOFOLLOW 0x1u      /* rel="nofollow" (recorded, not followed) */
#define LINK_SITEMAP_INDEX 0x2u /* a sitemap listed by a sitemap index */

struct link {
    char *url;      /* normalized absolute URL; when error != 0, the href */
    int64_t hash;   /* hash64 of url when error == 0 */
    uint32_t kind;  /* enum link_kind */
    uint32_t flags; /* LINK_* */
    int32_t error;  /* 0 or a url_error: why it is not crawlable */
};

/* Page-level robots directives from <meta name="robots">. */
#define META_NOINDEX 0x1u
#define META_NOFOLLOW 0x2u

/* PARSE_RESULT: parser -> coordinator; in the job's result slot when it
 * fits (frame_move_to_slot), else in the frame. */
struct parse_result {
    uint32_t status;      /* 0 parsed, else a PARSE_E* code */
    uint32_t meta_robots; /* META_* */
    char *title;
    char *canonical; /* normalized, "" when none */
    char *refresh;   /* normalized meta refresh target, "" when none */
    char *text;      /* bounded visible text */
    size_t n_links;
    size_t n_links_dropped; /* over the per-page cap */
    struct link *links;
    /* Set by msg_get_parse_result: the strings, the links' too, point
     * into the frame, and only the links array is owned. */
    int is_borrowed;
};

/* Parser outcomes other than success. */
#define PARSE_EBINARY 1 /* not markup (e.g. a binary served as HTML) */
#define PARSE_EFAILED 2 /* the parser gave up */

/* Whether a page served with this Content-Type goes to an HTML parser:
 * text/html, application/xhtml+xml, or no type at all (NULL or "": the
 * parser sniffs). The fetcher carries the body only then, and the
 * coordinator parses only then. */
int msg_is_html(const char *content_type);

void msg_put_fetch_job(struct buf *out, uint64_t job,
                       const struct fetch_job *m);
int msg_get_fetch_job(const struct frame *f, struct fetch_job *m);
void fetch_job_release(struct fetch_job *m);

/* -E2BIG when the result does not fit a frame (cannot happen while
 * max_body_bytes is below FRAME_MAX_PAYLOAD). */
int msg_put_fetch_result(struct buf *out, uint64_t job,
                         const struct fetch_result *m);
int msg_get_fetch_result(const struct frame *f, struct fetch_result *m);
void fetch_result_release(struct fetch_result *m);

/* Queues the job on c, its body (unless in a slot) written from m->body
 * (chan_end_frame). */
int msg_send_parse_job(struct chan *c, uint64_t job, const struct parse_job *m);
int msg_get_parse_job(const struct frame *f, struct parse_job *m);
void parse_job_release(struct parse_job *m);

int msg_put_parse_result(struct buf *out, uint64_t job,
                         const struct parse_result *m);
/* The strings of m borrow from f: m is read before the frame goes. */
int msg_get_parse_result(const struct frame *f, struct parse_result *m);
/* Also used by the parser for results it built itself. */
void parse_result_release(struct parse_result *m);

#endif
