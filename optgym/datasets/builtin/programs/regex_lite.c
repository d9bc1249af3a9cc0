/* optgym-builtin: A backtracking regular-expression matcher supporting literals, '.', '*', '+', '?', '^', '$' and bracket classes with ranges and negation, run over generated log lines. Style: recursive, string-processing, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static unsigned long steps;

/* length of the single-character atom at re (literal, '.', escaped char or [class]) */
static int atom_len(const char *re)
{
    if (re[0] == '\\' && re[1]) return 2;
    if (re[0] == '[') {
        const char *p = re + 1;
        if (*p == '^') p++;
        if (*p == ']') p++;
        while (*p && *p != ']') p++;
        return *p ? (int)(p - re) + 1 : 1;
    }
    return 1;
}

static int class_matches(const char *cls, int len, char c)
{
    const char *p = cls + 1, *end = cls + len - 1;
    int neg = 0, hit = 0;
    if (*p == '^') {
        neg = 1;
        p++;
    }
    while (p < end) {
        if (p + 2 < end && p[1] == '-') {
            if (c >= p[0] && c <= p[2]) hit = 1;
            p += 3;
        } else {
            if (c == *p) hit = 1;
            p++;
        }
    }
    return hit ^ neg;
}

static int atom_matches(const char *re, int len, char c)
{
    steps++;
    if (c == '\0') return 0;
    if (re[0] == '\\') {
        switch (re[1]) {
        case 'd': return c >= '0' && c <= '9';
        case 'w': return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        case 's': return c == ' ' || c == '\t';
        default: return c == re[1];
        }
    }
    if (re[0] == '[' && len > 1) return class_matches(re, len, c);
    return re[0] == '.' || re[0] == c;
}

static int match_here(const char *re, const char *text);

static int match_repeat(const char *atom, int alen, int min, int max, const char *rest, const char *text)
{
    /* greedy: consume as many as possible, then back off */
    const char *t = text;
    int count = 0;
    while ((max < 0 || count < max) && atom_matches(atom, alen, *t)) {
        t++;
        count++;
    }
    for (; count >= min; --count, --t)
        if (match_here(rest, t)) return 1;
    return 0;
}

static int match_here(const char *re, const char *text)
{
    if (re[0] == '\0') return 1;
    if (re[0] == '$' && re[1] == '\0') return *text == '\0';
    int alen = atom_len(re);
    char q = re[alen];
    switch (q) {
    case '*': return match_repeat(re, alen, 0, -1, re + alen + 1, text);
    case '+': return match_repeat(re, alen, 1, -1, re + alen + 1, text);
    case '?': return match_repeat(re, alen, 0, 1, re + alen + 1, text);
    default:
        if (atom_matches(re, alen, *text)) return match_here(re + alen, text + 1);
        return 0;
    }
}

static int regex_search(const char *re, const char *text)
{
    if (re[0] == '^') return match_here(re + 1, text);
    do {
        if (match_here(re, text)) return 1;
    } while (*text++ != '\0');
    return 0;
}

typedef struct {
    const char *re;
    int expect_subject; /* for the self-test table */
    const char *subject;
} Case;

static const Case self_tests[] = {
    {"abc", 1, "xxabcxx"},       {"^abc", 0, "xabc"},        {"a.c$", 1, "zzabc"},   {"ab*c", 1, "ac"},
    {"ab+c", 0, "ac"},           {"colou?r", 1, "color"},     {"[0-9]+-[0-9]+", 1, "call 555-1234"},
    {"^[^x]*$", 0, "abxcd"},     {"\\d\\d:\\d\\d", 1, "at 12:45 pm"}, {"a[bc]*d", 1, "abcbcbd"},
    {"^$", 1, ""},               {"x?y?z?$", 1, "anything"},  {"[a-c]+[x-z]", 0, "abcabc"},
};

static uint32_t rs = 77u;
static unsigned rnd(unsigned n)
{
    rs = rs * 1103515245u + 12345u;
    return (rs >> 16) % n;
}

static void make_line(char *buf, size_t cap, int i)
{
    static const char *const levels[] = {"INFO", "WARN", "ERROR", "DEBUG"};
    static const char *const msgs[] = {"user login ok", "disk usage 91%", "timeout after 30s",
                                       "connection reset by peer", "cache miss key=a7f3", "retry 3 of 5"};
    unsigned hh = rnd(24), mm = rnd(60), ss = rnd(60), lv = rnd(4), mg = rnd(6), code = rnd(1000);
    snprintf(buf, cap, "%02u:%02u:%02u [%s] req-%d %s code=%u", hh, mm, ss, levels[lv], i, msgs[mg], code);
}

int main(void)
{
    int passed = 0;
    int ntests = (int)(sizeof self_tests / sizeof self_tests[0]);
    for (int i = 0; i < ntests; ++i)
        if (regex_search(self_tests[i].re, self_tests[i].subject) == self_tests[i].expect_subject) passed++;
    printf("self-tests %d/%d\n", passed, ntests);

    static const char *const patterns[] = {
        "\\[ERROR\\]",      "^0[0-9]:",       "code=9[0-9][0-9]$", "req-[0-9]*7 ",  "t.*o.*t",
        "[^a-z ]+%",        "key=[a-f0-9]+",  "^..:3.:..",         "x?re+t",      "o[a-z]?k",
        "\\d+s ",           "\\s\\w+\\s\\w+=", "^[0-1][0-9]:[0-5][0-9]:[0-5][0-9] \\[[IW]",
    };
    int np = (int)(sizeof patterns / sizeof patterns[0]);
    int counts[16] = {0};
    char line[128];
    uint32_t sig = 0;
    for (int i = 0; i < 1500; ++i) {
        make_line(line, sizeof line, i);
        for (int k = 0; k < np; ++k)
            if (regex_search(patterns[k], line)) {
                counts[k]++;
                sig = sig * 33u + (uint32_t)(i * np + k);
            }
    }
    for (int k = 0; k < np; ++k) printf("%-22s %d\n", patterns[k], counts[k]);
    printf("steps=%lu sig=%08x\n", steps, (unsigned)sig);
    return 0;
}
