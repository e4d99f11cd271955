/* Part C: `loadgen kafka`. Not built yet. */
#include <stdio.h>

#include "drivers.h"

int loadgen_kafka(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "loadgen kafka: not built yet\n");
    return 2;
}
