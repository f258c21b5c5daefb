/*
 * parse: the parser process loop (see parse.h). Owns nothing across
 * documents but a bounded memo of URL resolutions (url.h): each result is
 * built, sent and released before the next job.
 * A document that crashes or stalls this process is dealt with by the
 * coordinator (it kills, respawns and counts attempts).
 */
#include "parse/parse.h"

#include <errno.h>

#include "crawler/frame.h"
#include "crawler/log.h"
#include "crawler/msg.h"
#include "parse/html.h"
#include "parse/sitemap.h"
#include "parse/url.h"

static void handle(struct chan *ch, const struct config *cfg,
                   const struct bodies *bodies, struct url_memo *memo,
                   const struct frame *fr, const struct parse_job *job)
{
    struct parse_result res = {0};
    if (job->kind == PARSE_SITEMAP) {
        struct sitemap_options opt = {
            .max_urls = SITEMAP_MAX_URLS,
            .max_url_bytes = (size_t)cfg->max_url_bytes,
            .max_inflated_bytes = SITEMAP_MAX_INFLATED_BYTES,
        };
        sitemap_extract(job->body, job->body_len, job->url, &opt, &res);
    } else {
        struct html_options opt = {
            .max_links = (size_t)cfg->max_links,
            .max_text_bytes = (size_t)cfg->max_text_bytes,
            .max_url_bytes = (size_t)cfg->max_url_bytes,
            .memo = memo,
        };
        html_extract(job->body, job->body_len, job->url, job->content_type,
                     &opt, &res);
    }
    /* A result over the frame cap (huge --max-links and --max-url-length)
     * is still answered, as a failure: a job without an answer would
     * hold this parser until the coordinator's stall limit. */
    size_t at = ch->out.len;
    if (msg_put_parse_result(&ch->out, fr->job, &res) < 0) {
        log_warn("parse result too large for one frame url=%s", job->url);
        struct parse_result failed = {.status = PARSE_EFAILED};
        msg_put_parse_result(&ch->out, fr->job, &failed);
    }
    parse_result_release(&res);
    /* The coordinator reads it from there, not through the socket; one
     * too long for the slot stays in the frame. */
    unsigned char *slot = bodies_at(bodies, job->result_slot, 0);
    if (slot)
        (void)frame_move_to_slot(&ch->out, at, job->result_slot, slot,
                                 bodies->slot_bytes);
}

int parse_main(int chan_fd, const struct config *cfg,
               const struct bodies *bodies)
{
    struct chan ch;
    chan_init(&ch, chan_fd);
    struct url_memo *memo = url_memo_new();
    int status = 0;
    for (;;) {
        int rc = chan_fill(&ch); /* blocking descriptor: waits for work */
        if (rc == -EPIPE)
            break;
        if (rc < 0 && rc != -EAGAIN && rc != -EINTR) {
            log_error("cannot read from the coordinator rc=%d", rc);
            status = 1;
            break;
        }
        struct frame fr;
        while ((rc = chan_next(&ch, &fr)) == 1) {
            struct parse_job job;
            if (fr.type != FRAME_PARSE || msg_get_parse_job(&fr, &job) < 0) {
                log_error("malformed frame from the coordinator type=%d",
                          fr.type);
                status = 1;
                goto out;
            }
            if (job.slot != BODY_SLOT_NONE) {
                job.body =
                    (const char *)bodies_at(bodies, job.slot, job.body_len);
                if (!job.body) {
                    log_error("no body slot %u of %zu bytes", job.slot,
                              job.body_len);
                    parse_job_release(&job);
                    status = 1;
                    goto out;
                }
            }
            handle(&ch, cfg, bodies, memo, &fr, &job);
            parse_job_release(&job);
            if (chan_flush(&ch, 1) < 0)
                goto out;
        }
        if (rc < 0) {
            log_error("malformed frame header from the coordinator");
            status = 1;
            break;
        }
    }
out:
    url_memo_free(memo);
    chan_release(&ch);
    return status;
}
