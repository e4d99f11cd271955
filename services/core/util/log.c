#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static const char *service_name = "commlab";
static int quiet;

void log_init(const char *service)
{
    service_name = service;
}

void log_set_quiet(int q)
{
    quiet = q;
}

COMMLAB_PRINTF(2, 0) static void vlog(const char *level, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    /* One fprintf per line keeps lines from different threads whole. */
    fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, service_name, level, msg);
}

COMMLAB_PRINTF(2, 3) static void log_always(const char *level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

void log_info(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("info", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("warn", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("error", fmt, ap);
    va_end(ap);
}

static void log_notice(void *ctx, enum notice_level level, const char *text)
{
    (void)ctx;
    if (level == NOTICE_ERROR)
        log_error("%s", text);
    else if (level == NOTICE_WARN)
        log_warn("%s", text);
    else
        log_info("%s", text);
}

const struct notifier log_notifier = {log_notice, NULL};

static int events;

void log_set_events(int on)
{
    events = on;
}

int log_events_enabled(void)
{
    return events;
}

static void log_event_notice(void *ctx, enum notice_level level, const char *text)
{
    (void)ctx;
    (void)level;
    /* Not log_info: --quiet does not silence what was asked for by name. */
    log_always("info", "%s", text);
}

struct notifier log_event_notifier(void)
{
    return (struct notifier){events ? log_event_notice : NULL, NULL};
}
