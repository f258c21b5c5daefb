/*
 * log: one line per event on stderr, shared by every process.
 *
 *   2026-11-22T10:00:00.123Z warn fetch[4242] transfer failed url=... rc=28
 *
 * Messages start lower-case and say what failed; fields follow as key=value.
 * Never call from a signal handler.
 */
#ifndef CRAWLER_LOG_H
#define CRAWLER_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* role is borrowed and must outlive the process (a string literal). */
void log_init(const char *role, enum log_level min_level);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
