/* Framing (DESIGN.md §4): frame := length:uint32 big-endian, body:length bytes; body is a
 * forge.wire.v1.Frame. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void forge_frame_reader_init(forge_frame_reader *reader, uint32_t max_frame) {
    memset(reader, 0, sizeof *reader);
    reader->max_frame = max_frame;
}

void forge_frame_reader_free(forge_frame_reader *reader) {
    free(reader->buffer);
    memset(reader, 0, sizeof *reader);
}

int forge_frame_reader_feed(forge_frame_reader *reader, const uint8_t *data, size_t length) {
    if (length == 0) return 0;
    /* Drop what was consumed before growing. */
    if (reader->start > 0) {
        memmove(reader->buffer, reader->buffer + reader->start, reader->length - reader->start);
        reader->length -= reader->start;
        reader->start = 0;
    }
    if (reader->length + length > reader->capacity) {
        size_t capacity = reader->capacity ? reader->capacity : 16384;
        while (capacity < reader->length + length) capacity *= 2;
        uint8_t *grown = realloc(reader->buffer, capacity);
        if (grown == NULL) return -1;
        reader->buffer = grown;
        reader->capacity = capacity;
    }
    memcpy(reader->buffer + reader->length, data, length);
    reader->length += length;
    return 0;
}

int forge_frame_reader_partial(const forge_frame_reader *reader) {
    return reader->length > reader->start;
}

int forge_frame_reader_next(forge_frame_reader *reader, Forge__Wire__V1__Frame **frame, char *error, size_t error_size) {
    *frame = NULL;
    size_t available = reader->length - reader->start;
    if (available < 4) return 0;
    const uint8_t *p = reader->buffer + reader->start;
    uint32_t length = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
    if (length == 0) {
        snprintf(error, error_size, "protocol error: the server sent a frame of length 0");
        return -1;
    }
    if (length > reader->max_frame) {
        snprintf(error, error_size, "protocol error: the server announced a frame of %u bytes, over the %u-byte limit",
                 length, reader->max_frame);
        return -1;
    }
    if (available - 4 < length) return 0;
    Forge__Wire__V1__Frame *decoded = (Forge__Wire__V1__Frame *)protobuf_c_message_unpack(
        &forge__wire__v1__frame__descriptor, NULL, length, p + 4);
    reader->start += 4 + (size_t)length;
    if (reader->start == reader->length) reader->start = reader->length = 0;
    if (decoded == NULL) {
        snprintf(error, error_size, "protocol error: %u bytes from the server are not a forge.wire.v1.Frame", length);
        return -1;
    }
    switch (decoded->kind_case) {
    case FORGE__WIRE__V1__FRAME__KIND_REPLY:
    case FORGE__WIRE__V1__FRAME__KIND_PING:
    case FORGE__WIRE__V1__FRAME__KIND_PONG:
    case FORGE__WIRE__V1__FRAME__KIND_GO_AWAY:
        *frame = decoded;
        return 1;
    default:
        snprintf(error, error_size, "protocol error: the server sent a frame a server may not send (kind %d)",
                 (int)decoded->kind_case);
        protobuf_c_message_free_unpacked(&decoded->base, NULL);
        return -1;
    }
}

uint8_t *forge_frame_encode(const Forge__Wire__V1__Frame *frame, uint32_t max_frame, size_t *length) {
    size_t size = protobuf_c_message_get_packed_size(&frame->base);
    *length = size;
    if (size == 0 || size > max_frame) return NULL;
    uint8_t *buffer = malloc(size + 4);
    if (buffer == NULL) return NULL;
    buffer[0] = (uint8_t)(size >> 24);
    buffer[1] = (uint8_t)(size >> 16);
    buffer[2] = (uint8_t)(size >> 8);
    buffer[3] = (uint8_t)size;
    protobuf_c_message_pack(&frame->base, buffer + 4);
    *length = size + 4;
    return buffer;
}
