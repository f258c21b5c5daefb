/*
 * results: pages and links. Runs in the coordinator, inside the batched
 * transaction the caller holds.
 */
#include "store/db.h"

int store_page_add(struct store *s, int64_t url_id,
                   const struct fetch_result *fr, const struct parse_result *pr,
                   int64_t duplicate_of, int64_t *page_id)
{
    sqlite3_stmt *st = db_stmt(s, ST_PAGE_ADD);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, url_id);
    sqlite3_bind_int(st, 2, fr->status);
    db_bind_text(st, 3, fr->error);
    sqlite3_bind_int(st, 4, fr->curl_code);
    db_bind_text(st, 5, fr->final_url);
    db_bind_text(st, 6, fr->content_type);
    db_bind_text(st, 7, fr->location);
    sqlite3_bind_int64(st, 8, fr->n_bytes);
    sqlite3_bind_int(st, 9, fr->truncated != 0);
    if (fr->status > 0)
        sqlite3_bind_int64(st, 10, fr->body_hash);
    if (pr) {
        db_bind_text(st, 11, pr->title);
        db_bind_text(st, 12, pr->canonical);
        sqlite3_bind_int(st, 13, (pr->meta_robots & META_NOINDEX) != 0);
        sqlite3_bind_int(st, 14, (pr->meta_robots & META_NOFOLLOW) != 0);
        sqlite3_bind_int64(st, 15, (int64_t)pr->n_links);
    } else {
        sqlite3_bind_int(st, 13, 0);
        sqlite3_bind_int(st, 14, 0);
        sqlite3_bind_int(st, 15, 0);
    }
    db_bind_text(st, 16, fr->etag);
    db_bind_text(st, 17, fr->last_modified);
    db_bind_text(st, 18, fr->remote_ip);
    if (fr->status > 0) {
        sqlite3_bind_double(st, 19, (double)fr->connect_us / 1000.0);
        sqlite3_bind_double(st, 20, (double)fr->ttfb_us / 1000.0);
    }
    sqlite3_bind_double(st, 21, (double)fr->total_us / 1000.0);
    if (duplicate_of)
        sqlite3_bind_int64(st, 22, duplicate_of);
    db_bind_now(s, st, 23);
    if (db_done(s, st) < 0)
        return STORE_EFAIL;
    if (page_id)
        *page_id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_page_by_body(struct store *s, int64_t body_hash, int64_t url_id,
                       int64_t *other)
{
    sqlite3_stmt *st = db_stmt(s, ST_PAGE_BY_BODY);
    if (!st)
        return STORE_EFAIL;
    sqlite3_bind_int64(st, 1, body_hash);
    sqlite3_bind_int64(st, 2, url_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *other = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : db_fail(s);
}

int store_links_add(struct store *s, int64_t from_url_id,
                    const struct link *links, size_t n)
{
    /* One statement per LINKS_PER_INSERT edges: a statement's own cost
     * (step, cursors, halt) was 40% of an edge's. */
    for (size_t i = 0; i < n; i += LINKS_PER_INSERT) {
        sqlite3_stmt *st = db_stmt(s, ST_LINKS_ADD);
        if (!st)
            return STORE_EFAIL;
        sqlite3_bind_int64(st, 1, from_url_id);
        for (size_t k = 0; k < LINKS_PER_INSERT && i + k < n; k++) {
            const struct link *l = &links[i + k];
            int p = 2 + 3 * (int)k;
            sqlite3_bind_int64(st, p, l->hash);
            sqlite3_bind_int(st, p + 1, (int)l->kind);
            sqlite3_bind_int(st, p + 2, (l->flags & LINK_NOFOLLOW) != 0);
        }
        int rc = db_done(s, st);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int store_link_add(struct store *s, int64_t from_url_id, int64_t to_hash,
                   unsigned kind, unsigned flags)
{
    struct link l = {.hash = to_hash, .kind = kind, .flags = flags};
    return store_links_add(s, from_url_id, &l, 1);
}

int store_inlinks_drop(struct store *s)
{
    return db_exec(s, "DROP INDEX IF EXISTS links_to;");
}

int store_inlinks_build(struct store *s)
{
    return db_exec_sort(
        s, "CREATE INDEX IF NOT EXISTS links_to ON links(to_hash);");
}

int store_inlinks_missing(struct store *s)
{
    int has = db_has_table(s, "links_to");
    return has < 0 ? has : !has;
}
