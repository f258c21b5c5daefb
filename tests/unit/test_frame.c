/*
 * Unit tests of the frame codec and channel (crawler/frame.c, msg.c):
 * round trips, partial reads, oversized and malformed frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crawler/frame.h"
#include "crawler/msg.h"
#include "tests/unit/check.h"

static void make_pair(int sv[2])
{
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

/* Two channels over a fresh socket pair, and their end. */
static void chans_open(struct chan *a, struct chan *b, int sv[2])
{
    make_pair(sv);
    chan_init(a, sv[0]);
    chan_init(b, sv[1]);
}

static void chans_close(struct chan *a, struct chan *b, int sv[2])
{
    chan_release(a);
    chan_release(b);
    close(sv[0]);
    close(sv[1]);
}

TEST(frame_fetch_job_roundtrip)
{
    int sv[2];
    struct chan a, b;
    chans_open(&a, &b, sv);
    struct fetch_job job = {.kind = FETCH_ROBOTS, .url = "http://h/x"};
    msg_put_fetch_job(&a.out, 42, &job);
    CHECK_INT(chan_flush(&a, 1), 0);
    CHECK(chan_fill(&b) > 0);
    struct frame f;
    CHECK_INT(chan_next(&b, &f), 1);
    CHECK_INT(f.type, FRAME_FETCH);
    CHECK_INT(f.job, 42);
    struct fetch_job got;
    CHECK_INT(msg_get_fetch_job(&f, &got), 0);
    CHECK_INT(got.kind, FETCH_ROBOTS);
    CHECK_STR(got.url, "http://h/x");
    fetch_job_release(&got);
    CHECK_INT(chan_next(&b, &f), 0);
    chans_close(&a, &b, sv);
}

/* Feeds an encoded parse result one byte at a time: no frame appears
 * before its last byte, and the decoded links match. */
TEST(frame_partial_reads)
{
    struct buf out;
    buf_init(&out, 1 << 20);
    struct link links[2] = {
        {.url = "http://a/1", .hash = 7, .kind = LINK_A},
        {.url = "mailto:x", .kind = LINK_A, .error = -1102},
    };
    struct parse_result pr = {.title = "T",
                              .canonical = "",
                              .refresh = "",
                              .text = "hello",
                              .n_links = 2,
                              .links = links};
    CHECK_INT(msg_put_parse_result(&out, 9, &pr), 0);
    int sv[2];
    make_pair(sv);
    struct chan b;
    chan_init(&b, sv[1]);
    struct frame f;
    for (size_t i = 0; i < out.len; i++) {
        CHECK_INT(write(sv[0], out.data + i, 1), 1);
        CHECK(chan_fill(&b) == 1);
        int rc = chan_next(&b, &f);
        CHECK_INT(rc, i + 1 == out.len ? 1 : 0);
    }
    struct parse_result got;
    CHECK_INT(msg_get_parse_result(&f, &got), 0);
    CHECK_STR(got.title, "T");
    CHECK_STR(got.text, "hello");
    CHECK_INT(got.n_links, 2);
    CHECK_STR(got.links[1].url, "mailto:x");
    CHECK_INT(got.links[1].error, -1102);
    CHECK_INT(got.links[0].hash, 7);
    /* borrowed: the strings are the frame's own bytes */
    const char *lo = (const char *)f.payload, *hi = lo + f.len;
    CHECK(got.is_borrowed);
    CHECK(got.text > lo && got.text < hi);
    CHECK(got.links[1].url > lo && got.links[1].url < hi);
    parse_result_release(&got);
    chan_release(&b);
    buf_release(&out);
    close(sv[0]);
    close(sv[1]);
}

static int feed(const unsigned char *bytes, size_t n, struct frame *f,
                struct chan *b, int sv[2])
{
    make_pair(sv);
    chan_init(b, sv[1]);
    CHECK_INT(write(sv[0], bytes, n), (ssize_t)n);
    CHECK(chan_fill(b) > 0);
    return chan_next(b, f);
}

TEST(frame_rejects_bad_magic_version_type_length)
{
    struct buf out;
    buf_init(&out, 1 << 20);
    size_t at = frame_begin(&out, FRAME_FETCH, 0, 1);
    frame_put_u32(&out, 0);
    CHECK_INT(frame_end(&out, at), 0);
    int offsets[] = {0, 2, 3, 11};
    unsigned char bad[] = {0x00, 9, 99, 0xff};
    for (int i = 0; i < 4; i++) {
        unsigned char copy[64];
        memcpy(copy, out.data, out.len);
        copy[offsets[i]] = bad[i];
        struct chan b;
        struct frame f;
        int sv[2];
        CHECK_INT(feed(copy, out.len, &f, &b, sv), FRAME_EPROTO);
        chan_release(&b);
        close(sv[0]);
        close(sv[1]);
    }
    buf_release(&out);
}

TEST(frame_truncated_fields_are_errors)
{
    struct buf out;
    buf_init(&out, 1 << 20);
    /* A FETCH frame whose string claims more bytes than the payload. */
    size_t at = frame_begin(&out, FRAME_FETCH, 0, 1);
    frame_put_u32(&out, 0);
    frame_put_u32(&out, 1000);
    frame_put_u32(&out, 0);
    CHECK_INT(frame_end(&out, at), 0);
    struct chan b;
    struct frame f;
    int sv[2];
    CHECK_INT(feed((unsigned char *)out.data, out.len, &f, &b, sv), 1);
    struct fetch_job job;
    CHECK_INT(msg_get_fetch_job(&f, &job), FRAME_EPROTO);
    /* A parse result whose link count the payload cannot hold. */
    buf_reset(&out);
    at = frame_begin(&out, FRAME_PARSE_RESULT, 0, 1);
    frame_put_u32(&out, 0);
    frame_put_u32(&out, 0);
    for (int i = 0; i < 4; i++)
        frame_put_str(&out, "");
    frame_put_u64(&out, 0);
    frame_put_u32(&out, 4000000000u);
    CHECK_INT(frame_end(&out, at), 0);
    chan_release(&b);
    close(sv[0]);
    close(sv[1]);
    CHECK_INT(feed((unsigned char *)out.data, out.len, &f, &b, sv), 1);
    struct parse_result pr;
    CHECK_INT(msg_get_parse_result(&f, &pr), FRAME_EPROTO);
    chan_release(&b);
    close(sv[0]);
    close(sv[1]);
    buf_release(&out);
}

/* A string is its length, its bytes and a NUL: without the NUL, the frame
 * is malformed, not a string read past its end. */
TEST(frame_string_without_its_nul_is_an_error)
{
    struct buf out;
    buf_init(&out, 1 << 20);
    size_t at = frame_begin(&out, FRAME_FETCH, 0, 1);
    frame_put_u32(&out, FETCH_PAGE);
    frame_put_bytes(&out, "http://h/", 9);
    frame_put_u32(&out, 0x41414141u);
    CHECK_INT(frame_end(&out, at), 0);
    struct chan b;
    struct frame f;
    int sv[2];
    CHECK_INT(feed((unsigned char *)out.data, out.len, &f, &b, sv), 1);
    struct frame_reader r;
    frame_reader_init(&r, &f);
    frame_get_u32(&r);
    CHECK_STR(frame_get_cstr(&r), "");
    CHECK_INT(frame_reader_error(&r), FRAME_EPROTO);
    chan_release(&b);
    close(sv[0]);
    close(sv[1]);
    buf_release(&out);
}

/* Two parse jobs, the first too big for the socket's buffer: its body goes
 * out partly from where it lies and the rest from out, the second waits
 * behind it, and both arrive whole and in order. */
TEST(frame_parse_job_body_sent_in_place)
{
    int sv[2];
    struct chan a, b;
    chans_open(&a, &b, sv);
    size_t big = 4 << 20;
    char *body = malloc(big);
    for (size_t i = 0; i < big; i++)
        body[i] = (char)('a' + i % 26);
    struct parse_job j1 = {.kind = PARSE_HTML,
                           .url = "http://h/1",
                           .content_type = "text/html",
                           .body = body,
                           .body_len = big};
    struct parse_job j2 = {.kind = PARSE_HTML,
                           .url = "http://h/2",
                           .content_type = "",
                           .body = "<p>2",
                           .body_len = 4};
    CHECK_INT(msg_send_parse_job(&a, 1, &j1), 0);
    CHECK(chan_pending(&a) > 0); /* the socket took only part of it */
    CHECK(chan_pending(&a) < big);
    CHECK_INT(msg_send_parse_job(&a, 2, &j2), 0);
    struct frame f;
    int got = 0;
    for (int round = 0; round < 100000 && got < 2; round++) {
        CHECK(chan_flush(&a, 0) >= 0);
        int rc = chan_fill(&b);
        CHECK(rc > 0 || rc == -EAGAIN);
        while (got < 2 && chan_next(&b, &f) == 1) {
            struct parse_job m;
            CHECK_INT(msg_get_parse_job(&f, &m), 0);
            CHECK_INT(f.job, (uint64_t)got + 1);
            const struct parse_job *want = got == 0 ? &j1 : &j2;
            CHECK_STR(m.url, want->url);
            CHECK_INT(m.body_len, want->body_len);
            CHECK(memcmp(m.body, want->body, want->body_len) == 0);
            parse_job_release(&m);
            got++;
        }
    }
    CHECK_INT(got, 2);
    CHECK_INT(chan_pending(&a), 0);
    free(body);
    chans_close(&a, &b, sv);
}

TEST(frame_oversized_payload_refused)
{
    struct buf out;
    buf_init(&out, (size_t)1 << 31);
    size_t at = frame_begin(&out, FRAME_PARSE, 0, 1);
    char *big = calloc(1, FRAME_MAX_PAYLOAD);
    frame_put_bytes(&out, big, FRAME_MAX_PAYLOAD);
    CHECK_INT(frame_end(&out, at), -E2BIG);
    CHECK_INT(out.len, 0);
    free(big);
    buf_release(&out);
}

TEST(frame_eof_reported)
{
    int sv[2];
    make_pair(sv);
    struct chan b;
    chan_init(&b, sv[1]);
    CHECK_INT(chan_fill(&b), -EAGAIN);
    close(sv[0]);
    CHECK_INT(chan_fill(&b), -EPIPE);
    chan_release(&b);
    close(sv[1]);
}
