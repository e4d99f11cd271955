/* Fault injection as the seeds had it: a delay before answering, then an
 * optional failure mode. */
#ifndef COMMLAB_FAULT_H
#define COMMLAB_FAULT_H

enum fault_mode { FAULT_NONE, FAULT_ERROR, FAULT_HANG };

#define FAULT_MAX_DELAY_MS 600000L

const char *fault_mode_name(enum fault_mode m);
/* Accepts "none", "error" (answer HTTP 500) and "hang" (never answer). */
int fault_mode_parse(const char *s, enum fault_mode *out);

#endif
