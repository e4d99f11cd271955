/* The small decoders: /configure bodies (fault injection, stream throttle and
 * pause) and inventory's answers as the order service reads them. */
#include <stdint.h>

#include "codec/service_json.h"
#include "codec/consumer_control_json.h"
#include "strict_invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strict_invariants(data, size);
    long delay = 0;
    enum fault_mode mode = FAULT_NONE;
    struct field_error err;
    if (fault_decode((const char *)data, size, &delay, &mode, &err) == 0 &&
        (delay < 0 || delay > FAULT_MAX_DELAY_MS))
        __builtin_trap();
    long throttle = 0;
    bool paused = false;
    if (stream_control_decode((const char *)data, size, &throttle, &paused, &err) == 0 &&
        (throttle < 0 || throttle > STREAM_MAX_THROTTLE_MS))
        __builtin_trap();
    char reason[EVENT_REASON_MAX];
    reserve_answer_reason((const char *)data, size, reason, sizeof reason);
    return 0;
}
