#include <string.h>

#include "drivers.h"

void loadgen_short_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0)
            argv[i] = "--requests";
        else if (strcmp(argv[i], "-c") == 0)
            argv[i] = "--concurrency";
    }
}
