/* Monotonic time for measuring, and the canonical text form of event time. */
#ifndef COMMLAB_CLOCK_H
#define COMMLAB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

uint64_t clock_mono_us(void);
int64_t clock_wall_ms(void);
void clock_sleep_us(uint64_t us);

/* Event time is milliseconds since the Unix epoch, written as
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (always 24 characters) so it sorts as text. */
#define TIME_TEXT_LEN 24
void time_format_ms(int64_t ms, char out[TIME_TEXT_LEN + 1]);
/* Reads any RFC 3339 date-time (section 5.6: "T" or "t", 1 or more
 * fractional digits, "Z", "z" or a numeric offset) into UTC milliseconds;
 * fractional digits past the millisecond are truncated. Returns NULL, or
 * why the text is refused (also outside 1970..9999 once in UTC). */
const char *time_parse_ms(const char *text, int64_t *ms);

#endif
