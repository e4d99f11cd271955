#include "amqp_claim.h"

int amqp_claim_locked(struct seen_store *s, struct amqp_item *it)
{
    switch (seen_claim_locked(s, &it->ev, it->reason, sizeof it->reason)) {
    case SEEN_NEW:
        return 1;
    case SEEN_DUPLICATE:
        it->result = AMQP_ITEM_DUPLICATE;
        return 0;
    case SEEN_CONFLICT:
        it->result = AMQP_ITEM_CONFLICT;
        return 0;
    default:
        return -1;
    }
}
