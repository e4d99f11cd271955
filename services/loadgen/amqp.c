/* Part B: `loadgen amqp`. Not built yet. */
#include <stdio.h>

#include "drivers.h"

int loadgen_amqp(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "loadgen amqp: not built yet\n");
    return 2;
}
