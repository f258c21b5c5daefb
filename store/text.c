/*
 * text: the pages' titles and visible text (table texts) and the full-text
 * index over them (page_text, FTS5 with texts as its external content).
 *
 * A crawl stores each page's text at once but indexes it only when it has
 * nothing else to do: tokenizing and indexing ~18 KB of text costs about
 * as much CPU as parsing the page, and the index can be built
 * from texts at any time. store_text_index catches up from where the index
 * left off: the coordinator calls it when idle and at the end of a crawl
 * with a small backlog, the query commands before a search. Pages enter texts
 * in page id order, so one number says what the index covers: the meta
 * key text_indexed_to, the last page id indexed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/db.h"

#define MARK_KEY "text_indexed_to"

int store_text_add(struct store *s, int64_t page_id, const char *title,
                   const char *text)
{
    sqlite3_stmt *st = db_stmt(s, ST_TEXT_ADD);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, page_id);
    db_bind_text(st, 2, title);
    db_bind_text(st, 3, text);
    return db_done(s, st);
}

/* The last page id the index covers (0: none). */
static int mark_get(struct store *s, int64_t *mark)
{
    char *v = NULL;
    if (store_meta_get(s, MARK_KEY, &v) < 0)
        return STORE_EFAIL;
    *mark = v ? strtoll(v, NULL, 10) : 0;
    free(v);
    return 0;
}

int store_text_pending(struct store *s, int64_t cap, int64_t *n)
{
    /* A version 1 database, read-only, has its text in page_text, all of
     * it indexed; the next crawl moves it to texts. */
    int has = db_has_table(s, "texts");
    if (has <= 0) {
        if (has == 0)
            *n = 0;
        return has;
    }
    int64_t mark;
    if (mark_get(s, &mark) < 0)
        return STORE_EFAIL;
    sqlite3_stmt *st = db_stmt(s, ST_TEXT_PENDING);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, mark);
    sqlite3_bind_int64(st, 2, cap); /* a negative LIMIT is none */
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return db_fail(s);
    }
    *n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

int store_text_index(struct store *s, int max_pages)
{
    int64_t mark;
    if (mark_get(s, &mark) < 0)
        return STORE_EFAIL;
    sqlite3_stmt *next = db_stmt(s, ST_TEXT_NEXT);
    if (!next)
        return STORE_EFAIL;
    sqlite3_bind_int64(next, 1, mark);
    sqlite3_bind_int(next, 2, max_pages);
    int n = 0, rc;
    while ((rc = sqlite3_step(next)) == SQLITE_ROW) {
        sqlite3_stmt *add = db_stmt(s, ST_TEXT_INDEX);
        if (!add)
            break;
        mark = sqlite3_column_int64(next, 0);
        sqlite3_bind_int64(add, 1, mark);
        sqlite3_bind_value(add, 2, sqlite3_column_value(next, 1));
        sqlite3_bind_value(add, 3, sqlite3_column_value(next, 2));
        if (db_done(s, add) < 0)
            break;
        n++;
    }
    if (rc != SQLITE_DONE) {
        if (rc != SQLITE_ROW)
            db_fail(s);
        sqlite3_reset(next);
        return STORE_EFAIL;
    }
    sqlite3_reset(next);
    if (n == 0)
        return 0;
    char v[24];
    snprintf(v, sizeof v, "%" PRId64, mark);
    if (store_meta_set(s, MARK_KEY, v) < 0)
        return STORE_EFAIL;
    return n;
}
