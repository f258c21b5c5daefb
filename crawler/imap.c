/*
 * imap: open-addressing hash map, 64-bit keys to pointers (see imap.h).
 * Invariant: len <= cap / 2, and every key sits between its home slot and
 * the first empty slot after it.
 */
#include "crawler/imap.h"

#include <stdlib.h>

#include "crawler/xalloc.h"

static size_t home(const struct imap *m, uint64_t key)
{
    key ^= key >> 31;
    key *= 0x9e3779b97f4a7c15ULL;
    key ^= key >> 29;
    return (size_t)key & (m->cap - 1);
}

void imap_init(struct imap *m)
{
    m->cap = 16;
    m->len = 0;
    m->keys = xcalloc(m->cap, sizeof *m->keys);
    m->vals = xcalloc(m->cap, sizeof *m->vals);
}

void imap_release(struct imap *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->len = 0;
}

static size_t find(const struct imap *m, uint64_t key)
{
    size_t i = home(m, key);
    while (m->vals[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    return i;
}

void *imap_get(const struct imap *m, uint64_t key)
{
    return m->vals[find(m, key)];
}

static void grow(struct imap *m)
{
    struct imap old = *m;
    m->cap *= 2;
    m->len = 0;
    m->keys = xcalloc(m->cap, sizeof *m->keys);
    m->vals = xcalloc(m->cap, sizeof *m->vals);
    for (size_t i = 0; i < old.cap; i++)
        if (old.vals[i])
            imap_put(m, old.keys[i], old.vals[i]);
    free(old.keys);
    free(old.vals);
}

void imap_put(struct imap *m, uint64_t key, void *val)
{
    if ((m->len + 1) * 2 > m->cap)
        grow(m);
    size_t i = find(m, key);
    if (!m->vals[i])
        m->len++;
    m->keys[i] = key;
    m->vals[i] = val;
}

void *imap_del(struct imap *m, uint64_t key)
{
    size_t i = find(m, key);
    void *val = m->vals[i];
    if (!val)
        return NULL;
    m->vals[i] = NULL;
    m->len--;
    /* Backward shift: move later entries of the run into the hole when
     * their home slot does not lie strictly between the hole and them. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & (m->cap - 1);
        if (!m->vals[j])
            break;
        size_t h = home(m, m->keys[j]);
        int between = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (between)
            continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        m->vals[j] = NULL;
        i = j;
    }
    return val;
}

void *imap_next(const struct imap *m, size_t *i, uint64_t *key)
{
    while (*i < m->cap) {
        size_t k = (*i)++;
        if (m->vals[k]) {
            if (key)
                *key = m->keys[k];
            return m->vals[k];
        }
    }
    return NULL;
}
