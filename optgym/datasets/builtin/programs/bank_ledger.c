/* optgym-builtin: Bank ledger processing generated transactions (deposits, withdrawals, transfers, fees, monthly interest) over account records with overdraft limits, freezes, per-account history rings, rejections, end-of-month statements and a conservation audit. Style: struct-heavy, switch-heavy, pointer-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NACCOUNTS 64
#define HISTORY 8
#define NTX 6000

typedef enum { ACC_CHECKING, ACC_SAVINGS, ACC_BUSINESS } AccKind;
typedef enum { TX_DEPOSIT, TX_WITHDRAW, TX_TRANSFER, TX_FEE, TX_FREEZE, TX_UNFREEZE, TX_KINDS } TxKind;
typedef enum { R_OK, R_NO_ACCOUNT, R_FROZEN, R_INSUFFICIENT, R_LIMIT, R_SAME_ACCOUNT, R_BAD_AMOUNT, R_KINDS } Reason;

typedef struct {
    int64_t amount; /* cents, signed */
    uint32_t tx_id;
    uint8_t kind;
} HistEntry;

typedef struct {
    uint32_t id;
    char owner[16];
    AccKind kind;
    int64_t balance;
    int64_t overdraft;    /* how far below zero the balance may go */
    int64_t daily_limit;  /* maximum withdrawn per day */
    int64_t withdrawn_today;
    int frozen;
    uint32_t tx_count;
    HistEntry hist[HISTORY];
    int hist_head;
    int64_t min_balance;
} Account;

typedef struct {
    uint32_t id;
    TxKind kind;
    uint32_t from, to;
    int64_t amount;
    int day;
} Tx;

typedef struct {
    Account acc[NACCOUNTS];
    int n;
    int64_t external_in, external_out, interest_paid, fees_taken;
    uint32_t rejected[R_KINDS];
    uint32_t applied[TX_KINDS];
} Bank;

static uint32_t seed = 1u;

static uint32_t rnd(uint32_t n)
{
    seed = seed * 1103515245u + 12345u;
    return ((seed >> 16) & 0x7FFFu) % n;
}

static Account *find(Bank *b, uint32_t id)
{
    /* Accounts are kept sorted by id, so binary search. */
    int lo = 0, hi = b->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (b->acc[mid].id == id)
            return &b->acc[mid];
        if (b->acc[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static void record(Account *a, uint32_t tx_id, TxKind kind, int64_t amount)
{
    HistEntry *h = &a->hist[a->hist_head];
    h->amount = amount;
    h->tx_id = tx_id;
    h->kind = (uint8_t)kind;
    a->hist_head = (a->hist_head + 1) % HISTORY;
    a->tx_count++;
    if (a->balance < a->min_balance)
        a->min_balance = a->balance;
}

static Reason can_debit(const Account *a, int64_t amount)
{
    if (a->frozen)
        return R_FROZEN;
    if (a->balance - amount < -a->overdraft)
        return R_INSUFFICIENT;
    if (a->withdrawn_today + amount > a->daily_limit)
        return R_LIMIT;
    return R_OK;
}

static Reason apply(Bank *b, const Tx *t)
{
    Account *from = find(b, t->from);
    Account *to = t->kind == TX_TRANSFER ? find(b, t->to) : NULL;
    if (!from || (t->kind == TX_TRANSFER && !to))
        return R_NO_ACCOUNT;
    if (t->amount <= 0 && t->kind != TX_FREEZE && t->kind != TX_UNFREEZE)
        return R_BAD_AMOUNT;
    Reason r;
    switch (t->kind) {
    case TX_DEPOSIT:
        if (from->frozen)
            return R_FROZEN;
        from->balance += t->amount;
        b->external_in += t->amount;
        record(from, t->id, t->kind, t->amount);
        break;
    case TX_WITHDRAW:
        if ((r = can_debit(from, t->amount)) != R_OK)
            return r;
        from->balance -= t->amount;
        from->withdrawn_today += t->amount;
        b->external_out += t->amount;
        record(from, t->id, t->kind, -t->amount);
        break;
    case TX_TRANSFER:
        if (from == to)
            return R_SAME_ACCOUNT;
        if (to->frozen)
            return R_FROZEN;
        if ((r = can_debit(from, t->amount)) != R_OK)
            return r;
        from->balance -= t->amount;
        from->withdrawn_today += t->amount;
        to->balance += t->amount;
        record(from, t->id, t->kind, -t->amount);
        record(to, t->id, t->kind, t->amount);
        break;
    case TX_FEE:
        /* Fees ignore freezes and limits but not the overdraft. */
        if (from->balance - t->amount < -from->overdraft)
            return R_INSUFFICIENT;
        from->balance -= t->amount;
        b->fees_taken += t->amount;
        record(from, t->id, t->kind, -t->amount);
        break;
    case TX_FREEZE:
        from->frozen = 1;
        break;
    case TX_UNFREEZE:
        from->frozen = 0;
        break;
    default:
        return R_BAD_AMOUNT;
    }
    return R_OK;
}

static int64_t interest_for(const Account *a)
{
    /* Annual rates in basis points, paid monthly on positive balances, rounded half up. */
    int64_t bp;
    switch (a->kind) {
    case ACC_SAVINGS: bp = a->balance > 1000000 ? 325 : 250; break;
    case ACC_BUSINESS: bp = 80; break;
    default: bp = 10; break;
    }
    if (a->balance <= 0)
        return 0;
    return (a->balance * bp + 60000) / 120000;
}

static void month_end(Bank *b)
{
    for (Account *a = b->acc; a < b->acc + b->n; a++) {
        int64_t i = interest_for(a);
        if (i > 0) {
            a->balance += i;
            b->interest_paid += i;
        }
        if (a->balance < 0) {
            int64_t fee = 2500;
            a->balance -= fee;
            b->fees_taken += fee;
        }
    }
}

static void open_accounts(Bank *b)
{
    static const char *names[] = {"ada", "bob", "cyd", "dee", "eli", "fay", "gus", "hal"};
    b->n = NACCOUNTS;
    for (int i = 0; i < NACCOUNTS; i++) {
        Account *a = &b->acc[i];
        memset(a, 0, sizeof *a);
        a->id = 1000u + (uint32_t)i * 7u;
        snprintf(a->owner, sizeof a->owner, "%s%02d", names[i % 8], i);
        a->kind = (AccKind)(i % 3);
        a->balance = (int64_t)rnd(500000);
        a->overdraft = a->kind == ACC_BUSINESS ? 200000 : a->kind == ACC_CHECKING ? 50000 : 0;
        a->daily_limit = a->kind == ACC_BUSINESS ? 150000 : 40000;
        a->min_balance = a->balance;
        b->external_in += a->balance;
    }
}

static Tx make_tx(uint32_t id, int day)
{
    Tx t;
    t.id = id;
    t.day = day;
    uint32_t r = rnd(100);
    if (r < 30)
        t.kind = TX_DEPOSIT;
    else if (r < 55)
        t.kind = TX_WITHDRAW;
    else if (r < 92)
        t.kind = TX_TRANSFER;
    else if (r < 97)
        t.kind = TX_FEE;
    else if (r < 98)
        t.kind = TX_FREEZE;
    else
        t.kind = TX_UNFREEZE;
    t.from = 1000u + rnd(NACCOUNTS + 2) * 7u; /* occasionally a missing account */
    t.to = 1000u + rnd(NACCOUNTS) * 7u;
    t.amount = (int64_t)rnd(120000) - 500;
    if (t.kind == TX_FEE)
        t.amount /= 40;
    return t;
}

static int cmp_balance_desc(const void *x, const void *y)
{
    const Account *a = x, *b = y;
    if (a->balance != b->balance)
        return a->balance < b->balance ? 1 : -1;
    return a->id < b->id ? -1 : a->id > b->id;
}

int main(void)
{
    static Bank bank;
    open_accounts(&bank);
    uint32_t h = 2166136261u;
    int day = 0;
    for (uint32_t i = 0; i < NTX; i++) {
        if (i % 100 == 0) {
            day++;
            for (int k = 0; k < bank.n; k++)
                bank.acc[k].withdrawn_today = 0;
            if (day % 30 == 0)
                month_end(&bank);
        }
        Tx t = make_tx(i + 1, day);
        Reason r = apply(&bank, &t);
        if (r == R_OK)
            bank.applied[t.kind]++;
        else
            bank.rejected[r]++;
        h = (h ^ (uint32_t)r ^ ((uint32_t)t.kind << 4)) * 16777619u;
    }
    int64_t total = 0;
    for (int k = 0; k < bank.n; k++)
        total += bank.acc[k].balance;
    int64_t expected = bank.external_in - bank.external_out + bank.interest_paid - bank.fees_taken;
    printf("days=%d total=%lld expected=%lld conserved=%d\n", day, (long long)total, (long long)expected,
           total == expected);
    printf("in=%lld out=%lld interest=%lld fees=%lld trace=%08x\n", (long long)bank.external_in,
           (long long)bank.external_out, (long long)bank.interest_paid, (long long)bank.fees_taken, (unsigned)h);
    static const char *rnames[R_KINDS] = {"ok", "no_account", "frozen", "insufficient", "limit", "same", "bad_amount"};
    for (int r = 1; r < R_KINDS; r++)
        printf("rejected %-12s %u\n", rnames[r], bank.rejected[r]);
    printf("applied:");
    for (int k = 0; k < TX_KINDS; k++)
        printf(" %u", bank.applied[k]);
    printf("\n");

    static Account sorted[NACCOUNTS];
    memcpy(sorted, bank.acc, sizeof sorted);
    qsort(sorted, NACCOUNTS, sizeof sorted[0], cmp_balance_desc);
    for (int k = 0; k < 3; k++)
        printf("top %d: %s id=%u balance=%lld.%02lld txs=%u\n", k, sorted[k].owner, sorted[k].id,
               (long long)(sorted[k].balance / 100), (long long)(sorted[k].balance % 100), sorted[k].tx_count);
    const Account *low = &sorted[NACCOUNTS - 1];
    printf("lowest: %s balance=%lld min_seen=%lld frozen=%d\n", low->owner, (long long)low->balance,
           (long long)low->min_balance, low->frozen);
    /* Statement of the most recent history of one account, oldest first. */
    const Account *a = find(&bank, 1000u + 5u * 7u);
    printf("statement %s:", a->owner);
    for (int k = 0; k < HISTORY; k++) {
        const HistEntry *e = &a->hist[(a->hist_head + k) % HISTORY];
        if (e->tx_id)
            printf(" #%u:%c%lld", e->tx_id, "DWTFZU"[e->kind], (long long)e->amount);
    }
    printf("\n");
    return 0;
}
