/*
 * The unit test runner: forks each registered case with a time limit and
 * prints one line per case and a summary. An argument selects the cases
 * whose name contains it.
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/check.h"

#define MAX_TESTS 2000
#define CASE_TIMEOUT_S 30

struct test_case {
    const char *name;
    void (*fn)(void);
};

static struct test_case tests[MAX_TESTS];
static int n_tests;

void check_register(const char *name, void (*fn)(void))
{
    if (n_tests == MAX_TESTS)
        abort();
    tests[n_tests].name = name;
    tests[n_tests].fn = fn;
    n_tests++;
}

void check_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    fflush(stderr);
    _exit(1);
}

static int run_case(const struct test_case *t)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        alarm(CASE_TIMEOUT_S);
        t->fn();
        /* exit, not _exit: LeakSanitizer checks the case at exit. */
        exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "  %s: killed by signal %d%s\n", t->name,
                WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (time limit)" : "");
    return 0;
}

int main(int argc, char **argv)
{
    setlocale(LC_CTYPE, "C.UTF-8"); /* as the crawler runs (crawler/main.c) */
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;
    for (int i = 0; i < n_tests; i++) {
        if (filter && !strstr(tests[i].name, filter))
            continue;
        if (run_case(&tests[i])) {
            passed++;
            printf("ok   %s\n", tests[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
