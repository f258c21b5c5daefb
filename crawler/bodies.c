/*
 * bodies: page bodies in shared memory (see bodies.h). The mapping is
 * inherited by every child; the books are kept in the coordinator only.
 */
#include "crawler/bodies.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "crawler/xalloc.h"

int bodies_init(struct bodies *b, uint32_t n_parts, uint32_t n_per_part,
                size_t slot_bytes)
{
    size_t n_slots = (size_t)n_parts * n_per_part;
    /* Reserved, not committed: a slot costs memory only for the pages the
     * bodies it held have touched. */
    void *p = mmap(NULL, n_slots * slot_bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    b->base = p;
    b->slot_bytes = slot_bytes;
    b->n_parts = n_parts;
    b->n_per_part = n_per_part;
    b->free_slots = xcalloc(n_slots ? n_slots : 1, sizeof *b->free_slots);
    b->n_free = xcalloc(n_parts ? n_parts : 1, sizeof *b->n_free);
    for (uint32_t part = 0; part < n_parts; part++) {
        uint32_t *stack = b->free_slots + (size_t)part * n_per_part;
        /* The part's first slot on top: lent first. */
        for (uint32_t k = 0; k < n_per_part; k++)
            stack[k] = part * n_per_part + (n_per_part - k);
        b->n_free[part] = n_per_part;
    }
    return 0;
}

void bodies_release(struct bodies *b)
{
    if (b->base)
        munmap(b->base, (size_t)b->n_parts * b->n_per_part * b->slot_bytes);
    free(b->free_slots);
    free(b->n_free);
    b->base = NULL;
    b->free_slots = NULL;
    b->n_free = NULL;
}

uint32_t bodies_lend(struct bodies *b, uint32_t part)
{
    if (part >= b->n_parts || b->n_free[part] == 0)
        return BODY_SLOT_NONE;
    return b->free_slots[(size_t)part * b->n_per_part + --b->n_free[part]];
}

void bodies_give_back(struct bodies *b, uint32_t slot)
{
    if (slot == BODY_SLOT_NONE)
        return;
    uint32_t part = (slot - 1) / b->n_per_part;
    b->free_slots[(size_t)part * b->n_per_part + b->n_free[part]++] = slot;
}

unsigned char *bodies_at(const struct bodies *b, uint32_t slot, size_t len)
{
    if (!b || !b->base || slot == BODY_SLOT_NONE ||
        slot > b->n_parts * b->n_per_part || len > b->slot_bytes)
        return NULL;
    return b->base + (size_t)(slot - 1) * b->slot_bytes;
}
