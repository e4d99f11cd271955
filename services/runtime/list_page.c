#include "list_page.h"

#include <stdlib.h>
#include <string.h>

#include "transport/http_query.h"
#include "transport/http_target.h"
#include "service.h"

static bool read_limit(const char *text, size_t *out)
{
    /* 1 to LIST_LIMIT_MAX in plain digits: no sign, no leading zero. */
    size_t v = 0, n = strlen(text);
    if (n == 0 || n > 3 || text[0] == '0')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (size_t)(text[i] - '0');
    }
    if (v > LIST_LIMIT_MAX)
        return false;
    *out = v;
    return true;
}

static void cursor_encode(const char *id, char out[LIST_CURSOR_MAX + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    out[n++] = 'c';
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        out[n++] = hex[*p >> 4];
        out[n++] = hex[*p & 15];
    }
    out[n] = '\0';
}

static bool cursor_decode(const char *text, char id[ID_MAX_LEN + 1])
{
    size_t n = strlen(text);
    if (text[0] != 'c' || n < 3 || n > LIST_CURSOR_MAX || (n - 1) % 2 != 0)
        return false;
    size_t k = 0;
    for (size_t i = 1; i < n; i += 2) {
        int hi = http_hex_digit(text[i]), lo = http_hex_digit(text[i + 1]);
        /* Lower case only: each cursor has one spelling. */
        if (hi < 0 || lo < 0 || (text[i] >= 'A' && text[i] <= 'F') ||
            (text[i + 1] >= 'A' && text[i + 1] <= 'F'))
            return false;
        id[k++] = (char)(hi * 16 + lo);
    }
    id[k] = '\0';
    return id_valid(id);
}

bool list_page_start(const struct http_request *req, struct http_response *res,
                     bool (*status_ok)(const char *), const char *key, struct list_page *p)
{
    memset(p, 0, sizeof *p);
    if (strcmp(req->method, "GET") != 0) {
        service_method_not_allowed(res, "GET");
        return false;
    }
    static const char *const with_status[] = {"limit", "after", "user_id", "status", NULL};
    static const char *const without[] = {"limit", "after", "user_id", NULL};
    struct http_query q;
    if (http_query_read(req, status_ok ? with_status : without, &q) != 0) {
        service_bad_request(res, q.bad, q.why);
        return false;
    }
    const char *v = http_query_get(&q, "limit");
    p->limit = LIST_LIMIT_DEFAULT;
    if (v && !read_limit(v, &p->limit)) {
        service_bad_request(res, "limit", "must be a whole number from 1 to 200");
        return false;
    }
    if ((v = http_query_get(&q, "after")) && !cursor_decode(v, p->after)) {
        service_bad_request(res, "after", "must be the \"next\" cursor of an earlier page");
        return false;
    }
    if ((v = http_query_get(&q, "user_id"))) {
        if (!id_valid(v)) {
            service_bad_request(res, "user_id",
                                "must be 1-64 characters from A-Z a-z 0-9 _ - . @ :");
            return false;
        }
        strcpy(p->user_id, v);
    }
    if (status_ok && (v = http_query_get(&q, "status"))) {
        if (!status_ok(v)) {
            service_bad_request(res, "status",
                                "must be one of pending, accepted, confirmed, rejected, failed");
            return false;
        }
        strcpy(p->status, v);
    }
    buf_printf(&p->out, "{\"%s\":[", key);
    return true;
}

bool list_page_row(struct list_page *p, const char *id, const char *json)
{
    p->read++;
    strcpy(p->last, id);
    if (json) {
        if (p->matched++)
            buf_puts(&p->out, ",");
        buf_puts(&p->out, json);
    }
    return p->matched < p->limit && p->read < LIST_SCAN_MAX;
}

void list_page_finish(struct list_page *p, bool failed, struct http_response *res)
{
    if (failed) {
        buf_free(&p->out);
        service_internal_error(res, "cannot read the database for a list");
        return;
    }
    /* Another page may follow when this one stopped early. */
    if (p->matched == p->limit || p->read == LIST_SCAN_MAX) {
        char cursor[LIST_CURSOR_MAX + 1];
        cursor_encode(p->last, cursor);
        buf_printf(&p->out, "],\"next\":\"%s\"}", cursor);
    } else {
        buf_puts(&p->out, "],\"next\":null}");
    }
    size_t len = 0;
    char *text = buf_take(&p->out, &len);
    http_respond_text(res, text ? 200 : 500, "application/json", text, len);
}
