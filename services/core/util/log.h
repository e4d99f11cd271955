/* Minimal leveled logging to stderr, one line per call, safe across threads. */
#ifndef COMMLAB_LOG_H
#define COMMLAB_LOG_H

#include "util/notice.h"

void log_init(const char *service);
void log_set_quiet(int quiet);

#if defined(__GNUC__)
#define COMMLAB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define COMMLAB_PRINTF(a, b)
#endif

void log_info(const char *fmt, ...) COMMLAB_PRINTF(1, 2);
void log_warn(const char *fmt, ...) COMMLAB_PRINTF(1, 2);
void log_error(const char *fmt, ...) COMMLAB_PRINTF(1, 2);

/* Library notices (util/notice.h) logged at their level, as the program's
 * own lines. */
extern const struct notifier log_notifier;

/* --log-events: one info line per event a consumer settles, written even
 * with --quiet (asked for by name). Off: log_event_notifier() drops them. */
void log_set_events(int on);
int log_events_enabled(void);
struct notifier log_event_notifier(void);

#endif
