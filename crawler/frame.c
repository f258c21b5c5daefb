/*
 * frame: encoding, decoding and buffered transport of frames (see frame.h).
 * Runs in every process. Owns nothing but the chan buffers.
 */
#include "crawler/frame.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crawler/xalloc.h"

/* The out buffer's cap is not a protocol limit (frame_end enforces that);
 * it only keeps a runaway producer from growing memory without bound. */
#define CHAN_OUT_MAX ((size_t)1 << 31)
#define CHAN_IN_MAX (FRAME_HEADER_BYTES + (size_t)FRAME_MAX_PAYLOAD)
#define CHAN_READ_CHUNK (256 * 1024)

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The fields of the header at h; the payload follows it. Not checked. */
static void header_get(const unsigned char *h, struct frame *f)
{
    f->type = h[3];
    f->flags = (uint32_t)get_le(h + 4, 4);
    f->len = (size_t)get_le(h + 8, 4);
    f->job = get_le(h + 12, 8);
    f->payload = h + FRAME_HEADER_BYTES;
}

static void put_int(struct buf *out, uint64_t v, int n)
{
    unsigned char tmp[8];
    put_le(tmp, v, n);
    if (buf_append(out, tmp, (size_t)n) < 0)
        abort(); /* CHAN_OUT_MAX exceeded: a producer ignored its credits */
}

size_t frame_begin(struct buf *out, int type, uint32_t flags, uint64_t job)
{
    size_t start = out->len;
    put_int(out, FRAME_MAGIC, 2);
    put_int(out, FRAME_VERSION, 1);
    put_int(out, (uint64_t)type, 1);
    put_int(out, flags, 4);
    put_int(out, 0, 4); /* payload length, patched by frame_end */
    put_int(out, job, 8);
    return start;
}

void frame_put_u32(struct buf *out, uint32_t v)
{
    put_int(out, v, 4);
}

void frame_put_u64(struct buf *out, uint64_t v)
{
    put_int(out, v, 8);
}

void frame_put_i64(struct buf *out, int64_t v)
{
    put_int(out, (uint64_t)v, 8);
}

void frame_put_bytes(struct buf *out, const void *p, size_t n)
{
    if (n > FRAME_MAX_PAYLOAD)
        n = FRAME_MAX_PAYLOAD + 1; /* makes frame_end fail; never truncate */
    put_int(out, n, 4);
    if (n > FRAME_MAX_PAYLOAD)
        return;
    if (buf_append(out, p, n) < 0)
        abort();
}

void frame_put_str(struct buf *out, const char *s)
{
    frame_put_bytes(out, s ? s : "", s ? strlen(s) : 0);
    put_int(out, 0, 1);
}

int frame_move_to_slot(struct buf *out, size_t start, uint32_t slot, void *dst,
                       size_t dst_max)
{
    struct frame f;
    header_get((const unsigned char *)out->data + start, &f);
    if (f.len > dst_max)
        return -E2BIG;
    memcpy(dst, f.payload, f.len);
    out->len = start;
    size_t at = frame_begin(out, f.type, FRAME_IN_SLOT, f.job);
    frame_put_u32(out, slot);
    frame_put_u64(out, f.len);
    return frame_end(out, at);
}

/* Seals the frame begun at start, whose payload has n_after more bytes
 * than out holds yet. */
static int seal(struct buf *out, size_t start, size_t n_after)
{
    size_t payload = out->len - start - FRAME_HEADER_BYTES;
    if (n_after > FRAME_MAX_PAYLOAD || payload > FRAME_MAX_PAYLOAD - n_after) {
        out->len = start;
        return -E2BIG;
    }
    put_le((unsigned char *)out->data + start + 8, payload + n_after, 4);
    return 0;
}

int frame_end(struct buf *out, size_t start)
{
    return seal(out, start, 0);
}

int chan_end_frame(struct chan *c, size_t start, const void *tail,
                   size_t n_tail)
{
    struct buf *out = &c->out;
    put_int(out, n_tail, 4); /* the field's length, as frame_put_bytes */
    if (seal(out, start, n_tail) < 0)
        return -E2BIG;
    size_t sent = 0;
    if (start == 0) { /* nothing waits before it */
        struct iovec iov[2] = {{out->data, out->len}, {(void *)tail, n_tail}};
        ssize_t n;
        do
            n = writev(c->fd, iov, 2);
        while (n < 0 && errno == EINTR);
        /* An error is left for chan_flush to see and report. */
        sent = n > 0 ? (size_t)n : 0;
    }
    size_t head = sent < out->len ? sent : out->len;
    buf_consume(out, head);
    sent -= head;
    if (buf_append(out, (const char *)tail + sent, n_tail - sent) < 0)
        abort(); /* CHAN_OUT_MAX exceeded: a producer ignored its credits */
    return 0;
}

void frame_reader_init(struct frame_reader *r, const struct frame *f)
{
    r->p = f->payload;
    r->left = f->len;
    r->err = 0;
}

static const unsigned char *take(struct frame_reader *r, size_t n)
{
    if (r->err || n > r->left) {
        r->err = FRAME_EPROTO;
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

uint32_t frame_get_u32(struct frame_reader *r)
{
    const unsigned char *p = take(r, 4);
    return p ? (uint32_t)get_le(p, 4) : 0;
}

uint64_t frame_get_u64(struct frame_reader *r)
{
    const unsigned char *p = take(r, 8);
    return p ? get_le(p, 8) : 0;
}

int64_t frame_get_i64(struct frame_reader *r)
{
    return (int64_t)frame_get_u64(r);
}

const void *frame_get_bytes(struct frame_reader *r, size_t *n)
{
    size_t len = frame_get_u32(r);
    const unsigned char *p = take(r, len);
    *n = p ? len : 0;
    return p ? p : (const unsigned char *)"";
}

const char *frame_get_cstr(struct frame_reader *r)
{
    size_t n;
    const char *p = frame_get_bytes(r, &n);
    const unsigned char *nul = take(r, 1);
    if (nul && *nul != 0)
        r->err = FRAME_EPROTO;
    return r->err ? "" : p;
}

char *frame_get_str(struct frame_reader *r)
{
    return xstrdup(frame_get_cstr(r));
}

int frame_reader_error(const struct frame_reader *r)
{
    return r->err;
}

int frame_slot(const struct frame *f, uint32_t *slot, size_t *len)
{
    if (!(f->flags & FRAME_IN_SLOT))
        return FRAME_EPROTO;
    struct frame_reader r;
    frame_reader_init(&r, f);
    uint32_t s = frame_get_u32(&r);
    uint64_t n = frame_get_u64(&r);
    if (frame_reader_error(&r) || r.left != 0 || n > FRAME_MAX_PAYLOAD)
        return FRAME_EPROTO;
    *slot = s;
    *len = (size_t)n;
    return 0;
}

void chan_init(struct chan *c, int fd)
{
    c->fd = fd;
    buf_init(&c->in, CHAN_IN_MAX);
    c->in_off = 0;
    buf_init(&c->out, CHAN_OUT_MAX);
}

void chan_release(struct chan *c)
{
    buf_release(&c->in);
    buf_release(&c->out);
    c->in_off = 0;
}

int chan_fill(struct chan *c)
{
    /* Drop frames already handed out before reading more. */
    if (c->in_off) {
        buf_consume(&c->in, c->in_off);
        c->in_off = 0;
    }
    size_t room = c->in.max - c->in.len;
    if (room == 0)
        return -EAGAIN; /* a whole maximal frame is buffered: read it first */
    if (room > CHAN_READ_CHUNK)
        room = CHAN_READ_CHUNK;
    /* Grow in place: reserve by appending, then trim to what was read. */
    size_t old = c->in.len;
    if (c->in.alloc < old + room + 1) {
        size_t n = c->in.alloc ? c->in.alloc : 4096;
        while (n < old + room + 1)
            n *= 2;
        c->in.data = xrealloc(c->in.data, n);
        c->in.alloc = n;
    }
    ssize_t got;
    do {
        got = read(c->fd, c->in.data + old, room);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    if (got == 0)
        return -EPIPE;
    c->in.len = old + (size_t)got;
    c->in.data[c->in.len] = '\0';
    return (int)got;
}

int chan_next(struct chan *c, struct frame *f)
{
    size_t avail = c->in.len - c->in_off;
    if (avail < FRAME_HEADER_BYTES)
        return 0;
    const unsigned char *h = (const unsigned char *)c->in.data + c->in_off;
    struct frame got;
    header_get(h, &got);
    if (get_le(h, 2) != FRAME_MAGIC || h[2] != FRAME_VERSION || got.type < 1 ||
        got.type > FRAME_TYPE_MAX || got.len > FRAME_MAX_PAYLOAD)
        return FRAME_EPROTO;
    if (avail < FRAME_HEADER_BYTES + got.len)
        return 0;
    *f = got;
    c->in_off += FRAME_HEADER_BYTES + got.len;
    return 1;
}

size_t chan_pending(const struct chan *c)
{
    return c->out.len;
}

int chan_flush(struct chan *c, int block)
{
    size_t done = 0;
    int rc = 0;
    while (done < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + done, c->out.len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!block) {
                rc = 1;
                break;
            }
            struct pollfd p = {.fd = c->fd, .events = POLLOUT};
            poll(&p, 1, -1);
            continue;
        }
        rc = n < 0 ? -errno : -EPIPE;
        break;
    }
    buf_consume(&c->out, done);
    return rc;
}
