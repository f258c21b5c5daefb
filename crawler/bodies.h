/*
 * bodies: shared memory in which a fetcher leaves a page's body for the
 * parser, so that the body crosses no socket. The coordinator lends a slot
 * with the FETCH job, the fetcher writes the body there, the coordinator
 * passes the slot on with the PARSE job and takes it back when the job
 * ends. A body longer than a slot, or a job that got no slot (all lent),
 * goes through the sockets as before.
 *
 * One shared mapping, made by the coordinator before it forks any child,
 * so that every child, respawned ones too, sees it at the same address.
 * It is split into one part per fetcher: the coordinator lends part i's
 * slots only to fetcher i, and fetcher i is respawned only after the dead
 * one was reaped, so no process still writes into a slot lent again.
 */
#ifndef CRAWLER_BODIES_H
#define CRAWLER_BODIES_H

#include <stddef.h>
#include <stdint.h>

/* Slots are numbered from 1: a zeroed job or message has none. */
#define BODY_SLOT_NONE 0u

struct bodies {
    unsigned char *base;
    size_t slot_bytes;
    uint32_t n_parts;
    uint32_t n_per_part;
    /* The coordinator's books, one stack of free slots per part (the one
     * freed last is lent first: its pages are mapped already). */
    uint32_t *free_slots; /* part p's stack at p * n_per_part */
    uint32_t *n_free;     /* per part */
};

/* Maps n_parts * n_per_part slots of slot_bytes, all free. Only the pages
 * written become memory. 0, or -errno with b untouched. */
int bodies_init(struct bodies *b, uint32_t n_parts, uint32_t n_per_part,
                size_t slot_bytes);
void bodies_release(struct bodies *b);

/* A free slot of that part, or BODY_SLOT_NONE when all are lent. */
uint32_t bodies_lend(struct bodies *b, uint32_t part);
/* Takes back a slot bodies_lend gave (BODY_SLOT_NONE: nothing). */
void bodies_give_back(struct bodies *b, uint32_t slot);

/* Where a body of len bytes in that slot lies; NULL when b is NULL, the
 * slot does not exist or the length does not fit it (a protocol error). */
unsigned char *bodies_at(const struct bodies *b, uint32_t slot, size_t len);

#endif
