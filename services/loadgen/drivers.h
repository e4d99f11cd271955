/* loadgen's subcommands. Each parses its own options (argv[0] is its name). */
#ifndef COMMLAB_LOADGEN_DRIVERS_H
#define COMMLAB_LOADGEN_DRIVERS_H

int loadgen_rest(int argc, char **argv);
/* Part B (amqp.c): publish to RabbitMQ, sample queue depth. */
int loadgen_amqp(int argc, char **argv);
/* Part C (kafka.c): produce to Kafka. */
int loadgen_kafka(int argc, char **argv);
/* kafka_relay.c: `loadgen kafka relay`, the consume-produce ceiling. */
int loadgen_kafka_relay(int argc, char **argv);
/* Translates -n N and -c C into --requests and --concurrency in place. */
void loadgen_short_options(int argc, char **argv);

#endif
