/* libFuzzer target: the frame decoder over any bytes a server might send, delivered in slices
 * of sizes the input itself chooses (as reads from a socket would). It must only ever return
 * frames or a clean error: AddressSanitizer and UBSan turn anything else into a crash. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    forge_frame_reader reader;
    /* A small limit so that long inputs also reach the "too large" path. */
    forge_frame_reader_init(&reader, size > 0 && (data[0] & 1) ? 64 : 4u << 20);
    size_t offset = size > 0 ? 1 : 0;
    while (offset < size) {
        size_t slice = 1 + data[offset] % 17;
        offset++;
        if (slice > size - offset) slice = size - offset;
        if (forge_frame_reader_feed(&reader, data + offset, slice) < 0) break;
        offset += slice;
        int result;
        do {
            Forge__Wire__V1__Frame *frame = NULL;
            char error[200];
            result = forge_frame_reader_next(&reader, &frame, error, sizeof error);
            if (result == 1) {
                /* Touch what a client reads from a frame. */
                if (frame->kind_case == FORGE__WIRE__V1__FRAME__KIND_REPLY && frame->reply->status != NULL) {
                    for (size_t i = 0; i < frame->reply->status->n_violations; i++) {
                        if (strlen(frame->reply->status->violations[i]->field) > (1u << 30)) return -1;
                    }
                }
                protobuf_c_message_free_unpacked(&frame->base, NULL);
            }
            if (result < 0) goto done;
        } while (result == 1);
    }
done:
    forge_frame_reader_free(&reader);
    return 0;
}
