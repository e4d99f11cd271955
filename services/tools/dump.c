/* commlab-dump: prints the canonical state of service databases, the text
 * scenario tests hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/dump.h"
#include "util/log.h"

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("usage: commlab-dump DATABASE...\n"
               "Prints orders, stock, reservations, notifications and the outbox rows set\n"
               "aside as dead letters (outbox_dead) found in the given SQLite files as sorted,\n"
               "tab-separated lines: the same state gives the same bytes.\n");
        return argc < 2 ? 2 : 0;
    }
    log_init("commlab-dump");
    struct buf out = {0};
    for (int i = 1; i < argc; i++) {
        if (dump_database(argv[i], &out) != 0) {
            buf_free(&out);
            return 1;
        }
    }
    size_t len = 0;
    char *text = buf_take(&out, &len);
    if (!text) {
        fprintf(stderr, "commlab-dump: out of memory\n");
        return 1;
    }
    int rc = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
    free(text);
    return rc;
}
