/* optgym-builtin: Multi-precision unsigned integers on 32-bit limbs with add, subtract, schoolbook multiply, shift-subtract division, decimal conversion, factorials, Fibonacci numbers and modular exponentiation, with identity checks. Style: numeric, loop-heavy, pointer-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXLIMBS 160

typedef struct {
    int n; /* number of used limbs; 0 means zero */
    uint32_t d[MAXLIMBS];
} Big;

static void big_norm(Big *a)
{
    while (a->n > 0 && a->d[a->n - 1] == 0)
        a->n--;
}

static void big_set(Big *a, uint64_t v)
{
    memset(a, 0, sizeof *a);
    a->d[0] = (uint32_t)v;
    a->d[1] = (uint32_t)(v >> 32);
    a->n = 2;
    big_norm(a);
}

static int big_cmp(const Big *a, const Big *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

static void big_add(Big *r, const Big *a, const Big *b)
{
    int n = a->n > b->n ? a->n : b->n;
    uint64_t carry = 0;
    Big t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < n; i++) {
        uint64_t s = carry;
        if (i < a->n)
            s += a->d[i];
        if (i < b->n)
            s += b->d[i];
        t.d[i] = (uint32_t)s;
        carry = s >> 32;
    }
    t.d[n] = (uint32_t)carry;
    t.n = n + 1;
    big_norm(&t);
    *r = t;
}

/* r = a - b, requires a >= b. */
static void big_sub(Big *r, const Big *a, const Big *b)
{
    int64_t borrow = 0;
    Big t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < a->n; i++) {
        int64_t s = (int64_t)a->d[i] - borrow - (i < b->n ? (int64_t)b->d[i] : 0);
        borrow = s < 0;
        if (s < 0)
            s += (int64_t)1 << 32;
        t.d[i] = (uint32_t)s;
    }
    t.n = a->n;
    big_norm(&t);
    *r = t;
}

static void big_mul(Big *r, const Big *a, const Big *b)
{
    Big t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < a->n; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < b->n; j++) {
            uint64_t cur = (uint64_t)a->d[i] * b->d[j] + t.d[i + j] + carry;
            t.d[i + j] = (uint32_t)cur;
            carry = cur >> 32;
        }
        t.d[i + b->n] = (uint32_t)carry;
    }
    t.n = a->n + b->n;
    big_norm(&t);
    *r = t;
}

static void big_mul_small(Big *a, uint32_t m)
{
    uint64_t carry = 0;
    for (int i = 0; i < a->n; i++) {
        uint64_t cur = (uint64_t)a->d[i] * m + carry;
        a->d[i] = (uint32_t)cur;
        carry = cur >> 32;
    }
    if (carry)
        a->d[a->n++] = (uint32_t)carry;
}

static uint32_t big_divmod_small(Big *a, uint32_t m)
{
    uint64_t rem = 0;
    for (int i = a->n - 1; i >= 0; i--) {
        uint64_t cur = (rem << 32) | a->d[i];
        a->d[i] = (uint32_t)(cur / m);
        rem = cur % m;
    }
    big_norm(a);
    return (uint32_t)rem;
}

static int big_bits(const Big *a)
{
    if (a->n == 0)
        return 0;
    int b = 32;
    uint32_t top = a->d[a->n - 1];
    while (!(top & 0x80000000u)) {
        top <<= 1;
        b--;
    }
    return (a->n - 1) * 32 + b;
}

static int big_bit(const Big *a, int i) { return (int)((a->d[i / 32] >> (i % 32)) & 1u); }

static void big_shl1_or(Big *a, int bit)
{
    uint32_t carry = (uint32_t)bit;
    for (int i = 0; i < a->n; i++) {
        uint32_t next = a->d[i] >> 31;
        a->d[i] = (a->d[i] << 1) | carry;
        carry = next;
    }
    if (carry)
        a->d[a->n++] = carry;
}

/* Binary long division: q = a / b, r = a % b. */
static void big_divmod(Big *q, Big *r, const Big *a, const Big *b)
{
    Big quo, rem;
    memset(&quo, 0, sizeof quo);
    memset(&rem, 0, sizeof rem);
    int nb = big_bits(a);
    quo.n = a->n;
    for (int i = nb - 1; i >= 0; i--) {
        big_shl1_or(&rem, big_bit(a, i));
        if (big_cmp(&rem, b) >= 0) {
            big_sub(&rem, &rem, b);
            quo.d[i / 32] |= 1u << (i % 32);
        }
    }
    big_norm(&quo);
    *q = quo;
    *r = rem;
}

static int big_to_dec(const Big *a, char *out)
{
    Big t = *a;
    uint32_t chunks[MAXLIMBS * 2];
    int nc = 0;
    if (t.n == 0) {
        strcpy(out, "0");
        return 1;
    }
    while (t.n > 0)
        chunks[nc++] = big_divmod_small(&t, 1000000000u);
    int len = sprintf(out, "%u", chunks[nc - 1]);
    for (int i = nc - 2; i >= 0; i--)
        len += sprintf(out + len, "%09u", chunks[i]);
    return len;
}

static void big_powmod(Big *r, const Big *base, const Big *exp, const Big *mod)
{
    Big result, b, q, t;
    big_set(&result, 1);
    big_divmod(&q, &b, base, mod);
    int nb = big_bits(exp);
    for (int i = 0; i < nb; i++) {
        if (big_bit(exp, i)) {
            big_mul(&t, &result, &b);
            big_divmod(&q, &result, &t, mod);
        }
        big_mul(&t, &b, &b);
        big_divmod(&q, &b, &t, mod);
    }
    *r = result;
}

static unsigned digit_sum(const char *s)
{
    unsigned sum = 0;
    for (; *s; s++)
        sum += (unsigned)(*s - '0');
    return sum;
}

static void print_summary(const char *label, const Big *a)
{
    static char buf[MAXLIMBS * 10 + 16];
    int len = big_to_dec(a, buf);
    char head[13];
    int hl = len < 12 ? len : 12;
    memcpy(head, buf, (size_t)hl);
    head[hl] = '\0';
    int zeros = 0;
    while (zeros < len - 1 && buf[len - 1 - zeros] == '0')
        zeros++;
    int tail_end = len - zeros;
    int tail_start = tail_end > 12 ? tail_end - 12 : 0;
    buf[tail_end] = '\0';
    printf("%s: digits=%d digitsum=%u zeros=%d head=%s tail=%s\n", label, len, digit_sum(buf), zeros, head,
           buf + tail_start);
}

int main(void)
{
    Big f, fib_a, fib_b, t, q, r, m, e, p;

    big_set(&f, 1);
    for (uint32_t i = 2; i <= 300; i++) {
        big_mul_small(&f, i);
        if (i == 50 || i == 100 || i == 300) {
            char label[16];
            snprintf(label, sizeof label, "%u!", i);
            print_summary(label, &f);
        }
    }
    /* 300! / 299! must be 300. */
    Big g;
    big_set(&g, 1);
    for (uint32_t i = 2; i <= 299; i++)
        big_mul_small(&g, i);
    big_divmod(&q, &r, &f, &g);
    printf("300!/299! = %u rem_zero=%d\n", q.n ? q.d[0] : 0, r.n == 0);

    big_set(&fib_a, 0);
    big_set(&fib_b, 1);
    for (int i = 0; i < 500; i++) {
        big_add(&t, &fib_a, &fib_b);
        fib_a = fib_b;
        fib_b = t;
    }
    print_summary("fib500", &fib_a);

    /* Identities: (a*b)/b == a and (a*b)%b == 0, (a+b)-b == a. */
    uint32_t s = 1234567u;
    int ok = 0, trials = 0;
    for (int k = 0; k < 25; k++) {
        Big a, b, prod;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        a.n = 3 + k % 5;
        b.n = 1 + k % 4;
        for (int i = 0; i < a.n; i++)
            a.d[i] = (s = s * 1664525u + 1013904223u);
        for (int i = 0; i < b.n; i++)
            b.d[i] = (s = s * 1664525u + 1013904223u);
        big_norm(&a);
        big_norm(&b);
        big_mul(&prod, &a, &b);
        big_divmod(&q, &r, &prod, &b);
        Big sum, back;
        big_add(&sum, &a, &b);
        big_sub(&back, &sum, &b);
        trials++;
        if (big_cmp(&q, &a) == 0 && r.n == 0 && big_cmp(&back, &a) == 0)
            ok++;
    }
    printf("identities %d/%d\n", ok, trials);

    /* Fermat test: 2^(p-1) mod p == 1 for the prime p = 2^127 - 1. */
    memset(&m, 0, sizeof m);
    m.n = 4;
    m.d[0] = m.d[1] = m.d[2] = 0xFFFFFFFFu;
    m.d[3] = 0x7FFFFFFFu;
    big_set(&e, 2);
    Big one, pm1;
    big_set(&one, 1);
    big_sub(&pm1, &m, &one);
    big_powmod(&p, &e, &pm1, &m);
    printf("fermat(2^127-1) = %s\n", (p.n == 1 && p.d[0] == 1) ? "1" : "not 1");
    big_set(&e, 3);
    big_powmod(&p, &e, &m, &m);
    print_summary("3^M mod M", &p);

    /* 7^1200 by repeated squaring, then divided back by 7^600 twice. */
    Big pw, half, sq;
    big_set(&pw, 1);
    for (int i = 0; i < 600; i++)
        big_mul_small(&pw, 7);
    half = pw;
    big_mul(&sq, &half, &half);
    print_summary("7^1200", &sq);
    big_divmod(&q, &r, &sq, &half);
    big_divmod(&q, &r, &q, &half);
    printf("7^1200/7^600/7^600 = %u rem_zero=%d bits=%d\n", q.n ? q.d[0] : 0, r.n == 0, big_bits(&sq));
    return 0;
}
