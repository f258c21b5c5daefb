/*
 * frame: the wire format between the coordinator and its children, and the
 * channel that carries it. Nobody else does byte arithmetic on frames.
 *
 * A frame is a fixed 20-byte header followed by a payload of typed fields:
 *
 *   magic u16 | version u8 | type u8 | flags u32 | payload_len u32 | job u64
 *
 * All integers little-endian. Fields: u32, u64, i64 as fixed-width integers;
 * bytes/strings as a u32 length and the bytes. The payload is capped at
 * FRAME_MAX_PAYLOAD; a header with a bad magic, version, unknown type or an
 * over-long length is a protocol error and the channel is closed.
 *
 * Message types (payload layouts are in msg.h):
 *   FETCH          coordinator -> fetcher   fetch one URL
 *   FETCH_RESULT   fetcher -> coordinator   outcome, headers, body
 *   PARSE          coordinator -> parser    a body to extract from
 *   PARSE_RESULT   parser -> coordinator    links, title, text, robots meta
 *
 * Invariants: a chan never holds a partial frame in `out` between calls to
 * frame_begin/frame_end; `in` holds at most one frame's worth of pending bytes
 * beyond whole frames already read.
 */
#ifndef CRAWLER_FRAME_H
#define CRAWLER_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "crawler/buf.h"

#define FRAME_MAGIC 0xC7A1u
#define FRAME_VERSION 1
#define FRAME_HEADER_BYTES 20
#define FRAME_MAX_PAYLOAD (160u * 1024 * 1024)

enum frame_type {
    FRAME_FETCH = 1,
    FRAME_FETCH_RESULT = 2,
    FRAME_PARSE = 3,
    FRAME_PARSE_RESULT = 4,
    FRAME_TYPE_MAX = 4,
};

/* Header flags. FRAME_IN_SLOT: the payload lies in a shared slot
 * (bodies.h); the frame's own payload names it: u32 slot, u64 length. */
#define FRAME_IN_SLOT 0x1u

/* Project error codes (negative, outside the errno range in use). */
#define FRAME_EPROTO (-1001) /* malformed frame or field */

/* A received frame. payload is borrowed from the chan, valid until the next
 * chan_fill or chan_next call on that chan. */
struct frame {
    int type;
    uint32_t flags;
    uint64_t job;
    const unsigned char *payload;
    size_t len;
};

/* --- Writing fields ------------------------------------------------------ */

/* Starts a frame at the end of out; returns the offset to pass to
 * frame_end. */
size_t frame_begin(struct buf *out, int type, uint32_t flags, uint64_t job);
void frame_put_u32(struct buf *out, uint32_t v);
void frame_put_u64(struct buf *out, uint64_t v);
void frame_put_i64(struct buf *out, int64_t v);
void frame_put_bytes(struct buf *out, const void *p, size_t n);
/* s may be NULL, encoded as the empty string. Its NUL goes along, so that
 * a reader may borrow it as a C string (frame_get_cstr). */
void frame_put_str(struct buf *out, const char *s);
/* Seals the frame. -E2BIG if its payload is over the cap: the frame is then
 * removed from out as if never begun. */
int frame_end(struct buf *out, size_t start);

/* Moves the payload of the frame sealed at start in out (the last one)
 * to dst, and leaves in its place a frame of the same type and job with
 * FRAME_IN_SLOT that names slot. 0, or -E2BIG when the payload is over
 * dst_max (out unchanged). */
int frame_move_to_slot(struct buf *out, size_t start, uint32_t slot, void *dst,
                       size_t dst_max);

/* --- Reading fields ------------------------------------------------------ */

/* Errors are sticky: after the first short read every getter returns zero or
 * empty values and frame_reader_error reports FRAME_EPROTO. */
struct frame_reader {
    const unsigned char *p;
    size_t left;
    int err;
};

void frame_reader_init(struct frame_reader *r, const struct frame *f);
uint32_t frame_get_u32(struct frame_reader *r);
uint64_t frame_get_u64(struct frame_reader *r);
int64_t frame_get_i64(struct frame_reader *r);
/* Borrowed pointer into the frame; *n receives the length. */
const void *frame_get_bytes(struct frame_reader *r, size_t *n);
/* A string of frame_put_str, borrowed from the frame ("" after an
 * error). */
const char *frame_get_cstr(struct frame_reader *r);
/* The same, copied; caller frees. */
char *frame_get_str(struct frame_reader *r);
/* 0 if every read so far succeeded, else FRAME_EPROTO. */
int frame_reader_error(const struct frame_reader *r);
/* The slot and payload length a FRAME_IN_SLOT frame names; FRAME_EPROTO
 * when f has no such flag or a malformed payload. */
int frame_slot(const struct frame *f, uint32_t *slot, size_t *len);

/* --- Channel ------------------------------------------------------------- */

struct chan {
    int fd;
    struct buf in;
    size_t in_off; /* start of the first unread frame in `in` */
    struct buf out;
};

void chan_init(struct chan *c, int fd);
/* Frees the buffers; does not close fd. */
void chan_release(struct chan *c);
/* Reads what the socket has (non-blocking fd). Returns bytes read (> 0),
 * -EAGAIN when nothing is available, -EPIPE at end of file, or -errno. */
int chan_fill(struct chan *c);
/* 1 and *f filled when a whole frame is buffered, 0 when more bytes are
 * needed, FRAME_EPROTO on a malformed header. */
int chan_next(struct chan *c, struct frame *f);
/* Writes what it can of `out`. 0 when out is empty, 1 when bytes remain
 * (wait for POLLOUT), or -errno. With block set, waits until all is written
 * or an error occurs. */
int chan_flush(struct chan *c, int block);
/* Bytes queued and not yet written. */
size_t chan_pending(const struct chan *c);
/* Ends the frame begun at start in c->out (frame_begin) with one more
 * field, the n_tail bytes at tail (as frame_put_bytes puts them), and
 * seals it. When nothing waits before the frame, it goes to the socket at
 * once and the bytes from where they lie, not copied into out first. What
 * the socket does not take stays in out, for chan_flush (which also reports
 * a write error). -E2BIG as frame_end. */
int chan_end_frame(struct chan *c, size_t start, const void *tail,
                   size_t n_tail);

#endif
