/*
 * gather: the VFS of the crawl's writing connection: the platform's own,
 * except that the frames a commit appends to the write-ahead log are
 * gathered into writes of up to GATHER_BYTES (15 frames of 8 KiB pages).
 *
 * SQLite writes each log frame with two calls, its 24-byte header and its
 * page, so a commit of 10,000 frames made 20,000 system calls, and on a
 * virtual machine each costs microseconds: the crawl's loop stood still
 * for 0.1-0.3 s at every commit. Here consecutive appends wait in a buffer
 * and go to the file in one write.
 *
 * Nothing waits past the commit: SQLite publishes a transaction in the
 * shared wal-index only after writing its commit frame (the one whose
 * header holds the database size), and the write of that frame's page
 * sends the buffer to the file inside the same xWrite call, so an error
 * (a full disk) reaches SQLite there, as it would without us. Every other
 * call that looks at the file (read, sync, truncate, size, file control)
 * sends the buffer first, and so does the database's shared-memory
 * barrier. A write that does not follow the one before it (a rewrite of a
 * page or header in place, the log's own header at a restart) goes
 * straight through, after the buffer.
 *
 * A write that fails keeps the buffer when its frames may belong to a
 * transaction that goes on (an error that reaches SQLite through a read
 * may undo only the failed statement), and the next flush tries them
 * again, at the latest the commit's. A failed commit is over (SQLite rolls
 * the whole transaction back, and reads the log while it does): its bytes
 * are dropped at once. So are bytes still unwritten when the database's
 * shared-memory locks change, or when the log closes: SQLite takes and
 * drops those locks only around transactions, and a committed one left
 * nothing. Dropped, not written late: complete, a failed commit's frames
 * would look committed to the recovery after a crash. A crash loses only
 * the frames of a transaction not yet committed, as a crash inside
 * SQLite's commit would.
 *
 * Only a database with power-safe overwrite (the unix VFS's default) gets
 * a gathered log: without it SQLite pads a commit to a sector and writes
 * a tail that follows no header, which the commit page rule would miss.
 *
 * A checkpoint (the checkpoint thread's connection uses this VFS too, and
 * the crawl's copies a restart tail) reads each frame's page from the log
 * and writes it into the database, one call each: 155,000 calls for a
 * 20,000-page crawl. Here the pages it writes to consecutive places of a
 * database that has a gathered log wait in that database's buffer, and a
 * read of the log that follows the one before it (the page of the next
 * frame) reads GATHER_BYTES ahead. The buffer goes to the file before any
 * other call on the database; SQLite syncs the database before it
 * publishes a checkpoint (our connections run synchronous=NORMAL), so no
 * reader is told of pages that are not in the file, and a write that
 * fails fails that sync and with it the checkpoint, whose frames stay in
 * the log to be copied again. What is read ahead stays valid while the
 * reading connection holds its locks: frames it may read are not
 * rewritten before it releases them. It is forgotten at any change of the
 * database's shared-memory locks and at any write, truncation or close of
 * the log.
 *
 * Invariants: only a log file, or a database whose log is gathered, has a
 * write buffer; the buffer holds bytes for one contiguous range (for a
 * log, one that ends where the next append will start); only a log has a
 * read-ahead buffer; each file is used by the thread of its connection
 * only (the registry of open databases, through which a log finds its
 * database, has a lock).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/xalloc.h"
#include "store/db.h"

#define GATHER_VFS "crawler-gather"
/* The unix VFS writes at most 128 KiB - 1 bytes in one call. */
#define GATHER_BYTES (124 * 1024)
#define LOG_FRAME_HEADER_BYTES 24 /* the WAL file format's frame header */

struct gather_file {
    sqlite3_file base;             /* pMethods: &gather_methods */
    sqlite3_file *real;            /* the platform VFS's file, after us */
    const char *name;              /* a database: as SQLite passed it */
    struct gather_file *log;       /* a database: its log, while open */
    struct gather_file *db;        /* a log: its database */
    struct gather_file *next_db;   /* the registry of open databases */
    unsigned char *buf;            /* bytes not yet written */
    size_t len;                    /* ... how many */
    sqlite3_int64 off;             /* ... for this offset of the file */
    sqlite3_int64 next_off;        /* a log: just past the last byte taken */
    sqlite3_int64 commit_page_off; /* a log: the commit frame's page, or -1 */
    unsigned char *ahead;          /* a log: bytes read ahead */
    size_t ahead_len;              /* ... how many (0: none) */
    sqlite3_int64 ahead_off;       /* ... from this offset */
    sqlite3_int64 read_end;        /* just past the last byte read */
    int dropped_rc; /* a database: pages dropped since the last sync */
};

static sqlite3_vfs gather_vfs;
static sqlite3_vfs *platform_vfs;
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gather_file *open_dbs;

/* Sends the buffer to the file. On failure a log keeps it for the next
 * try; a database drops it: the checkpoint that wrote it fails with the
 * error, and its frames are copied again (written late, the pages could
 * land after a later checkpoint's newer ones). */
static int flush(struct gather_file *f)
{
    if (f->len == 0)
        return SQLITE_OK;
    int rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
    if (rc != SQLITE_OK && !f->db)
        f->dropped_rc = rc; /* the next sync fails, whoever saw this */
    if (rc == SQLITE_OK || !f->db)
        f->len = 0;
    return rc;
}

/* For the barrier before SQLite publishes a commit: its frames must be in
 * the file, and the barrier cannot fail. The commit frame's page write has
 * sent them already, so this never finds bytes to write; if it ever did
 * and could not, a crash is the safe way out (recovery ignores frames
 * that are not all there). */
static void flush_or_abort(struct gather_file *f)
{
    if (f && flush(f) != SQLITE_OK)
        abort();
}

/* What a log read ahead is forgotten (see the top). */
static void forget_ahead(struct gather_file *f)
{
    if (f) {
        f->ahead_len = 0;
        f->read_end = -1;
    }
}

/* The log's transaction is over, or others may rewrite its frames (see
 * the top): what it has not written is not needed, and what it read ahead
 * may be stale. */
static void forget_log(struct gather_file *f)
{
    forget_ahead(f);
    if (f && f->len) {
        f->len = 0;
        f->next_off = -1;
    }
}

/* Appends to the buffer, which has room. */
static void take(struct gather_file *f, const void *data, int amt,
                 sqlite3_int64 off)
{
    if (!f->buf)
        f->buf = xmalloc(GATHER_BYTES);
    if (f->len == 0)
        f->off = off;
    memcpy(f->buf + f->len, data, (size_t)amt);
    f->len += (size_t)amt;
}

/* A page of a checkpoint: kept while the pages follow each other. */
static int gather_db_write(struct gather_file *f, const void *data, int amt,
                           sqlite3_int64 off)
{
    int rc = SQLITE_OK;
    if (f->len > 0 && (off != f->off + (sqlite3_int64)f->len ||
                       f->len + (size_t)amt > GATHER_BYTES))
        rc = flush(f);
    if (rc != SQLITE_OK)
        return rc; /* the checkpoint fails: see the top */
    if ((size_t)amt > GATHER_BYTES)
        return f->real->pMethods->xWrite(f->real, data, amt, off);
    take(f, data, amt, off);
    return SQLITE_OK;
}

/* Serves a read of a log from, or into, what was read ahead: the bytes
 * from off on when this read follows the one before it. 1 when served. */
static int read_ahead(struct gather_file *f, void *data, int amt,
                      sqlite3_int64 off)
{
    sqlite3_int64 end = off + amt;
    int is_next = f->read_end >= 0 && off >= f->read_end &&
                  off - f->read_end <= LOG_FRAME_HEADER_BYTES;
    f->read_end = end;
    if (f->ahead_len == 0 || off < f->ahead_off ||
        end > f->ahead_off + (sqlite3_int64)f->ahead_len) {
        if (!is_next || (size_t)amt > GATHER_BYTES)
            return 0;
        sqlite3_int64 size = 0;
        f->ahead_len = 0;
        if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK ||
            size < end)
            return 0;
        size_t n =
            size - off < GATHER_BYTES ? (size_t)(size - off) : GATHER_BYTES;
        if (!f->ahead)
            f->ahead = xmalloc(GATHER_BYTES);
        if (f->real->pMethods->xRead(f->real, f->ahead, (int)n, off) !=
            SQLITE_OK)
            return 0;
        f->ahead_off = off;
        f->ahead_len = n;
    }
    memcpy(data, f->ahead + (off - f->ahead_off), (size_t)amt);
    return 1;
}

static uint32_t big_endian_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static int gather_write(sqlite3_file *file, const void *data, int amt,
                        sqlite3_int64 off)
{
    struct gather_file *f = (struct gather_file *)file;
    if (!f->db) { /* a database, or a file that is neither */
        if (f->log)
            return gather_db_write(f, data, amt, off);
        int rc = flush(f); /* pages gathered before its log closed */
        if (rc != SQLITE_OK)
            return rc;
        return f->real->pMethods->xWrite(f->real, data, amt, off);
    }
    forget_ahead(f);
    /* The page of a commit frame follows its header: the transaction's
     * last frame, sent with everything before it. */
    int is_commit_page = off == f->commit_page_off;
    f->commit_page_off = -1;
    int is_next = off == f->next_off;
    int rc = SQLITE_OK;
    if (!is_next || f->len + (size_t)amt > GATHER_BYTES)
        rc = flush(f);
    if (rc == SQLITE_OK && is_next && (size_t)amt <= GATHER_BYTES)
        take(f, data, amt, off);
    else if (rc == SQLITE_OK)
        rc = f->real->pMethods->xWrite(f->real, data, amt, off);
    if (rc == SQLITE_OK) {
        f->next_off = off + amt;
        if (amt == LOG_FRAME_HEADER_BYTES &&
            big_endian_u32((const unsigned char *)data + 4) != 0)
            f->commit_page_off = off + amt;
        if (is_commit_page)
            rc = flush(f);
    }
    if (rc != SQLITE_OK && is_commit_page)
        forget_log(f); /* the commit failed: see the top */
    return rc;
}

static int gather_read(sqlite3_file *file, void *data, int amt,
                       sqlite3_int64 off)
{
    struct gather_file *f = (struct gather_file *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    if (f->db && read_ahead(f, data, amt, off))
        return SQLITE_OK;
    return f->real->pMethods->xRead(f->real, data, amt, off);
}

static int gather_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    struct gather_file *f = (struct gather_file *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    forget_ahead(f);
    if (f->next_off > size)
        f->next_off = size;
    return f->real->pMethods->xTruncate(f->real, size);
}

static int gather_sync(sqlite3_file *file, int flags)
{
    struct gather_file *f = (struct gather_file *)file;
    int rc = flush(f);
    if (rc == SQLITE_OK)
        rc = f->dropped_rc;
    f->dropped_rc = SQLITE_OK;
    if (rc != SQLITE_OK)
        return rc;
    return f->real->pMethods->xSync(f->real, flags);
}

static int gather_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    struct gather_file *f = (struct gather_file *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int gather_close(sqlite3_file *file)
{
    struct gather_file *f = (struct gather_file *)file;
    /* SQLite ends a transaction before it closes a log (and closes a log
     * before its database): what a log has left is not needed; what a
     * database has left, a checkpoint's pages, goes to the file. */
    if (f->db)
        forget_log(f);
    else
        (void)flush(f);
    forget_log(f->log);
    pthread_mutex_lock(&registry_mu);
    if (f->db)
        f->db->log = NULL;
    if (f->log)
        f->log->db = NULL;
    for (struct gather_file **p = &open_dbs; *p; p = &(*p)->next_db)
        if (*p == f) {
            *p = f->next_db;
            break;
        }
    pthread_mutex_unlock(&registry_mu);
    free(f->buf);
    free(f->ahead);
    return f->real->pMethods->xClose(f->real);
}

/* A database's pages go to the file before its locks change: they never
 * wait past the checkpoint that wrote them, even one that did not sync. */
static int gather_lock(sqlite3_file *file, int level)
{
    struct gather_file *f = (struct gather_file *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    return f->real->pMethods->xLock(f->real, level);
}

static int gather_unlock(sqlite3_file *file, int level)
{
    struct gather_file *f = (struct gather_file *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int gather_check_reserved_lock(sqlite3_file *file, int *out)
{
    struct gather_file *f = (struct gather_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int gather_file_control(sqlite3_file *file, int op, void *arg)
{
    struct gather_file *f = (struct gather_file *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int gather_sector_size(sqlite3_file *file)
{
    struct gather_file *f = (struct gather_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int gather_device_characteristics(sqlite3_file *file)
{
    struct gather_file *f = (struct gather_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* The shared-memory calls are made on the database file: a barrier comes
 * before a commit is published, a change of locks after a transaction. */
static int gather_shm_map(sqlite3_file *file, int page, int page_bytes,
                          int extend, void volatile **out)
{
    struct gather_file *f = (struct gather_file *)file;
    if (f->real->pMethods->iVersion < 2)
        return SQLITE_IOERR_SHMMAP;
    return f->real->pMethods->xShmMap(f->real, page, page_bytes, extend, out);
}

static int gather_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    struct gather_file *f = (struct gather_file *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    forget_log(f->log);
    if (f->real->pMethods->iVersion < 2)
        return SQLITE_IOERR_SHMLOCK;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void gather_shm_barrier(sqlite3_file *file)
{
    struct gather_file *f = (struct gather_file *)file;
    flush_or_abort(f);
    flush_or_abort(f->log);
    if (f->real->pMethods->iVersion >= 2)
        f->real->pMethods->xShmBarrier(f->real);
}

static int gather_shm_unmap(sqlite3_file *file, int delete_flag)
{
    struct gather_file *f = (struct gather_file *)file;
    (void)flush(f);
    forget_log(f->log);
    if (f->real->pMethods->iVersion < 2)
        return SQLITE_OK;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int gather_fetch(sqlite3_file *file, sqlite3_int64 off, int amt,
                        void **out)
{
    struct gather_file *f = (struct gather_file *)file;
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    if (f->real->pMethods->iVersion < 3) {
        *out = NULL; /* read the page instead */
        return SQLITE_OK;
    }
    return f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int gather_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    struct gather_file *f = (struct gather_file *)file;
    if (f->real->pMethods->iVersion < 3)
        return SQLITE_OK;
    return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods gather_methods = {
    .iVersion = 3,
    .xClose = gather_close,
    .xRead = gather_read,
    .xWrite = gather_write,
    .xTruncate = gather_truncate,
    .xSync = gather_sync,
    .xFileSize = gather_file_size,
    .xLock = gather_lock,
    .xUnlock = gather_unlock,
    .xCheckReservedLock = gather_check_reserved_lock,
    .xFileControl = gather_file_control,
    .xSectorSize = gather_sector_size,
    .xDeviceCharacteristics = gather_device_characteristics,
    .xShmMap = gather_shm_map,
    .xShmLock = gather_shm_lock,
    .xShmBarrier = gather_shm_barrier,
    .xShmUnmap = gather_shm_unmap,
    .xFetch = gather_fetch,
    .xUnfetch = gather_unfetch,
};

static int gather_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file,
                       int flags, int *out_flags)
{
    (void)vfs;
    struct gather_file *f = (struct gather_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    f->commit_page_off = -1;
    f->read_end = -1;
    int rc = platform_vfs->xOpen(platform_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods)
        return rc; /* base.pMethods stays NULL: SQLite will not close it */
    f->base.pMethods = &gather_methods;
    pthread_mutex_lock(&registry_mu);
    if (flags & SQLITE_OPEN_MAIN_DB) {
        f->name = name;
        f->next_db = open_dbs;
        open_dbs = f;
    } else if (flags & SQLITE_OPEN_WAL) {
        /* The log's name sits right after its database's, in the buffer
         * whose start SQLite passed when it opened the database. */
        const char *db_name = sqlite3_filename_database(name);
        for (struct gather_file *d = open_dbs; d; d = d->next_db)
            if (d->name == db_name &&
                (d->real->pMethods->xDeviceCharacteristics(d->real) &
                 SQLITE_IOCAP_POWERSAFE_OVERWRITE)) {
                f->db = d;
                d->log = f;
                break;
            }
    }
    pthread_mutex_unlock(&registry_mu);
    return SQLITE_OK;
}

/* The rest is the platform's. */
static int gather_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return platform_vfs->xDelete(platform_vfs, name, sync_dir);
}

static int gather_access(sqlite3_vfs *vfs, const char *name, int flags,
                         int *out)
{
    (void)vfs;
    return platform_vfs->xAccess(platform_vfs, name, flags, out);
}

static int gather_full_pathname(sqlite3_vfs *vfs, const char *name, int n,
                                char *out)
{
    (void)vfs;
    return platform_vfs->xFullPathname(platform_vfs, name, n, out);
}

static void *gather_dl_open(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return platform_vfs->xDlOpen(platform_vfs, name);
}

static void gather_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    platform_vfs->xDlError(platform_vfs, n, out);
}

static void (*gather_dl_sym(sqlite3_vfs *vfs, void *lib, const char *sym))(void)
{
    (void)vfs;
    return platform_vfs->xDlSym(platform_vfs, lib, sym);
}

static void gather_dl_close(sqlite3_vfs *vfs, void *lib)
{
    (void)vfs;
    platform_vfs->xDlClose(platform_vfs, lib);
}

static int gather_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return platform_vfs->xRandomness(platform_vfs, n, out);
}

static int gather_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return platform_vfs->xSleep(platform_vfs, us);
}

static int gather_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return platform_vfs->xCurrentTime(platform_vfs, out);
}

static int gather_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return platform_vfs->xGetLastError(platform_vfs, n, out);
}

static int gather_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return platform_vfs->xCurrentTimeInt64(platform_vfs, out);
}

static int registered_rc = SQLITE_ERROR;

static void gather_register(void)
{
    platform_vfs = sqlite3_vfs_find(NULL);
    if (!platform_vfs || platform_vfs->iVersion < 2)
        return;
    gather_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct gather_file) + platform_vfs->szOsFile,
        .mxPathname = platform_vfs->mxPathname,
        .zName = GATHER_VFS,
        .xOpen = gather_open,
        .xDelete = gather_delete,
        .xAccess = gather_access,
        .xFullPathname = gather_full_pathname,
        .xDlOpen = gather_dl_open,
        .xDlError = gather_dl_error,
        .xDlSym = gather_dl_sym,
        .xDlClose = gather_dl_close,
        .xRandomness = gather_randomness,
        .xSleep = gather_sleep,
        .xCurrentTime = gather_current_time,
        .xGetLastError = gather_get_last_error,
        .xCurrentTimeInt64 = gather_current_time_int64,
    };
    registered_rc = sqlite3_vfs_register(&gather_vfs, 0);
}

const char *db_gather_vfs(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, gather_register);
    return registered_rc == SQLITE_OK ? GATHER_VFS : NULL;
}
