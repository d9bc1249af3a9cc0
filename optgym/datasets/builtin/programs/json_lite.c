/* optgym-builtin: A recursive-descent parser for a JSON-like document generated in the program, building a tree of tagged values and computing statistics, depth and a canonical re-serialization hash. Style: recursive, switch-heavy, string-processing, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } JType;

typedef struct JVal {
    JType type;
    long num;          /* numbers are integers scaled by 100 */
    char *str;         /* string value or object key owner */
    struct JVal *kids; /* array items / object values */
    char **keys;
    int n, cap;
} JVal;

typedef struct {
    const char *s;
    size_t pos;
    int err;
} Parser;

static void ws(Parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\n' || p->s[p->pos] == '\t') p->pos++;
}

static int parse_value(Parser *p, JVal *out, int depth);

static char *parse_string(Parser *p)
{
    if (p->s[p->pos] != '"') {
        p->err = 1;
        return NULL;
    }
    p->pos++;
    size_t cap = 16, n = 0;
    char *buf = malloc(cap);
    while (p->s[p->pos] && p->s[p->pos] != '"') {
        char c = p->s[p->pos++];
        if (c == '\\') {
            char e = p->s[p->pos++];
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            default: p->err = 1; c = '?'; break;
            }
        }
        if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
        buf[n++] = c;
    }
    if (p->s[p->pos] != '"') p->err = 1;
    else p->pos++;
    buf[n] = '\0';
    return buf;
}

static long parse_number(Parser *p)
{
    int neg = 0;
    long ip = 0, frac = 0, scale = 100;
    if (p->s[p->pos] == '-') {
        neg = 1;
        p->pos++;
    }
    while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9') ip = ip * 10 + (p->s[p->pos++] - '0');
    if (p->s[p->pos] == '.') {
        p->pos++;
        while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (p->s[p->pos] - '0') * scale;
            }
            p->pos++;
        }
    }
    long v = ip * 100 + frac;
    return neg ? -v : v;
}

static void push(JVal *v, char *key, JVal *item)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->kids = realloc(v->kids, (size_t)v->cap * sizeof(JVal));
        if (v->type == J_OBJ) v->keys = realloc(v->keys, (size_t)v->cap * sizeof(char *));
    }
    v->kids[v->n] = *item;
    if (v->type == J_OBJ) v->keys[v->n] = key;
    v->n++;
}

static int parse_container(Parser *p, JVal *out, int depth, char close)
{
    p->pos++;
    ws(p);
    if (p->s[p->pos] == close) {
        p->pos++;
        return depth;
    }
    int maxd = depth;
    for (;;) {
        char *key = NULL;
        ws(p);
        if (close == '}') {
            key = parse_string(p);
            ws(p);
            if (p->s[p->pos] != ':') p->err = 1;
            p->pos++;
        }
        JVal item;
        int d = parse_value(p, &item, depth + 1);
        if (d > maxd) maxd = d;
        push(out, key, &item);
        ws(p);
        if (p->err) return maxd;
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == close) {
            p->pos++;
            return maxd;
        }
        p->err = 1;
        return maxd;
    }
}

static int literal(Parser *p, const char *word, int depth)
{
    size_t n = strlen(word);
    if (strncmp(p->s + p->pos, word, n) != 0) p->err = 1;
    else p->pos += n;
    return depth;
}

static int parse_value(Parser *p, JVal *out, int depth)
{
    memset(out, 0, sizeof *out);
    ws(p);
    char c = p->s[p->pos];
    switch (c) {
    case '{': out->type = J_OBJ; return parse_container(p, out, depth, '}');
    case '[': out->type = J_ARR; return parse_container(p, out, depth, ']');
    case '"': out->type = J_STR; out->str = parse_string(p); return depth;
    case 't': out->type = J_BOOL; out->num = 1; return literal(p, "true", depth);
    case 'f': out->type = J_BOOL; return literal(p, "false", depth);
    case 'n': out->type = J_NULL; return literal(p, "null", depth);
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            out->type = J_NUM;
            out->num = parse_number(p);
            return depth;
        }
        p->err = 1;
        return depth;
    }
}

typedef struct {
    int counts[6];
    long numsum;
    size_t strbytes;
    uint32_t hash;
} Stats;

static void hash_str(Stats *st, const char *s)
{
    while (*s) st->hash = (st->hash ^ (uint8_t)*s++) * 16777619u;
}

static void walk(const JVal *v, Stats *st)
{
    st->counts[v->type]++;
    char tag[24];
    snprintf(tag, sizeof tag, "<%d:%ld>", (int)v->type, v->type == J_NUM || v->type == J_BOOL ? v->num : 0L);
    hash_str(st, tag);
    switch (v->type) {
    case J_NUM: st->numsum += v->num; break;
    case J_STR: st->strbytes += strlen(v->str); hash_str(st, v->str); break;
    case J_ARR:
    case J_OBJ:
        for (int i = 0; i < v->n; ++i) {
            if (v->type == J_OBJ) hash_str(st, v->keys[i]);
            walk(&v->kids[i], st);
        }
        break;
    default: break;
    }
}

static void free_val(JVal *v)
{
    free(v->str);
    for (int i = 0; i < v->n; ++i) {
        free_val(&v->kids[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
}

static uint32_t rs = 99991u;
static unsigned rnd(unsigned n)
{
    rs = rs * 1103515245u + 12345u;
    return (rs >> 16) % n;
}

typedef struct {
    char *buf;
    size_t len, cap;
} Sb;

static void sb_add(Sb *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap) b->cap *= 2;
        b->buf = realloc(b->buf, b->cap);
    }
    memcpy(b->buf + b->len, s, n + 1);
    b->len += n;
}

static void gen(Sb *b, int depth)
{
    static const char *const words[] = {"alpha", "beta", "gamma", "de\\\"lta", "eps\\nilon", "zeta"};
    char tmp[48];
    unsigned k = depth > 4 ? 2 + rnd(4) : rnd(6);
    switch (k) {
    case 0:
    case 1: {
        int n = 1 + (int)rnd(5);
        sb_add(b, k == 0 ? "{" : "[");
        for (int i = 0; i < n; ++i) {
            if (i) sb_add(b, ", ");
            if (k == 0) {
                snprintf(tmp, sizeof tmp, "\"%s_%d\": ", words[rnd(6)], i);
                sb_add(b, tmp);
            }
            gen(b, depth + 1);
        }
        sb_add(b, k == 0 ? "}" : "]");
        break;
    }
    case 2: {
        unsigned sign = rnd(3), ip = rnd(10000), fp = rnd(100);
        snprintf(tmp, sizeof tmp, "%s%u.%02u", sign ? "" : "-", ip, fp);
        sb_add(b, tmp);
        break;
    }
    case 3: snprintf(tmp, sizeof tmp, "\"%s\"", words[rnd(6)]); sb_add(b, tmp); break;
    case 4: sb_add(b, rnd(2) ? "true" : "false"); break;
    default: sb_add(b, rnd(4) ? "\"x\"" : "null"); break;
    }
}

int main(void)
{
    Sb b = {malloc(256), 0, 256};
    b.buf[0] = '\0';
    sb_add(&b, "[");
    for (int i = 0; i < 60; ++i) {
        if (i) sb_add(&b, ",\n ");
        gen(&b, 0);
    }
    sb_add(&b, "]");
    Parser p = {b.buf, 0, 0};
    JVal root;
    int depth = parse_value(&p, &root, 0);
    Stats st;
    memset(&st, 0, sizeof st);
    st.hash = 2166136261u;
    walk(&root, &st);
    printf("doc=%zu bytes parsed=%zu err=%d depth=%d\n", b.len, p.pos, p.err, depth);
    printf("null=%d bool=%d num=%d str=%d arr=%d obj=%d\n", st.counts[0], st.counts[1], st.counts[2],
           st.counts[3], st.counts[4], st.counts[5]);
    printf("numsum=%ld.%02ld strbytes=%zu hash=%08x\n", st.numsum / 100, labs(st.numsum % 100), st.strbytes,
           (unsigned)st.hash);
    free_val(&root);
    static const char *const broken[] = {"[1, 2", "{\"a\" 1}", "[tru]", "{\"k\": [1, 2,]}", "\"abc"};
    int errs = 0;
    for (int i = 0; i < 5; ++i) {
        Parser q = {broken[i], 0, 0};
        JVal v;
        parse_value(&q, &v, 0);
        errs += q.err;
        free_val(&v);
    }
    printf("broken detected=%d/5\n", errs);
    free(b.buf);
    return 0;
}
