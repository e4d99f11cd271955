#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/options.h"
#include "mock_control.h"

#define LINE_MAX_LEN 256

static const char usage[] = "commands: down BROKER | up BROKER (-1: all) | leader TOPIC "
                            "PARTITION BROKER | rtt BROKER MS | errors API CODE...";

/* Kafka protocol API keys by name (the mock's header has only numbers). */
static const struct {
    const char *name;
    int16_t key;
} apis[] = {
    {"Produce", 0},          {"Fetch", 1},           {"ListOffsets", 2},
    {"Metadata", 3},         {"OffsetCommit", 8},    {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},      {"Heartbeat", 12},
    {"SyncGroup", 14},       {"InitProducerId", 22}, {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25}, {"EndTxn", 26},         {"TxnOffsetCommit", 28},
};

#define ERRORS_MAX 64

/* An API by name or number; -1 if neither. */
static int api_key(const char *w)
{
    for (size_t i = 0; i < sizeof apis / sizeof apis[0]; i++)
        if (strcmp(w, apis[i].name) == 0)
            return apis[i].key;
    long k;
    return parse_long(w, 0, 32767, &k) == 0 ? (int)k : -1;
}

/* A broker error by number or by librdkafka's name (INVALID_RECORD); local
 * errors (negative, client-side) are not something a broker answers. */
static int error_code(const char *w, rd_kafka_resp_err_t *out)
{
    long c;
    if (parse_long(w, 0, 32767, &c) == 0) {
        *out = (rd_kafka_resp_err_t)c;
        return 0;
    }
    const struct rd_kafka_err_desc *d;
    size_t n;
    rd_kafka_get_err_descs(&d, &n);
    for (size_t i = 0; i < n; i++)
        if (d[i].code > 0 && d[i].name && strcmp(d[i].name, w) == 0) {
            *out = d[i].code;
            return 0;
        }
    return -1;
}

/* "errors API CODE...": the next requests of API, one per code, are answered
 * with these errors (rd_kafka_mock_push_request_errors). */
static const char *push_errors(rd_kafka_mock_cluster_t *mc, char **save)
{
    const char *w = strtok_r(NULL, " \t", save);
    int api = w ? api_key(w) : -1;
    if (api < 0)
        return "errors takes API CODE... (API: a Kafka API name such as Produce, or its key)";
    rd_kafka_resp_err_t errs[ERRORS_MAX];
    size_t n = 0;
    while ((w = strtok_r(NULL, " \t", save)) != NULL) {
        if (n == ERRORS_MAX)
            return "errors: at most 64 codes a command";
        if (error_code(w, &errs[n++]) != 0)
            return "errors: a CODE is a broker error number or name (e.g. 87, INVALID_RECORD)";
    }
    if (n == 0)
        return "errors takes API CODE... (at least one code)";
    rd_kafka_mock_push_request_errors_array(mc, (int16_t)api, n, errs);
    return NULL;
}

static int word_long(char **save, long min, long max, long *out)
{
    const char *w = strtok_r(NULL, " \t", save);
    return w && parse_long(w, min, max, out) == 0 ? 0 : -1;
}

void mock_control_apply(rd_kafka_mock_cluster_t *mc, const char *line, FILE *answer)
{
    char buf[LINE_MAX_LEN];
    snprintf(buf, sizeof buf, "%s", line);
    char *save = NULL;
    const char *cmd = strtok_r(buf, " \t", &save);
    long broker = 0, part = 0, ms = 0;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    const char *why = NULL;
    if (!cmd) {
        why = usage;
    } else if (strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) {
        if (word_long(&save, -1, 64, &broker) != 0)
            why = "down/up take a broker id (-1 for all)";
        else if (cmd[0] == 'd')
            e = rd_kafka_mock_broker_set_down(mc, (int32_t)broker);
        else
            e = rd_kafka_mock_broker_set_up(mc, (int32_t)broker);
    } else if (strcmp(cmd, "leader") == 0) {
        const char *topic = strtok_r(NULL, " \t", &save);
        if (!topic || word_long(&save, 0, 1023, &part) != 0 ||
            word_long(&save, -1, 64, &broker) != 0)
            why = "leader takes TOPIC PARTITION BROKER";
        else
            e = rd_kafka_mock_partition_set_leader(mc, topic, (int32_t)part, (int32_t)broker);
    } else if (strcmp(cmd, "rtt") == 0) {
        if (word_long(&save, -1, 64, &broker) != 0 || word_long(&save, 0, 60000, &ms) != 0)
            why = "rtt takes BROKER MILLISECONDS";
        else
            e = rd_kafka_mock_broker_set_rtt(mc, (int32_t)broker, (int)ms);
    } else if (strcmp(cmd, "errors") == 0) {
        why = push_errors(mc, &save);
    } else {
        why = usage;
    }
    if (!why && e)
        why = rd_kafka_err2str(e);
    if (why)
        fprintf(answer, "error %s: %s\n", line, why);
    else
        fprintf(answer, "ok %s\n", line);
    fflush(answer);
}

int mock_control_serve(rd_kafka_mock_cluster_t *mc, const char *fifo, const char *answer_path,
                       const sigset_t *stop)
{
    if (mkfifo(fifo, 0600) != 0 && errno != EEXIST) {
        fprintf(stderr, "commlab-kafka mock: cannot make the control FIFO %s: %s\n", fifo,
                strerror(errno));
        return -1;
    }
    /* Open for writing too, so the FIFO never reports end-of-file between
     * two writers. */
    int fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    FILE *answer = fopen(answer_path, "a");
    int sfd = signalfd(-1, stop, SFD_CLOEXEC);
    if (fd < 0 || !answer || sfd < 0) {
        fprintf(stderr, "commlab-kafka mock: cannot serve %s (answers in %s): %s\n", fifo,
                answer_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (answer)
            fclose(answer);
        if (sfd >= 0)
            close(sfd);
        return -1;
    }
    char line[LINE_MAX_LEN];
    size_t len = 0;
    for (;;) {
        struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents)
            break;
        char chunk[128];
        ssize_t n = read(fd, chunk, sizeof chunk);
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] != '\n') {
                if (len < sizeof line - 1)
                    line[len++] = chunk[i];
                continue;
            }
            line[len] = '\0';
            len = 0;
            if (line[0])
                mock_control_apply(mc, line, answer);
        }
    }
    close(sfd);
    close(fd);
    fclose(answer);
    return 0;
}
