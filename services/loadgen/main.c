/* loadgen: drives the campus food ordering lab and reports what it measured.
 *
 * `loadgen COMMAND ...` runs the program loadgen-COMMAND installed next to
 * this one. Each driver links only its own client library, so `loadgen kafka`
 * does not load libcurl and the TLS stack behind it, whose start-up is a
 * noticeable part of a short run. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct command {
    const char *name;
    const char *help;
};

static const struct command commands[] = {
    {"rest", "HTTP load on POST /order (any mode) or GET /healthz; --follow: accepted-to-final"},
    {"amqp", "RabbitMQ: publish OrderPlaced, sample queue depth, noop and relay ceilings"},
    {"kafka", "Kafka: produce OrderPlaced events; relay: the consume-produce ceiling"},
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
               "  loadgen rest -n 200 --json                one JSON object instead of a table\n"
               "  loadgen rest --rate 200 --trace t.tsv     one TSV line per request\n"
               "  loadgen kafka -n 10000 --brokers HOST:PORT\n"
               "  loadgen kafka relay --count 10000 --brokers HOST:PORT\n"
               "  loadgen amqp relay --queue Q --fanout 2 --batch 512\n");
}

/* Runs loadgen-NAME from this program's directory, else from PATH. Returns
 * only when neither can be run. */
static int run(const char *name, char **argv)
{
    char program[64];
    snprintf(program, sizeof program, "loadgen-%s", name);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        char path[PATH_MAX];
        if (slash && (size_t)snprintf(path, sizeof path, "%.*s/%s", (int)(slash - self), self,
                                      program) < sizeof path) {
            argv[0] = path;
            execv(path, argv);
        }
    }
    argv[0] = program;
    execvp(program, argv);
    fprintf(stderr,
            "loadgen: cannot run %s: %s\n"
            "It is installed next to loadgen (same directory); reinstall commlab or put it on "
            "PATH.\n",
            program, strerror(errno));
    return 127;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return run(commands[i].name, argv + 1);
    fprintf(stderr, "loadgen: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
