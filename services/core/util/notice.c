#include "util/notice.h"

#include <stdarg.h>
#include <stdio.h>

void notify(const struct notifier *n, enum notice_level level, const char *fmt, ...)
{
    if (!n || !n->fn)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    n->fn(n->ctx, level, text);
}
