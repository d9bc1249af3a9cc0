/* optgym-builtin: Proleptic Gregorian calendar arithmetic: day numbers and Julian days, weekday by two methods, ISO week numbers, month addition with clamping, Easter dates and a day-by-day walk that cross-checks the closed forms. Style: numeric, many-small-functions, struct-heavy */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int y, m, d;
} Date;

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static int floor_div(int a, int b) { return (a >= 0 ? a : a - b + 1) / b; }

/* Days since 1970-01-01 using an era-based closed form (years shifted to start in March). */
static long days_from_civil(Date dt)
{
    int y = dt.y - (dt.m <= 2);
    int era = floor_div(y, 400);
    int yoe = y - era * 400;
    int mp = (dt.m + 9) % 12;
    int doy = (153 * mp + 2) / 5 + dt.d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (long)era * 146097 + doe - 719468;
}

static Date civil_from_days(long z)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    Date r;
    r.d = (int)(doy - (153 * mp + 2) / 5 + 1);
    r.m = (int)(mp < 10 ? mp + 3 : mp - 9);
    r.y = (int)(yoe + era * 400 + (r.m <= 2));
    return r;
}

static long julian_day(Date dt) { return days_from_civil(dt) + 2440588; }

/* 0 = Monday ... 6 = Sunday. */
static int weekday_from_days(long z) { return (int)(((z % 7) + 7 + 3) % 7); }

static int weekday_zeller(Date dt)
{
    int m = dt.m, y = dt.y;
    if (m < 3) {
        m += 12;
        y--;
    }
    int k = ((y % 100) + 100) % 100, j = floor_div(y, 100);
    int h = (dt.d + (13 * (m + 1)) / 5 + k + k / 4 + floor_div(j, 4) + 5 * j) % 7;
    h = (h + 7) % 7; /* 0 = Saturday */
    return (h + 5) % 7;
}

static int day_of_year(Date dt)
{
    int n = dt.d;
    for (int m = 1; m < dt.m; m++)
        n += days_in_month(dt.y, m);
    return n;
}

static int iso_weeks_in_year(int y)
{
    Date jan1 = {y, 1, 1};
    int wd = weekday_from_days(days_from_civil(jan1));
    return (wd == 3 || (wd == 2 && is_leap(y))) ? 53 : 52;
}

static int iso_week(Date dt, int *iso_year)
{
    int wd = weekday_from_days(days_from_civil(dt));
    int w = (day_of_year(dt) - (wd + 1) + 10) / 7;
    *iso_year = dt.y;
    if (w < 1) {
        *iso_year = dt.y - 1;
        return iso_weeks_in_year(dt.y - 1);
    }
    if (w > iso_weeks_in_year(dt.y)) {
        *iso_year = dt.y + 1;
        return 1;
    }
    return w;
}

static Date add_months(Date dt, int months)
{
    int total = dt.y * 12 + (dt.m - 1) + months;
    Date r;
    r.y = floor_div(total, 12);
    r.m = total - r.y * 12 + 1;
    int dim = days_in_month(r.y, r.m);
    r.d = dt.d > dim ? dim : dt.d;
    return r;
}

/* Anonymous Gregorian computus. */
static Date easter(int y)
{
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
    int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
    int m = (a + 11 * h + 22 * l) / 451;
    Date r = {y, (h + l - 7 * m + 114) / 31, (h + l - 7 * m + 114) % 31 + 1};
    return r;
}

static void next_day(Date *dt)
{
    if (++dt->d > days_in_month(dt->y, dt->m)) {
        dt->d = 1;
        if (++dt->m > 12) {
            dt->m = 1;
            dt->y++;
        }
    }
}

static int date_valid(Date dt)
{
    return dt.m >= 1 && dt.m <= 12 && dt.d >= 1 && dt.d <= days_in_month(dt.y, dt.m);
}

static const char *wd_name(int w)
{
    static const char *names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    return names[w];
}

int main(void)
{
    /* Walk every day from 1890-01-01 to 2110-12-31 and compare with the closed forms. */
    Date cur = {1890, 1, 1};
    long z = days_from_civil(cur);
    long walked = 0;
    int bad = 0, fri13 = 0, leap_days = 0;
    int wd_hist[7] = {0};
    uint32_t h = 0;
    while (cur.y <= 2110) {
        Date back = civil_from_days(z);
        int w = weekday_from_days(z);
        if (days_from_civil(cur) != z || memcmp(&back, &cur, sizeof cur) != 0 || w != weekday_zeller(cur))
            bad++;
        if (cur.d == 13 && w == 4)
            fri13++;
        if (cur.m == 2 && cur.d == 29)
            leap_days++;
        if (cur.d == 1)
            wd_hist[w]++;
        int iy;
        int wk = iso_week(cur, &iy);
        h = h * 31u + (uint32_t)(wk * 7 + w) + (uint32_t)iy;
        next_day(&cur);
        z++;
        walked++;
    }
    printf("walked=%ld bad=%d friday13=%d leapdays=%d isohash=%08x\n", walked, bad, fri13, leap_days, (unsigned)h);
    printf("first-of-month weekdays:");
    for (int i = 0; i < 7; i++)
        printf(" %s=%d", wd_name(i), wd_hist[i]);
    printf("\n");

    Date samples[] = {{1970, 1, 1}, {2000, 2, 29}, {1600, 3, 1}, {-44, 3, 15}, {2024, 12, 30}, {2021, 1, 3}, {1, 1, 1}};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        Date d = samples[i];
        int iy;
        int wk = iso_week(d, &iy);
        printf("%05d-%02d-%02d days=%ld jd=%ld %s zeller=%s doy=%d iso=%d-W%02d\n", d.y, d.m, d.d, days_from_civil(d),
               julian_day(d), wd_name(weekday_from_days(days_from_civil(d))), wd_name(weekday_zeller(d)),
               day_of_year(d), iy, wk);
    }

    Date base = {2023, 1, 31};
    printf("add_months from 2023-01-31:");
    for (int k = -3; k <= 13; k += 2) {
        Date r = add_months(base, k);
        printf(" %d-%02d-%02d%s", r.y, r.m, r.d, date_valid(r) ? "" : "!");
    }
    printf("\n");

    uint32_t eh = 0;
    int march = 0, earliest = 99, latest = 0;
    for (int y = 1900; y <= 2099; y++) {
        Date e = easter(y);
        int key = e.m == 3 ? e.d : 31 + e.d;
        march += e.m == 3;
        if (key < earliest)
            earliest = key;
        if (key > latest)
            latest = key;
        eh = eh * 33u + (uint32_t)key;
        if (weekday_from_days(days_from_civil(e)) != 6)
            bad++;
    }
    Date e24 = easter(2024), e25 = easter(2025);
    printf("easter 2024=%02d-%02d 2025=%02d-%02d march=%d range=%d..%d hash=%08x bad=%d\n", e24.m, e24.d, e25.m,
           e25.d, march, earliest, latest, (unsigned)eh, bad);

    long span = days_from_civil((Date){2100, 3, 1}) - days_from_civil((Date){1900, 3, 1});
    printf("days 1900-03-01..2100-03-01 = %ld (%ld weeks + %ld)\n", span, span / 7, span % 7);
    return 0;
}
