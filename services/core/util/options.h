/* Command-line options with environment fallbacks: `--name=value` or
 * `--name value` beats COMMLAB_NAME (upper case, '-' as '_'), which beats the
 * default. One table per program also produces its --help text. */
#ifndef COMMLAB_OPTIONS_H
#define COMMLAB_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct opt {
    const char *name; /* long option name, without "--" */
    const char *def;  /* default value, or NULL for "unset" */
    const char *help;
    bool flag;         /* takes no value; set means "1" */
    const char *value; /* filled by config_parse */
};

enum config_result { CONFIG_OK, CONFIG_EXIT_OK, CONFIG_ERROR };

/* `opts` ends with an entry whose name is NULL. Positional arguments are
 * returned through `rest`/`nrest` (pointing into argv) when those are non-NULL;
 * otherwise they are an error. */
enum config_result config_parse(struct opt *opts, int argc, char **argv, const char *usage,
                                char ***rest, int *nrest);
void config_usage(const struct opt *opts, const char *usage);

const char *config_str(const struct opt *opts, const char *name);
bool config_flag(const struct opt *opts, const char *name);
/* Parses an integer option within [min, max]; prints a clear error on failure. */
int config_long(const struct opt *opts, const char *name, long min, long max, long *out);
int config_double(const struct opt *opts, const char *name, double min, double max, double *out);

/* Strict whole-string number parsing, shared by everything that reads numbers. */
int parse_long(const char *s, long min, long max, long *out);
int parse_double(const char *s, double min, double max, double *out);

#endif
