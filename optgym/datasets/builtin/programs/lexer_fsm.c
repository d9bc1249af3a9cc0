/* optgym-builtin: Table-driven DFA lexer for a C-like language (identifiers, keywords, decimal/hex/float numbers, strings with escapes, comments, multi-character operators) run over generated source text. Style: string-processing, loop-heavy, switch-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Character classes. */
enum { C_OTHER, C_LETTER, C_DIGIT, C_ZERO, C_X, C_HEXLET, C_DOT, C_QUOTE, C_BSLASH, C_SLASH, C_STAR, C_NL, C_SPACE,
       C_OPCH, C_EQ, C_EOF, NCLASS };

/* DFA states; S_ERR means "no transition". */
enum { S_START, S_IDENT, S_INT, S_ZERO, S_HEX0, S_HEX, S_FLOAT0, S_FLOAT, S_STR, S_STRESC, S_STREND, S_SLASH,
       S_LCOMMENT, S_BCOMMENT, S_BSTAR, S_BEND, S_WS, S_OP, S_OPEQ, S_OTHER, NSTATE, S_ERR = 255 };

typedef enum { T_NONE, T_IDENT, T_KEYWORD, T_INT, T_HEX, T_FLOAT, T_STRING, T_COMMENT, T_WS, T_OP, T_ERROR, NTOK } Tok;

static const char *tok_names[NTOK] = {"none", "ident", "keyword", "int", "hex", "float", "string", "comment", "ws",
                                      "op", "error"};

static uint8_t cclass[256];
static uint8_t trans[NSTATE][NCLASS];
static uint8_t accept[NSTATE];

static void set_range(int lo, int hi, int cls)
{
    for (int c = lo; c <= hi; c++)
        cclass[c] = (uint8_t)cls;
}

static void build_tables(void)
{
    memset(cclass, C_OTHER, sizeof cclass);
    set_range('a', 'z', C_LETTER);
    set_range('A', 'Z', C_LETTER);
    set_range('a', 'f', C_HEXLET);
    set_range('A', 'F', C_HEXLET);
    cclass['_'] = C_LETTER;
    cclass['x'] = C_X;
    set_range('1', '9', C_DIGIT);
    cclass['0'] = C_ZERO;
    cclass['.'] = C_DOT;
    cclass['"'] = C_QUOTE;
    cclass['\\'] = C_BSLASH;
    cclass['/'] = C_SLASH;
    cclass['*'] = C_STAR;
    cclass['\n'] = C_NL;
    cclass[' '] = C_SPACE;
    cclass['\t'] = C_SPACE;
    const char *ops = "+-<>!&|^%(){}[];,";
    for (const char *p = ops; *p; p++)
        cclass[(unsigned char)*p] = C_OPCH;
    cclass['='] = C_EQ;
    cclass[0] = C_EOF;

    memset(trans, S_ERR, sizeof trans);
    memset(accept, T_NONE, sizeof accept);
    for (int c = 0; c < NCLASS; c++) {
        trans[S_STR][c] = S_STR;
        trans[S_STRESC][c] = S_STR;
        trans[S_LCOMMENT][c] = S_LCOMMENT;
        trans[S_BCOMMENT][c] = S_BCOMMENT;
        trans[S_BSTAR][c] = S_BCOMMENT;
    }
    trans[S_STR][C_QUOTE] = S_STREND;
    trans[S_STR][C_BSLASH] = S_STRESC;
    trans[S_STR][C_NL] = S_ERR;
    trans[S_STR][C_EOF] = S_ERR;
    trans[S_LCOMMENT][C_NL] = S_ERR;
    trans[S_LCOMMENT][C_EOF] = S_ERR;
    trans[S_BCOMMENT][C_STAR] = S_BSTAR;
    trans[S_BCOMMENT][C_EOF] = S_ERR;
    trans[S_BSTAR][C_STAR] = S_BSTAR;
    trans[S_BSTAR][C_SLASH] = S_BEND;
    trans[S_BSTAR][C_EOF] = S_ERR;

    trans[S_START][C_LETTER] = trans[S_START][C_X] = trans[S_START][C_HEXLET] = S_IDENT;
    trans[S_IDENT][C_LETTER] = trans[S_IDENT][C_X] = trans[S_IDENT][C_HEXLET] = S_IDENT;
    trans[S_IDENT][C_DIGIT] = trans[S_IDENT][C_ZERO] = S_IDENT;
    trans[S_START][C_DIGIT] = S_INT;
    trans[S_START][C_ZERO] = S_ZERO;
    trans[S_INT][C_DIGIT] = trans[S_INT][C_ZERO] = S_INT;
    trans[S_ZERO][C_X] = S_HEX0;
    trans[S_HEX0][C_DIGIT] = trans[S_HEX0][C_ZERO] = trans[S_HEX0][C_HEXLET] = S_HEX;
    trans[S_HEX][C_DIGIT] = trans[S_HEX][C_ZERO] = trans[S_HEX][C_HEXLET] = S_HEX;
    trans[S_INT][C_DOT] = trans[S_ZERO][C_DOT] = S_FLOAT0;
    trans[S_FLOAT0][C_DIGIT] = trans[S_FLOAT0][C_ZERO] = S_FLOAT;
    trans[S_FLOAT][C_DIGIT] = trans[S_FLOAT][C_ZERO] = S_FLOAT;
    trans[S_START][C_QUOTE] = S_STR;
    trans[S_START][C_SLASH] = S_SLASH;
    trans[S_SLASH][C_SLASH] = S_LCOMMENT;
    trans[S_SLASH][C_STAR] = S_BCOMMENT;
    trans[S_SLASH][C_EQ] = S_OPEQ;
    trans[S_START][C_SPACE] = trans[S_START][C_NL] = S_WS;
    trans[S_WS][C_SPACE] = trans[S_WS][C_NL] = S_WS;
    trans[S_START][C_OPCH] = trans[S_START][C_STAR] = trans[S_START][C_EQ] = S_OP;
    trans[S_OP][C_EQ] = S_OPEQ;
    trans[S_START][C_OTHER] = trans[S_START][C_DOT] = trans[S_START][C_BSLASH] = S_OTHER;

    accept[S_IDENT] = T_IDENT;
    accept[S_INT] = accept[S_ZERO] = T_INT;
    accept[S_HEX] = T_HEX;
    accept[S_FLOAT] = T_FLOAT;
    accept[S_STREND] = T_STRING;
    accept[S_SLASH] = accept[S_OP] = accept[S_OPEQ] = T_OP;
    accept[S_LCOMMENT] = accept[S_BEND] = T_COMMENT;
    accept[S_WS] = T_WS;
}

static const char *keywords[] = {"if", "else", "while", "for", "return", "int", "char", "struct", "break", "void"};

static int is_keyword(const char *s, size_t n)
{
    for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
        if (strlen(keywords[k]) == n && memcmp(keywords[k], s, n) == 0)
            return 1;
    return 0;
}

typedef struct {
    Tok kind;
    size_t start, len;
    int line, col;
} Token;

/* Maximal munch: run the DFA, remember the last accepting position. */
static Token next_token(const char *src, size_t pos, int line, int col)
{
    Token t = {T_NONE, pos, 0, line, col};
    uint8_t s = S_START;
    size_t i = pos, last_len = 0;
    Tok last_kind = T_NONE;
    for (;;) {
        uint8_t cls = cclass[(unsigned char)src[i]];
        uint8_t ns = trans[s][cls];
        if (ns == S_ERR)
            break;
        s = ns;
        i++;
        if (accept[s] != T_NONE) {
            last_kind = (Tok)accept[s];
            last_len = i - pos;
        }
        if (src[i - 1] == '\0')
            break;
    }
    if (last_kind == T_NONE) {
        t.kind = T_ERROR;
        t.len = 1;
        return t;
    }
    t.kind = last_kind;
    t.len = last_len;
    if (t.kind == T_IDENT && is_keyword(src + pos, t.len))
        t.kind = T_KEYWORD;
    return t;
}

static uint32_t rng = 2024u;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 22695477u + 1u;
    return (rng >> 12) % n;
}

static size_t append(char *buf, size_t n, size_t cap, const char *s)
{
    while (*s && n + 1 < cap)
        buf[n++] = *s++;
    buf[n] = '\0';
    return n;
}

static size_t gen_source(char *buf, size_t cap, int stmts)
{
    static const char *idents[] = {"x", "count", "buf_len", "node", "tmp2", "alpha", "_priv", "i"};
    static const char *ops[] = {" + ", " - ", " * ", " / ", " == ", " != ", " <= ", " && ", " |= ", " << "};
    char num[32];
    size_t n = 0;
    buf[0] = '\0';
    for (int s = 0; s < stmts; s++) {
        switch (rnd(7)) {
        case 0:
            n = append(buf, n, cap, "int ");
            n = append(buf, n, cap, idents[rnd(8)]);
            snprintf(num, sizeof num, " = %u;\n", rnd(100000));
            n = append(buf, n, cap, num);
            break;
        case 1:
            n = append(buf, n, cap, "if (");
            n = append(buf, n, cap, idents[rnd(8)]);
            n = append(buf, n, cap, ops[rnd(10)]);
            snprintf(num, sizeof num, "0x%X) {\n", rnd(65536));
            n = append(buf, n, cap, num);
            break;
        case 2:
            n = append(buf, n, cap, "/* block comment * with stars ** */ ");
            break;
        case 3:
            n = append(buf, n, cap, "// line comment\n");
            break;
        case 4:
            n = append(buf, n, cap, "print(\"value \\\"q\\\" \\n\", ");
            {
                uint32_t whole = rnd(100); /* own statement: argument evaluation order is unspecified */
                snprintf(num, sizeof num, "%u.%u);\n", whole, rnd(1000));
            }
            n = append(buf, n, cap, num);
            break;
        case 5:
            n = append(buf, n, cap, idents[rnd(8)]);
            n = append(buf, n, cap, ops[rnd(10)]);
            n = append(buf, n, cap, idents[rnd(8)]);
            n = append(buf, n, cap, rnd(2) ? ";\n" : "; }\n");
            break;
        default:
            /* Occasional junk to exercise error recovery. */
            n = append(buf, n, cap, rnd(3) ? "while (i) { return i; }\n" : "@ # 0x $\n");
            break;
        }
    }
    return n;
}

int main(void)
{
    static char src[65536];
    build_tables();
    uint32_t counts[NTOK] = {0};
    uint32_t h = 2166136261u;
    int lines_total = 0;
    size_t longest = 0;
    for (int round = 0; round < 6; round++) {
        size_t len = gen_source(src, sizeof src, 150 + 60 * round);
        size_t pos = 0;
        int line = 1, col = 1;
        while (pos < len) {
            Token t = next_token(src, pos, line, col);
            counts[t.kind]++;
            if (t.len > longest)
                longest = t.len;
            if (t.kind != T_WS && t.kind != T_COMMENT) {
                h = (h ^ (uint32_t)t.kind) * 16777619u;
                for (size_t k = 0; k < t.len; k++)
                    h = (h ^ (uint8_t)src[t.start + k]) * 16777619u;
                h = (h ^ (uint32_t)(t.line * 131 + t.col)) * 16777619u;
            }
            for (size_t k = 0; k < t.len; k++) {
                if (src[pos + k] == '\n') {
                    line++;
                    col = 1;
                } else {
                    col++;
                }
            }
            pos += t.len;
        }
        lines_total += line - 1;
    }
    for (int k = 1; k < NTOK; k++)
        printf("%-8s %u\n", tok_names[k], counts[k]);
    printf("lines=%d longest=%zu hash=%08x\n", lines_total, longest, (unsigned)h);

    const char *sample = "for (i = 0x1F; i <= 10.25; i += 3) /* c */ s = \"a\\\"b\"; // end";
    size_t pos = 0, slen = strlen(sample);
    printf("sample:");
    while (pos < slen) {
        Token t = next_token(sample, pos, 1, (int)pos + 1);
        if (t.kind != T_WS)
            printf(" %s(%.*s)", tok_names[t.kind], (int)t.len, sample + t.start);
        pos += t.len;
    }
    printf("\n");
    return 0;
}
