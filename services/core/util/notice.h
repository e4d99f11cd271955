/* How a library's background loop (a consumer, a relay, librdkafka's own
 * threads) tells its service what happened to the link: the service decides
 * whether and where that is logged. Library code does not log; calls made by
 * a service return their error to it instead (an err buffer, a result). */
#ifndef COMMLAB_NOTICE_H
#define COMMLAB_NOTICE_H

#if defined(__GNUC__)
#define COMMLAB_NOTICE_PRINTF __attribute__((format(printf, 3, 4)))
#else
#define COMMLAB_NOTICE_PRINTF
#endif

enum notice_level { NOTICE_INFO, NOTICE_WARN, NOTICE_ERROR };

typedef void (*notice_fn)(void *ctx, enum notice_level level, const char *text);

struct notifier {
    notice_fn fn; /* NULL: notices are dropped */
    void *ctx;
};

void notify(const struct notifier *n, enum notice_level level, const char *fmt,
            ...) COMMLAB_NOTICE_PRINTF;

#endif
