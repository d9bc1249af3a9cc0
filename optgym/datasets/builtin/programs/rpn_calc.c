/* optgym-builtin: Reverse-Polish calculator with stack words, user-defined words and counted loops, plus a shunting-yard infix-to-RPN converter feeding it generated infix formulas. Style: switch-heavy, pointer-heavy, string-processing */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#define STACK_MAX 256
#define MAX_WORDS 16
#define MAX_TOKENS 512

typedef enum { E_OK, E_UNDERFLOW, E_OVERFLOW, E_DIVZERO, E_UNKNOWN, E_DEPTH } Err;

typedef struct {
    int64_t data[STACK_MAX];
    int64_t *top; /* points one past the last element */
} Stack;

typedef struct {
    char name[16];
    char body[160];
} Word;

typedef struct {
    Stack st;
    Word words[MAX_WORDS];
    int nwords;
    long ops;
    Err err;
} Calc;

static const char *err_name(Err e)
{
    switch (e) {
    case E_OK: return "ok";
    case E_UNDERFLOW: return "underflow";
    case E_OVERFLOW: return "overflow";
    case E_DIVZERO: return "divzero";
    case E_UNKNOWN: return "unknown-word";
    default: return "too-deep";
    }
}

static void calc_init(Calc *c)
{
    memset(c, 0, sizeof *c);
    c->st.top = c->st.data;
}

static int depth(const Calc *c) { return (int)(c->st.top - c->st.data); }

static void push(Calc *c, int64_t v)
{
    if (depth(c) >= STACK_MAX) {
        c->err = E_OVERFLOW;
        return;
    }
    *c->st.top++ = v;
}

static int need(Calc *c, int n)
{
    if (depth(c) < n) {
        c->err = E_UNDERFLOW;
        return 0;
    }
    return 1;
}

static int64_t wrap_mul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static int64_t wrap_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t wrap_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }

static const Word *find_word(const Calc *c, const char *name)
{
    for (int i = c->nwords - 1; i >= 0; i--)
        if (strcmp(c->words[i].name, name) == 0)
            return &c->words[i];
    return NULL;
}

static void run(Calc *c, const char *src, int level);

static void binary(Calc *c, char op)
{
    if (!need(c, 2))
        return;
    int64_t b = *--c->st.top;
    int64_t a = *--c->st.top;
    int64_t r = 0;
    switch (op) {
    case '+': r = wrap_add(a, b); break;
    case '-': r = wrap_sub(a, b); break;
    case '*': r = wrap_mul(a, b); break;
    case '/':
    case '%':
        if (b == 0 || (a == INT64_MIN && b == -1)) {
            c->err = E_DIVZERO;
            return;
        }
        r = op == '/' ? a / b : a % b;
        break;
    case '<': r = a < b; break;
    case '>': r = a > b; break;
    case '=': r = a == b; break;
    case '&': r = a & b; break;
    case '|': r = a | b; break;
    case 'm': r = a < b ? a : b; break;
    case 'M': r = a > b ? a : b; break;
    default: break;
    }
    push(c, r);
}

static int next_token(const char **p, char *tok, size_t cap)
{
    const char *s = *p;
    while (*s && isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    size_t n = 0;
    while (*s && !isspace((unsigned char)*s)) {
        if (n + 1 < cap)
            tok[n++] = *s;
        s++;
    }
    tok[n] = '\0';
    *p = s;
    return 1;
}

/* Copies the body of a [ ... ] block (nesting aware) and advances past it. */
static int read_block(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    int nest = 1;
    size_t n = 0;
    while (*s && nest) {
        if (*s == '[')
            nest++;
        else if (*s == ']' && --nest == 0)
            break;
        if (n + 1 < cap)
            out[n++] = *s;
        s++;
    }
    out[n] = '\0';
    if (*s == ']')
        s++;
    *p = s;
    return nest == 0;
}

static void exec_token(Calc *c, const char *tok, const char **rest, int level)
{
    c->ops++;
    if (isdigit((unsigned char)tok[0]) || (tok[0] == '-' && isdigit((unsigned char)tok[1]))) {
        push(c, strtoll(tok, NULL, 10));
        return;
    }
    if (tok[1] == '\0' && strchr("+-*/%<>=&|", tok[0])) {
        binary(c, tok[0]);
        return;
    }
    if (strcmp(tok, "min") == 0) { binary(c, 'm'); return; }
    if (strcmp(tok, "max") == 0) { binary(c, 'M'); return; }
    if (strcmp(tok, "dup") == 0) {
        if (need(c, 1)) push(c, c->st.top[-1]);
    } else if (strcmp(tok, "drop") == 0) {
        if (need(c, 1)) c->st.top--;
    } else if (strcmp(tok, "swap") == 0) {
        if (need(c, 2)) { int64_t t = c->st.top[-1]; c->st.top[-1] = c->st.top[-2]; c->st.top[-2] = t; }
    } else if (strcmp(tok, "over") == 0) {
        if (need(c, 2)) push(c, c->st.top[-2]);
    } else if (strcmp(tok, "rot") == 0) {
        if (need(c, 3)) {
            int64_t a = c->st.top[-3];
            c->st.top[-3] = c->st.top[-2];
            c->st.top[-2] = c->st.top[-1];
            c->st.top[-1] = a;
        }
    } else if (strcmp(tok, "neg") == 0) {
        if (need(c, 1)) c->st.top[-1] = wrap_sub(0, c->st.top[-1]);
    } else if (strcmp(tok, "def") == 0) {
        /* def NAME [ body ] */
        Word w;
        memset(&w, 0, sizeof w);
        char open[4];
        if (!next_token(rest, w.name, sizeof w.name) || !next_token(rest, open, sizeof open) ||
            !read_block(rest, w.body, sizeof w.body) || c->nwords >= MAX_WORDS) {
            c->err = E_UNKNOWN;
            return;
        }
        c->words[c->nwords++] = w;
    } else if (strcmp(tok, "times") == 0) {
        /* N times [ body ] : runs body N times with the counter pushed first */
        char body[160], open[4];
        if (!next_token(rest, open, sizeof open) || !read_block(rest, body, sizeof body) || !need(c, 1))
            return;
        int64_t n = *--c->st.top;
        for (int64_t i = 0; i < n && c->err == E_OK; i++) {
            push(c, i);
            run(c, body, level + 1);
        }
    } else if (strcmp(tok, "if") == 0) {
        char body[160], open[4];
        if (!next_token(rest, open, sizeof open) || !read_block(rest, body, sizeof body) || !need(c, 1))
            return;
        if (*--c->st.top)
            run(c, body, level + 1);
    } else {
        const Word *w = find_word(c, tok);
        if (!w)
            c->err = E_UNKNOWN;
        else
            run(c, w->body, level + 1);
    }
}

static void run(Calc *c, const char *src, int level)
{
    char tok[32];
    if (level > 40) {
        c->err = E_DEPTH;
        return;
    }
    const char *p = src;
    while (c->err == E_OK && next_token(&p, tok, sizeof tok))
        exec_token(c, tok, &p, level);
}

static int prec(char op)
{
    switch (op) {
    case '*': case '/': case '%': return 3;
    case '+': case '-': return 2;
    default: return 1;
    }
}

/* Shunting-yard: single-character operators, non-negative integers, parentheses. */
static int to_rpn(const char *in, char *out, size_t cap)
{
    char ops[MAX_TOKENS];
    int nops = 0;
    size_t n = 0;
    for (const char *s = in; *s; s++) {
        if (isdigit((unsigned char)*s)) {
            while (isdigit((unsigned char)*s) && n + 2 < cap)
                out[n++] = *s++;
            out[n++] = ' ';
            s--;
        } else if (*s == '(') {
            ops[nops++] = '(';
        } else if (*s == ')') {
            while (nops > 0 && ops[nops - 1] != '(') {
                out[n++] = ops[--nops];
                out[n++] = ' ';
            }
            if (nops == 0)
                return 0;
            nops--;
        } else if (strchr("+-*/%<", *s)) {
            while (nops > 0 && ops[nops - 1] != '(' && prec(ops[nops - 1]) >= prec(*s)) {
                out[n++] = ops[--nops];
                out[n++] = ' ';
            }
            ops[nops++] = *s;
        }
        if (n + 4 >= cap)
            return 0;
    }
    while (nops > 0) {
        if (ops[nops - 1] == '(')
            return 0;
        out[n++] = ops[--nops];
        out[n++] = ' ';
    }
    out[n] = '\0';
    return 1;
}

static uint32_t rs = 99u;
static uint32_t rnd(uint32_t n)
{
    rs = rs * 1103515245u + 12345u;
    return (rs >> 16) % n;
}

static void gen_infix(char *buf, size_t cap, int depth)
{
    if (depth == 0 || rnd(3) == 0) {
        snprintf(buf, cap, "%u", rnd(50) + 1);
        return;
    }
    char a[256], b[256];
    gen_infix(a, sizeof a, depth - 1);
    gen_infix(b, sizeof b, depth - 1);
    static const char ops[] = "+-*/%<";
    char op = ops[rnd(6)];
    if (rnd(2))
        snprintf(buf, cap, "(%s%c%s)", a, op, b);
    else
        snprintf(buf, cap, "%s%c%s", a, op, b);
}

int main(void)
{
    static const char *programs[] = {
        "3 4 + 5 *",
        "def sq [ dup * ] 0 10 times [ sq + ]",
        "0 25 times [ sq sq + ]",
        "def fact [ 1 swap times [ 1 + * ] ] 20 fact",
        "def fib [ 0 1 rot times [ drop swap over + ] drop ] 90 fib",
        "1 2 3 rot rot + *",
        "def collatz [ dup 2 % if [ 3 * 1 + 0 ] dup 2 % 0 = if [ 2 / ] ] 27 50 times [ drop collatz ]",
        "5 0 /",
        "1 +",
        "frobnicate",
        "def loop [ loop ] loop",
        "-7 3 % -7 3 / 100 200 min 5 9 max",
        "0 100 times [ dup 3 % 0 = if [ + 0 ] drop ]",
    };
    Calc c;
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        calc_init(&c);
        /* The sq word is shared by the second and third programs. */
        if (i == 2)
            run(&c, "def sq [ dup * ]", 0);
        run(&c, programs[i], 0);
        printf("prog %zu: err=%s depth=%d ops=%ld stack=", i, err_name(c.err), depth(&c), c.ops);
        for (int64_t *p = c.st.data; p < c.st.top; p++)
            printf("%s%lld", p == c.st.data ? "" : ",", (long long)*p);
        printf("\n");
    }

    char infix[2048], rpn[4096];
    uint32_t h = 2166136261u;
    int errs[6] = {0};
    long ops = 0;
    for (int i = 0; i < 300; i++) {
        gen_infix(infix, sizeof infix, 2 + i % 4);
        if (!to_rpn(infix, rpn, sizeof rpn)) {
            errs[E_UNKNOWN]++;
            continue;
        }
        calc_init(&c);
        run(&c, rpn, 0);
        errs[c.err]++;
        ops += c.ops;
        if (c.err == E_OK && depth(&c) == 1)
            h = (h ^ (uint32_t)c.st.data[0]) * 16777619u;
        if (i < 3)
            printf("%s => %s=> %lld\n", infix, rpn, c.err == E_OK ? (long long)c.st.data[0] : 0LL);
    }
    printf("infix: ok=%d divzero=%d other=%d ops=%ld hash=%08x\n", errs[E_OK], errs[E_DIVZERO],
           errs[E_UNDERFLOW] + errs[E_OVERFLOW] + errs[E_UNKNOWN] + errs[E_DEPTH], ops, (unsigned)h);
    return 0;
}
