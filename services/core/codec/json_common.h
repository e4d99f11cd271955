/* Pieces shared by the order and event codecs. Internal to codec/. */
#ifndef COMMLAB_JSON_COMMON_H
#define COMMLAB_JSON_COMMON_H

#include <cJSON.h>

#include "domain/order.h"

/* Parses a whole buffer as one strict JSON value (json_strict.h says what
 * that is); NULL with `err` naming where it went wrong ("body" at the top). */
cJSON *json_parse_exact(const char *body, size_t len, struct field_error *err);
void field_error_set(struct field_error *err, const char *field, const char *message);
/* True with *out when v is a number whose exact value (read on its text, see
 * json_number_whole) is whole and within [min, max]. 1e2 and 100.0 are 100;
 * 99.99999999999999999 is no whole number, though its double is. */
bool json_whole_in(const cJSON *v, long long min, long long max, long long *out);
/* Reads an id field; `required` says whether absence is an error. */
int json_read_id(const cJSON *obj, const char *name, bool required, char out[ID_MAX_LEN + 1],
                 struct field_error *err);
int json_read_time(const cJSON *obj, const char *name, bool required, int64_t *out,
                   struct field_error *err);
int json_read_items(const cJSON *obj, bool required, struct order *o, struct field_error *err);
/* Adds "items": [{"sku":..,"qty":..},..] to obj; NULL on allocation failure. */
cJSON *json_add_items(cJSON *obj, const struct order *o);
/* Decimal text of v, NUL-terminated, the bytes cJSON prints for it. */
#define JSON_INT_TEXT 24
void json_int_text(long long v, char out[JSON_INT_TEXT]);
/* Adds an integer member. cJSON prints numbers through printf("%1.15g") and
 * checks them with sscanf, the largest cost of encoding an event; an integer
 * formatted here and added as raw text prints the same bytes. */
cJSON *json_add_int(cJSON *obj, const char *name, long long v);
/* Prints and frees; NULL if building or printing ran out of memory. */
char *json_finish(cJSON *root);

#endif
