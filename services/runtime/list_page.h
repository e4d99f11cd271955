/* The list endpoints (GET /orders, GET /notifications): their query
 * parameters and one page of rows in key order. A page reads at most
 * LIST_SCAN_MAX rows after its cursor, whatever the table size and the
 * filters; a filter that matches few of them gives a short (even empty) page
 * whose `next` goes on from the last row read. */
#ifndef COMMLAB_LIST_PAGE_H
#define COMMLAB_LIST_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/order.h"
#include "transport/http_server.h"
#include "util/buf.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 200
#define LIST_SCAN_MAX 1000
/* "c" and the hex of an id. */
#define LIST_CURSOR_MAX (1 + 2 * ID_MAX_LEN)

struct list_page {
    size_t limit;
    char after[ID_MAX_LEN + 1]; /* "" for the first page */
    char user_id[ID_MAX_LEN + 1];
    char status[16];
    /* Filled as the page is built. */
    size_t read, matched;
    char last[ID_MAX_LEN + 1];
    struct buf out;
};

/* Reads limit, after, user_id and, when `status_ok` is given, status (a name
 * it accepts); answers 400 naming the parameter and returns false if one is
 * bad, 405 for another method than GET. */
bool list_page_start(const struct http_request *req, struct http_response *res,
                     bool (*status_ok)(const char *), const char *key, struct list_page *p);
/* For each row read, in key order: whether to go on. `json` (may be NULL:
 * the row does not match the filters) is the row's object. */
bool list_page_row(struct list_page *p, const char *id, const char *json);
/* Answers 200 {"KEY":[...],"next":CURSOR|null} (500 when `failed`). */
void list_page_finish(struct list_page *p, bool failed, struct http_response *res);

#endif
