/*
 * msg: message codecs, field by field (see msg.h). Runs in every process.
 */
#include "crawler/msg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crawler/bodies.h"
#include "crawler/xalloc.h"

/* The most links a decoder accepts in one frame, whatever the sender's
 * --max-links: bounds the allocation a corrupt count could ask for. */
#define MSG_MAX_LINKS 1000000u

/* A body field: its slot, its length, and its bytes when in no slot. */
static void put_body_head(struct buf *out, uint32_t slot, size_t len)
{
    frame_put_u32(out, slot);
    frame_put_u64(out, len);
}

static void get_body(struct frame_reader *r, uint32_t *slot, const char **body,
                     size_t *len)
{
    *slot = frame_get_u32(r);
    uint64_t n = frame_get_u64(r);
    size_t n_here;
    const char *p = frame_get_bytes(r, &n_here);
    int is_here = *slot == BODY_SLOT_NONE;
    if (n_here != (is_here ? n : 0))
        r->err = FRAME_EPROTO;
    *body = is_here ? p : NULL;
    *len = (size_t)n;
}

int msg_is_html(const char *ct)
{
    return !ct || !*ct || strncasecmp(ct, "text/html", 9) == 0 ||
           strncasecmp(ct, "application/xhtml+xml", 21) == 0;
}

void msg_put_fetch_job(struct buf *out, uint64_t job, const struct fetch_job *m)
{
    size_t at = frame_begin(out, FRAME_FETCH, 0, job);
    frame_put_u32(out, m->kind);
    frame_put_str(out, m->url);
    frame_put_u32(out, m->slot);
    frame_end(out, at);
}

int msg_get_fetch_job(const struct frame *f, struct fetch_job *m)
{
    struct frame_reader r;
    frame_reader_init(&r, f);
    m->kind = frame_get_u32(&r);
    m->url = frame_get_str(&r);
    m->slot = frame_get_u32(&r);
    if (frame_reader_error(&r) == 0 && r.left == 0)
        return 0;
    fetch_job_release(m);
    return FRAME_EPROTO;
}

void fetch_job_release(struct fetch_job *m)
{
    free(m->url);
    m->url = NULL;
}

int msg_put_fetch_result(struct buf *out, uint64_t job,
                         const struct fetch_result *m)
{
    size_t at = frame_begin(out, FRAME_FETCH_RESULT, 0, job);
    frame_put_u32(out, (uint32_t)m->status);
    frame_put_u32(out, (uint32_t)m->curl_code);
    frame_put_u32(out, m->truncated);
    frame_put_str(out, m->error);
    frame_put_str(out, m->final_url);
    frame_put_str(out, m->content_type);
    frame_put_str(out, m->location);
    frame_put_str(out, m->etag);
    frame_put_str(out, m->last_modified);
    frame_put_str(out, m->x_robots_tag);
    frame_put_str(out, m->remote_ip);
    frame_put_i64(out, m->retry_after_s);
    frame_put_i64(out, m->connect_us);
    frame_put_i64(out, m->ttfb_us);
    frame_put_i64(out, m->total_us);
    frame_put_i64(out, m->sent_at_us);
    frame_put_i64(out, m->body_hash);
    frame_put_i64(out, m->n_bytes);
    put_body_head(out, m->slot, m->body_len);
    int is_here = m->slot == BODY_SLOT_NONE;
    frame_put_bytes(out, is_here ? m->body : "", is_here ? m->body_len : 0);
    return frame_end(out, at);
}

int msg_get_fetch_result(const struct frame *f, struct fetch_result *m)
{
    struct frame_reader r;
    frame_reader_init(&r, f);
    m->status = (int32_t)frame_get_u32(&r);
    m->curl_code = (int32_t)frame_get_u32(&r);
    m->truncated = frame_get_u32(&r);
    m->error = frame_get_str(&r);
    m->final_url = frame_get_str(&r);
    m->content_type = frame_get_str(&r);
    m->location = frame_get_str(&r);
    m->etag = frame_get_str(&r);
    m->last_modified = frame_get_str(&r);
    m->x_robots_tag = frame_get_str(&r);
    m->remote_ip = frame_get_str(&r);
    m->retry_after_s = frame_get_i64(&r);
    m->connect_us = frame_get_i64(&r);
    m->ttfb_us = frame_get_i64(&r);
    m->total_us = frame_get_i64(&r);
    m->sent_at_us = frame_get_i64(&r);
    m->body_hash = frame_get_i64(&r);
    m->n_bytes = frame_get_i64(&r);
    get_body(&r, &m->slot, &m->body, &m->body_len);
    if (frame_reader_error(&r) == 0 && r.left == 0)
        return 0;
    fetch_result_release(m);
    return FRAME_EPROTO;
}

void fetch_result_release(struct fetch_result *m)
{
    free(m->error);
    free(m->final_url);
    free(m->content_type);
    free(m->location);
    free(m->etag);
    free(m->last_modified);
    free(m->x_robots_tag);
    free(m->remote_ip);
    memset(m, 0, sizeof *m);
}

int msg_send_parse_job(struct chan *c, uint64_t job, const struct parse_job *m)
{
    struct buf *out = &c->out;
    size_t at = frame_begin(out, FRAME_PARSE, 0, job);
    frame_put_u32(out, m->kind);
    frame_put_str(out, m->url);
    frame_put_str(out, m->content_type);
    frame_put_u32(out, m->result_slot);
    put_body_head(out, m->slot, m->body_len);
    int is_here = m->slot == BODY_SLOT_NONE;
    return chan_end_frame(c, at, is_here ? m->body : "",
                          is_here ? m->body_len : 0);
}

int msg_get_parse_job(const struct frame *f, struct parse_job *m)
{
    struct frame_reader r;
    frame_reader_init(&r, f);
    m->kind = frame_get_u32(&r);
    m->url = frame_get_str(&r);
    m->content_type = frame_get_str(&r);
    m->result_slot = frame_get_u32(&r);
    get_body(&r, &m->slot, &m->body, &m->body_len);
    if (frame_reader_error(&r) == 0 && r.left == 0)
        return 0;
    parse_job_release(m);
    return FRAME_EPROTO;
}

void parse_job_release(struct parse_job *m)
{
    free(m->url);
    free(m->content_type);
    memset(m, 0, sizeof *m);
}

int msg_put_parse_result(struct buf *out, uint64_t job,
                         const struct parse_result *m)
{
    size_t at = frame_begin(out, FRAME_PARSE_RESULT, 0, job);
    frame_put_u32(out, m->status);
    frame_put_u32(out, m->meta_robots);
    frame_put_str(out, m->title);
    frame_put_str(out, m->canonical);
    frame_put_str(out, m->refresh);
    frame_put_str(out, m->text);
    frame_put_u64(out, m->n_links_dropped);
    frame_put_u32(out, (uint32_t)m->n_links);
    for (size_t i = 0; i < m->n_links; i++) {
        const struct link *l = &m->links[i];
        frame_put_str(out, l->url);
        frame_put_i64(out, l->hash);
        frame_put_u32(out, l->kind);
        frame_put_u32(out, l->flags);
        frame_put_u32(out, (uint32_t)l->error);
    }
    return frame_end(out, at);
}

int msg_get_parse_result(const struct frame *f, struct parse_result *m)
{
    struct frame_reader r;
    frame_reader_init(&r, f);
    memset(m, 0, sizeof *m);
    m->is_borrowed = 1;
    m->status = frame_get_u32(&r);
    m->meta_robots = frame_get_u32(&r);
    /* Not const only because the parser's results, which own their
     * strings, are the same struct; nothing writes through them. */
    m->title = (char *)frame_get_cstr(&r);
    m->canonical = (char *)frame_get_cstr(&r);
    m->refresh = (char *)frame_get_cstr(&r);
    m->text = (char *)frame_get_cstr(&r);
    m->n_links_dropped = frame_get_u64(&r);
    uint32_t n = frame_get_u32(&r);
    /* Each link takes at least 24 bytes: a count the payload cannot hold
     * is a corrupt frame, not an allocation to attempt. */
    if (n > MSG_MAX_LINKS || (size_t)n * 24 > r.left)
        r.err = FRAME_EPROTO;
    if (frame_reader_error(&r) == 0 && n) {
        m->links = xcalloc(n, sizeof *m->links);
        for (uint32_t i = 0; i < n && !frame_reader_error(&r); i++) {
            struct link *l = &m->links[i];
            l->url = (char *)frame_get_cstr(&r);
            l->hash = frame_get_i64(&r);
            l->kind = frame_get_u32(&r);
            l->flags = frame_get_u32(&r);
            l->error = (int32_t)frame_get_u32(&r);
            m->n_links = i + 1;
        }
    }
    if (frame_reader_error(&r) == 0 && r.left == 0)
        return 0;
    parse_result_release(m);
    return FRAME_EPROTO;
}

void parse_result_release(struct parse_result *m)
{
    if (!m->is_borrowed) {
        free(m->title);
        free(m->canonical);
        free(m->refresh);
        free(m->text);
        for (size_t i = 0; i < m->n_links; i++)
            free(m->links[i].url);
    }
    free(m->links);
    memset(m, 0, sizeof *m);
}
