#include "amqp.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "../core/util/log.h"

/* rabbitmq-c 0.12 moved its headers (nixpkgs has 0.14+, Debian 12 has 0.11);
 * the old names still exist there but warn. */
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#endif

#define CHANNEL 1
#define CONNECT_TIMEOUT_S 3
/* Declares, qos, consume: replies normally come in milliseconds. */
#define RPC_TIMEOUT_S 15

struct amqp_link {
    amqp_connection_state_t conn;
    bool open;             /* the channel is open and usable */
    bool confirms;         /* confirm.select done */
    uint64_t next_tag;     /* delivery tag the next publish will get */
    uint64_t window_start; /* first tag not yet waited for */
    char error[200];
};

static void set_error(struct amqp_link *l, const char *fmt, ...) COMMLAB_PRINTF(2, 3);

static void set_error(struct amqp_link *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->error, sizeof l->error, fmt, ap);
    va_end(ap);
}

const char *amqp_link_error(const struct amqp_link *l)
{
    return l ? l->error : "no link";
}

/* A reply that is not normal: records what it was; the link is then unusable
 * (rabbitmq-c's synchronous calls leave no way to recover a channel error). */
static int check_reply(struct amqp_link *l, amqp_rpc_reply_t r, const char *what)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_NONE:
        set_error(l, "%s: no reply", what);
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        set_error(l, "%s: %s", what, amqp_error_string2(r.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            const amqp_connection_close_t *m = r.reply.decoded;
            set_error(l, "%s: connection closed by the broker: %u %.*s", what, m->reply_code,
                      (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t *m = r.reply.decoded;
            set_error(l, "%s: channel closed by the broker: %u %.*s", what, m->reply_code,
                      (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else {
            set_error(l, "%s: unexpected method 0x%08x", what, (unsigned)r.reply.id);
        }
        break;
    }
    l->open = false;
    return -1;
}

static struct amqp_link *open_one(const char *url, char *err, size_t errlen)
{
    struct amqp_link *l = calloc(1, sizeof *l);
    char *copy = strdup(url ? url : "");
    if (!l || !copy) {
        snprintf(err, errlen, "out of memory");
        free(l);
        free(copy);
        return NULL;
    }
    struct amqp_connection_info ci;
    amqp_default_connection_info(&ci);
    if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
        snprintf(err, errlen, "bad AMQP URL '%s' (want amqp://user:pass@host:port/vhost)", url);
        free(copy);
        free(l);
        return NULL;
    }
    /* "amqp://host:5672/" names the empty vhost by the URI spec; people mean "/". */
    const char *vhost = ci.vhost && *ci.vhost ? ci.vhost : "/";
    l->conn = amqp_new_connection();
    amqp_socket_t *sock = l->conn ? amqp_tcp_socket_new(l->conn) : NULL;
    struct timeval tv = {.tv_sec = CONNECT_TIMEOUT_S};
    struct timeval rpc = {.tv_sec = RPC_TIMEOUT_S};
    int st;
    if (!sock) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    amqp_set_handshake_timeout(l->conn, &tv);
    amqp_set_rpc_timeout(l->conn, &rpc);
    if ((st = amqp_socket_open_noblock(sock, ci.host, ci.port, &tv)) != AMQP_STATUS_OK) {
        snprintf(err, errlen, "cannot connect to %s:%d: %s", ci.host, ci.port,
                 amqp_error_string2(st));
        goto fail;
    }
    if (check_reply(l,
                    amqp_login(l->conn, vhost, 0, 131072, AMQP_HEARTBEAT_S, AMQP_SASL_METHOD_PLAIN,
                               ci.user, ci.password),
                    "login") != 0 ||
        (amqp_channel_open(l->conn, CHANNEL),
         check_reply(l, amqp_get_rpc_reply(l->conn), "channel.open") != 0)) {
        snprintf(err, errlen, "%s:%d: %s", ci.host, ci.port, l->error);
        goto fail;
    }
    free(copy);
    l->open = true;
    l->next_tag = l->window_start = 1;
    return l;
fail:
    free(copy);
    if (l->conn)
        amqp_destroy_connection(l->conn);
    free(l);
    return NULL;
}

void amqp_link_close(struct amqp_link *l)
{
    if (!l)
        return;
    if (l->open) {
        /* A clean close: the broker requeues whatever we did not ack. */
        amqp_channel_close(l->conn, CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(l->conn, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(l->conn);
    free(l);
}

static amqp_table_entry_t str_entry(const char *key, const char *value)
{
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(key);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_cstring_bytes(value);
    return e;
}

int amqp_link_exchange(struct amqp_link *l, const char *name, const char *type)
{
    amqp_exchange_declare(l->conn, CHANNEL, amqp_cstring_bytes(name), amqp_cstring_bytes(type), 0,
                          1, 0, 0, amqp_empty_table);
    return check_reply(l, amqp_get_rpc_reply(l->conn), "exchange.declare");
}

static int declare_queue(struct amqp_link *l, const char *name, amqp_table_t args)
{
    amqp_queue_declare(l->conn, CHANNEL, amqp_cstring_bytes(name), 0, 1, 0, 0, args);
    return check_reply(l, amqp_get_rpc_reply(l->conn), "queue.declare");
}

static int bind_queue(struct amqp_link *l, const char *queue, const char *exchange, const char *key)
{
    amqp_queue_bind(l->conn, CHANNEL, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes(key), amqp_empty_table);
    return check_reply(l, amqp_get_rpc_reply(l->conn), "queue.bind");
}

int amqp_link_work_queue(struct amqp_link *l, const char *name, const char *exchange,
                         const char *const *keys, size_t n_keys, const char *dlx,
                         long delivery_limit)
{
    char dlq[160];
    snprintf(dlq, sizeof dlq, "%s.dlq", name);
    /* The same arguments on every declare: a queue that exists with other
     * arguments is an error (PRECONDITION_FAILED), never silently changed. */
    amqp_table_entry_t dlq_args[1] = {str_entry("x-queue-type", "quorum")};
    amqp_table_entry_t args[4] = {
        str_entry("x-queue-type", "quorum"),
        str_entry("x-dead-letter-exchange", dlx),
        str_entry("x-dead-letter-routing-key", name),
    };
    args[3].key = amqp_cstring_bytes("x-delivery-limit");
    args[3].value.kind = AMQP_FIELD_KIND_I32;
    args[3].value.value.i32 = (int32_t)delivery_limit;
    if (declare_queue(l, dlq, (amqp_table_t){1, dlq_args}) != 0 ||
        bind_queue(l, dlq, dlx, name) != 0 || declare_queue(l, name, (amqp_table_t){4, args}) != 0)
        return -1;
    for (size_t i = 0; i < n_keys; i++)
        if (bind_queue(l, name, exchange, keys[i]) != 0)
            return -1;
    return 0;
}

long amqp_link_depth(struct amqp_link *l, const char *queue, long *consumers)
{
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(l->conn, CHANNEL, amqp_cstring_bytes(queue), 1,
                                                     0, 0, 0, amqp_empty_table);
    if (check_reply(l, amqp_get_rpc_reply(l->conn), "queue.declare (passive)") != 0 || !ok)
        return -1;
    if (consumers)
        *consumers = (long)ok->consumer_count;
    return (long)ok->message_count;
}

int amqp_link_confirm_mode(struct amqp_link *l)
{
    amqp_confirm_select(l->conn, CHANNEL);
    if (check_reply(l, amqp_get_rpc_reply(l->conn), "confirm.select") != 0)
        return -1;
    l->confirms = true;
    return 0;
}

int amqp_link_publish(struct amqp_link *l, const char *exchange, const char *routing_key,
                      const void *body, size_t len, const char *reason)
{
    if (!l->open)
        return -1;
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.delivery_mode = 2; /* persistent: written to disk before the confirm */
    amqp_table_entry_t h[1];
    if (reason) {
        h[0] = str_entry("x-commlab-reason", reason);
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers = (amqp_table_t){1, h};
    }
    amqp_bytes_t b = {len, (void *)(uintptr_t)body};
    /* mandatory=1: a message no queue takes comes back (basic.return), and
     * the relay then keeps it instead of counting the confirm as delivery. */
    int st = amqp_basic_publish(l->conn, CHANNEL, amqp_cstring_bytes(exchange),
                                amqp_cstring_bytes(routing_key), 1, 0, &p, b);
    if (st != AMQP_STATUS_OK) {
        set_error(l, "publish: %s", amqp_error_string2(st));
        l->open = false;
        return -1;
    }
    l->next_tag++;
    return 0;
}

static int remaining_ms(const struct timeval *deadline)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_usec - now.tv_usec) / 1000;
    return ms < 0 ? 0 : (int)ms;
}

/* A frame that is neither a confirm nor a delivery: a close from the broker. */
static int other_frame(struct amqp_link *l, const amqp_frame_t *f)
{
    if (f->frame_type != AMQP_FRAME_METHOD)
        return 0; /* heartbeats are handled inside the library */
    amqp_method_number_t id = f->payload.method.id;
    if (id == AMQP_CHANNEL_CLOSE_METHOD || id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_rpc_reply_t r = {.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION,
                              .reply = f->payload.method};
        check_reply(l, r, "broker");
        /* Answer the close so the broker frees its side at once. */
        if (id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_ok_t ok = {0};
            amqp_send_method(l->conn, f->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
        } else {
            amqp_connection_close_ok_t ok = {0};
            amqp_send_method(l->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        }
        return -1;
    }
    return 0;
}

int amqp_link_wait_confirms(struct amqp_link *l, int timeout_ms)
{
    uint64_t first = l->window_start, last = l->next_tag; /* [first, last) */
    l->window_start = l->next_tag;
    if (first == last)
        return l->open ? 0 : -1;
    if (!l->open || !l->confirms)
        return -1;
    size_t n = (size_t)(last - first);
    unsigned char *acked = calloc(n, 1);
    if (!acked)
        return -1;
    size_t pending = n;
    bool bad = false;
    struct timeval deadline;
    gettimeofday(&deadline, NULL);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_usec += (timeout_ms % 1000) * 1000;
    if (deadline.tv_usec >= 1000000) {
        deadline.tv_sec++;
        deadline.tv_usec -= 1000000;
    }
    while (pending > 0 && !bad) {
        int ms = remaining_ms(&deadline);
        struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
        amqp_frame_t f;
        int st = amqp_simple_wait_frame_noblock(l->conn, &f, &tv);
        if (st == AMQP_STATUS_TIMEOUT) {
            set_error(l, "no confirm within %d ms (%zu of %zu outstanding)", timeout_ms, pending,
                      n);
            l->open = false; /* unknown state: reconnect and publish again */
            bad = true;
            break;
        }
        if (st != AMQP_STATUS_OK) {
            set_error(l, "waiting for confirms: %s", amqp_error_string2(st));
            l->open = false;
            bad = true;
            break;
        }
        if (f.frame_type != AMQP_FRAME_METHOD) {
            continue;
        }
        amqp_method_number_t id = f.payload.method.id;
        if (id == AMQP_BASIC_ACK_METHOD || id == AMQP_BASIC_NACK_METHOD) {
            uint64_t tag;
            bool multiple;
            if (id == AMQP_BASIC_ACK_METHOD) {
                const amqp_basic_ack_t *a = f.payload.method.decoded;
                tag = a->delivery_tag;
                multiple = a->multiple;
            } else {
                const amqp_basic_nack_t *a = f.payload.method.decoded;
                tag = a->delivery_tag;
                multiple = a->multiple;
                set_error(l, "the broker refused (nack) message %llu", (unsigned long long)tag);
                bad = true;
            }
            uint64_t lo = multiple ? first : tag;
            for (uint64_t t = lo; t <= tag && t < last; t++) {
                if (t >= first && !acked[t - first]) {
                    acked[t - first] = 1;
                    pending--;
                }
            }
        } else if (id == AMQP_BASIC_RETURN_METHOD) {
            /* Unroutable: its header and body follow; read and drop them. */
            amqp_message_t m;
            amqp_rpc_reply_t r = amqp_read_message(l->conn, f.channel, &m, 0);
            if (r.reply_type == AMQP_RESPONSE_NORMAL)
                amqp_destroy_message(&m);
            set_error(l, "a message was unroutable (no queue bound to its routing key)");
            bad = true;
        } else if (other_frame(l, &f) != 0) {
            bad = true;
        }
    }
    free(acked);
    amqp_maybe_release_buffers(l->conn);
    return bad ? -1 : 0;
}

int amqp_link_consume(struct amqp_link *l, const char *queue, unsigned prefetch)
{
    /* Prefetch bounds what the broker pushes before we ack: consumer memory
     * stays flat however long the queue grows. */
    amqp_basic_qos(l->conn, CHANNEL, 0, (uint16_t)prefetch, 0);
    if (check_reply(l, amqp_get_rpc_reply(l->conn), "basic.qos") != 0)
        return -1;
    amqp_basic_consume(l->conn, CHANNEL, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    return check_reply(l, amqp_get_rpc_reply(l->conn), "basic.consume");
}

static void copy_bytes(char *out, size_t cap, amqp_bytes_t b)
{
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    memcpy(out, b.bytes, n);
    out[n] = '\0';
}

static const amqp_field_value_t *find_field(const amqp_table_t *t, const char *key)
{
    size_t kl = strlen(key);
    for (int i = 0; i < t->num_entries; i++)
        if (t->entries[i].key.len == kl && memcmp(t->entries[i].key.bytes, key, kl) == 0)
            return &t->entries[i].value;
    return NULL;
}

static long field_long(const amqp_field_value_t *v)
{
    switch (v->kind) {
    case AMQP_FIELD_KIND_I8:
        return v->value.i8;
    case AMQP_FIELD_KIND_U8:
        return v->value.u8;
    case AMQP_FIELD_KIND_I16:
        return v->value.i16;
    case AMQP_FIELD_KIND_U16:
        return v->value.u16;
    case AMQP_FIELD_KIND_I32:
        return v->value.i32;
    case AMQP_FIELD_KIND_U32:
        return (long)v->value.u32;
    case AMQP_FIELD_KIND_I64:
        return (long)v->value.i64;
    case AMQP_FIELD_KIND_U64:
        return (long)v->value.u64;
    default:
        return 0;
    }
}

static void read_headers(struct amqp_msg *m, const amqp_basic_properties_t *p)
{
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return;
    const amqp_field_value_t *v = find_field(&p->headers, "x-commlab-reason");
    if (v && (v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES))
        copy_bytes(m->commlab_reason, sizeof m->commlab_reason, v->value.bytes);
    v = find_field(&p->headers, "x-delivery-count");
    if (v)
        m->delivery_count = field_long(v);
    v = find_field(&p->headers, "x-death");
    if (v && v->kind == AMQP_FIELD_KIND_ARRAY && v->value.array.num_entries > 0 &&
        v->value.array.entries[0].kind == AMQP_FIELD_KIND_TABLE) {
        const amqp_table_t *d = &v->value.array.entries[0].value.table;
        const amqp_field_value_t *r = find_field(d, "reason");
        if (r && r->kind == AMQP_FIELD_KIND_UTF8)
            copy_bytes(m->death_reason, sizeof m->death_reason, r->value.bytes);
        r = find_field(d, "queue");
        if (r && r->kind == AMQP_FIELD_KIND_UTF8)
            copy_bytes(m->death_queue, sizeof m->death_queue, r->value.bytes);
    }
}

/* Copies what we keep out of librabbitmq's buffers, which are then released:
 * nothing of a message outlives its handling. */
static int take_message(struct amqp_msg *m, const amqp_message_t *msg)
{
    m->body = malloc(msg->body.len + 1);
    if (!m->body)
        return -1;
    memcpy(m->body, msg->body.bytes, msg->body.len);
    m->body[msg->body.len] = '\0';
    m->len = msg->body.len;
    read_headers(m, &msg->properties);
    return 0;
}

int amqp_link_next(struct amqp_link *l, struct amqp_msg *m, int timeout_ms)
{
    memset(m, 0, sizeof *m);
    if (!l->open)
        return -1;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    amqp_envelope_t env;
    amqp_maybe_release_buffers(l->conn);
    amqp_rpc_reply_t r = amqp_consume_message(l->conn, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        /* Not a delivery: read the frame to see what it was (a close). */
        amqp_frame_t f;
        struct timeval zero = {0, 0};
        if (amqp_simple_wait_frame_noblock(l->conn, &f, &zero) == AMQP_STATUS_OK &&
            other_frame(l, &f) != 0)
            return -1;
        return l->open ? 0 : -1;
    }
    if (check_reply(l, r, "consume") != 0)
        return -1;
    m->tag = env.delivery_tag;
    m->redelivered = env.redelivered;
    copy_bytes(m->routing_key, sizeof m->routing_key, env.routing_key);
    size_t len = env.message.body.len;
    int rc = take_message(m, &env.message);
    amqp_destroy_envelope(&env);
    if (rc != 0) {
        set_error(l, "out of memory for a %zu-byte message", len);
        l->open = false; /* unacked: the broker redelivers it to someone */
        return -1;
    }
    return 1;
}

int amqp_link_get(struct amqp_link *l, const char *queue, struct amqp_msg *m)
{
    memset(m, 0, sizeof *m);
    amqp_maybe_release_buffers(l->conn);
    amqp_rpc_reply_t r = amqp_basic_get(l->conn, CHANNEL, amqp_cstring_bytes(queue), 0);
    if (check_reply(l, r, "basic.get") != 0)
        return -1;
    if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
        return 0;
    const amqp_basic_get_ok_t *ok = r.reply.decoded;
    m->tag = ok->delivery_tag;
    m->redelivered = ok->redelivered;
    copy_bytes(m->routing_key, sizeof m->routing_key, ok->routing_key);
    amqp_message_t msg;
    r = amqp_read_message(l->conn, CHANNEL, &msg, 0);
    if (check_reply(l, r, "basic.get body") != 0)
        return -1;
    int rc = take_message(m, &msg);
    amqp_destroy_message(&msg);
    return rc == 0 ? 1 : -1;
}

void amqp_msg_free(struct amqp_msg *m)
{
    free(m->body);
    m->body = NULL;
}

int amqp_link_ack(struct amqp_link *l, uint64_t tag, bool multiple)
{
    if (!l->open)
        return -1;
    int st = amqp_basic_ack(l->conn, CHANNEL, tag, multiple);
    if (st != AMQP_STATUS_OK) {
        set_error(l, "ack: %s", amqp_error_string2(st));
        l->open = false;
        return -1;
    }
    return 0;
}

int amqp_link_nack(struct amqp_link *l, uint64_t tag, bool requeue)
{
    if (!l->open)
        return -1;
    int st = amqp_basic_nack(l->conn, CHANNEL, tag, 0, requeue);
    if (st != AMQP_STATUS_OK) {
        set_error(l, "nack: %s", amqp_error_string2(st));
        l->open = false;
        return -1;
    }
    return 0;
}

int amqp_link_idle(struct amqp_link *l, int timeout_ms)
{
    if (!l->open)
        return -1;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    amqp_frame_t f;
    int st = amqp_simple_wait_frame_noblock(l->conn, &f, &tv);
    if (st == AMQP_STATUS_TIMEOUT)
        return 0;
    if (st != AMQP_STATUS_OK) {
        set_error(l, "%s", amqp_error_string2(st));
        l->open = false;
        return -1;
    }
    return other_frame(l, &f);
}

/* A cluster is named by its nodes' URLs, comma-separated. Each open starts
 * one node further than the last, so a client whose node went away (or a
 * client restarted) tries the others first instead of waiting on it. */
struct amqp_link *amqp_link_open(const char *urls, char *err, size_t errlen)
{
    static _Atomic unsigned rotation;
    if (!urls || !strchr(urls, ','))
        return open_one(urls, err, errlen);
    char *copy = strdup(urls);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char *node[AMQP_MAX_NODES];
    size_t n = 0;
    char *save = NULL;
    for (char *u = strtok_r(copy, ",", &save); u && n < AMQP_MAX_NODES;
         u = strtok_r(NULL, ",", &save))
        node[n++] = u;
    struct amqp_link *l = NULL;
    unsigned start = n ? atomic_fetch_add(&rotation, 1) % (unsigned)n : 0;
    for (size_t k = 0; k < n && !l; k++)
        l = open_one(node[(start + k) % n], err, errlen);
    if (!l && n > 1) {
        size_t len = strlen(err);
        snprintf(err + len, errlen > len ? errlen - len : 0, " (and %zu other node%s)", n - 1,
                 n > 2 ? "s" : "");
    }
    if (n == 0)
        snprintf(err, errlen, "no AMQP URL in '%s'", urls);
    free(copy);
    return l;
}
