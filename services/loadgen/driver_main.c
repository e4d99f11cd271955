/* main() of one loadgen driver program (loadgen-rest, loadgen-amqp,
 * loadgen-kafka); the build names the driver in LOADGEN_DRIVER. */
#include "drivers.h"

#ifndef LOADGEN_DRIVER
#error "LOADGEN_DRIVER must name the driver function, e.g. loadgen_kafka"
#endif

int main(int argc, char **argv)
{
    return LOADGEN_DRIVER(argc, argv);
}
