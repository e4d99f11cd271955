#include "amqp.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "util/log.h"
#include "util/worker.h"
#include "amqp_props.h"
#include "dead_letter_id.h"
#include "media_type.h"

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
    /* Reading stopped at a frame the library could not decode: the link can
     * still settle what it received (ack, nack, publish), then must go. */
    bool input_broken;
    char consumer_tag[256];
    char error[200];
    /* rabbitmq-c sends heartbeats only from inside its own calls, and a
     * connection is not thread-safe: every call on `conn` holds `mu`, and
     * `beat` sends a heartbeat whenever nobody does, so that however long
     * the owner spends outside the library (an apply, a commit), the broker
     * never drops the link for silence and returns its unacked messages. */
    pthread_mutex_t mu;
    struct worker beat;
    bool beating;
};

static void heartbeats(struct worker *w, void *arg)
{
    struct amqp_link *l = arg;
    int period_ms = amqp_get_heartbeat(l->conn) * 1000 / 2;
    amqp_frame_t f = {.frame_type = AMQP_FRAME_HEARTBEAT, .channel = 0};
    while (worker_sleep(w, period_ms)) {
        /* Busy: the owner is inside the library, which beats itself while it
         * waits, or is writing, which counts as traffic. */
        if (pthread_mutex_trylock(&l->mu) != 0)
            continue;
        if (l->open && !l->input_broken)
            amqp_send_frame(l->conn, &f); /* a failure shows in the owner's next call */
        pthread_mutex_unlock(&l->mu);
    }
}

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
    pthread_mutex_init(&l->mu, NULL);
    l->beating = amqp_get_heartbeat(l->conn) > 0 &&
                 worker_start(&l->beat, "amqp-heartbeat", heartbeats, l) == 0;
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
    if (l->beating)
        worker_stop(&l->beat);
    if (l->open && !l->input_broken) {
        /* A clean close: the broker requeues whatever we did not ack. */
        amqp_channel_close(l->conn, CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(l->conn, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(l->conn);
    pthread_mutex_destroy(&l->mu);
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

static int link_exchange(struct amqp_link *l, const char *name, const char *type)
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

static int link_work_queue(struct amqp_link *l, const char *name, const char *exchange,
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

static long link_depth(struct amqp_link *l, const char *queue, long *consumers)
{
    amqp_queue_declare_ok_t *ok = amqp_queue_declare(l->conn, CHANNEL, amqp_cstring_bytes(queue), 1,
                                                     0, 0, 0, amqp_empty_table);
    if (check_reply(l, amqp_get_rpc_reply(l->conn), "queue.declare (passive)") != 0 || !ok)
        return -1;
    if (consumers)
        *consumers = (long)ok->consumer_count;
    return (long)ok->message_count;
}

static int link_confirm_mode(struct amqp_link *l)
{
    amqp_confirm_select(l->conn, CHANNEL);
    if (check_reply(l, amqp_get_rpc_reply(l->conn), "confirm.select") != 0)
        return -1;
    l->confirms = true;
    return 0;
}

static int link_publish(struct amqp_link *l, const char *exchange, const char *routing_key,
                        const void *body, size_t len, const char *reason,
                        const char *dead_letter_id)
{
    if (!l->open)
        return -1;
    amqp_basic_properties_t p;
    memset(&p, 0, sizeof p);
    p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    p.content_type = amqp_cstring_bytes("application/json");
    p.delivery_mode = 2; /* persistent: written to disk before the confirm */
    amqp_table_entry_t h[2];
    int nh = 0;
    if (reason)
        h[nh++] = str_entry("x-commlab-reason", reason);
    if (dead_letter_id)
        h[nh++] = str_entry(DEAD_LETTER_ID_HEADER, dead_letter_id);
    if (nh > 0) {
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers = (amqp_table_t){nh, h};
    }
    /* Under confirms, the message id is the delivery tag: a message that
     * comes back (basic.return carries no tag) is known by it. */
    char id[24];
    if (l->confirms) {
        snprintf(id, sizeof id, "%llu", (unsigned long long)l->next_tag);
        p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        p.message_id = amqp_cstring_bytes(id);
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

static void copy_bytes(char *out, size_t cap, amqp_bytes_t b);

/* The publishes a wait settles: tags [first, last), which are confirmed
 * yet, and each one's outcome when the caller asked (out[0..n_out)). */
struct confirm_window {
    uint64_t first, last;
    unsigned char *acked;
    size_t pending;
    enum amqp_confirm *out;
    size_t n_out;
};

/* A basic.ack or basic.nack: true when it makes the wait fail (a nack
 * when the caller asked for no per-message outcome). */
static bool on_confirm(struct amqp_link *l, struct confirm_window *w, const amqp_frame_t *f)
{
    amqp_method_number_t id = f->payload.method.id;
    uint64_t tag;
    bool multiple, bad = false;
    if (id == AMQP_BASIC_ACK_METHOD) {
        const amqp_basic_ack_t *a = f->payload.method.decoded;
        tag = a->delivery_tag;
        multiple = a->multiple;
    } else {
        const amqp_basic_nack_t *a = f->payload.method.decoded;
        tag = a->delivery_tag;
        multiple = a->multiple;
        set_error(l, "the broker refused (nack) message %llu", (unsigned long long)tag);
        bad = !w->out; /* per message: the others still count */
    }
    uint64_t lo = multiple ? w->first : tag;
    for (uint64_t t = lo; t <= tag && t < w->last; t++) {
        if (t >= w->first && !w->acked[t - w->first]) {
            w->acked[t - w->first] = 1;
            w->pending--;
            /* A return came before its ack: it stays returned. */
            if (w->out && t - w->first < w->n_out && w->out[t - w->first] == AMQP_CONFIRM_PENDING)
                w->out[t - w->first] =
                    id == AMQP_BASIC_ACK_METHOD ? AMQP_CONFIRM_ACKED : AMQP_CONFIRM_NACKED;
        }
    }
    return bad;
}

/* A basic.return (unroutable): its header and body follow; the message id
 * says which publish it was (link_publish). True when the wait fails. */
static bool on_return(struct amqp_link *l, struct confirm_window *w, const amqp_frame_t *f)
{
    bool bad = false;
    amqp_message_t m;
    amqp_rpc_reply_t r = amqp_read_message(l->conn, f->channel, &m, 0);
    unsigned long long tag = 0;
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        char id_text[24] = "";
        if (m.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
            copy_bytes(id_text, sizeof id_text, m.properties.message_id);
        tag = strtoull(id_text, NULL, 10);
        amqp_destroy_message(&m);
    } else {
        l->open = false; /* the rest of it is still on the wire */
        bad = true;
    }
    set_error(l, "a message was unroutable (no queue bound to its routing key)");
    if (w->out && tag >= w->first && tag < w->last && tag - w->first < w->n_out)
        w->out[tag - w->first] = AMQP_CONFIRM_RETURNED;
    else
        bad = true;
    return bad;
}

static struct timeval deadline_in(int timeout_ms)
{
    struct timeval deadline;
    gettimeofday(&deadline, NULL);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_usec += (timeout_ms % 1000) * 1000;
    if (deadline.tv_usec >= 1000000) {
        deadline.tv_sec++;
        deadline.tv_usec -= 1000000;
    }
    return deadline;
}

static int link_wait_confirms(struct amqp_link *l, int timeout_ms, enum amqp_confirm *out,
                              size_t n_out)
{
    struct confirm_window w = {
        .first = l->window_start, .last = l->next_tag, .out = out, .n_out = n_out};
    l->window_start = l->next_tag;
    if (w.first == w.last)
        return l->open ? 0 : -1;
    if (!l->open || !l->confirms)
        return -1;
    size_t n = (size_t)(w.last - w.first);
    w.acked = calloc(n, 1);
    if (!w.acked)
        return -1;
    for (size_t i = 0; out && i < n_out; i++)
        out[i] = AMQP_CONFIRM_PENDING;
    w.pending = n;
    bool bad = false;
    struct timeval deadline = deadline_in(timeout_ms);
    while (w.pending > 0 && !bad) {
        int ms = remaining_ms(&deadline);
        struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
        amqp_frame_t f;
        int st = amqp_simple_wait_frame_noblock(l->conn, &f, &tv);
        if (st == AMQP_STATUS_TIMEOUT) {
            set_error(l, "no confirm within %d ms (%zu of %zu outstanding)", timeout_ms, w.pending,
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
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue;
        amqp_method_number_t id = f.payload.method.id;
        if (id == AMQP_BASIC_ACK_METHOD || id == AMQP_BASIC_NACK_METHOD)
            bad = on_confirm(l, &w, &f);
        else if (id == AMQP_BASIC_RETURN_METHOD)
            bad = on_return(l, &w, &f);
        else if (other_frame(l, &f) != 0)
            bad = true;
    }
    free(w.acked);
    amqp_maybe_release_buffers(l->conn);
    return bad ? -1 : 0;
}

static void copy_bytes(char *out, size_t cap, amqp_bytes_t b)
{
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    memcpy(out, b.bytes, n);
    out[n] = '\0';
}

static int link_consume(struct amqp_link *l, const char *queue, unsigned prefetch)
{
    /* Prefetch bounds what the broker pushes before we ack: consumer memory
     * stays flat however long the queue grows. */
    amqp_basic_qos(l->conn, CHANNEL, 0, (uint16_t)prefetch, 0);
    if (check_reply(l, amqp_get_rpc_reply(l->conn), "basic.qos") != 0)
        return -1;
    amqp_basic_consume_ok_t *ok = amqp_basic_consume(l->conn, CHANNEL, amqp_cstring_bytes(queue),
                                                     amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    if (check_reply(l, amqp_get_rpc_reply(l->conn), "basic.consume") != 0 || !ok)
        return -1;
    copy_bytes(l->consumer_tag, sizeof l->consumer_tag, ok->consumer_tag);
    return 0;
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
    v = find_field(&p->headers, DEAD_LETTER_ID_HEADER);
    if (v && v->kind == AMQP_FIELD_KIND_UTF8)
        copy_bytes(m->dead_letter_id, sizeof m->dead_letter_id, v->value.bytes);
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

/* The property contract of a work-queue message (what our publishers write,
 * and what a broker adds: x-death, x-delivery-count): JSON, not encoded, and
 * a header table of bounded shape. Anything else is refused with the reason,
 * so a hostile publisher cannot make a consumer guess. */
#define HEADERS_MAX_DEPTH 6
#define HEADERS_MAX_FIELDS 256
#define HEADERS_MAX_BYTES 16384
#define HEADER_NAME_MAX 128

struct shape {
    int fields;
    size_t bytes;
    char *why;
};

static bool refuse(struct shape *s, const char *fmt, ...) COMMLAB_PRINTF(2, 3);

static bool refuse(struct shape *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, AMQP_REASON_MAX, fmt, ap);
    va_end(ap);
    return false;
}

static bool value_ok(struct shape *s, const amqp_field_value_t *v, int depth);

static bool table_ok(struct shape *s, const amqp_table_t *t, int depth)
{
    if (depth > HEADERS_MAX_DEPTH)
        return refuse(s, "headers: nested deeper than %d", HEADERS_MAX_DEPTH);
    for (int i = 0; i < t->num_entries; i++) {
        const amqp_bytes_t k = t->entries[i].key;
        if (k.len == 0)
            return refuse(s, "headers: a field with an empty name");
        if (k.len > HEADER_NAME_MAX)
            return refuse(s, "headers: a field name longer than %d bytes", HEADER_NAME_MAX);
        for (size_t j = 0; j < k.len; j++) {
            unsigned char c = ((const unsigned char *)k.bytes)[j];
            if (c < 0x21 || c > 0x7e)
                return refuse(s, "headers: a field name with byte 0x%02x (printable ASCII only)",
                              c);
        }
        for (int j = 0; j < i; j++)
            if (t->entries[j].key.len == k.len &&
                memcmp(t->entries[j].key.bytes, k.bytes, k.len) == 0)
                return refuse(s, "headers: field '%.*s' appears twice", (int)k.len,
                              (const char *)k.bytes);
        s->bytes += k.len;
        if (!value_ok(s, &t->entries[i].value, depth))
            return false;
    }
    return true;
}

static bool value_ok(struct shape *s, const amqp_field_value_t *v, int depth)
{
    if (++s->fields > HEADERS_MAX_FIELDS)
        return refuse(s, "headers: more than %d fields", HEADERS_MAX_FIELDS);
    switch (v->kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
    case AMQP_FIELD_KIND_I8:
    case AMQP_FIELD_KIND_U8:
    case AMQP_FIELD_KIND_I16:
    case AMQP_FIELD_KIND_U16:
    case AMQP_FIELD_KIND_I32:
    case AMQP_FIELD_KIND_U32:
    case AMQP_FIELD_KIND_I64:
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
        s->bytes += 8;
        break;
    case AMQP_FIELD_KIND_UTF8:
        s->bytes += v->value.bytes.len;
        break;
    case AMQP_FIELD_KIND_TABLE:
        if (!table_ok(s, &v->value.table, depth + 1))
            return false;
        break;
    case AMQP_FIELD_KIND_ARRAY:
        if (depth + 1 > HEADERS_MAX_DEPTH)
            return refuse(s, "headers: nested deeper than %d", HEADERS_MAX_DEPTH);
        for (int i = 0; i < v->value.array.num_entries; i++)
            if (!value_ok(s, &v->value.array.entries[i], depth + 1))
                return false;
        break;
    default:
        /* Floats, decimals, void and byte arrays (a RabbitMQ extension):
         * nothing we or a broker write. */
        return refuse(s,
                      "headers: a field of kind '%c' (strings, integers, booleans, "
                      "timestamps, tables and arrays only)",
                      (char)v->kind);
    }
    if (s->bytes > HEADERS_MAX_BYTES)
        return refuse(s, "headers: larger than %d bytes", HEADERS_MAX_BYTES);
    return true;
}

/* Up to 64 bytes of a property as sent, for a reason: it goes into the dead
 * letter's header and the log, so a control or non-ASCII byte is shown as
 * \xHH: a client cannot start a log line of its own or hide bytes. */
#define SHOWN_BYTES 64
static const char *shown(amqp_bytes_t b, char out[SHOWN_BYTES * 4 + 1])
{
    const unsigned char *p = b.bytes;
    size_t n = 0;
    for (size_t i = 0; i < b.len && i < SHOWN_BYTES; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f)
            out[n++] = (char)p[i];
        else
            n += (size_t)sprintf(out + n, "\\x%02x", p[i]);
    }
    out[n] = '\0';
    return out;
}

static bool bytes_is(amqp_bytes_t b, const char *want)
{
    size_t n = strlen(want);
    return b.len == n && strncasecmp(b.bytes, want, n) == 0;
}

/* The headers a broker writes (and ours) must have their own shape: a
 * forged x-death or x-delivery-count would mislead whoever reads them. */
static bool known_headers_ok(struct shape *s, const amqp_table_t *t)
{
    const amqp_field_value_t *v = find_field(t, "x-death");
    if (v && v->kind != AMQP_FIELD_KIND_ARRAY)
        return refuse(s, "headers: x-death must be an array of tables");
    for (int i = 0; v && i < v->value.array.num_entries; i++)
        if (v->value.array.entries[i].kind != AMQP_FIELD_KIND_TABLE)
            return refuse(s, "headers: x-death must be an array of tables");
    v = find_field(t, "x-delivery-count");
    if (v && (v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES ||
              v->kind == AMQP_FIELD_KIND_TABLE || v->kind == AMQP_FIELD_KIND_ARRAY ||
              v->kind == AMQP_FIELD_KIND_BOOLEAN))
        return refuse(s, "headers: x-delivery-count must be an integer");
    v = find_field(t, "x-commlab-reason");
    if (v && v->kind != AMQP_FIELD_KIND_UTF8)
        return refuse(s, "headers: x-commlab-reason must be a string");
    return true;
}

static bool props_ok(const amqp_basic_properties_t *p, char why[AMQP_REASON_MAX])
{
    struct shape s = {0, 0, why};
    /* No content type at all is read as JSON: the management UI, pika and
     * amqp-publish send none by default, and the body's strict validation
     * still applies. A content type that names something else is refused. */
    const char *ct_why = p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG
                             ? media_type_json_error(p->content_type.bytes, p->content_type.len)
                             : NULL;
    char as_sent[SHOWN_BYTES * 4 + 1];
    if (ct_why)
        return refuse(&s, "content_type: '%s' (want application/json: %s)",
                      shown(p->content_type, as_sent), ct_why);
    if ((p->_flags & AMQP_BASIC_CONTENT_ENCODING_FLAG) && p->content_encoding.len > 0 &&
        !bytes_is(p->content_encoding, "identity"))
        return refuse(&s, "content_encoding: '%s' (no encoding accepted)",
                      shown(p->content_encoding, as_sent));
    if (p->_flags & AMQP_BASIC_HEADERS_FLAG)
        return table_ok(&s, &p->headers, 1) && known_headers_ok(&s, &p->headers);
    return true;
}

/* Reads a message's content (header frame, then body frames) after its
 * basic.deliver or basic.get-ok, copying out what we keep; nothing of it
 * outlives this call in librabbitmq's buffers. Unlike amqp_read_message,
 * it judges the decoded properties itself instead of cloning them (the clone
 * refuses, e.g., an empty header name with "invalid parameter", and leaves
 * the body unread on the wire), so such a message is still read whole and
 * can be dead-lettered with its body and a reason. 0, or -1 when the link
 * broke (then `m->undecodable` if the frame itself could not be decoded). */
static int read_content(struct amqp_link *l, struct amqp_msg *m)
{
    struct timeval tv = {.tv_sec = RPC_TIMEOUT_S};
    amqp_frame_t f;
    int st = amqp_simple_wait_frame_noblock(l->conn, &f, &tv);
    if (st != AMQP_STATUS_OK) {
        set_error(l, "reading a message header: %s", amqp_error_string2(st));
        m->undecodable = st == AMQP_STATUS_BAD_AMQP_DATA;
        l->open = false;
        return -1;
    }
    if (f.frame_type != AMQP_FRAME_HEADER) {
        if (other_frame(l, &f) == 0)
            set_error(l, "a message without its header frame");
        l->open = false;
        return -1;
    }
    uint64_t size = f.payload.properties.body_size;
    const amqp_basic_properties_t *p = f.payload.properties.decoded;
    props_ok(p, m->refused);
    read_headers(m, p); /* it reads only fields of the kinds it expects */
    /* Oversized bodies are still read whole (the frame max bounds each frame,
     * the consumer's decoder refuses them); a body that cannot fit in memory
     * here cannot be read at all. */
    m->body = malloc(size < SIZE_MAX ? (size_t)size + 1 : 1);
    if (!m->body || size >= SIZE_MAX) {
        set_error(l, "out of memory for a %llu-byte message", (unsigned long long)size);
        l->open = false; /* unacked: the broker redelivers it */
        return -1;
    }
    size_t got = 0;
    while (got < size) {
        st = amqp_simple_wait_frame_noblock(l->conn, &f, &tv);
        if (st != AMQP_STATUS_OK || f.frame_type != AMQP_FRAME_BODY ||
            f.payload.body_fragment.len > size - got) {
            if (st != AMQP_STATUS_OK)
                set_error(l, "reading a message body: %s", amqp_error_string2(st));
            else if (f.frame_type != AMQP_FRAME_METHOD || other_frame(l, &f) == 0)
                set_error(l, "a message body that does not match its header");
            l->open = false;
            return -1;
        }
        memcpy(m->body + got, f.payload.body_fragment.bytes, f.payload.body_fragment.len);
        got += f.payload.body_fragment.len;
    }
    m->body[size] = '\0';
    m->len = (size_t)size;
    return 0;
}

/* A delivery whose content could not be read: the delivery tag is known
 * (basic.deliver came first), the link is not. What is returned lets the
 * consumer reject it to the dead-letter exchange before it reconnects. */
static int undecodable(struct amqp_link *l, struct amqp_msg *m)
{
    free(m->body);
    m->body = calloc(1, 1);
    m->len = 0;
    m->undecodable = true;
    snprintf(m->refused, sizeof m->refused, "undecodable AMQP message: %.150s", l->error);
    l->open = true;
    l->input_broken = true;
    /* No more deliveries to this link: what the broker already sent after it
     * goes back to the queue once, unread, when the link closes. */
    if (l->consumer_tag[0]) {
        amqp_basic_cancel_t cancel = {.consumer_tag = amqp_cstring_bytes(l->consumer_tag)};
        amqp_send_method(l->conn, CHANNEL, AMQP_BASIC_CANCEL_METHOD, &cancel);
    }
    return m->body ? 1 : -1;
}

/* 1 a frame in `f`, 0 none within timeout_ms, -1 the link broke. */
static int wait_frame(struct amqp_link *l, amqp_frame_t *f, int timeout_ms, const char *what)
{
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int st = amqp_simple_wait_frame_noblock(l->conn, f, &tv);
    if (st == AMQP_STATUS_TIMEOUT)
        return 0;
    if (st != AMQP_STATUS_OK) {
        set_error(l, "%s: %s", what, amqp_error_string2(st));
        l->open = false;
        return -1;
    }
    return 1;
}

static int link_next(struct amqp_link *l, struct amqp_msg *m, int timeout_ms)
{
    memset(m, 0, sizeof *m);
    if (!l->open || l->input_broken)
        return -1;
    amqp_maybe_release_buffers(l->conn);
    amqp_frame_t f;
    int got = wait_frame(l, &f, timeout_ms, "consume");
    if (got <= 0)
        return got;
    if (f.frame_type != AMQP_FRAME_METHOD || f.payload.method.id != AMQP_BASIC_DELIVER_METHOD)
        return other_frame(l, &f) != 0 ? -1 : 0; /* a close, or a heartbeat */
    const amqp_basic_deliver_t *d = f.payload.method.decoded;
    m->tag = d->delivery_tag;
    m->redelivered = d->redelivered;
    copy_bytes(m->routing_key, sizeof m->routing_key, d->routing_key);
    if (read_content(l, m) != 0)
        return m->undecodable && m->tag ? undecodable(l, m) : (amqp_msg_free(m), -1);
    return 1;
}

static int link_get(struct amqp_link *l, const char *queue, struct amqp_msg *m)
{
    memset(m, 0, sizeof *m);
    if (!l->open || l->input_broken)
        return -1;
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
    if (read_content(l, m) != 0)
        return m->undecodable && m->tag ? undecodable(l, m) : (amqp_msg_free(m), -1);
    return 1;
}

void amqp_msg_free(struct amqp_msg *m)
{
    free(m->body);
    m->body = NULL;
}

static int link_ack(struct amqp_link *l, uint64_t tag, bool multiple)
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

static int link_nack(struct amqp_link *l, uint64_t tag, bool requeue)
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

static int link_idle(struct amqp_link *l, int timeout_ms)
{
    if (!l->open)
        return -1;
    amqp_frame_t f;
    int got = wait_frame(l, &f, timeout_ms, "idle");
    return got <= 0 ? got : other_frame(l, &f);
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

/* The public calls: each holds the link's lock (see struct amqp_link). */
#define LOCKED(T, call)                                                                            \
    do {                                                                                           \
        pthread_mutex_lock(&l->mu);                                                                \
        T rc_ = call;                                                                              \
        pthread_mutex_unlock(&l->mu);                                                              \
        return rc_;                                                                                \
    } while (0)

int amqp_link_exchange(struct amqp_link *l, const char *name, const char *type)
{
    LOCKED(int, link_exchange(l, name, type));
}

int amqp_link_work_queue(struct amqp_link *l, const char *name, const char *exchange,
                         const char *const *keys, size_t n_keys, const char *dlx,
                         long delivery_limit)
{
    LOCKED(int, link_work_queue(l, name, exchange, keys, n_keys, dlx, delivery_limit));
}

long amqp_link_depth(struct amqp_link *l, const char *queue, long *consumers)
{
    LOCKED(long, link_depth(l, queue, consumers));
}

int amqp_link_confirm_mode(struct amqp_link *l)
{
    LOCKED(int, link_confirm_mode(l));
}

int amqp_link_publish(struct amqp_link *l, const char *exchange, const char *routing_key,
                      const void *body, size_t len, const char *reason)
{
    LOCKED(int, link_publish(l, exchange, routing_key, body, len, reason, NULL));
}

int amqp_link_dead_letter(struct amqp_link *l, const char *exchange, const char *queue,
                          const void *body, size_t len, const char *reason)
{
    char id[DEAD_LETTER_ID_LEN + 1];
    dead_letter_id(queue, body, len, id);
    LOCKED(int, link_publish(l, exchange, queue, body, len, reason, id));
}

int amqp_link_wait_confirms(struct amqp_link *l, int timeout_ms)
{
    LOCKED(int, link_wait_confirms(l, timeout_ms, NULL, 0));
}

int amqp_link_wait_confirms_each(struct amqp_link *l, int timeout_ms, enum amqp_confirm *out,
                                 size_t n)
{
    LOCKED(int, link_wait_confirms(l, timeout_ms, out, n));
}

int amqp_link_consume(struct amqp_link *l, const char *queue, unsigned prefetch)
{
    LOCKED(int, link_consume(l, queue, prefetch));
}

int amqp_link_next(struct amqp_link *l, struct amqp_msg *m, int timeout_ms)
{
    LOCKED(int, link_next(l, m, timeout_ms));
}

int amqp_link_get(struct amqp_link *l, const char *queue, struct amqp_msg *m)
{
    LOCKED(int, link_get(l, queue, m));
}

int amqp_link_ack(struct amqp_link *l, uint64_t tag, bool multiple)
{
    LOCKED(int, link_ack(l, tag, multiple));
}

int amqp_link_nack(struct amqp_link *l, uint64_t tag, bool requeue)
{
    LOCKED(int, link_nack(l, tag, requeue));
}

int amqp_link_idle(struct amqp_link *l, int timeout_ms)
{
    LOCKED(int, link_idle(l, timeout_ms));
}

bool amqp_properties_ok(const amqp_basic_properties_t *p, char why[AMQP_REASON_MAX])
{
    return props_ok(p, why);
}
