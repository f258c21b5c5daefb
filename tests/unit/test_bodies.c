/*
 * Unit tests of the bodies' shared slots (crawler/bodies.c) and of bodies
 * in slots on the wire (crawler/msg.c).
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crawler/bodies.h"
#include "crawler/msg.h"
#include "tests/unit/check.h"

/* Each part lends its own slots, each once, until none is left; the one
 * given back last is lent first; slots do not overlap. */
TEST(bodies_lend_per_part)
{
    struct bodies b = {0};
    CHECK_INT(bodies_init(&b, 2, 3, 4096), 0);
    uint32_t got[2][3];
    for (uint32_t part = 0; part < 2; part++) {
        for (int k = 0; k < 3; k++) {
            got[part][k] = bodies_lend(&b, part);
            CHECK(got[part][k] != BODY_SLOT_NONE);
            for (int m = 0; m < k; m++)
                CHECK(got[part][m] != got[part][k]);
        }
        CHECK_INT(bodies_lend(&b, part), BODY_SLOT_NONE);
    }
    for (int k = 0; k < 3; k++)
        for (int m = 0; m < 3; m++)
            CHECK(got[0][k] != got[1][m]);
    CHECK_INT(bodies_lend(&b, 2), BODY_SLOT_NONE); /* no such part */
    bodies_give_back(&b, got[1][1]);
    bodies_give_back(&b, BODY_SLOT_NONE); /* nothing */
    CHECK_INT(bodies_lend(&b, 0), BODY_SLOT_NONE);
    CHECK_INT(bodies_lend(&b, 1), got[1][1]);
    for (uint32_t part = 0; part < 2; part++)
        for (int k = 0; k < 3; k++) {
            unsigned char *p = bodies_at(&b, got[part][k], 4096);
            CHECK(p != NULL);
            memset(p, 'a' + (int)part * 3 + k, 4096);
        }
    for (uint32_t part = 0; part < 2; part++)
        for (int k = 0; k < 3; k++) {
            unsigned char *p = bodies_at(&b, got[part][k], 4096);
            CHECK_INT(p[0], 'a' + (int)part * 3 + k);
            CHECK_INT(p[4095], 'a' + (int)part * 3 + k);
        }
    bodies_release(&b);
}

/* A slot that does not exist, or a length over a slot, has no place. */
TEST(bodies_at_refuses_what_does_not_fit)
{
    struct bodies b = {0};
    CHECK(bodies_at(NULL, 1, 0) == NULL);
    CHECK_INT(bodies_init(&b, 1, 2, 4096), 0);
    CHECK(bodies_at(&b, BODY_SLOT_NONE, 0) == NULL);
    CHECK(bodies_at(&b, 1, 4096) != NULL);
    CHECK(bodies_at(&b, 2, 0) != NULL);
    CHECK(bodies_at(&b, 3, 0) == NULL);
    CHECK(bodies_at(&b, UINT32_MAX, 0) == NULL);
    CHECK(bodies_at(&b, 1, 4097) == NULL);
    bodies_release(&b);
}

/* What a forked child writes in a slot, the parent reads: the mapping is
 * shared, not copied at the fork. */
TEST(bodies_shared_with_children)
{
    struct bodies b = {0};
    CHECK_INT(bodies_init(&b, 1, 4, 65536), 0);
    uint32_t slot = bodies_lend(&b, 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        memcpy(bodies_at(&b, slot, 6), "<html>", 6);
        _exit(0);
    }
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK_INT(status, 0);
    CHECK(memcmp(bodies_at(&b, slot, 6), "<html>", 6) == 0);
    bodies_release(&b);
}

static void encode_fetch_result(struct buf *out, const struct fetch_result *m,
                                struct frame *f)
{
    buf_reset(out);
    CHECK_INT(msg_put_fetch_result(out, 7, m), 0);
    f->type = FRAME_FETCH_RESULT;
    f->payload = (const unsigned char *)out->data + FRAME_HEADER_BYTES;
    f->len = out->len - FRAME_HEADER_BYTES;
}

/* A body in a slot travels as its slot and length only; one in no slot as
 * its bytes. */
TEST(msg_body_in_a_slot_or_in_the_frame)
{
    struct buf out;
    buf_init(&out, 1 << 20);
    struct frame f;
    struct fetch_result got;
    struct fetch_result in_slot = {.status = 200, .slot = 5, .body_len = 12345};
    encode_fetch_result(&out, &in_slot, &f);
    CHECK(out.len < 1000);
    CHECK_INT(msg_get_fetch_result(&f, &got), 0);
    CHECK_INT(got.slot, 5);
    CHECK_INT(got.body_len, 12345);
    CHECK(got.body == NULL);
    fetch_result_release(&got);

    struct fetch_result in_frame = {
        .status = 200, .body = "<p>hi", .body_len = 5};
    encode_fetch_result(&out, &in_frame, &f);
    CHECK_INT(msg_get_fetch_result(&f, &got), 0);
    CHECK_INT(got.slot, BODY_SLOT_NONE);
    CHECK_INT(got.body_len, 5);
    CHECK(memcmp(got.body, "<p>hi", 5) == 0);
    fetch_result_release(&got);
    buf_release(&out);
}

/* A slot with bytes in the frame too, or bytes that disagree with the
 * length, make a malformed frame. */
TEST(msg_body_field_disagreeing_with_itself_is_an_error)
{
    struct buf out;
    buf_init(&out, 1 << 20);
    for (int which = 0; which < 3; which++) {
        buf_reset(&out);
        size_t at = frame_begin(&out, FRAME_PARSE, 0, 1);
        frame_put_u32(&out, PARSE_HTML);
        frame_put_str(&out, "http://h/");
        frame_put_str(&out, "text/html");
        frame_put_u32(&out, BODY_SLOT_NONE);                  /* result slot */
        frame_put_u32(&out, which == 0 ? 3 : BODY_SLOT_NONE); /* slot */
        frame_put_u64(&out, which == 2 ? 4 : 5);              /* length */
        frame_put_bytes(&out, "<p>hi", 5);
        CHECK_INT(frame_end(&out, at), 0);
        struct frame f = {
            .type = FRAME_PARSE,
            .payload = (const unsigned char *)out.data + FRAME_HEADER_BYTES,
            .len = out.len - FRAME_HEADER_BYTES,
        };
        struct parse_job job;
        CHECK_INT(msg_get_parse_job(&f, &job), which == 1 ? 0 : FRAME_EPROTO);
        if (which == 1) {
            CHECK_INT(job.body_len, 5);
            parse_job_release(&job);
        }
    }
    buf_release(&out);
}

/* The last frame of a buffer, read back through a socket pair. */
static void read_back(const struct buf *out, struct chan *b, int sv[2],
                      struct frame *f)
{
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    chan_init(b, sv[1]);
    CHECK_INT(write(sv[0], out->data, out->len), (ssize_t)out->len);
    CHECK(chan_fill(b) > 0);
    CHECK_INT(chan_next(b, f), 1);
}

/* A parse result moved to a slot: the frame left names the slot and the
 * length, and the payload read from the slot decodes as the original. */
TEST(frame_moved_to_a_slot_reads_back_whole)
{
    struct link links[1] = {{.url = "http://a/1", .hash = 7}};
    struct parse_result pr = {.title = "T",
                              .canonical = "",
                              .refresh = "",
                              .text = "some text",
                              .n_links = 1,
                              .links = links};
    struct buf out;
    buf_init(&out, 1 << 20);
    frame_put_u32(&out, 99); /* bytes before the frame stay */
    size_t at = out.len;
    CHECK_INT(msg_put_parse_result(&out, 5, &pr), 0);
    size_t whole = out.len;
    unsigned char slot[4096];
    CHECK_INT(frame_move_to_slot(&out, at, 3, slot, 16), -E2BIG);
    CHECK_INT(out.len, whole); /* too long: left as it was */
    CHECK_INT(frame_move_to_slot(&out, at, 3, slot, sizeof slot), 0);
    CHECK_INT(out.len, at + FRAME_HEADER_BYTES + 12);
    buf_consume(&out, at);
    struct chan b;
    struct frame f;
    int sv[2];
    read_back(&out, &b, sv, &f);
    CHECK_INT(f.type, FRAME_PARSE_RESULT);
    CHECK_INT(f.job, 5);
    CHECK(f.flags & FRAME_IN_SLOT);
    uint32_t got_slot = 0;
    size_t len = 0;
    CHECK_INT(frame_slot(&f, &got_slot, &len), 0);
    CHECK_INT(got_slot, 3);
    CHECK_INT(len, whole - at - FRAME_HEADER_BYTES);
    struct frame view = {.type = f.type, .payload = slot, .len = len};
    struct parse_result got;
    CHECK_INT(msg_get_parse_result(&view, &got), 0);
    CHECK_STR(got.text, "some text");
    CHECK_INT(got.n_links, 1);
    CHECK_STR(got.links[0].url, "http://a/1");
    CHECK_INT(got.links[0].hash, 7);
    parse_result_release(&got);
    /* A frame without the flag, or with a payload that is not a slot and
     * a length, names no slot. */
    f.flags = 0;
    CHECK_INT(frame_slot(&f, &got_slot, &len), FRAME_EPROTO);
    f.flags = FRAME_IN_SLOT;
    f.len = 11;
    CHECK_INT(frame_slot(&f, &got_slot, &len), FRAME_EPROTO);
    chan_release(&b);
    close(sv[0]);
    close(sv[1]);
    buf_release(&out);
}
