/* Faults on the mock cluster at run time: a broker down and up again, a
 * partition's leader moved, a broker's round trip delayed, the next requests
 * of an API answered with errors. The lab writes one
 * command a line into a FIFO; each is answered with a line in an answer file,
 * so a script knows the fault is in place before it goes on. */
#ifndef COMMLAB_MOCK_CONTROL_H
#define COMMLAB_MOCK_CONTROL_H

#include <signal.h>

/* After rdkafka.h, as the header demands. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Runs one command line ("down 1", "up -1", "leader order-events 0 2",
 * "rtt 2 300", "errors Produce INVALID_RECORD 87"); writes "ok LINE" or "error LINE: WHY" to
 * `answer`. */
void mock_control_apply(rd_kafka_mock_cluster_t *mc, const char *line, FILE *answer);
/* Serves commands from `fifo` (made if missing) until a signal of `stop`
 * arrives; 0 on a stop signal, -1 if the FIFO cannot be used. */
int mock_control_serve(rd_kafka_mock_cluster_t *mc, const char *fifo, const char *answer_path,
                       const sigset_t *stop);

#endif
