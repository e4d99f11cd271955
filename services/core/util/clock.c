#include "clock.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

uint64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_sleep_us(uint64_t us)
{
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
                          .tv_nsec = (long)(us % 1000000u) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Days from civil date, proleptic Gregorian (Howard Hinnant's algorithm):
 * avoids timegm(), which is neither C11 nor POSIX. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

/* 9999-12-31T23:59:59.999Z: later times would not fit the fixed width. */
#define TIME_MAX_MS INT64_C(253402300799999)

static void put_digits(char *out, int n, unsigned v)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

void time_format_ms(int64_t ms, char out[TIME_TEXT_LEN + 1])
{
    if (ms < 0)
        ms = 0;
    if (ms > TIME_MAX_MS)
        ms = TIME_MAX_MS;
    int64_t secs = ms / 1000;
    int milli = (int)(ms % 1000);
    int64_t days = secs / 86400;
    int64_t rem = secs % 86400;
    int y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    /* Written digit by digit: every event carries a time, and snprintf was a
     * visible share of encoding one. The clamp keeps the year at 4 digits. */
    put_digits(out, 4, (unsigned)y);
    out[4] = '-';
    put_digits(out + 5, 2, mo);
    out[7] = '-';
    put_digits(out + 8, 2, d);
    out[10] = 'T';
    put_digits(out + 11, 2, (unsigned)(rem / 3600));
    out[13] = ':';
    put_digits(out + 14, 2, (unsigned)(rem / 60 % 60));
    out[16] = ':';
    put_digits(out + 17, 2, (unsigned)(rem % 60));
    out[19] = '.';
    put_digits(out + 20, 3, (unsigned)milli);
    out[23] = 'Z';
    out[TIME_TEXT_LEN] = '\0';
}

/* Reads n digits; -1 unless all n are ASCII digits. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : mdays[m - 1];
}

/* RFC 3339 section 5.6 date-time; the grammar's literals are
 * case-insensitive, so "t" and "z" are the same as "T" and "Z". */
const char *time_parse_ms(const char *s, int64_t *ms)
{
    int y, mo, d, h, mi, se;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return "date must be YYYY-MM-DD";
    if (s[10] != 'T' && s[10] != 't')
        return "date and time must be separated by T";
    if (digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &se))
        return "time must be hh:mm:ss";
    if (mo < 1 || mo > 12)
        return "month out of range";
    if (d < 1 || d > month_days(y, mo))
        return "day out of range for the month";
    if (h > 23)
        return "hour out of range";
    if (mi > 59)
        return "minute out of range";
    if (se > 60)
        return "second out of range";
    const char *p = s + 19;
    int milli = 0;
    if (*p == '.') {
        /* Digits past the millisecond are dropped (truncation, never
         * rounding: rounding could carry into the next second or day). */
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                milli = milli * 10 + (*p - '0');
        if (n == 0)
            return "fraction needs at least one digit";
        for (; n < 3; n++)
            milli *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
            return "offset must be Z or +hh:mm / -hh:mm";
        if (oh > 23 || om > 59)
            return "offset out of range";
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return "offset must be Z or +hh:mm / -hh:mm";
    }
    if (*p != '\0')
        return "unexpected text after the offset";
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se) - offset_min * 60;
    if (se == 60) {
        /* A leap second is accepted only where one can be inserted: 23:59:60
         * UTC on the last day of a month. It is stored as the last
         * millisecond of that minute, so it stays in its own day and minute. */
        int uy;
        unsigned um, ud;
        civil_from_days(secs / 86400 - (secs % 86400 < 0), &uy, &um, &ud);
        if (((secs % 86400) + 86400) % 86400 != 86399 || (int)ud != month_days(uy, (int)um))
            return "second 60 is only valid at 23:59:60 UTC on a month's last day";
        milli = 999;
    }
    int64_t v = secs * 1000 + milli;
    if (v < 0)
        return "before 1970-01-01T00:00:00Z";
    if (v > TIME_MAX_MS)
        return "after 9999-12-31T23:59:59.999Z";
    *ms = v;
    return NULL;
}
