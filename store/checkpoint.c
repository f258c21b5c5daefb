/*
 * checkpoint: copies the write-ahead log into the database file on a thread
 * of its own, so that a crawl's commits never wait for the disk.
 *
 * SQLite's automatic checkpoint runs inside the commit that crosses its
 * threshold: it copies tens of MB and waits for two fsyncs (0.1-0.3 s
 * here), and the whole crawl stalls with it. Here the commit hook only
 * counts frames; a second connection, used by this thread alone, runs a
 * PASSIVE checkpoint, which never blocks the writer.
 *
 * The log must also start over now and then, or it grows for ever. SQLite
 * restarts it only in a write transaction that began when every frame was
 * already copied. So once the log is longer than restart_frames, the thread
 * copies what is there and asks for a commit at once (store_commit_due).
 * The frames of that commit (the tail) are copied in the commit hook
 * itself, and the next transaction begins with nothing left to copy: its
 * commit writes from the start of the log. The crawl stands still while
 * the hook copies, and for two fsyncs of as many bytes (WAL, database): a
 * tail of 14,500 frames written during a long background copy took
 * 263 ms, and the other processes sat idle for it. So a long tail is
 * copied in the background too, and the commit after that has a short
 * one; at most SHRINK_ROUNDS times, then the hook copies the tail it has.
 * A commit writes ~1,500 frames however short it is (its rows land on
 * random index leaves) with a small frontier, several times more with
 * millions of URLs: a tail bound alone never let the log restart there
 * (it grew to 300 MB, and the crawl ran 15% slower for it).
 *
 * When the crawl's loop ends (store_wind_down), what is left are a few
 * long commits (the in-link index) and the close, which copies the rest
 * anyway. The thread then copies each commit's frames while the crawl
 * thread builds the next, and no commit copies a tail or restarts the log:
 * the close finds only the last commit's frames to copy.
 *
 * The thread touches only its own connection. SQLite runs in its
 * multi-thread mode for it (store_open), and the children forked later
 * never use SQLite, so a lock the thread holds at a fork does not matter.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "crawler/xalloc.h"
#include "store/db.h"

/* 16 MiB of log per background checkpoint. A crawl's one-second commit
 * writes ~40 MB (the pages' texts), so the thread copies after about every
 * commit, and each copy and its fsyncs stay short: a 20,000-page crawl ran
 * 7% faster than with 64 MiB (medians; 9 of 11 interleaved pairs faster),
 * and its end waits for less.
 *
 * The log restarts past 128 MiB; a tail of up to 8 MiB is copied inside
 * the commit. Each restart costs the crawl two or three commits it would
 * not have made (the rounds above, each a pause of 30-40 ms and another
 * ~1,500 frames of index leaves) and the tail copied in the hook (40-70
 * ms), 100-150 ms in all, with the fetches and parses starved meanwhile.
 * Past 32 MiB, a restart followed almost every one-second commit. The log
 * file keeps the size it peaks at until the close empties it, and emptying
 * costs time in proportion (the kernel frees every cached page of it):
 * here a 20,000-page crawl's log peaks at 189 MB instead of 141, and the
 * close takes ~50 ms longer. The crawl as a whole was faster all the same:
 * by 4.1% (+-1.4), 4% (+-2.2) and 7.6% (+-2.8) in three sets of 10-12
 * interleaved pairs, mean ratios of wall times. With 5 million URLs in the
 * frontier, where each commit writes more frames, 13 pairs gave -2% (+-3.5).
 * Past 64 MiB was no better than 32 (+1.7% +-1.3), past 256 MiB no better
 * than 128 (+2.5% +-2.1). All this with 4 KiB pages; the sizes are in
 * bytes, and db_checkpointer_start turns them into frames of the
 * database's own page size. */
#define CHECKPOINT_BYTES (16 << 20)
#define RESTART_BYTES (128 << 20)
#define TAIL_BYTES (8 << 20)
#define SHRINK_ROUNDS 2

struct checkpointer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    sqlite3 *db;      /* the thread's connection */
    int busy;         /* a checkpoint is asked for or running */
    int stopping;     /* store_close: the thread exits */
    int failed;       /* the thread's connection failed: copy inline */
    int commit_after; /* the current round is part of a restart */
    int n_rounds;     /* background copies asked for by this restart */
    int n_tails;      /* tails copied inside commits */
    int longest_tail; /* ... the longest, in frames */
    int winding_down; /* store_wind_down: copy in the background only */
    int done;         /* frames of the log already copied */
    int rounds;       /* checkpoints the thread completed */
    atomic_int commit_due;
    int frames, restart_frames, tail_frames; /* the sizes above, in pages */
};

/* Copies what no reader still needs; *copied: the frames copied so far. */
static int copy_log(sqlite3 *db, const char *name, int *copied)
{
    int n_log = 0;
    return sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
                                     &n_log, copied);
}

static void *run(void *arg)
{
    struct checkpointer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->busy && !c->stopping)
            pthread_cond_wait(&c->wake, &c->mu);
        if (c->stopping)
            break;
        pthread_mutex_unlock(&c->mu);
        int n_copied = 0;
        int rc = copy_log(c->db, NULL, &n_copied);
        pthread_mutex_lock(&c->mu);
        if (rc == SQLITE_OK) {
            c->done = n_copied;
            c->rounds++;
        } else if (rc != SQLITE_BUSY)
            c->failed = 1;
        c->busy = 0;
        if (c->commit_after) {
            c->commit_after = 0;
            atomic_store(&c->commit_due, 1);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void kick(struct checkpointer *c, int commit_after)
{
    c->busy = 1;
    c->commit_after = commit_after;
    pthread_cond_signal(&c->wake);
}

/* A copy of what the log has now, unless one runs or the thread failed. */
static void kick_if_idle(struct checkpointer *c)
{
    if (!c->busy && !c->failed)
        kick(c, 0);
}

/* After each commit of the crawl's connection, with the log's length. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int n_frames)
{
    struct checkpointer *c = arg;
    int copy_here = 0;
    atomic_store(&c->commit_due, 0);
    pthread_mutex_lock(&c->mu);
    if (n_frames < c->done) {
        c->done = 0; /* the log restarted */
        c->n_rounds = 0;
    }
    int tail = n_frames - c->done;
    if (c->winding_down)
        kick_if_idle(c);
    else if (c->failed)
        copy_here = tail >= c->frames;
    else if (!c->busy && n_frames >= c->restart_frames) {
        /* the first round copies the log, the others its tail */
        if (tail <= c->tail_frames || c->n_rounds > SHRINK_ROUNDS)
            copy_here = 1;
        else {
            c->n_rounds++;
            kick(c, 1);
        }
    } else if (!c->busy && tail >= c->frames)
        kick(c, 0);
    pthread_mutex_unlock(&c->mu);
    int n_copied = 0;
    if (copy_here && copy_log(db, name, &n_copied) == SQLITE_OK) {
        pthread_mutex_lock(&c->mu);
        c->done = n_copied;
        c->n_tails++;
        if (tail > c->longest_tail)
            c->longest_tail = tail;
        pthread_mutex_unlock(&c->mu);
    }
    return SQLITE_OK;
}

/* Its connection, its lock and itself; the thread is not running. */
static void checkpointer_free(struct checkpointer *c)
{
    sqlite3_close(c->db);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void db_checkpointer_start(struct store *s, const char *path)
{
    struct checkpointer *c = xcalloc(1, sizeof *c);
    int64_t page = 0;
    if (db_int(s, "PRAGMA page_size;", &page) < 0 || page <= 0)
        page = 4096; /* only sizes the rounds */
    c->frames = (int)(CHECKPOINT_BYTES / page);
    c->restart_frames = (int)(RESTART_BYTES / page);
    c->tail_frames = (int)(TAIL_BYTES / page);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (sqlite3_open_v2(path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        db_gather_vfs()) != SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL;", NULL, NULL, NULL) !=
            SQLITE_OK ||
        pthread_create(&c->thread, NULL, run, c) != 0) {
        /* No thread: SQLite's own checkpoint, inside the commit. */
        int frames = c->frames;
        checkpointer_free(c);
        sqlite3_wal_autocheckpoint(s->db, frames);
        return;
    }
    s->ckpt = c;
    sqlite3_wal_hook(s->db, on_commit, c);
}

void db_checkpointer_stop(struct store *s)
{
    struct checkpointer *c = s->ckpt;
    if (!c)
        return;
    sqlite3_wal_hook(s->db, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    /* Closed first, so that closing the crawl's connection, the last one,
     * copies the rest and removes the log. */
    checkpointer_free(c);
    s->ckpt = NULL;
}

void db_checkpointer_tune(struct store *s, int frames, int restart_frames,
                          int tail_frames)
{
    struct checkpointer *c = s->ckpt;
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->frames = frames;
    c->restart_frames = restart_frames;
    c->tail_frames = tail_frames;
    pthread_mutex_unlock(&c->mu);
}

struct ckpt_counts db_checkpointer_counts(struct store *s)
{
    struct checkpointer *c = s->ckpt;
    struct ckpt_counts k = {.rounds = -1};
    if (!c)
        return k;
    pthread_mutex_lock(&c->mu);
    k = (struct ckpt_counts){c->rounds, c->busy, c->n_tails, c->longest_tail};
    pthread_mutex_unlock(&c->mu);
    return k;
}

void store_wind_down(struct store *s)
{
    struct checkpointer *c = s->ckpt;
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->winding_down = 1;
    kick_if_idle(c);
    pthread_mutex_unlock(&c->mu);
}

int store_commit_due(struct store *s)
{
    return s->ckpt &&
           atomic_load_explicit(&s->ckpt->commit_due, memory_order_relaxed);
}
