/* optgym-builtin: A state-machine CSV reader handling quoted fields, escaped quotes, embedded commas and newlines, over a generated sales table, then aggregating columns per region. Style: switch-heavy, string-processing, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum { ST_FIELD_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_IN_QUOTED } State;

#define MAX_FIELDS 8
#define FIELD_CAP 64

typedef struct {
    char fields[MAX_FIELDS][FIELD_CAP];
    int nfields;
    int malformed;
} Row;

typedef struct {
    char name[FIELD_CAP];
    long qty;
    long cents;
    int rows;
    int notes_with_comma;
} Region;

static const char *parse_row(const char *p, Row *row)
{
    State st = ST_FIELD_START;
    int f = 0, len = 0;
    row->nfields = 0;
    row->malformed = 0;
    row->fields[0][0] = '\0';
    for (;; ++p) {
        char c = *p;
        switch (st) {
        case ST_FIELD_START:
            if (c == '"') {
                st = ST_QUOTED;
                break;
            }
            st = ST_UNQUOTED;
            /* fall through */
        case ST_UNQUOTED:
            if (c == ',' || c == '\n' || c == '\0') {
                row->fields[f][len] = '\0';
                f++;
                len = 0;
                if (c != ',') {
                    row->nfields = f;
                    return c ? p + 1 : p;
                }
                if (f == MAX_FIELDS) {
                    row->malformed = 1;
                    f--;
                }
                st = ST_FIELD_START;
            } else if (c == '"') {
                row->malformed = 1;
            } else if (len < FIELD_CAP - 1) {
                row->fields[f][len++] = c;
            }
            break;
        case ST_QUOTED:
            if (c == '\0') {
                row->malformed = 1;
                row->fields[f][len] = '\0';
                row->nfields = f + 1;
                return p;
            }
            if (c == '"') st = ST_QUOTE_IN_QUOTED;
            else if (len < FIELD_CAP - 1) row->fields[f][len++] = c;
            break;
        case ST_QUOTE_IN_QUOTED:
            if (c == '"') {
                if (len < FIELD_CAP - 1) row->fields[f][len++] = '"';
                st = ST_QUOTED;
            } else {
                st = ST_UNQUOTED;
                --p; /* re-examine the delimiter in the unquoted state */
            }
            break;
        }
    }
}

static long parse_money(const char *s, int *ok)
{
    long whole = 0, frac = 0;
    int neg = 0, digits = 0, fd = 0;
    *ok = 1;
    if (*s == '$') s++;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    for (; *s && *s != '.'; ++s) {
        if (*s == ',') continue; /* thousands separator */
        if (*s < '0' || *s > '9') {
            *ok = 0;
            return 0;
        }
        whole = whole * 10 + (*s - '0');
        digits++;
    }
    if (*s == '.')
        for (++s; *s && fd < 2; ++s, ++fd) {
            if (*s < '0' || *s > '9') {
                *ok = 0;
                return 0;
            }
            frac = frac * 10 + (*s - '0');
        }
    if (fd == 1) frac *= 10;
    if (!digits) *ok = 0;
    long v = whole * 100 + frac;
    return neg ? -v : v;
}

static long parse_int(const char *s, int *ok)
{
    long v = 0;
    *ok = *s != '\0';
    for (; *s; ++s) {
        if (*s < '0' || *s > '9') {
            *ok = 0;
            return 0;
        }
        v = v * 10 + (*s - '0');
    }
    return v;
}

static uint32_t seed = 2024u;
static unsigned rnd(unsigned n)
{
    seed = seed * 22695477u + 1u;
    return (seed >> 16) % n;
}

static size_t generate(char *out, size_t cap)
{
    static const char *const regions[] = {"north", "south", "east", "west", "central"};
    static const char *const products[] = {"widget", "gadget, large", "\"pro\" kit", "cable", "adapter"};
    static const char *const notes[] = {"", "rush", "call first, then ship", "line1\nline2", "ok", "say \"hi\""};
    size_t pos = (size_t)snprintf(out, cap, "region,product,qty,price,note\n");
    char field[96], line[400];
    int row = 0;
    while (pos + 400 < cap) {
        unsigned r = rnd(5), pr = rnd(5), nt = rnd(6), qty = rnd(500), price = rnd(200000);
        size_t l = 0;
        l += (size_t)snprintf(line + l, sizeof line - l, "%s,", regions[r]);
        /* quote fields that need it, doubling embedded quotes */
        const char *srcs[2] = {products[pr], notes[nt]};
        for (int k = 0; k < 2; ++k) {
            const char *s = srcs[k];
            int need = strpbrk(s, ",\"\n") != NULL || (k == 0 && row % 7 == 0);
            size_t fl = 0;
            if (need) field[fl++] = '"';
            for (; *s; ++s) {
                if (*s == '"') field[fl++] = '"';
                field[fl++] = *s;
            }
            if (need) field[fl++] = '"';
            field[fl] = '\0';
            if (k == 0) l += (size_t)snprintf(line + l, sizeof line - l, "%s,%u,", field, qty);
            else l += (size_t)snprintf(line + l, sizeof line - l, "%s", field);
            if (k == 0) {
                if (price > 100000) l += (size_t)snprintf(line + l, sizeof line - l, "\"$%u,%03u.%02u\",", price / 100000, (price / 100) % 1000, price % 100);
                else l += (size_t)snprintf(line + l, sizeof line - l, "%u.%02u,", price / 100, price % 100);
            }
        }
        if (row % 53 == 52) l += (size_t)snprintf(line + l, sizeof line - l, ",extra,\"bad");
        line[l++] = '\n';
        memcpy(out + pos, line, l);
        pos += l;
        row++;
    }
    out[pos] = '\0';
    return pos;
}

int main(void)
{
    enum { CAP = 40000 };
    char *text = malloc(CAP);
    if (!text) return 1;
    size_t n = generate(text, CAP);
    Region regs[8];
    int nregs = 0;
    Row row;
    const char *p = parse_row(text, &row); /* header */
    int header_fields = row.nfields, good = 0, bad = 0, lines = 1;
    uint32_t h = 0;
    while (*p) {
        p = parse_row(p, &row);
        lines++;
        int ok1 = 0, ok2 = 0;
        long qty = row.nfields == 5 ? parse_int(row.fields[2], &ok1) : 0;
        long cents = row.nfields == 5 ? parse_money(row.fields[3], &ok2) : 0;
        if (row.malformed || row.nfields != header_fields || !ok1 || !ok2) {
            bad++;
            continue;
        }
        good++;
        int r;
        for (r = 0; r < nregs; ++r)
            if (strcmp(regs[r].name, row.fields[0]) == 0) break;
        if (r == nregs) {
            if (nregs == 8) continue; /* more distinct regions than the table holds */
            memset(&regs[r], 0, sizeof regs[r]);
            snprintf(regs[r].name, sizeof regs[r].name, "%s", row.fields[0]);
            nregs++;
        }
        regs[r].qty += qty;
        regs[r].cents += qty * cents / 100;
        regs[r].rows++;
        if (strchr(row.fields[4], ',')) regs[r].notes_with_comma++;
        for (int f = 0; f < row.nfields; ++f)
            for (const char *s = row.fields[f]; *s; ++s) h = h * 131u + (uint8_t)*s;
    }
    printf("bytes=%zu records=%d good=%d bad=%d hash=%08x\n", n, lines, good, bad, (unsigned)h);
    for (int r = 0; r < nregs; ++r)
        printf("%-8s rows=%3d qty=%6ld revenue=%ld.%02ld comma_notes=%d\n", regs[r].name, regs[r].rows, regs[r].qty,
               regs[r].cents / 100, regs[r].cents % 100, regs[r].notes_with_comma);
    free(text);
    return 0;
}
