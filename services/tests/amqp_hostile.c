/* The tests' own hostile AMQP publisher: publishes one message (body from
 * stdin) whose properties are what no well-behaved publisher writes, with
 * rabbitmq-c directly (our transport would never write them).
 *
 *   amqp-hostile URL EXCHANGE ROUTING_KEY CASE <BODY
 *   amqp-hostile --list      the cases, one a line
 *
 * Published persistent and confirmed; exit 0 once the broker confirmed it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/framing.h>
#include <rabbitmq-c/tcp_socket.h>
#else
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#endif

#define BODY_MAX (1 << 20)
#define MANY 300
#define DEEP 40
/* Deeper than rabbitmq-c 0.14+ decodes (100): there the consumer cannot
 * read the message at all and must reject it by delivery tag. */
#define DEEPER 120

static const char *const cases[] = {
    "empty-header-name",   /* {"": "x"}: rabbitmq-c refuses to clone it */
    "empty-nested-name",   /* {"a": {"": 1}} */
    "empty-name-in-array", /* {"a": [{"": 1}]} */
    "deep-headers",        /* tables DEEP levels deep */
    "deep-arrays",         /* arrays DEEP levels deep */
    "deeper-than-library", /* tables DEEPER levels deep */
    "odd-kinds",           /* float, double, decimal, void */
    "float-header",        /* one float (kind f) */
    "double-header",       /* one double (kind d) */
    "decimal-header",      /* one decimal (kind D) */
    "void-header",         /* one void (kind V) */
    "bytes-header",        /* one byte array (kind x, a RabbitMQ extension) */
    "bytes-in-table",      /* {"t": {"b": byte array}} */
    "bytes-in-array",      /* {"a": [1, byte array]} */
    "many-headers",        /* MANY fields */
    "huge-header",         /* one 60 KB string value */
    "binary-header-name",  /* a name with a NUL and a 0xff byte */
    "space-header-name",   /* "x y" */
    "duplicate-header",    /* the same name twice */
    "long-header-name",    /* a 200-byte name */
    "wrong-content-type",  /* text/plain */
    "xml-content-type",    /* application/xml */
    "empty-content-type",  /* "" */
    "gzip-encoding",       /* content-encoding gzip */
    "forged-death",        /* x-death a string, x-delivery-count a string */
};

/* An entry of `kind` named `key`; the caller sets its value when it has one. */
static amqp_table_entry_t entry(const char *key, uint8_t kind)
{
    amqp_table_entry_t e;
    memset(&e, 0, sizeof e);
    e.key = amqp_cstring_bytes(key);
    e.value.kind = kind;
    return e;
}

static amqp_table_entry_t str_entry(const char *key, const char *value)
{
    amqp_table_entry_t e = entry(key, AMQP_FIELD_KIND_UTF8);
    e.value.value.bytes = amqp_cstring_bytes(value);
    return e;
}

static amqp_table_entry_t int_entry(const char *key, int v)
{
    amqp_table_entry_t e = entry(key, AMQP_FIELD_KIND_I32);
    e.value.value.i32 = v;
    return e;
}

static int die(const char *what, const char *detail)
{
    fprintf(stderr, "amqp-hostile: %s: %s\n", what, detail);
    return 1;
}

static int reply_ok(amqp_rpc_reply_t r)
{
    return r.reply_type == AMQP_RESPONSE_NORMAL;
}

/* Static storage for the nested structures each case builds. */
static amqp_table_entry_t ents[MANY + 2], nested[DEEPER + 1];
static amqp_field_value_t vals[DEEP + 1];
static char names[MANY][16], longname[201], bigval[60001];

static int build(const char *c, amqp_basic_properties_t *p)
{
    memset(p, 0, sizeof *p);
    p->_flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    p->content_type = amqp_cstring_bytes("application/json");
    p->delivery_mode = 2;
    int n = 0;
    if (strcmp(c, "empty-header-name") == 0) {
        ents[n++] = str_entry("", "x");
    } else if (strcmp(c, "empty-nested-name") == 0) {
        nested[0] = int_entry("", 1);
        ents[n].key = amqp_cstring_bytes("a");
        ents[n].value.kind = AMQP_FIELD_KIND_TABLE;
        ents[n++].value.value.table = (amqp_table_t){1, nested};
    } else if (strcmp(c, "empty-name-in-array") == 0) {
        nested[0] = int_entry("", 1);
        vals[0].kind = AMQP_FIELD_KIND_TABLE;
        vals[0].value.table = (amqp_table_t){1, nested};
        ents[n].key = amqp_cstring_bytes("a");
        ents[n].value.kind = AMQP_FIELD_KIND_ARRAY;
        ents[n++].value.value.array = (amqp_array_t){1, vals};
    } else if (strcmp(c, "deep-headers") == 0 || strcmp(c, "deeper-than-library") == 0) {
        int deep = strcmp(c, "deep-headers") == 0 ? DEEP : DEEPER;
        nested[deep] = int_entry("leaf", 1);
        for (int d = deep - 1; d >= 0; d--) {
            nested[d].key = amqp_cstring_bytes("t");
            nested[d].value.kind = AMQP_FIELD_KIND_TABLE;
            nested[d].value.value.table = (amqp_table_t){1, &nested[d + 1]};
        }
        ents[n++] = nested[0];
    } else if (strcmp(c, "deep-arrays") == 0) {
        vals[DEEP].kind = AMQP_FIELD_KIND_I32;
        vals[DEEP].value.i32 = 1;
        for (int d = DEEP - 1; d >= 0; d--) {
            vals[d].kind = AMQP_FIELD_KIND_ARRAY;
            vals[d].value.array = (amqp_array_t){1, &vals[d + 1]};
        }
        ents[n].key = amqp_cstring_bytes("a");
        ents[n++].value = vals[0];
    } else if (strcmp(c, "odd-kinds") == 0) {
        ents[n].key = amqp_cstring_bytes("f");
        ents[n].value.kind = AMQP_FIELD_KIND_F32;
        ents[n++].value.value.f32 = 1.5f;
        ents[n].key = amqp_cstring_bytes("d");
        ents[n].value.kind = AMQP_FIELD_KIND_F64;
        ents[n++].value.value.f64 = -0.0;
        ents[n].key = amqp_cstring_bytes("m");
        ents[n].value.kind = AMQP_FIELD_KIND_DECIMAL;
        ents[n++].value.value.decimal = (amqp_decimal_t){255, 0xffffffffu};
        ents[n].key = amqp_cstring_bytes("v");
        ents[n++].value.kind = AMQP_FIELD_KIND_VOID;
    } else if (strcmp(c, "float-header") == 0) {
        ents[n] = entry("f", AMQP_FIELD_KIND_F32);
        ents[n++].value.value.f32 = 2.5f;
    } else if (strcmp(c, "double-header") == 0) {
        ents[n] = entry("d", AMQP_FIELD_KIND_F64);
        ents[n++].value.value.f64 = 2.5;
    } else if (strcmp(c, "decimal-header") == 0) {
        ents[n] = entry("m", AMQP_FIELD_KIND_DECIMAL);
        ents[n++].value.value.decimal = (amqp_decimal_t){2, 250};
    } else if (strcmp(c, "void-header") == 0) {
        ents[n++] = entry("v", AMQP_FIELD_KIND_VOID);
    } else if (strcmp(c, "bytes-header") == 0 || strcmp(c, "bytes-in-table") == 0 ||
               strcmp(c, "bytes-in-array") == 0) {
        amqp_table_entry_t b = entry("b", AMQP_FIELD_KIND_BYTES);
        b.value.value.bytes = (amqp_bytes_t){3, "\x01\x02\x03"};
        if (strcmp(c, "bytes-header") == 0) {
            ents[n++] = b;
        } else if (strcmp(c, "bytes-in-table") == 0) {
            nested[0] = b;
            ents[n] = entry("t", AMQP_FIELD_KIND_TABLE);
            ents[n++].value.value.table = (amqp_table_t){1, nested};
        } else {
            vals[0].kind = AMQP_FIELD_KIND_I32;
            vals[0].value.i32 = 1;
            vals[1] = b.value;
            ents[n] = entry("a", AMQP_FIELD_KIND_ARRAY);
            ents[n++].value.value.array = (amqp_array_t){2, vals};
        }
    } else if (strcmp(c, "many-headers") == 0) {
        for (; n < MANY; n++) {
            snprintf(names[n], sizeof names[n], "h%d", n);
            ents[n] = int_entry(names[n], n);
        }
    } else if (strcmp(c, "huge-header") == 0) {
        memset(bigval, 'h', sizeof bigval - 1);
        ents[n++] = str_entry("big", bigval);
    } else if (strcmp(c, "binary-header-name") == 0) {
        ents[n].key = (amqp_bytes_t){3, "\0\xffk"};
        ents[n].value.kind = AMQP_FIELD_KIND_I32;
        ents[n++].value.value.i32 = 1;
    } else if (strcmp(c, "space-header-name") == 0) {
        ents[n++] = str_entry("x y", "1");
    } else if (strcmp(c, "duplicate-header") == 0) {
        ents[n++] = str_entry("dup", "1");
        ents[n++] = str_entry("dup", "2");
    } else if (strcmp(c, "long-header-name") == 0) {
        memset(longname, 'n', sizeof longname - 1);
        ents[n++] = str_entry(longname, "1");
    } else if (strcmp(c, "wrong-content-type") == 0) {
        p->content_type = amqp_cstring_bytes("text/plain");
    } else if (strcmp(c, "xml-content-type") == 0) {
        p->content_type = amqp_cstring_bytes("application/xml");
    } else if (strcmp(c, "empty-content-type") == 0) {
        p->content_type = amqp_cstring_bytes("");
    } else if (strcmp(c, "gzip-encoding") == 0) {
        p->_flags |= AMQP_BASIC_CONTENT_ENCODING_FLAG;
        p->content_encoding = amqp_cstring_bytes("gzip");
    } else if (strcmp(c, "forged-death") == 0) {
        ents[n++] = str_entry("x-death", "rejected");
        ents[n++] = str_entry("x-delivery-count", "lots");
        ents[n].key = amqp_cstring_bytes("x-commlab-reason");
        ents[n].value.kind = AMQP_FIELD_KIND_I32;
        ents[n++].value.value.i32 = 7;
    } else {
        return -1;
    }
    if (n > 0) {
        p->_flags |= AMQP_BASIC_HEADERS_FLAG;
        p->headers = (amqp_table_t){n, ents};
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            puts(cases[i]);
        return 0;
    }
    if (argc != 5) {
        fprintf(stderr, "usage: amqp-hostile URL EXCHANGE ROUTING_KEY CASE <BODY\n"
                        "       amqp-hostile --list\n");
        return 2;
    }
    amqp_basic_properties_t p;
    if (build(argv[4], &p) != 0)
        return die("unknown case (see --list)", argv[4]);
    static char body[BODY_MAX];
    size_t len = fread(body, 1, sizeof body, stdin);
    char *url = strdup(argv[1]);
    struct amqp_connection_info ci;
    amqp_default_connection_info(&ci);
    if (!url || amqp_parse_url(url, &ci) != AMQP_STATUS_OK)
        return die("bad URL", argv[1]);
    amqp_connection_state_t conn = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(conn);
    struct timeval tv = {.tv_sec = 5};
    if (!sock || amqp_socket_open_noblock(sock, ci.host, ci.port, &tv) != AMQP_STATUS_OK)
        return die("cannot connect", argv[1]);
    if (!reply_ok(amqp_login(conn, ci.vhost && *ci.vhost ? ci.vhost : "/", 0, 131072, 0,
                             AMQP_SASL_METHOD_PLAIN, ci.user, ci.password)))
        return die("login", argv[1]);
    amqp_channel_open(conn, 1);
    amqp_confirm_select(conn, 1);
    if (!reply_ok(amqp_get_rpc_reply(conn)))
        return die("channel", "open or confirm.select failed");
    int st = amqp_basic_publish(conn, 1, amqp_cstring_bytes(argv[2]), amqp_cstring_bytes(argv[3]),
                                1, 0, &p, (amqp_bytes_t){len, body});
    if (st != AMQP_STATUS_OK)
        return die("publish", amqp_error_string2(st));
    int rc = 1, returned = 0;
    for (;;) {
        amqp_frame_t f;
        if (amqp_simple_wait_frame_noblock(conn, &f, &tv) != AMQP_STATUS_OK) {
            die("confirm", "none within 5 s (the broker may have closed the channel)");
            break;
        }
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue;
        if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            rc = returned;
            break;
        }
        if (f.payload.method.id == AMQP_BASIC_RETURN_METHOD) {
            returned = die("publish", "unroutable (no queue bound to the routing key)");
        } else {
            die("publish", "refused by the broker");
            break;
        }
    }
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    free(url);
    return rc;
}
