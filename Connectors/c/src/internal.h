/* What the library's own files (and its tests and fuzz target) share; not installed. */
#ifndef FORGE_CONNECTOR_INTERNAL_H
#define FORGE_CONNECTOR_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "forge/connector.h"
#include "forge/wire/v1/wire.pb-c.h"

/* ---- status helpers ---- */

/* Sets code and a printf-formatted message; returns code. */
forge_code forge_fail(forge_status *status, forge_code code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- frames (frame.c) ---- */

/* Turns the bytes read from a connection into frames. It never buffers more than one frame
 * (at most max_frame bytes plus the 4-byte prefix) beyond the bytes of the last read: a length
 * over the limit is an error as soon as its 4 bytes arrive. */
typedef struct forge_frame_reader {
    uint8_t *buffer;
    size_t length;     /* bytes held */
    size_t start;      /* first byte not yet consumed */
    size_t capacity;
    uint32_t max_frame;
} forge_frame_reader;

void forge_frame_reader_init(forge_frame_reader *reader, uint32_t max_frame);
void forge_frame_reader_free(forge_frame_reader *reader);
/* Appends bytes read from the connection. -1 when memory runs out. */
int forge_frame_reader_feed(forge_frame_reader *reader, const uint8_t *data, size_t length);
/* 1 and *frame (free with protobuf_c_message_free_unpacked) when a whole frame is there; 0 when
 * more bytes are needed; -1 and a message in `error` when the bytes break the protocol (the
 * connection must be closed). Only frames a server may send are accepted. */
int forge_frame_reader_next(forge_frame_reader *reader, Forge__Wire__V1__Frame **frame, char *error, size_t error_size);
/* 1 when bytes of an unfinished frame are held. */
int forge_frame_reader_partial(const forge_frame_reader *reader);

/* Serializes `frame` with its length prefix into a malloc'd buffer; NULL when the frame is
 * larger than max_frame (*length then holds the size it would have) or memory runs out. */
uint8_t *forge_frame_encode(const Forge__Wire__V1__Frame *frame, uint32_t max_frame, size_t *length);

/* ---- transport (transport.c) ---- */

typedef struct forge_transport forge_transport;

/* Opens a TCP (and TLS) connection within timeout_ms. NULL with the reason in status; *permanent
 * is set when retrying cannot help (a certificate refused). */
forge_transport *forge_transport_open(const forge_options *options, void *tls_context, uint32_t timeout_ms,
                                      forge_status *status, int *permanent);
void forge_transport_close(forge_transport *transport);
/* Both return bytes moved (> 0), 0 when the call would block (*want is POLLIN or POLLOUT), or -1
 * with the reason in `error` (-2 for an orderly close by the peer when reading). */
long forge_transport_read(forge_transport *transport, uint8_t *buffer, size_t size, short *want, char *error, size_t error_size);
long forge_transport_write(forge_transport *transport, const uint8_t *buffer, size_t size, short *want, char *error, size_t error_size);
int forge_transport_fd(const forge_transport *transport);
/* 1 when TLS holds decrypted bytes not yet read (poll would not see them). */
int forge_transport_pending(const forge_transport *transport);

/* An OpenSSL client context for the options (CA, client certificate); NULL without TLS. */
void *forge_tls_context_new(const forge_options *options, forge_status *status);
void forge_tls_context_free(void *context);

/* ---- time ---- */

uint64_t forge_now_ms(void);

#endif
