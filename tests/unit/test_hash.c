/*
 * Unit tests of the hashes (crawler/hash.c).
 */
#include "crawler/hash.h"
#include "tests/unit/check.h"

/* hash64 is stored in databases and recomputed by bench/prefill.py: these
 * values must never change. */
TEST(hash64_pinned)
{
    CHECK_INT(hash64("", 0), -1166397803181037274LL);
    CHECK_INT(hash64("a", 1), -9033471704281723301LL);
    CHECK_INT(hash64("http://example.com/", 19), 2514859047680422379LL);
    const char *u = "http://127.0.0.1:18080/3/4/?q=1";
    CHECK_INT(hash64(u, strlen(u)), 7219688999543174842LL);
}

/* body_hash is stored too (pages.body_hash): a change would hide every
 * duplicate between pages fetched before and after it. */
TEST(body_hash_pinned)
{
    CHECK_INT(body_hash("", 0), -7160610219483255062LL);
    CHECK_INT(body_hash("a", 1), 330454957701591474LL);
    CHECK_INT(body_hash("abcdefgh", 8), -2510843973855422557LL);
    const char *b = "<html><body>hello</body></html>";
    CHECK_INT(body_hash(b, strlen(b)), 6663435287491073875LL);
}

TEST(hash64_incremental)
{
    const char *u = "http://example.com/a/b?c=d";
    size_t n = strlen(u);
    for (size_t cut = 0; cut <= n; cut++) {
        struct hash64_state s;
        hash64_init(&s);
        hash64_update(&s, u, cut);
        hash64_update(&s, u + cut, n - cut);
        CHECK_INT(hash64_final(&s), hash64(u, n));
    }
}

/* 0..40 bytes: every length of partial and whole words. */
static void fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 37 + 11);
}

TEST(body_hash_split_anywhere)
{
    unsigned char body[41];
    fill(body, sizeof body);
    for (size_t n = 0; n <= sizeof body; n++) {
        int64_t whole = body_hash(body, n);
        for (size_t a = 0; a <= n; a++) {
            struct body_hash s;
            body_hash_init(&s);
            body_hash_update(&s, body, a);
            body_hash_update(&s, body + a, n - a);
            CHECK_INT(body_hash_final(&s), whole);
            for (size_t b = a; b <= n; b++) {
                body_hash_init(&s);
                body_hash_update(&s, body, a);
                body_hash_update(&s, body + a, b - a);
                body_hash_update(&s, body + b, n - b);
                CHECK_INT(body_hash_final(&s), whole);
            }
        }
        /* a byte at a time, with empty pieces between */
        struct body_hash s;
        body_hash_init(&s);
        for (size_t i = 0; i < n; i++) {
            body_hash_update(&s, body + i, 1);
            body_hash_update(&s, body, 0);
        }
        CHECK_INT(body_hash_final(&s), whole);
    }
}

TEST(body_hash_final_is_repeatable)
{
    struct body_hash s;
    body_hash_init(&s);
    body_hash_update(&s, "abcdefghijk", 11);
    int64_t h = body_hash_final(&s);
    CHECK_INT(body_hash_final(&s), h);
    body_hash_update(&s, "l", 1);
    CHECK_INT(body_hash_final(&s), body_hash("abcdefghijkl", 12));
}

TEST(body_hash_differs)
{
    /* every length of one input: trailing zero bytes are not padding */
    unsigned char zeros[24] = {0};
    for (size_t n = 0; n < sizeof zeros; n++)
        for (size_t m = n + 1; m <= sizeof zeros; m++)
            CHECK(body_hash(zeros, n) != body_hash(zeros, m));
    /* every single-bit change of a 3-word body, in every position */
    unsigned char body[24];
    fill(body, sizeof body);
    int64_t h = body_hash(body, sizeof body);
    for (size_t bit = 0; bit < sizeof body * 8; bit++) {
        body[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        CHECK(body_hash(body, sizeof body) != h);
        body[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    /* the same bit flipped in two words does not cancel out */
    body[7] ^= 0x80;
    body[15] ^= 0x80;
    CHECK(body_hash(body, sizeof body) != h);
    CHECK(body_hash("abc", 3) != body_hash("abd", 3));
    CHECK(body_hash("ab", 2) != body_hash("ba", 2));
    CHECK(body_hash("abcdefgh12345678", 16) !=
          body_hash("12345678abcdefgh", 16));
}

/* Well mixed: one flipped input bit flips each output bit, the low ones
 * included (in-memory tables use them), about half the time. */
TEST(body_hash_avalanche)
{
    unsigned char body[32];
    fill(body, sizeof body);
    uint64_t h = (uint64_t)body_hash(body, sizeof body);
    int flips[64] = {0};
    int n_trials = (int)sizeof body * 8;
    for (int bit = 0; bit < n_trials; bit++) {
        body[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        uint64_t d = h ^ (uint64_t)body_hash(body, sizeof body);
        body[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        for (int k = 0; k < 64; k++)
            flips[k] += (int)(d >> k) & 1;
    }
    /* 256 trials: 128 expected, 8 the standard deviation */
    for (int k = 0; k < 64; k++)
        CHECK(flips[k] > 80 && flips[k] < 176);
}

/* Bodies are not URLs: the two hashes are distinct functions. */
TEST(body_hash_is_not_hash64)
{
    const char *b = "<html><body>hello</body></html>";
    CHECK(body_hash(b, strlen(b)) != hash64(b, strlen(b)));
}
