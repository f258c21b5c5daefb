/*
 * children: forking and stopping the coordinator's children (see
 * children.h). Runs in the coordinator; child_setup runs in the child
 * between fork and its entry point.
 */
#define _GNU_SOURCE
#include "crawler/children.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crawler/log.h"
#include "fetch/fetch.h"
#include "parse/parse.h"

/* Parsers run this much nicer than the coordinator and the fetchers. */
#define PARSER_NICE 10

static void child_setup(int fd, const char *name)
{
    /* Die with the coordinator, whatever killed it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, name);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN; /* the terminal's ^C is the coordinator's */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
    }
    dup2(fd, 3);
    close_range(4, ~0U, 0);
    if (devnull > 3)
        close(devnull);
}

int child_spawn(struct child *ch, const struct config *cfg,
                const struct bodies *bodies)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(sv[0]);
        close(sv[1]);
        return -e;
    }
    if (pid == 0) {
        int is_fetch = ch->role == CHILD_FETCH;
        child_setup(sv[1], is_fetch ? "crawler-fetch" : "crawler-parse");
        if (getppid() != parent)
            _exit(1);
        /* The coordinator is the one serial stage: when it waits for a
         * core behind its own parsers, they soon run out of work (a
         * tenth of the machine idle here, against a twentieth with
         * this). Best effort: raising one's niceness cannot fail. */
        if (!is_fetch)
            (void)!nice(PARSER_NICE);
        log_init(is_fetch ? "fetch" : "parse",
                 cfg->verbose ? LOG_DEBUG : LOG_WARN);
        int rc =
            is_fetch ? fetch_main(3, cfg, bodies) : parse_main(3, cfg, bodies);
        _exit(rc);
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    chan_init(&ch->ch, sv[0]);
    ch->pid = pid;
    ch->n_out = 0;
    return 0;
}

struct child *children_pick(struct child *all, int n, enum child_role role)
{
    struct child *best = NULL;
    for (int i = 0; i < n; i++) {
        struct child *ch = &all[i];
        if (ch->role != role || ch->pid <= 0 || ch->n_out >= ch->capacity)
            continue;
        if (!best || ch->capacity - ch->n_out > best->capacity - best->n_out)
            best = ch;
    }
    return best;
}

void children_hang_up(struct child *all, int n)
{
    for (int i = 0; i < n; i++) {
        struct child *ch = &all[i];
        if (ch->pid > 0) {
            close(ch->ch.fd); /* EOF: the child exits by itself */
            chan_release(&ch->ch);
            ch->pid = -ch->pid; /* exiting, not yet reaped */
        }
    }
}

void children_stop(struct child *all, int n)
{
    children_hang_up(all, n);
    /* Every child is given up now (pid <= 0): give them a moment, then
     * make sure. */
    for (int tries = 0; tries < 100; tries++) {
        int alive = 0;
        for (int i = 0; i < n; i++) {
            struct child *ch = &all[i];
            if (ch->pid == 0)
                continue;
            if (waitpid(-ch->pid, NULL, WNOHANG) == 0)
                alive = 1;
            else
                ch->pid = 0;
        }
        if (!alive)
            return;
        usleep(10000);
    }
    for (int i = 0; i < n; i++) {
        struct child *ch = &all[i];
        if (ch->pid) {
            kill(-ch->pid, SIGKILL);
            waitpid(-ch->pid, NULL, 0);
        }
    }
}
