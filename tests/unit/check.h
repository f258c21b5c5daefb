/*
 * check: the unit test framework. Each TEST registers itself; the runner
 * (tests/unit/main.c) forks every case with a time limit, so a crash or a
 * hang fails that case and not the run.
 *
 *   TEST(frame_roundtrip) { CHECK_INT(frame_end(&b, at), 0); }
 *
 * A failed CHECK prints both sides with file and line and ends the case.
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void check_register(const char *name, void (*fn)(void));
void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#define TEST(name)                                                             \
    static void test_##name(void);                                             \
    __attribute__((constructor)) static void register_##name(void)             \
    {                                                                          \
        check_register(#name, test_##name);                                    \
    }                                                                          \
    static void test_##name(void)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            check_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);        \
        if (check_a_ != check_b_)                                              \
            check_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b,   \
                       check_a_, check_b_);                                    \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *check_a_ = (a), *check_b_ = (b);                           \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0)         \
            check_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a,   \
                       #b, check_a_ ? check_a_ : "(null)",                     \
                       check_b_ ? check_b_ : "(null)");                        \
    } while (0)

#endif
