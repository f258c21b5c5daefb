/*
 * scope: the crawl's boundary (see scope.h). Seed hosts are kept as a small
 * array: a crawl has few seeds and the check runs once per new URL.
 */
#include "crawler/scope.h"

#include <libpsl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawler/xalloc.h"
#include "parse/url.h"

struct scope {
    enum scope_mode mode;
    char **hosts; /* host names, or registrable domains */
    size_t n_hosts;
    regex_t *allow;
    int n_allow;
    regex_t *deny;
    int n_deny;
};

static int compile_all(regex_t **out, const char **pats, int n, const char *opt,
                       char *err, size_t errlen)
{
    *out = xcalloc((size_t)n + 1, sizeof **out);
    for (int i = 0; i < n; i++) {
        int rc = regcomp(&(*out)[i], pats[i], REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[128];
            regerror(rc, &(*out)[i], why, sizeof why);
            snprintf(err, errlen, "%s '%s': invalid regular expression: %s",
                     opt, pats[i], why);
            for (int j = 0; j < i; j++)
                regfree(&(*out)[j]);
            free(*out);
            *out = NULL;
            return -1;
        }
    }
    return 0;
}

struct scope *scope_new(const struct config *cfg, char *err, size_t errlen)
{
    struct scope *sc = xcalloc(1, sizeof *sc);
    sc->mode = cfg->scope;
    if (compile_all(&sc->allow, cfg->allow, cfg->n_allow, "--allow", err,
                    errlen) < 0) {
        free(sc);
        return NULL;
    }
    sc->n_allow = cfg->n_allow;
    if (compile_all(&sc->deny, cfg->deny, cfg->n_deny, "--deny", err, errlen) <
        0) {
        for (int i = 0; i < sc->n_allow; i++)
            regfree(&sc->allow[i]);
        free(sc->allow);
        free(sc);
        return NULL;
    }
    sc->n_deny = cfg->n_deny;
    return sc;
}

void scope_free(struct scope *sc)
{
    if (!sc)
        return;
    for (size_t i = 0; i < sc->n_hosts; i++)
        free(sc->hosts[i]);
    free(sc->hosts);
    for (int i = 0; i < sc->n_allow; i++)
        regfree(&sc->allow[i]);
    for (int i = 0; i < sc->n_deny; i++)
        regfree(&sc->deny[i]);
    free(sc->allow);
    free(sc->deny);
    free(sc);
}

/* The key a URL's host is compared by: the host itself, or with --scope
 * domain its registrable domain (an IP address or a public suffix has none
 * and stands for itself). Caller frees. */
static char *scope_key(enum scope_mode mode, const char *url)
{
    size_t n;
    const char *host = url_host(url, &n);
    char *h = xmemdup0(host, n);
    if (mode != SCOPE_DOMAIN)
        return h;
    const char *reg = psl_registrable_domain(psl_builtin(), h);
    if (!reg)
        return h;
    char *r = xstrdup(reg);
    free(h);
    return r;
}

void scope_add_seed(struct scope *sc, const char *url)
{
    char *key = scope_key(sc->mode, url);
    for (size_t i = 0; i < sc->n_hosts; i++) {
        if (strcmp(sc->hosts[i], key) == 0) {
            free(key);
            return;
        }
    }
    sc->hosts = xrealloc(sc->hosts, (sc->n_hosts + 1) * sizeof *sc->hosts);
    sc->hosts[sc->n_hosts++] = key;
}

const char *scope_check(const struct scope *sc, const char *url)
{
    if (sc->mode != SCOPE_ANY) {
        char *key = scope_key(sc->mode, url);
        int found = 0;
        for (size_t i = 0; i < sc->n_hosts && !found; i++)
            found = strcmp(sc->hosts[i], key) == 0;
        free(key);
        if (!found)
            return "scope";
    }
    for (int i = 0; i < sc->n_deny; i++)
        if (regexec(&sc->deny[i], url, 0, NULL, 0) == 0)
            return "deny";
    if (sc->n_allow == 0)
        return NULL;
    for (int i = 0; i < sc->n_allow; i++)
        if (regexec(&sc->allow[i], url, 0, NULL, 0) == 0)
            return NULL;
    return "allow";
}
