/* optgym-builtin: A hand-written lexer that tokenizes a generated C-like source text into identifiers, keywords, numbers, strings, comments and operators, then reports token statistics. Style: switch-heavy, string-processing, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

typedef enum { T_IDENT, T_KEYWORD, T_INT, T_HEX, T_FLOAT, T_STRING, T_CHAR, T_OP, T_PUNCT, T_COMMENT, T_ERROR, T_EOF, T_COUNT } Kind;

static const char *const KIND_NAMES[T_COUNT] = {"ident", "keyword", "int", "hex", "float", "string",
                                                "char", "op", "punct", "comment", "error", "eof"};
static const char *const KEYWORDS[] = {"int", "char", "return", "if", "else", "while", "for", "struct",
                                       "static", "void", "unsigned", "const", "break", "sizeof"};

typedef struct {
    Kind kind;
    const char *start;
    int len;
    int line;
} Token;

typedef struct {
    const char *p;
    int line;
} Lexer;

static int is_keyword(const char *s, int len)
{
    for (size_t i = 0; i < sizeof KEYWORDS / sizeof KEYWORDS[0]; ++i)
        if ((int)strlen(KEYWORDS[i]) == len && memcmp(KEYWORDS[i], s, (size_t)len) == 0) return 1;
    return 0;
}

static void skip_space(Lexer *lx)
{
    while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r') {
        if (*lx->p == '\n') lx->line++;
        lx->p++;
    }
}

static Kind lex_number(Lexer *lx)
{
    const char *p = lx->p;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        while (isxdigit((unsigned char)*p)) p++;
        lx->p = p;
        return T_HEX;
    }
    while (isdigit((unsigned char)*p)) p++;
    Kind k = T_INT;
    if (*p == '.') {
        k = T_FLOAT;
        p++;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        k = T_FLOAT;
        p++;
        if (*p == '+' || *p == '-') p++;
        while (isdigit((unsigned char)*p)) p++;
    }
    while (*p == 'u' || *p == 'U' || *p == 'l' || *p == 'L') p++;
    lx->p = p;
    return k;
}

static Kind lex_quoted(Lexer *lx, char q)
{
    const char *p = lx->p + 1;
    while (*p && *p != q) {
        if (*p == '\\' && p[1]) p++;
        if (*p == '\n') {
            lx->p = p;
            return T_ERROR;
        }
        p++;
    }
    if (!*p) {
        lx->p = p;
        return T_ERROR;
    }
    lx->p = p + 1;
    return q == '"' ? T_STRING : T_CHAR;
}

static Token next_token(Lexer *lx)
{
    skip_space(lx);
    Token t = {T_EOF, lx->p, 0, lx->line};
    char c = *lx->p;
    char n = c ? lx->p[1] : 0;
    switch (c) {
    case '\0':
        return t;
    case '/':
        if (n == '/') {
            while (*lx->p && *lx->p != '\n') lx->p++;
            t.kind = T_COMMENT;
        } else if (n == '*') {
            lx->p += 2;
            while (*lx->p && !(lx->p[0] == '*' && lx->p[1] == '/')) {
                if (*lx->p == '\n') lx->line++;
                lx->p++;
            }
            if (*lx->p) lx->p += 2;
            t.kind = T_COMMENT;
        } else {
            lx->p += (n == '=') ? 2 : 1;
            t.kind = T_OP;
        }
        break;
    case '"':
    case '\'':
        t.kind = lex_quoted(lx, c);
        break;
    case '(': case ')': case '{': case '}': case '[': case ']': case ';': case ',':
        lx->p++;
        t.kind = T_PUNCT;
        break;
    case '+': case '-': case '&': case '|':
        /* ++ -- && || and compound assignment, plus -> */
        if (n == c || n == '=' || (c == '-' && n == '>')) lx->p += 2;
        else lx->p++;
        t.kind = T_OP;
        break;
    case '<': case '>':
        if (n == c) lx->p += (lx->p[2] == '=') ? 3 : 2;
        else lx->p += (n == '=') ? 2 : 1;
        t.kind = T_OP;
        break;
    case '=': case '!': case '*': case '%': case '^':
        lx->p += (n == '=') ? 2 : 1;
        t.kind = T_OP;
        break;
    case '~': case '?': case ':': case '.':
        lx->p++;
        t.kind = T_OP;
        break;
    default:
        if (isalpha((unsigned char)c) || c == '_') {
            while (isalnum((unsigned char)*lx->p) || *lx->p == '_') lx->p++;
            t.kind = is_keyword(t.start, (int)(lx->p - t.start)) ? T_KEYWORD : T_IDENT;
        } else if (isdigit((unsigned char)c)) {
            t.kind = lex_number(lx);
        } else {
            lx->p++;
            t.kind = T_ERROR;
        }
    }
    t.len = (int)(lx->p - t.start);
    return t;
}

static uint32_t g = 424242u;
static unsigned pick(unsigned n)
{
    g = g * 1664525u + 1013904223u;
    return (g >> 16) % n;
}

static size_t emit(char *buf, size_t pos, const char *s)
{
    size_t n = strlen(s);
    memcpy(buf + pos, s, n);
    return pos + n;
}

static size_t generate_source(char *buf, size_t cap)
{
    static const char *const types[] = {"int", "unsigned", "char", "const char *", "struct node *"};
    static const char *const names[] = {"count", "idx", "ptr", "buf_len", "_tmp", "acc", "x1", "node"};
    static const char *const ops[] = {" + ", " - ", " * ", " << ", " >>= ", " && ", " != ", " -> ", " % ", " |= "};
    static const char *const lits[] = {"42", "0x1F", "3.25", "1e-3", "'a'", "\"hi\\n\"", "7UL", "'\\''"};
    size_t pos = 0;
    char tmp[96];
    int fn = 0;
    while (pos + 400 < cap) {
        unsigned rt = pick(5), pt = pick(5);
        snprintf(tmp, sizeof tmp, "/* function %d */\nstatic %s f%d(%s a, int b)\n{\n", fn, types[rt], fn,
                 types[pt]);
        pos = emit(buf, pos, tmp);
        int stmts = 2 + (int)pick(6);
        for (int s = 0; s < stmts; ++s) {
            /* draw every choice in a fixed order: argument evaluation order is unspecified */
            unsigned kind = pick(4), r1 = pick(8), r2 = pick(8), r3 = pick(10), r4 = pick(8), r5 = pick(5);
            unsigned r6 = pick(8), r7 = pick(8);
            switch (kind) {
            case 0:
                snprintf(tmp, sizeof tmp, "    %s %s = %s%s%s;\n", types[r5], names[r1], names[r2], ops[r3],
                         lits[r4]);
                break;
            case 1:
                snprintf(tmp, sizeof tmp, "    if (%s%s%s) { %s++; } // branch\n", names[r1], ops[r3], lits[r4],
                         names[r2]);
                break;
            case 2:
                snprintf(tmp, sizeof tmp, "    while (b-- > 0) %s[b] = sizeof(%s);\n", names[r1], types[r5]);
                break;
            default:
                snprintf(tmp, sizeof tmp, "    %s = f%d(%s, %s) ? %s : %s;\n", names[r1], fn, names[r2],
                         lits[r4], lits[r6], names[r7]);
            }
            pos = emit(buf, pos, tmp);
        }
        pos = emit(buf, pos, pick(7) == 0 ? "    return @;\n}\n" : "    return a;\n}\n");
        fn++;
    }
    buf[pos] = '\0';
    return pos;
}

int main(void)
{
    enum { CAP = 24000 };
    char *src = malloc(CAP);
    if (!src) return 1;
    size_t n = generate_source(src, CAP);
    Lexer lx = {src, 1};
    unsigned counts[T_COUNT] = {0};
    unsigned long total_len = 0;
    uint32_t h = 0;
    int longest = 0, depth = 0, max_depth = 0;
    Token t;
    do {
        t = next_token(&lx);
        counts[t.kind]++;
        total_len += (unsigned long)t.len;
        if (t.len > longest) longest = t.len;
        if (t.kind == T_PUNCT) {
            if (*t.start == '{' || *t.start == '(') depth++;
            if (*t.start == '}' || *t.start == ')') depth--;
            if (depth > max_depth) max_depth = depth;
        }
        for (int i = 0; i < t.len; ++i) h = (h * 31u) + (uint8_t)t.start[i];
        h ^= (uint32_t)t.kind << 24;
    } while (t.kind != T_EOF);
    printf("source: %zu bytes, %d lines\n", n, lx.line);
    for (int k = 0; k < T_COUNT; ++k) printf("%s=%u%c", KIND_NAMES[k], counts[k], k == T_COUNT - 1 ? '\n' : ' ');
    printf("chars=%lu longest=%d depth=%d/%d hash=%08x\n", total_len, longest, depth, max_depth, (unsigned)h);
    free(src);
    return 0;
}
