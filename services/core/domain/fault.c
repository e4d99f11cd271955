#include "fault.h"

#include <string.h>

static const char *const names[] = {"none", "error", "hang"};

const char *fault_mode_name(enum fault_mode m)
{
    return names[m];
}

int fault_mode_parse(const char *s, enum fault_mode *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum fault_mode)i;
            return 0;
        }
    }
    return -1;
}
