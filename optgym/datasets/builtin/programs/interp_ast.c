/* optgym-builtin: Tree-walking interpreter for a tiny imperative language (functions, recursion, locals, while, if/else, integer expressions) with a lexer, a recursive-descent parser building an AST and a recursive evaluator, running several embedded programs. Style: recursive, switch-heavy, pointer-heavy, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

typedef enum { T_NUM, T_ID, T_FN, T_LET, T_IF, T_ELSE, T_WHILE, T_RETURN, T_PRINT, T_OP, T_EOF } TokKind;

typedef struct { TokKind kind; int64_t num; char text[24]; } Token;

typedef enum {
    N_NUM, N_VAR, N_BIN, N_CALL, N_ASSIGN, N_LET, N_IF, N_WHILE, N_RETURN, N_PRINT, N_BLOCK, N_EXPR
} NodeKind;

enum { OP_OR, OP_AND, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD };

/* op: operator code of N_BIN; sym: variable or function symbol; next: sibling in statement and argument lists. */
typedef struct Node {
    NodeKind kind;
    int op, sym;
    int64_t num;
    struct Node *a, *b, *c, *next;
} Node;

typedef struct { int sym, nparams, params[8]; Node *body; } Function;

typedef struct {
    const char *src;
    size_t pos;
    Token tok;
    char syms[128][24];
    Function funcs[16];
    Node pool[1024]; /* node arena: the whole tree is freed with the parser */
    int nsyms, nfuncs, nnodes, error;
} Parser;

typedef struct { int syms[16]; int64_t vals[16]; int n; } Frame;

typedef struct {
    Parser *p;
    Frame globals;
    int returning, depth, max_depth, printed;
    int64_t ret;
    long calls, steps;
    uint32_t out_hash;
} Interp;

static int intern(Parser *p, const char *name)
{
    for (int i = 0; i < p->nsyms; i++)
        if (strcmp(p->syms[i], name) == 0)
            return i;
    if (p->nsyms >= 128)
        return 0;
    snprintf(p->syms[p->nsyms], sizeof p->syms[0], "%s", name);
    return p->nsyms++;
}

static void next(Parser *p)
{
    static const struct { const char *w; TokKind k; } kw[] = {{"fn", T_FN},       {"let", T_LET},       {"if", T_IF},
                                                              {"else", T_ELSE},   {"while", T_WHILE},   {"return", T_RETURN},
                                                              {"print", T_PRINT}};
    static const char *two[] = {"<=", ">=", "==", "!=", "&&", "||"};
    const char *s = p->src;
    while (isspace((unsigned char)s[p->pos]) || s[p->pos] == '#') {
        if (s[p->pos] == '#')
            while (s[p->pos] && s[p->pos] != '\n')
                p->pos++;
        else
            p->pos++;
    }
    Token *t = &p->tok;
    memset(t, 0, sizeof *t);
    char c = s[p->pos];
    if (!c) {
        t->kind = T_EOF;
    } else if (isdigit((unsigned char)c)) {
        t->kind = T_NUM;
        while (isdigit((unsigned char)s[p->pos]))
            t->num = t->num * 10 + (s[p->pos++] - '0');
    } else if (isalpha((unsigned char)c) || c == '_') {
        size_t n = 0;
        for (; isalnum((unsigned char)s[p->pos]) || s[p->pos] == '_'; p->pos++)
            if (n + 1 < sizeof t->text)
                t->text[n++] = s[p->pos];
        t->kind = T_ID;
        for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
            if (strcmp(t->text, kw[i].w) == 0)
                t->kind = kw[i].k;
    } else {
        t->kind = T_OP;
        t->text[0] = c;
        p->pos++;
        for (size_t i = 0; i < 6; i++)
            if (c == two[i][0] && s[p->pos] == two[i][1]) {
                t->text[1] = two[i][1];
                p->pos++;
                break;
            }
    }
}

static int is_op(const Parser *p, const char *op) { return p->tok.kind == T_OP && strcmp(p->tok.text, op) == 0; }

static void expect(Parser *p, const char *op)
{
    if (!is_op(p, op))
        p->error = 1;
    next(p);
}

static Node *mk(Parser *p, NodeKind k)
{
    if (p->nnodes >= 1024) {
        p->error = 1;
        p->nnodes = 1023;
    }
    Node *n = &p->pool[p->nnodes++];
    memset(n, 0, sizeof *n);
    n->kind = k;
    return n;
}

static Node *expr(Parser *p, int min_prec);
static Node *statement(Parser *p);

static Node *primary(Parser *p)
{
    Node *n;
    if (p->tok.kind == T_NUM) {
        n = mk(p, N_NUM);
        n->num = p->tok.num;
        next(p);
    } else if (p->tok.kind == T_ID) {
        int sym = intern(p, p->tok.text);
        next(p);
        n = mk(p, is_op(p, "(") ? N_CALL : N_VAR);
        n->sym = sym;
        if (n->kind == N_CALL) {
            next(p);
            for (Node **tail = &n->a; !is_op(p, ")") && !p->error && p->tok.kind != T_EOF; tail = &(*tail)->next) {
                *tail = expr(p, 1);
                if (is_op(p, ","))
                    next(p);
            }
            expect(p, ")");
        }
    } else if (is_op(p, "(")) {
        next(p);
        n = expr(p, 1);
        expect(p, ")");
    } else if (is_op(p, "-") || is_op(p, "!")) { /* desugared: -x is 0 - x, !x is x == 0 */
        n = mk(p, N_BIN);
        n->op = is_op(p, "-") ? OP_SUB : OP_EQ;
        next(p);
        n->a = mk(p, N_NUM);
        n->b = primary(p);
    } else {
        p->error = 1;
        n = mk(p, N_NUM);
        next(p);
    }
    return n;
}

static int binop_prec(const Parser *p, int *op)
{
    static const struct { const char *s; int op, prec; } table[] = {
        {"||", OP_OR, 1}, {"&&", OP_AND, 2}, {"==", OP_EQ, 3}, {"!=", OP_NE, 3}, {"<", OP_LT, 4},
        {"<=", OP_LE, 4}, {">", OP_GT, 4},   {">=", OP_GE, 4}, {"+", OP_ADD, 5}, {"-", OP_SUB, 5},
        {"*", OP_MUL, 6}, {"/", OP_DIV, 6},  {"%", OP_MOD, 6}};
    for (size_t i = 0; p->tok.kind == T_OP && i < sizeof table / sizeof table[0]; i++)
        if (strcmp(p->tok.text, table[i].s) == 0) {
            *op = table[i].op;
            return table[i].prec;
        }
    return -1;
}

/* Precedence climbing; all binary operators are left-associative. */
static Node *expr(Parser *p, int min_prec)
{
    Node *lhs = primary(p);
    int op = 0, prec;
    while ((prec = binop_prec(p, &op)) >= min_prec && !p->error) {
        next(p);
        Node *n = mk(p, N_BIN);
        n->op = op;
        n->a = lhs;
        n->b = expr(p, prec + 1);
        lhs = n;
    }
    return lhs;
}

static Node *block(Parser *p)
{
    Node *b = mk(p, N_BLOCK);
    expect(p, "{");
    for (Node **tail = &b->a; !is_op(p, "}") && p->tok.kind != T_EOF && !p->error; tail = &(*tail)->next)
        *tail = statement(p);
    expect(p, "}");
    return b;
}

static Node *statement(Parser *p)
{
    Node *n;
    TokKind k = p->tok.kind;
    switch (k) {
    case T_IF:
    case T_WHILE:
        next(p);
        n = mk(p, k == T_IF ? N_IF : N_WHILE);
        n->a = expr(p, 1);
        n->b = block(p);
        if (k == T_IF && p->tok.kind == T_ELSE) {
            next(p);
            n->c = p->tok.kind == T_IF ? statement(p) : block(p);
        }
        return n;
    case T_RETURN:
    case T_PRINT:
        next(p);
        n = mk(p, k == T_RETURN ? N_RETURN : N_PRINT);
        n->a = expr(p, 1);
        break;
    default: /* let NAME = e; NAME = e; and expression statements */
        if (is_op(p, "{"))
            return block(p);
        if (k == T_LET)
            next(p);
        n = mk(p, N_EXPR);
        n->a = expr(p, 1);
        if (k == T_LET && (n->a->kind != N_VAR || !is_op(p, "=")))
            p->error = 1;
        if (is_op(p, "=") && n->a->kind == N_VAR) {
            next(p);
            n->kind = k == T_LET ? N_LET : N_ASSIGN;
            n->sym = n->a->sym;
            n->a = expr(p, 1);
        }
        break;
    }
    expect(p, ";");
    return n;
}

static Node *program(Parser *p)
{
    Node *main_block = mk(p, N_BLOCK);
    Node **tail = &main_block->a;
    next(p);
    while (p->tok.kind != T_EOF && !p->error) {
        if (p->tok.kind != T_FN) {
            *tail = statement(p);
            tail = &(*tail)->next;
            continue;
        }
        next(p);
        Function *f = &p->funcs[p->nfuncs < 15 ? p->nfuncs++ : 15];
        f->sym = intern(p, p->tok.text);
        f->nparams = 0;
        next(p);
        expect(p, "(");
        for (; p->tok.kind == T_ID && f->nparams < 8; next(p)) {
            f->params[f->nparams++] = intern(p, p->tok.text);
            if (next(p), !is_op(p, ","))
                break;
        }
        expect(p, ")");
        f->body = block(p);
    }
    return main_block;
}

static int64_t *lookup(Interp *in, Frame *f, int sym)
{
    for (Frame *fr = f;; fr = &in->globals) {
        for (int i = fr->n - 1; i >= 0; i--)
            if (fr->syms[i] == sym)
                return &fr->vals[i];
        if (fr == &in->globals)
            return NULL;
    }
}

static void define(Frame *f, int sym, int64_t v)
{
    for (int i = 0; i < f->n; i++)
        if (f->syms[i] == sym) {
            f->vals[i] = v;
            return;
        }
    if (f->n < 16) {
        f->syms[f->n] = sym;
        f->vals[f->n++] = v;
    }
}

static int64_t arith(int op, int64_t a, int64_t b)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    int bad_div = b == 0 || (a == INT64_MIN && b == -1);
    switch (op) {
    case OP_ADD: return (int64_t)(ua + ub);
    case OP_SUB: return (int64_t)(ua - ub);
    case OP_MUL: return (int64_t)(ua * ub);
    case OP_DIV: return bad_div ? 0 : a / b;
    case OP_MOD: return bad_div ? 0 : a % b;
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    default: return a >= b;
    }
}

static int64_t eval(Interp *in, Node *n, Frame *f);
static int64_t call(Interp *in, Node *n, Frame *f)
{
    Function *fn = NULL;
    for (int i = 0; i < in->p->nfuncs; i++)
        if (in->p->funcs[i].sym == n->sym)
            fn = &in->p->funcs[i];
    if (!fn || in->depth > 200)
        return 0;
    Frame local = {.n = 0};
    int k = 0;
    for (Node *arg = n->a; arg; arg = arg->next, k++) {
        int64_t v = eval(in, arg, f);
        if (k < fn->nparams)
            define(&local, fn->params[k], v);
    }
    in->calls++;
    if (++in->depth > in->max_depth)
        in->max_depth = in->depth;
    eval(in, fn->body, &local);
    in->depth--;
    int64_t r = in->returning ? in->ret : 0;
    in->returning = 0;
    return r;
}

/* One recursive walker for expressions and statements; statements evaluate to 0. */
static int64_t eval(Interp *in, Node *n, Frame *f)
{
    int64_t v = 0, *slot;
    if (in->returning)
        return 0;
    in->steps++;
    switch (n->kind) {
    case N_NUM: return n->num;
    case N_VAR: return (slot = lookup(in, f, n->sym)) ? *slot : 0;
    case N_BIN:
        if (n->op == OP_AND)
            return eval(in, n->a, f) && eval(in, n->b, f);
        if (n->op == OP_OR)
            return eval(in, n->a, f) || eval(in, n->b, f);
        v = eval(in, n->a, f);
        return arith(n->op, v, eval(in, n->b, f));
    case N_CALL: return call(in, n, f);
    case N_BLOCK:
        for (Node *s = n->a; s && !in->returning; s = s->next)
            eval(in, s, f);
        break;
    case N_LET: define(f, n->sym, eval(in, n->a, f)); break;
    case N_ASSIGN:
        v = eval(in, n->a, f);
        if ((slot = lookup(in, f, n->sym)) != NULL)
            *slot = v;
        else
            define(f, n->sym, v);
        break;
    case N_IF:
        if (eval(in, n->a, f))
            eval(in, n->b, f);
        else if (n->c)
            eval(in, n->c, f);
        break;
    case N_WHILE:
        while (!in->returning && eval(in, n->a, f))
            eval(in, n->b, f);
        break;
    case N_RETURN:
        in->ret = eval(in, n->a, f);
        in->returning = 1;
        break;
    case N_PRINT:
        v = eval(in, n->a, f);
        in->out_hash = (in->out_hash ^ (uint32_t)v) * 16777619u;
        if (in->printed++ < 12)
            printf("  print %lld\n", (long long)v);
        break;
    case N_EXPR: eval(in, n->a, f); break;
    }
    return 0;
}

static void run_program(const char *name, const char *src)
{
    Parser *p = calloc(1, sizeof *p);
    p->src = src;
    Node *root = program(p);
    Interp in = {.p = p, .out_hash = 2166136261u};
    printf("%s:\n", name);
    if (!p->error)
        eval(&in, root, &in.globals);
    printf("  error=%d nodes=%d calls=%ld steps=%ld depth=%d prints=%d hash=%08x\n", p->error, p->nnodes, in.calls,
           in.steps, in.max_depth, in.printed, (unsigned)in.out_hash);
    free(p);
}

int main(void)
{
    static const char *programs[][2] = {
        {"fib", "fn fib(n) { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }\n"
                "let i = 0; while i <= 16 { if i % 4 == 0 { print fib(i); } i = i + 1; }"},
        {"gcd_primes", "fn gcd(a, b) { while b != 0 { let t = a % b; a = b; b = t; } return a; }\n"
                       "fn is_prime(n) { if n < 2 { return 0; } let d = 2; while d * d <= n { if n % d == 0 { return 0; }"
                       " d = d + 1; } return 1; }\nprint gcd(1071, 462); print gcd(2 * 3 * 5 * 7 * 11, 7 * 11 * 13);\n"
                       "let count = 0; let k = 0; while k < 600 { count = count + is_prime(k); k = k + 1; } print count;"},
        {"collatz", "fn steps(n) { let s = 0; while n != 1 { if n % 2 == 0 { n = n / 2; } else { n = 3 * n + 1; }"
                    " s = s + 1; } return s; }\nlet best = 0; let arg = 0; let i = 1;\n"
                    "while i < 300 { let s = steps(i); if s > best { best = s; arg = i; } i = i + 1; } print arg; print best;"},
        {"ackermann", "fn ack(m, n) { if m == 0 { return n + 1; } if n == 0 { return ack(m - 1, 1); }\n"
                      "  return ack(m - 1, ack(m, n - 1)); }\nprint ack(2, 3); print ack(2, 30); print ack(3, 3);"},
        {"mixed", "# logic, negatives, nested ifs, short circuit\n"
                  "fn sign(x) { if x < 0 { return -1; } else if x == 0 { return 0; } else { return 1; } }\n"
                  "fn pow(b, e) { let r = 1; while e > 0 { if e % 2 == 1 { r = r * b; } b = b * b; e = e / 2; } return r; }\n"
                  "print sign(-5) + sign(0) * 10 + sign(7) * 100; print pow(3, 13); print pow(2, 62) + pow(2, 62) - 1;\n"
                  "print -17 / 5; print -17 % 5; print (1 < 2) && (2 < 1) || !(3 == 4); print 10 / 0;"},
        {"broken", "fn f(x) { return x + ; }"},
        {"bad_let", "let 5 = 3;"}};
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
        run_program(programs[i][0], programs[i][1]);
    return 0;
}
