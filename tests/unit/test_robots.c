/*
 * Unit tests of robots.txt parsing and matching (parse/robots.c).
 *
 * The matcher table holds the examples of RFC 9309 (2.2.1, 2.2.2, 2.2.3,
 * 5.1, 5.2), Google's documented path-matching examples (the /fish family,
 * the .php wildcards, precedence) and our own edge cases. Each row is one
 * robots.txt, one product token, one path, the expected verdict and the
 * deciding rule.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crawler/buf.h"
#include "parse/robots.h"
#include "tests/unit/check.h"

#define A 1 /* allowed */
#define D 0 /* disallowed */

/* RFC 9309 5.1, with its trailing "EOF" marker (a line without a colon). */
static const char rfc_5_1[] = "User-Agent: *\n"
                              "Disallow: *.gif$\n"
                              "Disallow: /example/\n"
                              "Allow: /publications/\n"
                              "\n"
                              "User-Agent: foobot\n"
                              "Disallow:/\n"
                              "Allow:/example/page.html\n"
                              "Allow:/example/allowed.gif\n"
                              "\n"
                              "User-Agent: barbot\n"
                              "User-Agent: bazbot\n"
                              "Disallow: /example/page.html\n"
                              "\n"
                              "User-Agent: quxbot\n"
                              "\n"
                              "EOF\n";

/* RFC 9309 5.2. */
static const char rfc_5_2[] = "User-Agent: foobot\n"
                              "Allow: /example/page/\n"
                              "Disallow: /example/page/disallowed.gif\n";

/* RFC 9309 2.2.1: two groups for one token are merged. */
static const char rfc_merge[] = "user-agent: ExampleBot\n"
                                "disallow: /foo\n"
                                "disallow: /bar\n"
                                "\n"
                                "user-agent: ExampleBot\n"
                                "disallow: /baz\n";

/* The product token is the value up to the first non-token character. */
static const char tokens[] = "User-agent: ExampleBot/2.1 # versioned\n"
                             "Disallow: /a\n"
                             "User-agent: ExampleBotX\n"
                             "Disallow: /b\n"
                             "User-agent: *\n"
                             "Disallow: /c\n";

/* RFC 9309 2.2.3 special characters. */
static const char rfc_special[] = "# this is a comment\n"
                                  "User-agent: *\n"
                                  "allow: / # comment in line\n"
                                  "disallow: /this/\n"
                                  "allow: /this/path/exactly$\n"
                                  "allow: /this/*/exactly\n"
                                  "disallow: /path/file-with-a-%2A.html\n"
                                  "disallow: /path/foo-%24\n";

/* RFC 9309 2.2.2 percent-encoding table. */
static const char rfc_percent[] = "User-agent: *\n"
                                  "Disallow: /foo/bar?baz=quz\n"
                                  "Disallow: /foo/bar?baz=https://foo.bar\n"
                                  "Disallow: /foo/bar/\xE3\x83\x84\n"
                                  "Disallow: /foo/bar/%E3%83%84x\n"
                                  "Disallow: /foo/bar/%62%61%7A\n";

static const char star_merge[] = "User-agent: *\n"
                                 "Disallow: /a\n"
                                 "User-agent: other\n"
                                 "Disallow: /b\n"
                                 "User-agent: *\n"
                                 "Disallow: /c\n";

static const char shared_group[] = "User-agent: *\n"
                                   "User-agent: crawler\n"
                                   "Disallow: /a\n"
                                   "User-agent: other\n"
                                   "Disallow: /b\n";

#define STAR "User-agent: *\n"

struct match_case {
    const char *robots;
    const char *agent;
    const char *path;
    int allowed;
    const char *rule; /* the deciding rule; NULL when none matched */
};

static const struct match_case cases[] = {
    /* RFC 9309 5.1 */
    {rfc_5_1, "foobot", "/example/page.html", A, "Allow: /example/page.html"},
    {rfc_5_1, "foobot", "/example/allowed.gif", A,
     "Allow: /example/allowed.gif"},
    {rfc_5_1, "foobot", "/example/other", D, "Disallow: /"},
    {rfc_5_1, "foobot", "/", D, "Disallow: /"},
    {rfc_5_1, "FOOBOT", "/example/page.html", A, "Allow: /example/page.html"},
    {rfc_5_1, "barbot", "/example/page.html", D,
     "Disallow: /example/page.html"},
    {rfc_5_1, "bazbot", "/example/page.html", D,
     "Disallow: /example/page.html"},
    {rfc_5_1, "barbot", "/example/other.gif", A, NULL},
    {rfc_5_1, "quxbot", "/example/page.html", A, NULL},
    {rfc_5_1, "quxbot", "/x.gif", A, NULL},
    {rfc_5_1, "otherbot", "/x.gif", D, "Disallow: *.gif$"},
    {rfc_5_1, "otherbot", "/x.gif?y", A, NULL},
    {rfc_5_1, "otherbot", "/example/", D, "Disallow: /example/"},
    {rfc_5_1, "otherbot", "/publications/a.gif", A, "Allow: /publications/"},
    {rfc_5_1, "otherbot", "/publications", A, NULL},
    /* RFC 9309 5.2 */
    {rfc_5_2, "foobot", "/example/page/", A, "Allow: /example/page/"},
    {rfc_5_2, "foobot", "/example/page/disallowed.gif", D,
     "Disallow: /example/page/disallowed.gif"},
    {rfc_5_2, "foobot", "/example/page/other.gif", A, "Allow: /example/page/"},
    {rfc_5_2, "foobot", "/example/", A, NULL},
    /* RFC 9309 2.2.1: merged groups, case-insensitive token, no '*' */
    {rfc_merge, "examplebot", "/foo", D, "Disallow: /foo"},
    {rfc_merge, "ExampleBot", "/bar/x", D, "Disallow: /bar"},
    {rfc_merge, "EXAMPLEBOT", "/baz", D, "Disallow: /baz"},
    {rfc_merge, "examplebot", "/qux", A, NULL},
    {rfc_merge, "otherbot", "/foo", A, NULL},
    /* product tokens */
    {tokens, "examplebot", "/a", D, "Disallow: /a"},
    {tokens, "examplebot", "/b", A, NULL},
    {tokens, "examplebot", "/c", A, NULL},
    {tokens, "examplebotx", "/b", D, "Disallow: /b"},
    {tokens, "other", "/c", D, "Disallow: /c"},
    {tokens, "other", "/a", A, NULL},
    {tokens, "Example", "/c", D, "Disallow: /c"},
    /* RFC 9309 2.2.3 */
    {rfc_special, "x", "/this/path/exactly", A, "Allow: /this/path/exactly$"},
    {rfc_special, "x", "/this/path/exactly/more", A, "Allow: /this/*/exactly"},
    {rfc_special, "x", "/this/a/b/exactly", A, "Allow: /this/*/exactly"},
    {rfc_special, "x", "/this/path/other", D, "Disallow: /this/"},
    {rfc_special, "x", "/path/file-with-a-*.html", D,
     "Disallow: /path/file-with-a-%2A.html"},
    {rfc_special, "x", "/path/file-with-a-%2A.html", D,
     "Disallow: /path/file-with-a-%2A.html"},
    {rfc_special, "x", "/path/file-with-a-x.html", A, "Allow: /"},
    {rfc_special, "x", "/path/foo-$", D, "Disallow: /path/foo-%24"},
    {rfc_special, "x", "/path/foo-%24", D, "Disallow: /path/foo-%24"},
    {rfc_special, "x", "/path/foo-", A, "Allow: /"},
    /* RFC 9309 2.2.2 percent-encoding table */
    {rfc_percent, "x", "/foo/bar?baz=quz", D, "Disallow: /foo/bar?baz=quz"},
    {rfc_percent, "x", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", D,
     "Disallow: /foo/bar?baz=https://foo.bar"},
    {rfc_percent, "x", "/foo/bar?baz=https://foo.bar", D,
     "Disallow: /foo/bar?baz=https://foo.bar"},
    {rfc_percent, "x", "/foo/bar/%E3%83%84", D,
     "Disallow: /foo/bar/\xE3\x83\x84"},
    {rfc_percent, "x", "/foo/bar/%e3%83%84", D,
     "Disallow: /foo/bar/\xE3\x83\x84"},
    {rfc_percent, "x", "/foo/bar/\xE3\x83\x84", D,
     "Disallow: /foo/bar/\xE3\x83\x84"},
    {rfc_percent, "x", "/foo/bar/baz", D, "Disallow: /foo/bar/%62%61%7A"},
    {rfc_percent, "x", "/foo/bar/%62az", D, "Disallow: /foo/bar/%62%61%7A"},
    {rfc_percent, "x", "/foo/bar/%E3%83%84x", D,
     "Disallow: /foo/bar/%E3%83%84x"},
    {rfc_percent, "x", "/foo/bar/ba", A, NULL},
    {rfc_percent, "x", "/foo/bar?baz=qu", A, NULL},
    /* Google: /fish */
    {STAR "Disallow: /fish\n", "x", "/fish", D, "Disallow: /fish"},
    {STAR "Disallow: /fish\n", "x", "/fish.html", D, "Disallow: /fish"},
    {STAR "Disallow: /fish\n", "x", "/fish/salmon.html", D, "Disallow: /fish"},
    {STAR "Disallow: /fish\n", "x", "/fishheads", D, "Disallow: /fish"},
    {STAR "Disallow: /fish\n", "x", "/fishheads/yummy.html", D,
     "Disallow: /fish"},
    {STAR "Disallow: /fish\n", "x", "/fish.php?id=anything", D,
     "Disallow: /fish"},
    {STAR "Disallow: /fish\n", "x", "/Fish.asp", A, NULL},
    {STAR "Disallow: /fish\n", "x", "/catfish", A, NULL},
    {STAR "Disallow: /fish\n", "x", "/?id=fish", A, NULL},
    {STAR "Disallow: /fish\n", "x", "/desert/fish", A, NULL},
    /* Google: /fish* */
    {STAR "Disallow: /fish*\n", "x", "/fish", D, "Disallow: /fish*"},
    {STAR "Disallow: /fish*\n", "x", "/fishheads/yummy.html", D,
     "Disallow: /fish*"},
    {STAR "Disallow: /fish*\n", "x", "/Fish.asp", A, NULL},
    {STAR "Disallow: /fish*\n", "x", "/catfish", A, NULL},
    /* Google: /fish/ */
    {STAR "Disallow: /fish/\n", "x", "/fish/", D, "Disallow: /fish/"},
    {STAR "Disallow: /fish/\n", "x", "/fish/?id=anything", D,
     "Disallow: /fish/"},
    {STAR "Disallow: /fish/\n", "x", "/fish/salmon.htm", D, "Disallow: /fish/"},
    {STAR "Disallow: /fish/\n", "x", "/fish", A, NULL},
    {STAR "Disallow: /fish/\n", "x", "/fish.html", A, NULL},
    {STAR "Disallow: /fish/\n", "x", "/animals/fish/", A, NULL},
    {STAR "Disallow: /fish/\n", "x", "/Fish/Salmon.asp", A, NULL},
    /* Google: "/ *.php" (no space in the rule) */
    {STAR "Disallow: /*.php\n", "x", "/index.php", D, "Disallow: /*.php"},
    {STAR "Disallow: /*.php\n", "x", "/folder/filename.php", D,
     "Disallow: /*.php"},
    {STAR "Disallow: /*.php\n", "x", "/folder/filename.php?parameters", D,
     "Disallow: /*.php"},
    {STAR "Disallow: /*.php\n", "x", "/folder/any.php.file.html", D,
     "Disallow: /*.php"},
    {STAR "Disallow: /*.php\n", "x", "/filename.php/", D, "Disallow: /*.php"},
    {STAR "Disallow: /*.php\n", "x", "/", A, NULL},
    {STAR "Disallow: /*.php\n", "x", "/windows.PHP", A, NULL},
    /* Google: "/ *.php$" (no space in the rule) */
    {STAR "Disallow: /*.php$\n", "x", "/filename.php", D, "Disallow: /*.php$"},
    {STAR "Disallow: /*.php$\n", "x", "/folder/filename.php", D,
     "Disallow: /*.php$"},
    {STAR "Disallow: /*.php$\n", "x", "/filename.php?parameters", A, NULL},
    {STAR "Disallow: /*.php$\n", "x", "/filename.php/", A, NULL},
    {STAR "Disallow: /*.php$\n", "x", "/filename.php5", A, NULL},
    {STAR "Disallow: /*.php$\n", "x", "/windows.PHP", A, NULL},
    /* Google: /fish*.php */
    {STAR "Disallow: /fish*.php\n", "x", "/fish.php", D,
     "Disallow: /fish*.php"},
    {STAR "Disallow: /fish*.php\n", "x", "/fishheads/catfish.php?parameters", D,
     "Disallow: /fish*.php"},
    {STAR "Disallow: /fish*.php\n", "x", "/Fish.PHP", A, NULL},
    /* Google: precedence; longest wins both ways, Allow wins a tie */
    {STAR "Allow: /p\nDisallow: /\n", "x", "/page", A, "Allow: /p"},
    {STAR "Allow: /folder\nDisallow: /folder\n", "x", "/folder/page", A,
     "Allow: /folder"},
    {STAR "Disallow: /folder\nAllow: /folder\n", "x", "/folder/page", A,
     "Allow: /folder"},
    {STAR "Allow: /page\nDisallow: /*.htm\n", "x", "/page.htm", D,
     "Disallow: /*.htm"},
    {STAR "Allow: /page\nDisallow: /*.ph\n", "x", "/page.php", A,
     "Allow: /page"},
    {STAR "Allow: /$\nDisallow: /\n", "x", "/", A, "Allow: /$"},
    {STAR "Allow: /$\nDisallow: /\n", "x", "/page.htm", D, "Disallow: /"},
    {STAR "Allow: /a\nDisallow: /a/b\n", "x", "/a/b/c", D, "Disallow: /a/b"},
    {STAR "Allow: /a\nDisallow: /a/b\n", "x", "/a/c", A, "Allow: /a"},
    {STAR "Disallow: /a\nAllow: /a/b\n", "x", "/a/b/c", A, "Allow: /a/b"},
    {STAR "Disallow: /a\nAllow: /a/b\n", "x", "/a/c", D, "Disallow: /a"},
    /* BOM, line ends, comments */
    {"\xEF\xBB\xBFUser-agent: *\nDisallow: /x\n", "x", "/x", D, "Disallow: /x"},
    {"User-agent: *\r\nDisallow: /x\r\nAllow: /x/y\r\n", "x", "/x/z", D,
     "Disallow: /x"},
    {"User-agent: *\r\nDisallow: /x\r\nAllow: /x/y\r\n", "x", "/x/y", A,
     "Allow: /x/y"},
    {"User-agent: *\rDisallow: /x\rAllow: /x/y\r", "x", "/x/y", A,
     "Allow: /x/y"},
    {"User-agent: *\rDisallow: /x\rAllow: /x/y", "x", "/x/z", D,
     "Disallow: /x"},
    {"User-agent: * # all\nDisallow: /x # secret\n", "x", "/xy", D,
     "Disallow: /x"},
    {"User-agent: *\nDisallow: /x#y\n", "x", "/xz", D, "Disallow: /x"},
    /* empty and odd patterns */
    {STAR "Disallow:\n", "x", "/anything", A, NULL},
    {STAR "Disallow: # nothing\n", "x", "/", A, NULL},
    {STAR "Disallow:\nDisallow: /x\n", "x", "/x", D, "Disallow: /x"},
    {STAR "Allow:\nDisallow: /\n", "x", "/x", D, "Disallow: /"},
    {STAR "Disallow: *\n", "x", "/x", D, "Disallow: *"},
    {STAR "Disallow: /*\n", "x", "/", D, "Disallow: /*"},
    {STAR "Disallow: private\n", "x", "/private", A, NULL},
    {STAR "Disallow: /X\n", "x", "/x", A, NULL},
    /* '$' in the middle is literal; only a final '$' anchors */
    {STAR "Disallow: /a$b\n", "x", "/a$b", D, "Disallow: /a$b"},
    {STAR "Disallow: /a$b\n", "x", "/a$bc", D, "Disallow: /a$b"},
    {STAR "Disallow: /a$b\n", "x", "/ab", A, NULL},
    {STAR "Disallow: /a$\n", "x", "/a", D, "Disallow: /a$"},
    {STAR "Disallow: /a$\n", "x", "/ab", A, NULL},
    {STAR "Disallow: /a$$\n", "x", "/a$", D, "Disallow: /a$$"},
    {STAR "Disallow: /a$$\n", "x", "/a$b", A, NULL},
    /* several '*' */
    {STAR "Disallow: /a*b*c\n", "x", "/axxbyyc", D, "Disallow: /a*b*c"},
    {STAR "Disallow: /a*b*c\n", "x", "/abc", D, "Disallow: /a*b*c"},
    {STAR "Disallow: /a*b*c\n", "x", "/axxc", A, NULL},
    {STAR "Disallow: /a*b*c\n", "x", "/acb", A, NULL},
    {STAR "Disallow: /**x\n", "x", "/yyx", D, "Disallow: /**x"},
    {STAR "Disallow: /*a*b$\n", "x", "/xaybzb", D, "Disallow: /*a*b$"},
    {STAR "Disallow: /*a*b$\n", "x", "/xaybzbc", A, NULL},
    {STAR "Disallow: /*ab*ab$\n", "x", "/abab", D, "Disallow: /*ab*ab$"},
    {STAR "Disallow: /*ab*ab$\n", "x", "/aba", A, NULL},
    /* query strings */
    {STAR "Disallow: /*?sort=\n", "x", "/list?sort=asc", D,
     "Disallow: /*?sort="},
    {STAR "Disallow: /*?sort=\n", "x", "/list", A, NULL},
    {STAR "Disallow: /search?\n", "x", "/search?q=x", D, "Disallow: /search?"},
    {STAR "Disallow: /search?\n", "x", "/search", A, NULL},
    {STAR "Disallow: /*?\n", "x", "/a/b?", D, "Disallow: /*?"},
    /* percent-encoded vs literal */
    {STAR "Disallow: /%7Euser\n", "x", "/~user/x", D, "Disallow: /%7Euser"},
    {STAR "Disallow: /~joe\n", "x", "/%7ejoe", D, "Disallow: /~joe"},
    {STAR "Disallow: /a%3cd\n", "x", "/a%3Cd.html", D, "Disallow: /a%3cd"},
    {STAR "Disallow: /a%2Fb\n", "x", "/a/b", D, "Disallow: /a%2Fb"},
    {STAR "Disallow: /100%\n", "x", "/100%25", D, "Disallow: /100%"},
    {STAR "Disallow: /100%25\n", "x", "/100%", D, "Disallow: /100%25"},
    {STAR "Disallow: /a%zz\n", "x", "/a%25zz", D, "Disallow: /a%zz"},
    /* UTF-8 */
    {STAR "Disallow: /\xC3\xA4\n", "x", "/%C3%A4", D, "Disallow: /\xC3\xA4"},
    {STAR "Disallow: /\xC3\xA4\n", "x", "/%c3%a4/x", D, "Disallow: /\xC3\xA4"},
    {STAR "Disallow: /\xC3\xA4\n", "x", "/a", A, NULL},
    {STAR "Disallow: /\xC3\xA4\n", "x", "/%C3%A5", A, NULL},
    {STAR "Disallow: /%C3%A4\nAllow: /\xC3\xA4\n", "x", "/%C3%A4", A,
     "Allow: /\xC3\xA4"},
    {STAR "Allow: /%C3%A4\nDisallow: /\xC3\xA4x\n", "x", "/%C3%A4x", D,
     "Disallow: /\xC3\xA4x"},
    /* syntax: colons, whitespace, key case, unknown lines */
    {"User-agent *\nDisallow /x\n", "x", "/x", A, NULL},
    {STAR "Disallow /x\nDisallow: /y\n", "x", "/x", A, NULL},
    {STAR "Disallow /x\nDisallow: /y\n", "x", "/y", D, "Disallow: /y"},
    {"USER-AGENT: *\nDISALLOW: /x\nallow: /x/y\n", "x", "/x", D,
     "Disallow: /x"},
    {"USER-AGENT: *\nDISALLOW: /x\naLLoW: /x/y\n", "x", "/x/y", A,
     "Allow: /x/y"},
    {"User-agent :  *\nDisallow\t:\t/x \t\n", "x", "/x", D, "Disallow: /x"},
    {"  User-agent: *\n  Disallow: /x\n", "x", "/x", D, "Disallow: /x"},
    {"User-agent: a\nFoo: bar\nUser-agent: b\nDisallow: /x\n", "a", "/x", D,
     "Disallow: /x"},
    {"User-agent: a\nSitemap: http://h/s.xml\nUser-agent: b\nDisallow: /x\n",
     "a", "/x", D, "Disallow: /x"},
    {"User-agent: a\nCrawl-delay: 1\nUser-agent: b\nDisallow: /x\n", "a", "/x",
     A, NULL},
    {"User-agent: a\n\n\nDisallow: /x\n", "a", "/x", D, "Disallow: /x"},
    {"Disallow: /x\nUser-agent: *\nDisallow: /y\n", "x", "/x", A, NULL},
    {"Disallow: /x\nUser-agent: *\nDisallow: /y\n", "x", "/y", D,
     "Disallow: /y"},
    {"User-agent:\nDisallow: /x\n", "x", "/x", A, NULL},
    {"User-agent: */1\nDisallow: /x\n", "x", "/x", A, NULL},
    /* groups: '*' merged, a group shared by '*' and a token */
    {star_merge, "x", "/a", D, "Disallow: /a"},
    {star_merge, "x", "/c", D, "Disallow: /c"},
    {star_merge, "x", "/b", A, NULL},
    {star_merge, "other", "/a", A, NULL},
    {shared_group, "crawler", "/a", D, "Disallow: /a"},
    {shared_group, "zbot", "/a", D, "Disallow: /a"},
    {shared_group, "other", "/a", A, NULL},
    {shared_group, "other", "/b", D, "Disallow: /b"},
    /* /robots.txt is implicitly allowed */
    {STAR "Disallow: /\n", "x", "/robots.txt", A, NULL},
    {STAR "Disallow: /\n", "x", "/robots.txt?x", D, "Disallow: /"},
    {STAR "Disallow: /\n", "x", "/robots.txtx", D, "Disallow: /"},
    /* empty files */
    {"", "x", "/", A, NULL},
    {"\xEF\xBB\xBF", "x", "/", A, NULL},
    {"\n\r\n# only a comment\n", "x", "/", A, NULL},
};

#define N_CASES (sizeof cases / sizeof cases[0])

static int same_rule(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

TEST(robots_match_table)
{
    int failed = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        const struct match_case *c = &cases[i];
        struct robots *r = robots_parse(c->robots, strlen(c->robots), c->agent);
        const char *rule = "unset";
        int got = robots_allows(r, c->path, &rule);
        if (got != c->allowed || !same_rule(rule, c->rule)) {
            fprintf(stderr,
                    "  row %zu: agent \"%s\" path \"%s\": got %s \"%s\", "
                    "want %s \"%s\"\n",
                    i, c->agent, c->path, got ? "allowed" : "disallowed",
                    rule ? rule : "(null)",
                    c->allowed ? "allowed" : "disallowed",
                    c->rule ? c->rule : "(null)");
            failed++;
        }
        robots_free(r);
    }
    CHECK_INT(failed, 0);
}

TEST(robots_case_count)
{
    CHECK(N_CASES >= 60);
}

TEST(robots_rule_pointer_optional)
{
    const char txt[] = STAR "Disallow: /x\n";
    struct robots *r = robots_parse(txt, strlen(txt), "x");
    CHECK_INT(robots_allows(r, "/x", NULL), 0);
    CHECK_INT(robots_allows(r, "/y", NULL), 1);
    robots_free(r);
}

TEST(robots_allow_all)
{
    struct robots *r = robots_allow_all();
    const char *rule = "unset";
    CHECK_INT(robots_allows(r, "/", &rule), 1);
    CHECK(rule == NULL);
    CHECK_INT(robots_allows(r, "/private/x?y", &rule), 1);
    CHECK_INT(robots_crawl_delay_ms(r), -1);
    CHECK_INT(robots_n_sitemaps(r), 0);
    CHECK(robots_sitemap(r, 0) == NULL);
    robots_free(r);
}

TEST(robots_disallow_all)
{
    struct robots *r = robots_disallow_all();
    const char *rule = NULL;
    CHECK_INT(robots_allows(r, "/", &rule), 0);
    CHECK_STR(rule, "Disallow: / (robots.txt unavailable)");
    CHECK_INT(robots_allows(r, "/a/b?c", &rule), 0);
    CHECK_INT(robots_allows(r, "/robots.txt", &rule), 1);
    CHECK(rule == NULL);
    CHECK_INT(robots_crawl_delay_ms(r), -1);
    robots_free(r);
    robots_free(NULL);
}

TEST(robots_null_and_empty)
{
    struct robots *r = robots_parse(NULL, 0, "x");
    CHECK_INT(robots_allows(r, "/", NULL), 1);
    robots_free(r);
    const char txt[] = STAR "Disallow: /\n";
    r = robots_parse(txt, strlen(txt), NULL);
    CHECK_INT(robots_allows(r, "/a", NULL), 0);
    robots_free(r);
    r = robots_parse(txt, strlen(txt), "");
    const char *rule = NULL;
    CHECK_INT(robots_allows(r, "", &rule), 0);
    CHECK_STR(rule, "Disallow: /");
    robots_free(r);
}

static int64_t delay_of(const char *txt, const char *agent)
{
    struct robots *r = robots_parse(txt, strlen(txt), agent);
    int64_t ms = robots_crawl_delay_ms(r);
    robots_free(r);
    return ms;
}

TEST(robots_crawl_delay)
{
    CHECK_INT(delay_of(STAR "Crawl-delay: 10\n", "x"), 10000);
    CHECK_INT(delay_of(STAR "crawl-DELAY : 0.5\n", "x"), 500);
    CHECK_INT(delay_of(STAR "Crawl-delay: 1.25 # s\n", "x"), 1250);
    CHECK_INT(delay_of(STAR "Crawl-delay: 2.0001\n", "x"), 2000);
    CHECK_INT(delay_of(STAR "Crawl-delay: .5\n", "x"), 500);
    CHECK_INT(delay_of(STAR "Crawl-delay: 0\n", "x"), 0);
    CHECK_INT(delay_of(STAR "Disallow: /\n", "x"), -1);
    CHECK_INT(delay_of("", "x"), -1);
    /* invalid values are skipped; the first valid one counts */
    CHECK_INT(delay_of(STAR "Crawl-delay: abc\nCrawl-delay: 3\n"
                            "Crawl-delay: 4\n",
                       "x"),
              3000);
    CHECK_INT(delay_of(STAR "Crawl-delay: -1\n", "x"), -1);
    CHECK_INT(delay_of(STAR "Crawl-delay: 1.5s\n", "x"), -1);
    CHECK_INT(delay_of(STAR "Crawl-delay: 1.2.3\n", "x"), -1);
    CHECK_INT(delay_of(STAR "Crawl-delay: .\n", "x"), -1);
    CHECK_INT(delay_of(STAR "Crawl-delay:\n", "x"), -1);
    CHECK_INT(delay_of(STAR "Crawl-delay: 1 2\n", "x"), -1);
    /* huge values are clamped, not overflowed */
    CHECK_INT(delay_of(STAR "Crawl-delay: 99999999999999999999999\n", "x"),
              86400LL * 1000);
    /* another agent's group does not apply; ours beats '*' */
    CHECK_INT(delay_of("User-agent: other\nCrawl-delay: 5\n", "x"), -1);
    CHECK_INT(delay_of("User-agent: other\nCrawl-delay: 5\n"
                       "User-agent: *\nCrawl-delay: 7\n",
                       "x"),
              7000);
    CHECK_INT(delay_of("User-agent: *\nCrawl-delay: 7\n"
                       "User-agent: crawler\nCrawl-delay: 2\n",
                       "crawler"),
              2000);
    CHECK_INT(delay_of("User-agent: *\nCrawl-delay: 7\n"
                       "User-agent: crawler\nDisallow: /x\n",
                       "crawler"),
              -1);
    /* outside any group: ignored */
    CHECK_INT(delay_of("Crawl-delay: 9\nUser-agent: *\nDisallow: /\n", "x"),
              -1);
}

TEST(robots_sitemaps)
{
    const char txt[] = "Sitemap: https://h.test/a.xml\n"
                       "User-agent: other\n"
                       "Disallow: /\n"
                       "SITEMAP : https://h.test/b.xml # second\n"
                       "sitemap:\n"
                       "User-agent: *\n"
                       "Sitemap:https://h.test/c.xml\r\n";
    struct robots *r = robots_parse(txt, strlen(txt), "crawler");
    CHECK_INT(robots_n_sitemaps(r), 3);
    CHECK_STR(robots_sitemap(r, 0), "https://h.test/a.xml");
    CHECK_STR(robots_sitemap(r, 1), "https://h.test/b.xml");
    CHECK_STR(robots_sitemap(r, 2), "https://h.test/c.xml");
    CHECK(robots_sitemap(r, 3) == NULL);
    robots_free(r);
}

TEST(robots_sitemaps_capped)
{
    struct buf b;
    buf_init(&b, ROBOTS_MAX_BYTES);
    char line[64];
    for (int i = 0; i < 1500; i++) {
        int n = snprintf(line, sizeof line, "Sitemap: https://h.test/%d\n", i);
        CHECK_INT(buf_append(&b, line, (size_t)n), 0);
    }
    struct robots *r = robots_parse(b.data, b.len, "x");
    CHECK_INT(robots_n_sitemaps(r), 1000);
    CHECK_STR(robots_sitemap(r, 999), "https://h.test/999");
    robots_free(r);
    buf_release(&b);
}

TEST(robots_agent_token)
{
    char out[32];
    robots_agent_token("crawler/0.1 (+https://x)", out, sizeof out);
    CHECK_STR(out, "crawler");
    robots_agent_token("Mozilla/5.0 (compatible; Foo)", out, sizeof out);
    CHECK_STR(out, "Mozilla");
    robots_agent_token("Mozilla/5.0 (compatible; ExampleBot/0.1; "
                       "https://www.example.com/bot.html)",
                       out, sizeof out);
    CHECK_STR(out, "Mozilla");
    robots_agent_token("  \tmy_bot-x 1.0", out, sizeof out);
    CHECK_STR(out, "my_bot-x");
    robots_agent_token("ExampleBot", out, sizeof out);
    CHECK_STR(out, "ExampleBot");
    robots_agent_token("/1.0", out, sizeof out);
    CHECK_STR(out, "");
    robots_agent_token("", out, sizeof out);
    CHECK_STR(out, "");
    robots_agent_token(NULL, out, sizeof out);
    CHECK_STR(out, "");
    robots_agent_token("crawler/0.1", out, 4);
    CHECK_STR(out, "cra");
    robots_agent_token("crawler", out, 1);
    CHECK_STR(out, "");
    out[0] = 'z';
    robots_agent_token("crawler", out, 0);
    CHECK(out[0] == 'z');
}

/* A file over ROBOTS_MAX_BYTES: rules before the cut apply, rules after it
 * and the line the cut falls in are ignored. */
TEST(robots_truncated_file)
{
    struct buf b;
    buf_init(&b, 2 * ROBOTS_MAX_BYTES);
    CHECK_INT(buf_append_str(&b, "User-agent: *\nDisallow: /early\n"), 0);
    while (b.len < ROBOTS_MAX_BYTES - 100)
        CHECK_INT(buf_append_str(&b, "# padding padding padding\n"), 0);
    while (b.len < ROBOTS_MAX_BYTES - 29)
        CHECK_INT(buf_append_str(&b, "\n"), 0);
    CHECK_INT(buf_append_str(&b, "Disallow: /edge\n"), 0);
    /* The cut falls in this line, after "Allow: /early": parsing the
     * partial line would allow /early (Allow wins the tie). */
    CHECK_INT(b.len, ROBOTS_MAX_BYTES - 13);
    CHECK_INT(buf_append_str(&b, "Allow: /early/but/cut\n"), 0);
    CHECK(b.len > ROBOTS_MAX_BYTES);
    CHECK_INT(buf_append_str(&b, "Disallow: /late\nSitemap: http://h/s\n"), 0);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(buf_append_str(&b, "Disallow: /late2\n"), 0);

    struct robots *r = robots_parse(b.data, b.len, "x");
    const char *rule = NULL;
    CHECK_INT(robots_allows(r, "/early", &rule), 0);
    CHECK_STR(rule, "Disallow: /early");
    CHECK_INT(robots_allows(r, "/edge", NULL), 0);
    CHECK_INT(robots_allows(r, "/early/but/cut", &rule), 0);
    CHECK_STR(rule, "Disallow: /early");
    CHECK_INT(robots_allows(r, "/late", &rule), 1);
    CHECK(rule == NULL);
    CHECK_INT(robots_allows(r, "/late2", NULL), 1);
    CHECK_INT(robots_n_sitemaps(r), 0);
    robots_free(r);
    buf_release(&b);
}

/* Pseudo-random bytes, NULs included: no crash, allow everything. */
TEST(robots_garbage_binary)
{
    static char junk[300 * 1024];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        junk[i] = (char)(x >> 24);
    }
    struct robots *r = robots_parse(junk, sizeof junk, "crawler");
    CHECK_INT(robots_allows(r, "/", NULL), 1);
    CHECK_INT(robots_allows(r, "/a/b?c=d", NULL), 1);
    CHECK_INT(robots_crawl_delay_ms(r), -1);
    robots_free(r);
    /* a rule line with a NUL in it is ignored, the rest is not */
    const char txt[] = STAR "Disallow: /a\0b\nDisallow: /c\n";
    r = robots_parse(txt, sizeof txt - 1, "x");
    CHECK_INT(robots_allows(r, "/a", NULL), 1);
    CHECK_INT(robots_allows(r, "/c", NULL), 0);
    robots_free(r);
}

/* Lines over the line cap are ignored and do not end the group. */
TEST(robots_long_line_ignored)
{
    struct buf b;
    buf_init(&b, ROBOTS_MAX_BYTES);
    CHECK_INT(buf_append_str(&b, STAR "Disallow: /"), 0);
    for (int i = 0; i < 9000; i++)
        CHECK_INT(buf_append_str(&b, "a"), 0);
    CHECK_INT(buf_append_str(&b, "\nDisallow: /b\n"), 0);
    struct robots *r = robots_parse(b.data, b.len, "x");
    CHECK_INT(robots_allows(r, "/aaaa", NULL), 1);
    CHECK_INT(robots_allows(r, "/b", NULL), 0);
    robots_free(r);
    buf_release(&b);
}

/* Rules past the per-file cap are ignored. */
TEST(robots_rule_cap)
{
    struct buf b;
    buf_init(&b, ROBOTS_MAX_BYTES);
    CHECK_INT(buf_append_str(&b, STAR), 0);
    char line[64];
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(line, sizeof line, "Disallow: /r%d\n", i);
        CHECK_INT(buf_append(&b, line, (size_t)n), 0);
    }
    CHECK_INT(buf_append_str(&b, "Disallow: /over\n"), 0);
    struct robots *r = robots_parse(b.data, b.len, "x");
    const char *rule = NULL;
    CHECK_INT(robots_allows(r, "/r9999", &rule), 0);
    CHECK_STR(rule, "Disallow: /r9999");
    CHECK_INT(robots_allows(r, "/over", NULL), 1);
    robots_free(r);
    buf_release(&b);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Patterns that make a backtracking matcher exponential or quadratic. */
TEST(robots_pathological_patterns)
{
    char *path = malloc(8193);
    CHECK(path != NULL);
    path[0] = '/';
    memset(path + 1, 'a', 8191);
    path[8192] = '\0';

    struct buf b;
    buf_init(&b, ROBOTS_MAX_BYTES);
    CHECK_INT(buf_append_str(&b, STAR "Disallow: /*a*a*a*a*a*a*a*a*b\n"
                                      "Disallow: /*a*a*a*a*a*a*a*a*b$\n"
                                      "Disallow: "
                                      "/*************************a*b\n"),
              0);
    /* long segments: "/ *aaaa...ab" (no space) against "/aaaa..." */
    for (int k = 0; k < 50; k++) {
        CHECK_INT(buf_append_str(&b, "Disallow: /*"), 0);
        for (int i = 0; i < 4000 + k; i++)
            CHECK_INT(buf_append_str(&b, "a"), 0);
        CHECK_INT(buf_append_str(&b, "b\n"), 0);
    }
    struct robots *r = robots_parse(b.data, b.len, "x");
    double t0 = now_s();
    for (int i = 0; i < 20; i++) {
        CHECK_INT(robots_allows(r, path, NULL), 1);
        path[4096] = '\0';
        CHECK_INT(robots_allows(r, path, NULL), 1);
        path[4096] = 'a';
    }
    double elapsed = now_s() - t0;
    if (elapsed > 2.0)
        check_fail(__FILE__, __LINE__, "matching took %.3f s", elapsed);
    path[8191] = 'b';
    CHECK_INT(robots_allows(r, path, NULL), 0);
    robots_free(r);
    buf_release(&b);
    free(path);
}
