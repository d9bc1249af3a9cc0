/* optgym-builtin: Random arithmetic expression generator and recursive-descent parser/evaluator with precedence climbing, unary operators, comparisons and error reporting, cross-checked against values computed during generation. Style: recursive, string-processing, switch-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#define BUFSZ 4096

/* All arithmetic is modulo 2^32 with x/0 = 0 and x%0 = x, so every expression has a value. */
typedef uint32_t val;

static uint32_t rng = 31337u;

static uint32_t rnd(uint32_t n)
{
    rng = rng * 1664525u + 1013904223u;
    return (rng >> 10) % n;
}

typedef struct {
    char *buf;
    size_t len, cap;
} Out;

static void emit(Out *o, const char *s)
{
    size_t n = strlen(s);
    if (o->len + n + 1 > o->cap)
        n = o->cap - o->len - 1;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static val apply(char op, val a, val b)
{
    switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return b ? a / b : 0;
    case '%': return b ? a % b : a;
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
    case '<': return a < b;
    case '>': return a > b;
    case '=': return a == b;
    default: return 0;
    }
}

static const char *op_text(char op)
{
    switch (op) {
    case '=': return " == ";
    case '<': return " < ";
    case '>': return " > ";
    case '&': return " & ";
    case '|': return " | ";
    case '^': return " ^ ";
    case '+': return " + ";
    case '-': return " - ";
    case '*': return " * ";
    case '/': return " / ";
    default: return " % ";
    }
}

/* Generates a fully parenthesised expression and returns its value. */
static val gen(Out *o, int depth)
{
    char tmp[32];
    uint32_t k = depth <= 0 ? 0 : rnd(10);
    if (k < 3) {
        val v = rnd(4) == 0 ? rnd(100000) : rnd(20);
        snprintf(tmp, sizeof tmp, "%u", v);
        emit(o, tmp);
        return v;
    }
    if (k == 3) {
        emit(o, "-(");
        val v = gen(o, depth - 1);
        emit(o, ")");
        return 0u - v;
    }
    if (k == 4) {
        emit(o, "~");
        emit(o, "(");
        val v = gen(o, depth - 1);
        emit(o, ")");
        return ~v;
    }
    static const char ops[] = "+-*/%&|^<>=";
    char op = ops[rnd(sizeof ops - 1)];
    emit(o, "(");
    val a = gen(o, depth - 1);
    emit(o, op_text(op));
    val b = gen(o, depth - 1);
    emit(o, ")");
    return apply(op, a, b);
}

typedef struct {
    const char *s;
    size_t pos;
    int error;
    size_t error_pos;
    int depth, max_depth;
} Parser;

static void skip_ws(Parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
        p->pos++;
}

static void fail(Parser *p)
{
    if (!p->error) {
        p->error = 1;
        p->error_pos = p->pos;
    }
}

static int precedence(const char *s, char *op, int *len)
{
    *len = 1;
    switch (s[0]) {
    case '=':
        if (s[1] == '=') {
            *op = '=';
            *len = 2;
            return 1;
        }
        return -1;
    case '<': case '>': *op = s[0]; return 1;
    case '|': *op = '|'; return 2;
    case '^': *op = '^'; return 3;
    case '&': *op = '&'; return 4;
    case '+': case '-': *op = s[0]; return 5;
    case '*': case '/': case '%': *op = s[0]; return 6;
    default: return -1;
    }
}

static val parse_expr(Parser *p, int min_prec);

static val parse_primary(Parser *p)
{
    skip_ws(p);
    if (++p->depth > p->max_depth)
        p->max_depth = p->depth;
    val v = 0;
    char c = p->s[p->pos];
    if (c == '(') {
        p->pos++;
        v = parse_expr(p, 1);
        skip_ws(p);
        if (p->s[p->pos] == ')')
            p->pos++;
        else
            fail(p);
    } else if (c == '-') {
        p->pos++;
        v = 0u - parse_primary(p);
    } else if (c == '~') {
        p->pos++;
        v = ~parse_primary(p);
    } else if (isdigit((unsigned char)c)) {
        while (isdigit((unsigned char)p->s[p->pos]))
            v = v * 10u + (val)(p->s[p->pos++] - '0');
    } else {
        fail(p);
    }
    p->depth--;
    return v;
}

/* Precedence climbing: all binary operators are left-associative. */
static val parse_expr(Parser *p, int min_prec)
{
    val lhs = parse_primary(p);
    for (;;) {
        skip_ws(p);
        char op = 0;
        int len;
        int prec = precedence(p->s + p->pos, &op, &len);
        if (prec < min_prec || p->error)
            break;
        p->pos += (size_t)len;
        val rhs = parse_expr(p, prec + 1);
        lhs = apply(op, lhs, rhs);
    }
    return lhs;
}

static int evaluate(const char *s, val *out, size_t *err_pos, int *max_depth)
{
    Parser p = {s, 0, 0, 0, 0, 0};
    *out = parse_expr(&p, 1);
    skip_ws(&p);
    if (p.s[p.pos] != '\0')
        fail(&p);
    *err_pos = p.error_pos;
    *max_depth = p.max_depth;
    return !p.error;
}

int main(void)
{
    static char buf[BUFSZ];
    Out o = {buf, 0, BUFSZ};
    int agree = 0, total = 0, deepest = 0;
    uint32_t h = 0;
    size_t chars = 0;
    for (int i = 0; i < 400; i++) {
        o.len = 0;
        buf[0] = '\0';
        val expect = gen(&o, 2 + i % 7);
        val got;
        size_t ep;
        int md;
        int ok = evaluate(buf, &got, &ep, &md);
        total++;
        if (ok && got == expect)
            agree++;
        if (md > deepest)
            deepest = md;
        chars += o.len;
        h = (h ^ got) * 0x01000193u;
        if (i < 4)
            printf("%s = %u\n", buf, (unsigned)got);
    }
    printf("generated=%d agree=%d chars=%zu deepest=%d hash=%08x\n", total, agree, chars, deepest, (unsigned)h);

    /* Precedence without parentheses, and malformed input. */
    static const char *cases[] = {"1 + 2 * 3",       "2 * 3 + 4 * 5 - 6 / 2", "100 - 10 - 1", "7 & 3 | 8 ^ 1",
                                  "1 + 2 == 3",       "-5 * -(2 + 1)",        "~0 / 3",       "2 * (3 + 4",
                                  "4 + * 5",          "12 % 5 % 3",           "9 = 9",        "  42  ",
                                  "1 < 2 < 3 == 1",   "(((((((1)))))))",      "3 / 0 + 4 % 0", ""};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        val v;
        size_t ep;
        int md;
        if (evaluate(cases[i], &v, &ep, &md))
            printf("[%s] = %u (signed %d)\n", cases[i], (unsigned)v, (int)(int32_t)v);
        else
            printf("[%s] error at %zu\n", cases[i], ep);
    }
    return 0;
}
