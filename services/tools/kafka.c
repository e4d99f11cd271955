/* commlab-kafka: the Kafka tooling of the streaming lab.
 *   mock           a librdkafka mock cluster in this process (the local lab's broker)
 *   lag            committed offset, log-end offset and lag per group/topic/partition
 *   reset-offsets  move a stopped group's offsets to the earliest (or latest) offset
 *   topics         create topics on a real Kafka (the mock creates its own)
 * lag, reset-offsets and topics use only the Admin API and plain client calls,
 * so they work the same against the mock and a real Kafka. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/options.h"
#include "util/log.h"
#include "transport/kafka.h"
#include "transport/kafka_topology.h"
/* After rdkafka.h (which kafka.h includes), as the header demands. */
#include <librdkafka/rdkafka_mock.h>

#include "mock_control.h"

#define MAX_TOPICS 16
#define TIMEOUT_MS 10000

/* Splits a comma-separated list in place into at most MAX_TOPICS words. */
static size_t split(char *s, const char **out)
{
    size_t n = 0;
    char *save = NULL;
    for (char *w = strtok_r(s, ",", &save); w && n < MAX_TOPICS; w = strtok_r(NULL, ",", &save))
        out[n++] = w;
    return n;
}

static rd_kafka_t *admin(const char *brokers)
{
    char err[KAFKA_ERR_LEN];
    rd_kafka_t *rk = kafka_admin_new(brokers, err, sizeof err);
    if (!rk)
        fprintf(stderr, "commlab-kafka: %s\n", err);
    return rk;
}

static struct opt mock_opts[] = {
    {"brokers", "3", "how many brokers the cluster has", false, NULL},
    {"partitions", "6", "partitions of each topic created", false, NULL},
    {"topics", KAFKA_TOPICS_ALL, "topics to create", false, NULL},
    {"bootstrap-file", NULL, "write the bootstrap list here once the cluster is up", false, NULL},
    {"control", NULL, "serve fault commands from this FIFO (answers in FIFO.answers)", false, NULL},
    {NULL, NULL, NULL, false, NULL},
};

/* The mock lives in its own process: a consumer closing inside the process
 * that hosts the mock was seen to stall, and a process of its own is also
 * what a broker is. It keeps everything in memory until SIGTERM. */
static int cmd_mock(int argc, char **argv)
{
    enum config_result cr = config_parse(
        mock_opts, argc, argv,
        "usage: commlab-kafka mock [options]\n"
        "Runs a librdkafka mock Kafka cluster until SIGTERM/SIGINT; prints its\n"
        "bootstrap list on stdout. With --control FIFO it takes one fault command a line:\n"
        "  down BROKER | up BROKER (-1: all)   a broker refuses connections, or again accepts\n"
        "  leader TOPIC PARTITION BROKER       move a partition's leader\n"
        "  rtt BROKER MS                       delay every answer of a broker\n"
        "  errors API CODE...                  answer the next requests of API (Produce,\n"
        "                                      EndTxn... or its key) with these errors\n"
        "                                      (numbers or names: INVALID_RECORD), one each",
        NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    long nb, np;
    if (config_long(mock_opts, "brokers", 1, 9, &nb) ||
        config_long(mock_opts, "partitions", 1, 64, &np))
        return 2;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before librdkafka starts threads */
    char err[KAFKA_ERR_LEN];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        fprintf(stderr, "commlab-kafka mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)nb);
    if (!mc) {
        fprintf(stderr, "commlab-kafka mock: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    char topics[1024];
    snprintf(topics, sizeof topics, "%s", config_str(mock_opts, "topics"));
    const char *t[MAX_TOPICS];
    size_t nt = split(topics, t);
    int rc = 0;
    for (size_t i = 0; i < nt; i++) {
        /* Replication factor = broker count, like a real lab cluster. */
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, t[i], (int)np, (int)nb);
        if (e) {
            fprintf(stderr, "commlab-kafka mock: topic %s: %s\n", t[i], rd_kafka_err2str(e));
            rc = 1;
        }
    }
    const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
    const char *file = config_str(mock_opts, "bootstrap-file");
    if (rc == 0 && file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", boot) < 0 || fclose(f) != 0 || rename(tmp, file) != 0) {
            fprintf(stderr, "commlab-kafka mock: cannot write %s\n", file);
            rc = 1;
        }
    }
    if (rc == 0) {
        printf("%s\n", boot);
        fflush(stdout);
        const char *control = config_str(mock_opts, "control");
        if (control) {
            char answers[4096];
            snprintf(answers, sizeof answers, "%s.answers", control);
            rc = mock_control_serve(mc, control, answers, &sigs) == 0 ? 0 : 1;
        } else {
            int sig = 0;
            sigwait(&sigs, &sig);
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}

static struct opt lag_opts[] = {
    {"brokers", "127.0.0.1:9092", "bootstrap servers", false, NULL},
    {"json", NULL, "one JSON object instead of the table", true, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static const char lag_usage[] =
    "usage: commlab-kafka lag [--brokers B] [--json] [GROUP:TOPIC[,TOPIC...]]...\n"
    "Per group, topic and partition: the committed offset, the log-end offset and the lag,\n"
    "like kafka-consumer-groups --describe. Without arguments: inventory-consumer-group on\n"
    "order-events and analytics-consumer-group on order-events and inventory-events.\n"
    "A partition where the group has committed nothing shows '-' and lags by the whole log.";

static int cmd_lag(int argc, char **argv)
{
    char **rest = NULL;
    int nrest = 0;
    enum config_result cr = config_parse(lag_opts, argc, argv, lag_usage, &rest, &nrest);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    static char *defaults[] = {KAFKA_GROUP_INVENTORY ":" KAFKA_TOPIC_ORDERS, KAFKA_GROUP_ANALYTICS
                               ":" KAFKA_TOPIC_ORDERS "," KAFKA_TOPIC_OUTCOMES};
    if (nrest == 0) {
        rest = defaults;
        nrest = 2;
    }
    bool json = config_flag(lag_opts, "json");
    rd_kafka_t *rk = admin(config_str(lag_opts, "brokers"));
    if (!rk)
        return 1;
    int rc = 0;
    if (json)
        printf("{\"groups\":[");
    else
        printf("%-26s %-18s %9s %14s %14s %10s\n", "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
               "LOG-END-OFFSET", "LAG");
    for (int g = 0; g < nrest && rc == 0; g++) {
        char spec[1024];
        snprintf(spec, sizeof spec, "%s", rest[g]);
        char *colon = strchr(spec, ':');
        const char *t[MAX_TOPICS];
        size_t nt = colon ? (*colon = '\0', split(colon + 1, t)) : 0;
        if (nt == 0) {
            fprintf(stderr, "commlab-kafka lag: expected GROUP:TOPIC[,TOPIC], got '%s'\n", rest[g]);
            rc = 2;
            break;
        }
        struct kafka_lag_row *rows = NULL;
        size_t n = 0;
        char err[KAFKA_ERR_LEN];
        if (kafka_group_lag(rk, spec, t, nt, TIMEOUT_MS, &rows, &n, err, sizeof err) != 0) {
            fprintf(stderr, "commlab-kafka lag: group %s: %s\n", spec, err);
            rc = 1;
            break;
        }
        int64_t total = 0;
        if (json)
            printf("%s{\"group\":\"%s\",\"partitions\":[", g ? "," : "", spec);
        for (size_t i = 0; i < n; i++) {
            const struct kafka_lag_row *r = &rows[i];
            total += r->lag;
            if (json) {
                printf("%s{\"topic\":\"%s\",\"partition\":%d,\"committed\":%lld,"
                       "\"log_end\":%lld,\"lag\":%lld}",
                       i ? "," : "", r->topic, (int)r->partition, (long long)r->committed,
                       (long long)r->log_end, (long long)r->lag);
                continue;
            }
            char committed[24] = "-";
            if (r->committed >= 0)
                snprintf(committed, sizeof committed, "%lld", (long long)r->committed);
            printf("%-26s %-18s %9d %14s %14lld %10lld\n", spec, r->topic, (int)r->partition,
                   committed, (long long)r->log_end, (long long)r->lag);
        }
        if (json)
            printf("],\"lag\":%lld}", (long long)total);
        else
            printf("%-26s %-18s %9s %14s %14s %10lld\n", spec, "(total)", "", "", "",
                   (long long)total);
        free(rows);
    }
    if (json && rc == 0)
        printf("]}\n");
    rd_kafka_destroy(rk);
    return rc;
}

static struct opt reset_opts[] = {
    {"brokers", "127.0.0.1:9092", "bootstrap servers", false, NULL},
    {"group", NULL, "consumer group (required)", false, NULL},
    {"topics", NULL, "comma-separated topics (required)", false, NULL},
    {"to", "earliest", "earliest or latest", false, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static int cmd_reset(int argc, char **argv)
{
    enum config_result cr =
        config_parse(reset_opts, argc, argv,
                     "usage: commlab-kafka reset-offsets --group G --topics T[,T] [--to "
                     "earliest|latest]\n"
                     "Sets the group's committed offsets on every partition of the topics.\n"
                     "Stop the group's consumers first: Kafka refuses to move the offsets of a\n"
                     "group whose members are subscribed.",
                     NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    const char *group = config_str(reset_opts, "group");
    const char *to = config_str(reset_opts, "to");
    if (!group || !config_str(reset_opts, "topics")) {
        fprintf(stderr, "commlab-kafka reset-offsets: --group and --topics are required\n");
        return 2;
    }
    if (strcmp(to, "earliest") != 0 && strcmp(to, "latest") != 0) {
        fprintf(stderr, "commlab-kafka reset-offsets: --to: expected earliest or latest\n");
        return 2;
    }
    char topics[1024];
    snprintf(topics, sizeof topics, "%s", config_str(reset_opts, "topics"));
    const char *t[MAX_TOPICS];
    size_t nt = split(topics, t);
    rd_kafka_t *rk = admin(config_str(reset_opts, "brokers"));
    if (!rk)
        return 1;
    char err[KAFKA_ERR_LEN];
    int rc = kafka_group_reset(config_str(reset_opts, "brokers"), rk, group, t, nt,
                               strcmp(to, "latest") == 0, TIMEOUT_MS, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "commlab-kafka reset-offsets: group %s: %s\n", group, err);
    else
        printf("group %s: offsets on %s set to %s\n", group, config_str(reset_opts, "topics"), to);
    rd_kafka_destroy(rk);
    return rc ? 1 : 0;
}

static struct opt topics_opts[] = {
    {"brokers", "127.0.0.1:9092", "bootstrap servers", false, NULL},
    {"topics", KAFKA_TOPICS_ALL, "topics to create", false, NULL},
    {"partitions", "6", "partitions per topic", false, NULL},
    {"replication", "1", "replication factor", false, NULL},
    {NULL, NULL, NULL, false, NULL},
};

static int cmd_topics(int argc, char **argv)
{
    enum config_result cr = config_parse(
        topics_opts, argc, argv,
        "usage: commlab-kafka topics [options]\n"
        "Creates the lab's topics (Admin API); topics that exist are left as they are.",
        NULL, NULL);
    if (cr != CONFIG_OK)
        return cr == CONFIG_EXIT_OK ? 0 : 2;
    long np, nr;
    if (config_long(topics_opts, "partitions", 1, 1000, &np) ||
        config_long(topics_opts, "replication", 1, 16, &nr))
        return 2;
    char topics[1024];
    snprintf(topics, sizeof topics, "%s", config_str(topics_opts, "topics"));
    const char *t[MAX_TOPICS];
    size_t nt = split(topics, t);
    rd_kafka_t *rk = admin(config_str(topics_opts, "brokers"));
    if (!rk)
        return 1;
    char err[KAFKA_ERR_LEN];
    int rc = kafka_create_topics(rk, t, nt, (int)np, (int)nr, TIMEOUT_MS, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "commlab-kafka topics: %s\n", err);
    rd_kafka_destroy(rk);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    log_init("commlab-kafka");
    kafka_set_notifier(&log_notifier);
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "mock") == 0)
        return cmd_mock(argc - 1, argv + 1);
    if (strcmp(cmd, "lag") == 0)
        return cmd_lag(argc - 1, argv + 1);
    if (strcmp(cmd, "reset-offsets") == 0)
        return cmd_reset(argc - 1, argv + 1);
    if (strcmp(cmd, "topics") == 0)
        return cmd_topics(argc - 1, argv + 1);
    bool help = strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0;
    fprintf(help ? stdout : stderr,
            "usage: commlab-kafka mock|lag|reset-offsets|topics [options]  (--help on each)\n");
    return help ? 0 : 2;
}
