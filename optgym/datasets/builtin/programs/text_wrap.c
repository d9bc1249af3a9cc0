/* optgym-builtin: Word wrapping of generated prose by greedy filling and by minimum-raggedness dynamic programming, with full justification, centring, hyphen splitting of overlong words and paragraph statistics. Style: string-processing, loop-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#define MAXWORDS 2048
#define TEXTCAP 16384

typedef struct {
    const char *start;
    int len;
} Word;

static uint32_t seed = 8675309u;

static uint32_t rnd(uint32_t n)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % n;
}

static const char *vocabulary[] = {
    "the", "a", "compiler", "pass", "orders", "loops", "and", "inlines", "small", "functions", "while", "keeping",
    "semantics", "of", "every", "program", "intact", "register", "allocation", "is", "hard", "instruction",
    "selection", "maps", "to", "machine", "code", "optimisation", "benefits", "from", "profile", "information",
    "interprocedural", "analysis", "can", "reveal", "constant", "arguments", "vectorisation", "needs",
    "alias", "facts", "deadstoreelimination", "memory", "transformations", "are", "subtle"};

static int make_text(char *buf, int cap, int nwords)
{
    int n = 0;
    int sentence_start = 1;
    for (int i = 0; i < nwords; i++) {
        const char *w = vocabulary[rnd(sizeof vocabulary / sizeof vocabulary[0])];
        int len = (int)strlen(w);
        if (n + len + 3 >= cap)
            break;
        if (i > 0)
            buf[n++] = rnd(9) == 0 ? '\n' : ' ';
        memcpy(buf + n, w, (size_t)len);
        if (sentence_start)
            buf[n] = (char)toupper((unsigned char)buf[n]);
        n += len;
        sentence_start = 0;
        if (rnd(10) == 0) {
            buf[n++] = '.';
            sentence_start = 1;
        } else if (rnd(14) == 0) {
            buf[n++] = ',';
        }
    }
    buf[n++] = '.';
    buf[n] = '\0';
    return n;
}

static int split_words(const char *text, Word *words, int max)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        words[n].start = s;
        words[n].len = (int)(p - s);
        n++;
    }
    return n;
}

/* Words longer than the width are broken into width-1 pieces plus a hyphen. */
static int hyphenate(Word *in, int n, Word *out, int width, char *pool, int *pool_used)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (in[i].len <= width) {
            out[m++] = in[i];
            continue;
        }
        const char *s = in[i].start;
        int left = in[i].len;
        while (left > width) {
            char *piece = pool + *pool_used;
            memcpy(piece, s, (size_t)(width - 1));
            piece[width - 1] = '-';
            *pool_used += width;
            out[m].start = piece;
            out[m].len = width;
            m++;
            s += width - 1;
            left -= width - 1;
        }
        out[m].start = s;
        out[m].len = left;
        m++;
    }
    return m;
}

/* Greedy: returns number of lines, fills breaks[k] = index of first word of line k. */
static int wrap_greedy(const Word *w, int n, int width, int *breaks)
{
    int lines = 0, col = 0;
    for (int i = 0; i < n; i++) {
        if (i == 0 || col + 1 + w[i].len > width) {
            breaks[lines++] = i;
            col = w[i].len;
        } else {
            col += 1 + w[i].len;
        }
    }
    return lines;
}

static long cube(long x) { return x * x * x; }

/* Minimum sum of cubed slack (last line free), O(n * width). */
static int wrap_optimal(const Word *w, int n, int width, int *breaks, long *cost_out)
{
    long *cost = malloc(sizeof(long) * (size_t)(n + 1));
    int *next = malloc(sizeof(int) * (size_t)(n + 1));
    cost[n] = 0;
    for (int i = n - 1; i >= 0; i--) {
        int len = -1;
        cost[i] = -1;
        for (int j = i; j < n; j++) {
            len += 1 + w[j].len;
            if (len > width)
                break;
            long c = (j == n - 1) ? 0 : cube(width - len) + cost[j + 1];
            if (cost[i] < 0 || c < cost[i]) {
                cost[i] = c;
                next[i] = j + 1;
            }
        }
    }
    int lines = 0;
    for (int i = 0; i < n; i = next[i])
        breaks[lines++] = i;
    *cost_out = cost[0];
    free(cost);
    free(next);
    return lines;
}

static long raggedness(const Word *w, int n, const int *breaks, int lines, int width)
{
    long total = 0;
    for (int k = 0; k + 1 < lines; k++) {
        int len = -1;
        for (int i = breaks[k]; i < breaks[k + 1]; i++)
            len += 1 + w[i].len;
        total += cube(width - len);
    }
    (void)n;
    return total;
}

typedef enum { ALIGN_LEFT, ALIGN_JUSTIFY, ALIGN_CENTER } Align;

static int render_line(const Word *w, int from, int to, int width, Align a, int last, char *out)
{
    int letters = 0, gaps = to - from - 1;
    for (int i = from; i < to; i++)
        letters += w[i].len;
    int pos = 0;
    int pad_left = 0;
    if (a == ALIGN_CENTER)
        pad_left = (width - letters - gaps) / 2;
    for (int k = 0; k < pad_left; k++)
        out[pos++] = ' ';
    int spare = width - letters;
    for (int i = from; i < to; i++) {
        memcpy(out + pos, w[i].start, (size_t)w[i].len);
        pos += w[i].len;
        if (i + 1 < to) {
            int sp = 1;
            if (a == ALIGN_JUSTIFY && !last && gaps > 0) {
                /* Distribute extra spaces, leftmost gaps get the remainder. */
                int g = i - from;
                sp = spare / gaps + (g < spare % gaps ? 1 : 0);
            }
            for (int k = 0; k < sp; k++)
                out[pos++] = ' ';
        }
    }
    out[pos] = '\0';
    return pos;
}

static uint32_t fnv(uint32_t h, const char *s)
{
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return (h ^ '\n') * 16777619u;
}

int main(void)
{
    static char text[TEXTCAP];
    static char pool[TEXTCAP];
    static Word raw[MAXWORDS], words[MAXWORDS * 2];
    static int breaks[MAXWORDS * 2];
    char line[256];
    static const int widths[] = {12, 20, 36, 60, 72};

    for (int para = 0; para < 3; para++) {
        make_text(text, TEXTCAP, 150 + 100 * para);
        int nraw = split_words(text, raw, MAXWORDS);
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
            int width = widths[wi];
            int pool_used = 0;
            int n = hyphenate(raw, nraw, words, width, pool, &pool_used);
            int gl = wrap_greedy(words, n, width, breaks);
            long gr = raggedness(words, n, breaks, gl, width);
            long oc;
            int ol = wrap_optimal(words, n, width, breaks, &oc);
            long orr = raggedness(words, n, breaks, ol, width);
            uint32_t hj = 2166136261u, hc = 2166136261u;
            int maxlen = 0, exact = 0;
            for (int k = 0; k < ol; k++) {
                int to = k + 1 < ol ? breaks[k + 1] : n;
                int len = render_line(words, breaks[k], to, width, ALIGN_JUSTIFY, k + 1 == ol, line);
                if (len > maxlen)
                    maxlen = len;
                exact += len == width;
                hj = fnv(hj, line);
                render_line(words, breaks[k], to, width, ALIGN_CENTER, k + 1 == ol, line);
                hc = fnv(hc, line);
                if (para == 0 && width == 36 && k < 5)
                    printf("|%-36s|\n", line);
            }
            printf("para %d width %2d: words=%d greedy=%d lines/%ld optimal=%d lines/%ld(%ld) justified=%d maxlen=%d "
                   "hj=%08x hc=%08x\n",
                   para, width, n, gl, gr, ol, orr, oc, exact, maxlen, (unsigned)hj, (unsigned)hc);
        }
    }
    return 0;
}
