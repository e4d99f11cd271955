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
                            "PARTITION BROKER | rtt BROKER MS";

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
