#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void env_name(const char *name, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "COMMLAB_");
    for (const char *p = name; *p && n + 1 < len; p++)
        out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

static struct opt *find(struct opt *opts, const char *name, size_t len)
{
    for (struct opt *o = opts; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

void config_usage(const struct opt *opts, const char *usage)
{
    printf("%s\nOptions (each may also be set as the environment variable shown):\n", usage);
    for (const struct opt *o = opts; o->name; o++) {
        char env[96];
        env_name(o->name, env, sizeof env);
        char left[128];
        snprintf(left, sizeof left, "--%s%s", o->name, o->flag ? "" : "=VALUE");
        printf("  %-28s %s\n  %-28s [%s", left, o->help, "", env);
        if (o->def)
            printf(", default %s", o->def);
        printf("]\n");
    }
    printf("  %-28s %s\n", "--help", "show this text and exit");
}

enum config_result config_parse(struct opt *opts, int argc, char **argv, const char *usage,
                                char ***rest, int *nrest)
{
    for (struct opt *o = opts; o->name; o++) {
        char env[96];
        env_name(o->name, env, sizeof env);
        const char *v = getenv(env);
        o->value = v && *v ? v : o->def;
    }
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            config_usage(opts, usage);
            return CONFIG_EXIT_OK;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (!rest) {
                fprintf(stderr, "unexpected argument '%s' (try --help)\n", a);
                return CONFIG_ERROR;
            }
            argv[1 + npos++] = argv[i];
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        struct opt *o = find(opts, name, eq ? (size_t)(eq - name) : strlen(name));
        if (!o) {
            fprintf(stderr, "unknown option '%s' (try --help)\n", a);
            return CONFIG_ERROR;
        }
        if (o->flag) {
            if (eq) {
                fprintf(stderr, "option --%s takes no value\n", o->name);
                return CONFIG_ERROR;
            }
            o->value = "1";
        } else if (eq) {
            o->value = eq + 1;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            fprintf(stderr, "option --%s needs a value (try --help)\n", o->name);
            return CONFIG_ERROR;
        }
    }
    if (rest) {
        *rest = argv + 1;
        *nrest = npos;
    }
    return CONFIG_OK;
}

const char *config_str(const struct opt *opts, const char *name)
{
    for (const struct opt *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->value;
    return NULL;
}

bool config_flag(const struct opt *opts, const char *name)
{
    const char *v = config_str(opts, name);
    return v && strcmp(v, "0") != 0 && strcmp(v, "false") != 0 && strcmp(v, "") != 0;
}

int parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int config_long(const struct opt *opts, const char *name, long min, long max, long *out)
{
    const char *v = config_str(opts, name);
    if (parse_long(v, min, max, out) != 0) {
        fprintf(stderr, "--%s: expected a whole number from %ld to %ld, got '%s'\n", name, min,
                max, v ? v : "");
        return -1;
    }
    return 0;
}

int config_double(const struct opt *opts, const char *name, double min, double max, double *out)
{
    const char *v = config_str(opts, name);
    if (parse_double(v, min, max, out) != 0) {
        fprintf(stderr, "--%s: expected a number from %g to %g, got '%s'\n", name, min, max,
                v ? v : "");
        return -1;
    }
    return 0;
}
