/* The connection object: calls in flight, replies by call id, GoAway, reconnects and retries. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "internal.h"

typedef enum call_state {
    CALL_UNSENT,   /* not on the current connection: (re)send when connected */
    CALL_SENT,     /* written; waiting for its Reply */
    CALL_DONE      /* answered (or failed); waiting for forge_call_finish */
} call_state;

typedef struct pending_call {
    uint64_t id;
    call_state state;
    char *method;
    uint8_t *payload;
    size_t payload_length;
    char *idempotency_key;     /* NULL: none; the call is not resent once it was sent */
    char *request_id;
    uint64_t deadline;         /* monotonic ms */
    unsigned tries;            /* connection attempts and sends made for this call */
    /* The answer */
    forge_code code;
    char *message;
    forge_violation *violations;
    size_t n_violations;
    uint8_t *response;
    size_t response_length;
} pending_call;

struct forge_conn {
    forge_options options;     /* the strings below are the connection's own copies */
    char *host, *token, *ca_file, *cert_file, *key_file, *server_name;
    void *tls;
    forge_transport *transport;
    forge_frame_reader reader;
    uint64_t next_id;
    pending_call *calls;
    size_t n_calls, capacity;
    int draining;              /* the server sent GoAway: no new calls on this connection */
    uint64_t go_away_last;     /* the last call id the server will answer */
    uint64_t connects;
    unsigned int seed;         /* jitter */
    uint64_t ping_nonce;
    int pong_received;
    int pong_due;              /* a server's Ping to answer once the current write is done */
    uint64_t pong_nonce;
    int writing;
    forge_code last_code;      /* why the last connection failed or ended */
    char last_error[320];
};

/* ---- status ---- */

static const char *code_names[] = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
};

const char *forge_code_name(forge_code code) {
    return (unsigned)code < sizeof code_names / sizeof *code_names ? code_names[code] : "UNKNOWN";
}

static void free_violations(forge_violation *violations, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(violations[i].field);
        free(violations[i].description);
    }
    free(violations);
}

void forge_status_clear(forge_status *status) {
    if (status == NULL) return;
    free(status->message);
    free_violations(status->violations, status->n_violations);
    status->code = FORGE_OK;
    status->message = NULL;
    status->violations = NULL;
    status->n_violations = 0;
}

forge_code forge_fail(forge_status *status, forge_code code, const char *format, ...) {
    if (status == NULL) return code;
    forge_status_clear(status);
    status->code = code;
    char text[512];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    status->message = strdup(text);
    return code;
}

static forge_code succeed(forge_status *status) {
    if (status != NULL) {
        forge_status_clear(status);
        status->message = strdup("");
    }
    return FORGE_OK;
}

static char *copy(const char *text) {
    return text == NULL ? NULL : strdup(text);
}

/* ---- the connection object ---- */

void forge_options_init(forge_options *options) {
    memset(options, 0, sizeof *options);
    options->connect_timeout_ms = 5000;
    options->call_timeout_ms = 30000;
    options->max_frame_bytes = 4u << 20;
    options->max_in_flight = 512;
    options->backoff_initial_ms = 100;
    options->backoff_max_ms = 5000;
    options->max_attempts = 6;
}

forge_conn *forge_conn_new(const forge_options *options, forge_status *status) {
    if (options == NULL || options->host == NULL || options->host[0] == '\0') {
        forge_fail(status, FORGE_INVALID_ARGUMENT, "options.host is required");
        return NULL;
    }
    if (options->port == 0) {
        forge_fail(status, FORGE_INVALID_ARGUMENT, "options.port is required (the wire port, e.g. 7100)");
        return NULL;
    }
    if (options->max_frame_bytes < 64 || options->call_timeout_ms == 0 || options->connect_timeout_ms == 0 ||
        options->max_in_flight == 0 || options->max_attempts == 0) {
        forge_fail(status, FORGE_INVALID_ARGUMENT,
                   "options: max_frame_bytes (>= 64), call_timeout_ms, connect_timeout_ms, max_in_flight and "
                   "max_attempts must be set (forge_options_init sets them)");
        return NULL;
    }
    forge_conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL) {
        forge_fail(status, FORGE_RESOURCE_EXHAUSTED, "out of memory");
        return NULL;
    }
    conn->options = *options;
    conn->options.host = conn->host = copy(options->host);
    conn->options.token = conn->token = copy(options->token);
    conn->options.ca_file = conn->ca_file = copy(options->ca_file);
    conn->options.cert_file = conn->cert_file = copy(options->cert_file);
    conn->options.key_file = conn->key_file = copy(options->key_file);
    conn->options.server_name = conn->server_name = copy(options->server_name);
    if (conn->options.backoff_initial_ms == 0) conn->options.backoff_initial_ms = 1;
    if (conn->options.backoff_max_ms < conn->options.backoff_initial_ms) conn->options.backoff_max_ms = conn->options.backoff_initial_ms;
    conn->next_id = 1;
    if (getrandom(&conn->seed, sizeof conn->seed, GRND_NONBLOCK) != sizeof conn->seed) conn->seed = (unsigned)forge_now_ms();
    forge_frame_reader_init(&conn->reader, conn->options.max_frame_bytes);
    if (options->tls) {
        conn->tls = forge_tls_context_new(&conn->options, status);
        if (conn->tls == NULL) {
            forge_conn_free(conn);
            return NULL;
        }
    }
    succeed(status);
    return conn;
}

static void release_call(pending_call *call) {
    free(call->method);
    free(call->payload);
    free(call->idempotency_key);
    free(call->request_id);
    free(call->message);
    free_violations(call->violations, call->n_violations);
    free(call->response);
    memset(call, 0, sizeof *call);
}

static void close_transport(forge_conn *conn) {
    forge_transport_close(conn->transport);
    conn->transport = NULL;
    conn->draining = 0;
    conn->pong_due = 0;
    forge_frame_reader_free(&conn->reader);
    forge_frame_reader_init(&conn->reader, conn->options.max_frame_bytes);
}

void forge_conn_free(forge_conn *conn) {
    if (conn == NULL) return;
    close_transport(conn);
    forge_frame_reader_free(&conn->reader);
    for (size_t i = 0; i < conn->n_calls; i++) release_call(&conn->calls[i]);
    free(conn->calls);
    forge_tls_context_free(conn->tls);
    free(conn->host);
    free(conn->token);
    free(conn->ca_file);
    free(conn->cert_file);
    free(conn->key_file);
    free(conn->server_name);
    free(conn);
}

uint64_t forge_conn_connects(const forge_conn *conn) {
    return conn->connects;
}

static pending_call *find_call(forge_conn *conn, uint64_t id) {
    for (size_t i = 0; i < conn->n_calls; i++) {
        if (conn->calls[i].id == id) return &conn->calls[i];
    }
    return NULL;
}

static void remove_call(forge_conn *conn, pending_call *call) {
    release_call(call);
    size_t index = (size_t)(call - conn->calls);
    conn->calls[index] = conn->calls[--conn->n_calls];
}

static void answer(pending_call *call, forge_code code, const char *message) {
    call->state = CALL_DONE;
    call->code = code;
    free(call->message);
    call->message = strdup(message);
}

/* The connection is gone (closed by the server, broken, or closed by us after a protocol
 * error): calls the server never started, or that are safe to repeat, wait to be resent; the
 * others fail, since they may or may not have been applied. */
static void connection_lost(forge_conn *conn, forge_code code, const char *reason) {
    if (conn->transport == NULL) return;
    conn->last_code = code;
    snprintf(conn->last_error, sizeof conn->last_error, "%s", reason);
    int server_skipped_some = conn->draining;
    uint64_t last = conn->go_away_last;
    close_transport(conn);
    for (size_t i = 0; i < conn->n_calls; i++) {
        pending_call *call = &conn->calls[i];
        if (call->state != CALL_SENT) continue;
        if (call->idempotency_key != NULL || (server_skipped_some && call->id > last)) {
            call->state = CALL_UNSENT;
        } else {
            char message[512];
            snprintf(message, sizeof message,
                     "%s; the call had been sent and may or may not have been applied "
                     "(give it an idempotency key to have it retried safely)", reason);
            answer(call, code, message);
        }
    }
}

/* After a GoAway: once every call the server promised to answer has its reply, the connection
 * has nothing left to give; close it so the next call opens a new one. */
static void close_if_drained(forge_conn *conn) {
    if (!conn->draining || conn->transport == NULL) return;
    for (size_t i = 0; i < conn->n_calls; i++) {
        if (conn->calls[i].state == CALL_SENT) return;
    }
    conn->last_code = FORGE_UNAVAILABLE;
    close_transport(conn);
}

/* ---- reading ---- */

static int write_frame(forge_conn *conn, const Forge__Wire__V1__Frame *frame, uint64_t deadline);

static void take_reply(forge_conn *conn, Forge__Wire__V1__Frame *frame) {
    pending_call *call = find_call(conn, frame->call_id);
    if (call == NULL || call->state != CALL_SENT) return; /* a call we gave up on (timed out) */
    Forge__Wire__V1__Reply *reply = frame->reply;
    Forge__Wire__V1__Status *status = reply->status;
    call->state = CALL_DONE;
    call->code = status ? (forge_code)status->code : FORGE_OK;
    call->message = strdup(status && status->message ? status->message : "");
    if (status != NULL && status->n_violations > 0) {
        call->violations = calloc(status->n_violations, sizeof *call->violations);
        if (call->violations != NULL) {
            call->n_violations = status->n_violations;
            for (size_t i = 0; i < status->n_violations; i++) {
                call->violations[i].field = strdup(status->violations[i]->field ? status->violations[i]->field : "");
                call->violations[i].description =
                    strdup(status->violations[i]->description ? status->violations[i]->description : "");
            }
        }
    }
    if (call->code == FORGE_OK && reply->payload.len > 0) {
        call->response = malloc(reply->payload.len);
        if (call->response == NULL) {
            answer(call, FORGE_RESOURCE_EXHAUSTED, "out of memory for the response");
            return;
        }
        memcpy(call->response, reply->payload.data, reply->payload.len);
        call->response_length = reply->payload.len;
    }
}

/* Handles one frame from the server; -1 when it breaks the protocol (connection closed). */
static int process_frame(forge_conn *conn, Forge__Wire__V1__Frame *frame) {
    char reason[200];
    switch (frame->kind_case) {
    case FORGE__WIRE__V1__FRAME__KIND_REPLY:
        if (frame->call_id == 0 || frame->call_id >= conn->next_id) {
            snprintf(reason, sizeof reason, "protocol error: the server replied to call id %llu, which was never sent",
                     (unsigned long long)frame->call_id);
            connection_lost(conn, FORGE_INTERNAL, reason);
            return -1;
        }
        take_reply(conn, frame);
        close_if_drained(conn);
        return 0;
    case FORGE__WIRE__V1__FRAME__KIND_PING:
        conn->pong_due = 1;
        conn->pong_nonce = frame->ping->nonce;
        return 0;
    case FORGE__WIRE__V1__FRAME__KIND_PONG:
        if (frame->pong->nonce == conn->ping_nonce) conn->pong_received = 1;
        return 0;
    case FORGE__WIRE__V1__FRAME__KIND_GO_AWAY: {
        Forge__Wire__V1__GoAway *go_away = frame->go_away;
        conn->draining = 1;
        conn->go_away_last = go_away->last_call_id;
        const char *why = go_away->reason && go_away->reason->message && go_away->reason->message[0]
                              ? go_away->reason->message : "shutting down";
        conn->last_code = go_away->reason && go_away->reason->code != 0 ? (forge_code)go_away->reason->code : FORGE_UNAVAILABLE;
        snprintf(conn->last_error, sizeof conn->last_error, "the server said goodbye: %s", why);
        /* Calls after last_call_id were never started: send them again on the next connection. */
        for (size_t i = 0; i < conn->n_calls; i++) {
            if (conn->calls[i].state == CALL_SENT && conn->calls[i].id > go_away->last_call_id) conn->calls[i].state = CALL_UNSENT;
        }
        close_if_drained(conn);
        return 0;
    }
    default:
        connection_lost(conn, FORGE_INTERNAL, "protocol error: unexpected frame");
        return -1;
    }
}

static int process_buffered(forge_conn *conn) {
    for (;;) {
        Forge__Wire__V1__Frame *frame = NULL;
        char error[200];
        int got = forge_frame_reader_next(&conn->reader, &frame, error, sizeof error);
        if (got == 0) return 0;
        if (got < 0) {
            connection_lost(conn, FORGE_INTERNAL, error);
            return -1;
        }
        int result = process_frame(conn, frame);
        protobuf_c_message_free_unpacked(&frame->base, NULL);
        if (result < 0 || conn->transport == NULL) return result;
    }
}

/* Reads what the socket has (without waiting) and handles every whole frame. 0 when nothing was
 * there, 1 when bytes were read, -1 when the connection ended. */
static int read_available(forge_conn *conn) {
    uint8_t buffer[65536];
    char error[256];
    short want;
    long count = forge_transport_read(conn->transport, buffer, sizeof buffer, &want, error, sizeof error);
    if (count == 0) return 0;
    if (count < 0) {
        if (count == -2 && forge_frame_reader_partial(&conn->reader)) {
            snprintf(error, sizeof error, "protocol error: the server closed the connection in the middle of a frame");
            connection_lost(conn, FORGE_INTERNAL, error);
        } else {
            connection_lost(conn, FORGE_UNAVAILABLE, error);
        }
        return -1;
    }
    if (forge_frame_reader_feed(&conn->reader, buffer, (size_t)count) < 0) {
        connection_lost(conn, FORGE_RESOURCE_EXHAUSTED, "out of memory reading a frame");
        return -1;
    }
    return process_buffered(conn) < 0 ? -1 : 1;
}

static int send_due_pong(forge_conn *conn, uint64_t deadline) {
    if (!conn->pong_due || conn->writing || conn->transport == NULL) return 0;
    conn->pong_due = 0;
    Forge__Wire__V1__Pong pong = FORGE__WIRE__V1__PONG__INIT;
    pong.nonce = conn->pong_nonce;
    Forge__Wire__V1__Frame frame = FORGE__WIRE__V1__FRAME__INIT;
    frame.kind_case = FORGE__WIRE__V1__FRAME__KIND_PONG;
    frame.pong = &pong;
    return write_frame(conn, &frame, deadline);
}

/* Waits until the server sends something (or `deadline`) and handles it. -1 when the
 * connection ended. */
static int pump(forge_conn *conn, uint64_t deadline) {
    if (conn->transport == NULL) return -1;
    if (!forge_transport_pending(conn->transport)) {
        uint64_t now = forge_now_ms();
        if (now >= deadline) return 0;
        struct pollfd p = { .fd = forge_transport_fd(conn->transport), .events = POLLIN, .revents = 0 };
        uint64_t wait = deadline - now;
        int ready = poll(&p, 1, wait > 60000 ? 60000 : (int)wait);
        if (ready == 0 || (ready < 0 && errno == EINTR)) return 0;
    }
    int result = read_available(conn);
    while (result == 1 && conn->transport != NULL && forge_transport_pending(conn->transport)) result = read_available(conn);
    if (result < 0) return -1;
    return send_due_pong(conn, deadline);
}

/* ---- writing ---- */

/* Writes a whole frame before `deadline`, reading replies meanwhile (a server blocked on a full
 * socket must be able to finish its writes). -1 when the connection ended or the deadline hit
 * mid-frame (the stream cannot be resumed then: the connection is closed). */
static int write_bytes(forge_conn *conn, const uint8_t *bytes, size_t length, uint64_t deadline) {
    size_t written = 0;
    conn->writing = 1;
    while (written < length) {
        char error[256];
        short want;
        long count = forge_transport_write(conn->transport, bytes + written, length - written, &want, error, sizeof error);
        if (count > 0) {
            written += (size_t)count;
            continue;
        }
        if (count < 0) {
            conn->writing = 0;
            connection_lost(conn, FORGE_UNAVAILABLE, error);
            return -1;
        }
        uint64_t now = forge_now_ms();
        if (now >= deadline) {
            conn->writing = 0;
            connection_lost(conn, FORGE_DEADLINE_EXCEEDED, "timed out writing to the server");
            return -1;
        }
        struct pollfd p = { .fd = forge_transport_fd(conn->transport), .events = (short)(want | POLLIN), .revents = 0 };
        int ready = poll(&p, 1, (int)(deadline - now));
        if (ready > 0 && (p.revents & POLLIN) && want != POLLIN) {
            /* What arrives may end the connection (an error, or a GoAway saying this very call
             * will not be served, which leaves nothing to wait for). */
            if (read_available(conn) < 0 || conn->transport == NULL) {
                conn->writing = 0;
                return -1;
            }
        }
    }
    conn->writing = 0;
    return 0;
}

static int write_frame(forge_conn *conn, const Forge__Wire__V1__Frame *frame, uint64_t deadline) {
    size_t length;
    uint8_t *bytes = forge_frame_encode(frame, conn->options.max_frame_bytes, &length);
    if (bytes == NULL) return -2;
    int result = write_bytes(conn, bytes, length, deadline);
    free(bytes);
    if (result == 0) result = send_due_pong(conn, deadline);
    return result;
}

/* Writes a call's Call frame with its remaining time as the deadline. */
static int send_call(forge_conn *conn, pending_call *call) {
    uint64_t now = forge_now_ms();
    Forge__Wire__V1__Call body = FORGE__WIRE__V1__CALL__INIT;
    body.method = call->method;
    body.timeout_ms = call->deadline > now ? (uint32_t)(call->deadline - now) : 1;
    body.payload.data = call->payload;
    body.payload.len = call->payload_length;
    Forge__Wire__V1__Call__MetadataEntry entries[3] = {
        FORGE__WIRE__V1__CALL__METADATA_ENTRY__INIT, FORGE__WIRE__V1__CALL__METADATA_ENTRY__INIT,
        FORGE__WIRE__V1__CALL__METADATA_ENTRY__INIT,
    };
    Forge__Wire__V1__Call__MetadataEntry *pointers[3];
    char authorization[4096];
    size_t count = 0;
    if (conn->token != NULL && conn->token[0] != '\0') {
        snprintf(authorization, sizeof authorization, "Bearer %s", conn->token);
        entries[count].key = "authorization";
        entries[count].value = authorization;
        count++;
    }
    if (call->idempotency_key != NULL) {
        entries[count].key = "idempotency-key";
        entries[count].value = call->idempotency_key;
        count++;
    }
    if (call->request_id != NULL) {
        entries[count].key = "x-request-id";
        entries[count].value = call->request_id;
        count++;
    }
    for (size_t i = 0; i < count; i++) pointers[i] = &entries[i];
    body.metadata = pointers;
    body.n_metadata = count;
    Forge__Wire__V1__Frame frame = FORGE__WIRE__V1__FRAME__INIT;
    frame.call_id = call->id;
    frame.kind_case = FORGE__WIRE__V1__FRAME__KIND_CALL;
    frame.call = &body;
    uint64_t id = call->id;
    call->state = CALL_SENT;
    call->tries++;
    int result = write_frame(conn, &frame, call->deadline);
    if (result == -2) {
        pending_call *same = find_call(conn, id);
        if (same != NULL) answer(same, FORGE_INVALID_ARGUMENT, "the request is larger than the frame limit (max_frame_bytes)");
    }
    return result;
}

static void send_call_cancel(forge_conn *conn, uint64_t id) {
    if (conn->transport == NULL || conn->draining) return;
    Forge__Wire__V1__Cancel cancel = FORGE__WIRE__V1__CANCEL__INIT;
    Forge__Wire__V1__Frame frame = FORGE__WIRE__V1__FRAME__INIT;
    frame.call_id = id;
    frame.kind_case = FORGE__WIRE__V1__FRAME__KIND_CANCEL;
    frame.cancel = &cancel;
    write_frame(conn, &frame, forge_now_ms() + 1000);
}

/* Sends every call waiting for a connection, oldest first. */
static void send_unsent(forge_conn *conn) {
    for (;;) {
        pending_call *oldest = NULL;
        for (size_t i = 0; i < conn->n_calls; i++) {
            pending_call *call = &conn->calls[i];
            if (call->state == CALL_UNSENT && (oldest == NULL || call->id < oldest->id)) oldest = call;
        }
        if (oldest == NULL || conn->transport == NULL || conn->draining) return;
        if (send_call(conn, oldest) == -1) return;
    }
}

/* ---- connecting ---- */

/* Opens a connection if there is none (after a GoAway, once the old one has answered what it
 * promised). One attempt. */
static forge_code ensure_connected(forge_conn *conn, uint64_t deadline, forge_status *status) {
    while (conn->transport != NULL && conn->draining) {
        if (forge_now_ms() >= deadline) return forge_fail(status, FORGE_DEADLINE_EXCEEDED, "timed out waiting for the server to finish before reconnecting");
        pump(conn, deadline);
    }
    if (conn->transport != NULL) return FORGE_OK;
    uint64_t now = forge_now_ms();
    if (now >= deadline) return forge_fail(status, FORGE_DEADLINE_EXCEEDED, "timed out before connecting: %s", conn->last_error);
    uint64_t budget = deadline - now;
    if (budget > conn->options.connect_timeout_ms) budget = conn->options.connect_timeout_ms;
    forge_status reason = FORGE_STATUS_INIT;
    int permanent = 0;
    conn->transport = forge_transport_open(&conn->options, conn->tls, (uint32_t)budget, &reason, &permanent);
    if (conn->transport == NULL) {
        conn->last_code = permanent ? FORGE_UNAVAILABLE : reason.code;
        snprintf(conn->last_error, sizeof conn->last_error, "%s", reason.message ? reason.message : "cannot connect");
        forge_code code = forge_fail(status, reason.code, "%s", conn->last_error);
        forge_status_clear(&reason);
        return permanent ? (forge_code)-1 : code;
    }
    forge_status_clear(&reason);
    conn->connects++;
    conn->draining = 0;
    return FORGE_OK;
}

forge_code forge_connect(forge_conn *conn, forge_status *status) {
    if (conn == NULL) return forge_fail(status, FORGE_INVALID_ARGUMENT, "conn is NULL");
    forge_code code = ensure_connected(conn, forge_now_ms() + conn->options.connect_timeout_ms, status);
    if (code == (forge_code)-1) code = FORGE_UNAVAILABLE;
    if (code != FORGE_OK) {
        if (status != NULL) status->code = code;
        return code;
    }
    return succeed(status);
}

/* Capped exponential backoff with jitter: the wait before try number `tries` (1-based) is a
 * random point in the upper half of min(max, initial * 2^(tries-1)). */
static uint64_t backoff_ms(forge_conn *conn, unsigned tries) {
    uint64_t wait = conn->options.backoff_initial_ms;
    for (unsigned i = 1; i < tries && wait < conn->options.backoff_max_ms; i++) wait *= 2;
    if (wait > conn->options.backoff_max_ms) wait = conn->options.backoff_max_ms;
    return wait / 2 + (uint64_t)rand_r(&conn->seed) % (wait / 2 + 1);
}

static void sleep_ms(uint64_t milliseconds) {
    struct timespec time = { .tv_sec = (time_t)(milliseconds / 1000), .tv_nsec = (long)(milliseconds % 1000) * 1000000L };
    while (nanosleep(&time, &time) != 0 && errno == EINTR) {}
}

/* ---- calls ---- */

forge_code forge_call_start_bytes(forge_conn *conn, const char *method, const uint8_t *request, size_t request_length,
                                  const forge_call_options *call_options, uint64_t *call_id, forge_status *status) {
    if (conn == NULL || method == NULL || call_id == NULL || (request == NULL && request_length > 0)) {
        return forge_fail(status, FORGE_INVALID_ARGUMENT, "conn, method and call_id are required");
    }
    if (method[0] != '/' || strchr(method + 1, '/') == NULL) {
        return forge_fail(status, FORGE_INVALID_ARGUMENT, "method must read /<package>.<Service>/<Method>, not '%s'", method);
    }
    if (request_length + strlen(method) + 64 > conn->options.max_frame_bytes) {
        return forge_fail(status, FORGE_INVALID_ARGUMENT, "the request (%zu bytes) is larger than the frame limit of %u bytes",
                          request_length, conn->options.max_frame_bytes);
    }
    if (conn->n_calls >= conn->options.max_in_flight) {
        return forge_fail(status, FORGE_RESOURCE_EXHAUSTED, "%zu calls are in flight (max_in_flight): finish some first", conn->n_calls);
    }
    if (conn->n_calls == conn->capacity) {
        size_t capacity = conn->capacity ? conn->capacity * 2 : 8;
        pending_call *grown = realloc(conn->calls, capacity * sizeof *grown);
        if (grown == NULL) return forge_fail(status, FORGE_RESOURCE_EXHAUSTED, "out of memory");
        conn->calls = grown;
        conn->capacity = capacity;
    }
    pending_call call = { 0 };
    call.id = conn->next_id++;
    call.state = CALL_UNSENT;
    call.method = strdup(method);
    call.payload = malloc(request_length ? request_length : 1);
    if (request_length) memcpy(call.payload, request, request_length);
    call.payload_length = request_length;
    uint32_t timeout = call_options && call_options->timeout_ms ? call_options->timeout_ms : conn->options.call_timeout_ms;
    call.deadline = forge_now_ms() + timeout;
    if (call_options != NULL && call_options->idempotency_key != NULL && call_options->idempotency_key[0] != '\0') {
        call.idempotency_key = strdup(call_options->idempotency_key);
    } else if (call_options != NULL && call_options->make_idempotency_key) {
        unsigned char random[16];
        if (getrandom(random, sizeof random, 0) != sizeof random) {
            for (size_t i = 0; i < sizeof random; i++) random[i] = (unsigned char)rand_r(&conn->seed);
        }
        char key[40];
        for (size_t i = 0; i < sizeof random; i++) snprintf(key + 2 * i, 3, "%02x", random[i]);
        call.idempotency_key = strdup(key);
    }
    if (call_options != NULL && call_options->request_id != NULL) call.request_id = strdup(call_options->request_id);
    if (call.method == NULL || call.payload == NULL) {
        release_call(&call);
        return forge_fail(status, FORGE_RESOURCE_EXHAUSTED, "out of memory");
    }
    conn->calls[conn->n_calls++] = call;
    *call_id = call.id;

    /* Send now when a connection is (or can be) open; otherwise forge_call_finish retries. */
    pending_call *added = &conn->calls[conn->n_calls - 1];
    if (conn->transport == NULL || conn->draining) {
        forge_code connected = ensure_connected(conn, added->deadline, NULL);
        added = find_call(conn, call.id);
        if (connected != FORGE_OK) added->tries++;
        if (connected == (forge_code)-1) answer(added, FORGE_UNAVAILABLE, conn->last_error);
    }
    if (conn->transport != NULL && !conn->draining) send_unsent(conn);
    return succeed(status);
}

forge_code forge_call_finish_bytes(forge_conn *conn, uint64_t call_id, uint8_t **response, size_t *response_length,
                                   forge_status *status) {
    if (response) *response = NULL;
    if (response_length) *response_length = 0;
    if (conn == NULL || response == NULL || response_length == NULL) {
        return forge_fail(status, FORGE_INVALID_ARGUMENT, "conn, response and response_length are required");
    }
    pending_call *call = find_call(conn, call_id);
    if (call == NULL) return forge_fail(status, FORGE_INVALID_ARGUMENT, "no call %llu is in flight", (unsigned long long)call_id);
    /* `tries` counts the sends and the failed connection attempts made for this call. */
    while (call->state != CALL_DONE) {
        uint64_t deadline = call->deadline;
        if (forge_now_ms() >= deadline) {
            int was_sent = call->state == CALL_SENT;
            remove_call(conn, call);
            if (was_sent) send_call_cancel(conn, call_id);
            return forge_fail(status, FORGE_DEADLINE_EXCEEDED, "no answer within the call's timeout%s%s",
                              conn->last_error[0] ? " (last problem: " : "", conn->last_error[0] ? conn->last_error : "");
        }
        if (call->state == CALL_SENT) {
            pump(conn, deadline);
        } else if (call->tries >= conn->options.max_attempts) {
            char message[400];
            snprintf(message, sizeof message, "%s (gave up after %u attempts)", conn->last_error, call->tries);
            answer(call, conn->last_code == FORGE_OK ? FORGE_UNAVAILABLE : conn->last_code, message);
        } else {
            if (call->tries > 0) {
                uint64_t wait = backoff_ms(conn, call->tries), now = forge_now_ms();
                if (now + wait > deadline) wait = deadline > now ? deadline - now : 0;
                sleep_ms(wait);
            }
            if (conn->transport == NULL || conn->draining) {
                forge_code connected = ensure_connected(conn, deadline, NULL);
                call = find_call(conn, call_id);
                if (connected != FORGE_OK) call->tries++;
                if (connected == (forge_code)-1) {
                    answer(call, FORGE_UNAVAILABLE, conn->last_error);
                    continue;
                }
                if (connected != FORGE_OK) continue;
            }
            send_unsent(conn);
        }
        call = find_call(conn, call_id);
    }
    forge_code code = call->code;
    if (status != NULL) {
        forge_status_clear(status);
        status->code = code;
        status->message = call->message ? call->message : strdup("");
        status->violations = call->violations;
        status->n_violations = call->n_violations;
        call->message = NULL;
        call->violations = NULL;
        call->n_violations = 0;
    }
    if (code == FORGE_OK) {
        *response = call->response ? call->response : malloc(1);
        *response_length = call->response_length;
        call->response = NULL;
    }
    remove_call(conn, call);
    return code;
}

forge_code forge_call_start(forge_conn *conn, const char *method, const ProtobufCMessage *request,
                            const forge_call_options *call_options, uint64_t *call_id, forge_status *status) {
    if (request == NULL) return forge_fail(status, FORGE_INVALID_ARGUMENT, "request is NULL");
    size_t length = protobuf_c_message_get_packed_size(request);
    uint8_t stack[1024];
    uint8_t *bytes = length <= sizeof stack ? stack : malloc(length);
    if (bytes == NULL) return forge_fail(status, FORGE_RESOURCE_EXHAUSTED, "out of memory");
    protobuf_c_message_pack(request, bytes);
    forge_code code = forge_call_start_bytes(conn, method, bytes, length, call_options, call_id, status);
    if (bytes != stack) free(bytes);
    return code;
}

forge_code forge_call_finish(forge_conn *conn, uint64_t call_id, const ProtobufCMessageDescriptor *response_type,
                             ProtobufCMessage **response, forge_status *status) {
    if (response) *response = NULL;
    if (response_type == NULL || response == NULL) return forge_fail(status, FORGE_INVALID_ARGUMENT, "response_type and response are required");
    uint8_t *bytes = NULL;
    size_t length = 0;
    forge_code code = forge_call_finish_bytes(conn, call_id, &bytes, &length, status);
    if (code != FORGE_OK) return code;
    *response = protobuf_c_message_unpack(response_type, NULL, length, bytes);
    free(bytes);
    if (*response == NULL) {
        return forge_fail(status, FORGE_INTERNAL, "the response does not decode as %s", response_type->name);
    }
    return FORGE_OK;
}

forge_code forge_call(forge_conn *conn, const char *method, const ProtobufCMessage *request,
                      const ProtobufCMessageDescriptor *response_type, ProtobufCMessage **response,
                      const forge_call_options *call_options, forge_status *status) {
    if (response) *response = NULL;
    if (response_type == NULL || response == NULL) return forge_fail(status, FORGE_INVALID_ARGUMENT, "response_type and response are required");
    uint64_t id;
    forge_code code = forge_call_start(conn, method, request, call_options, &id, status);
    if (code != FORGE_OK) return code;
    return forge_call_finish(conn, id, response_type, response, status);
}

forge_code forge_ping(forge_conn *conn, uint32_t timeout_ms, uint64_t *rtt_us, forge_status *status) {
    if (conn == NULL) return forge_fail(status, FORGE_INVALID_ARGUMENT, "conn is NULL");
    uint64_t deadline = forge_now_ms() + (timeout_ms ? timeout_ms : conn->options.call_timeout_ms);
    forge_code connected = ensure_connected(conn, deadline, status);
    if (connected != FORGE_OK) return connected == (forge_code)-1 ? FORGE_UNAVAILABLE : connected;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    conn->ping_nonce = ((uint64_t)rand_r(&conn->seed) << 32) | (uint64_t)rand_r(&conn->seed) | 1u;
    conn->pong_received = 0;
    Forge__Wire__V1__Ping ping = FORGE__WIRE__V1__PING__INIT;
    ping.nonce = conn->ping_nonce;
    Forge__Wire__V1__Frame frame = FORGE__WIRE__V1__FRAME__INIT;
    frame.kind_case = FORGE__WIRE__V1__FRAME__KIND_PING;
    frame.ping = &ping;
    if (write_frame(conn, &frame, deadline) != 0) return forge_fail(status, FORGE_UNAVAILABLE, "ping: %s", conn->last_error);
    while (!conn->pong_received) {
        if (conn->transport == NULL) return forge_fail(status, conn->last_code ? conn->last_code : FORGE_UNAVAILABLE, "ping: %s", conn->last_error);
        if (forge_now_ms() >= deadline) return forge_fail(status, FORGE_DEADLINE_EXCEEDED, "ping: no pong within %u ms", timeout_ms);
        pump(conn, deadline);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (rtt_us != NULL) {
        *rtt_us = (uint64_t)(end.tv_sec - start.tv_sec) * 1000000u + (uint64_t)(end.tv_nsec - start.tv_nsec) / 1000u;
    }
    return succeed(status);
}
