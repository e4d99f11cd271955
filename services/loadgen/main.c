/* loadgen: drives the campus food ordering lab and reports what it measured. */
#include <stdio.h>
#include <string.h>

#include "drivers.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"rest", loadgen_rest, "HTTP load on POST /order (any mode) or GET /healthz"},
    {"amqp", loadgen_amqp, "RabbitMQ: publish OrderPlaced, sample queue depth"},
    {"kafka", loadgen_kafka, "Kafka: produce OrderPlaced events"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: loadgen COMMAND [options]   (loadgen COMMAND --help for its options)\n\n"
               "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nExamples:\n"
               "  loadgen rest -n 200 -c 20                 200 orders, 20 at a time\n"
               "  loadgen rest --rate 500 --duration 10     open loop: 500 orders/s for 10 s\n"
               "  loadgen rest --target healthz -n 20000    the server's no-op endpoint\n"
               "  loadgen rest -n 200 --json                one JSON object instead of a table\n");
}

void loadgen_short_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0)
            argv[i] = "--requests";
        else if (strcmp(argv[i], "-c") == 0)
            argv[i] = "--concurrency";
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "loadgen: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
