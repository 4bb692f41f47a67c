/*
 * libforge-connector: call Forge's services from C.
 *
 * Forge's services speak one small protocol on TCP (DESIGN.md §4): each message is a 4-byte
 * big-endian length followed by a protobuf `forge.wire.v1.Frame`. This library does the framing,
 * TLS, deadlines, retries and reconnects; you build the request with the protobuf-c structs
 * generated from Forge's .proto files (installed next to this header, e.g.
 * <forge/orders/v1/orders.pb-c.h>) and get the response back as one.
 *
 * A whole program:
 *
 *     #include <forge/connector.h>
 *     #include <forge/orders/v1/orders.pb-c.h>
 *
 *     forge_options options;
 *     forge_options_init(&options);
 *     options.host = "forge.example.com";        // the gateway, or a service directly
 *     options.port = 7100;
 *     options.token = getenv("FORGE_API_KEY");   // an API key "fk_…" made in Forge's admin page
 *
 *     forge_status status = FORGE_STATUS_INIT;
 *     forge_conn *conn = forge_conn_new(&options, &status);
 *     if (conn == NULL) { fprintf(stderr, "%s\n", status.message); return 1; }
 *
 *     Forge__Orders__V1__StatusReport report = FORGE__ORDERS__V1__STATUS_REPORT__INIT;
 *     report.event_id = "mes-2-000123";                       // your id: a repeat applies once
 *     report.erp_order_number = "SO-2026-0042";
 *     report.status = FORGE__ORDERS__V1__PRODUCTION_STATUS__PRODUCTION_STATUS_IN_PRODUCTION;
 *     Forge__Orders__V1__ReportProductionStatusRequest request =
 *         FORGE__ORDERS__V1__REPORT_PRODUCTION_STATUS_REQUEST__INIT;
 *     request.report = &report;
 *
 *     ProtobufCMessage *response = NULL;
 *     forge_code code = forge_call(conn, "/forge.orders.v1.Orders/ReportProductionStatus",
 *                                  &request.base,
 *                                  &forge__orders__v1__report_production_status_response__descriptor,
 *                                  &response, NULL, &status);
 *     if (code != FORGE_OK) {
 *         fprintf(stderr, "%s: %s\n", forge_code_name(code), status.message);
 *         for (size_t i = 0; i < status.n_violations; i++)
 *             fprintf(stderr, "  %s: %s\n", status.violations[i].field, status.violations[i].description);
 *     }
 *     protobuf_c_message_free_unpacked(response, NULL);   // NULL is fine
 *     forge_status_clear(&status);
 *     forge_conn_free(conn);
 *
 * Errors. Every function reports failure as a value: a `forge_code` (gRPC's numbering, the same
 * codes Forge's services answer with) and a `forge_status` holding a readable message and, for
 * FORGE_INVALID_ARGUMENT, one violation per bad field. Nothing in this library aborts, exits,
 * prints, or raises a signal (it never lets a closed socket raise SIGPIPE).
 *   - FORGE_UNAVAILABLE: the server could not be reached, or the connection broke (the message
 *     says which, and whether the call may have been applied).
 *   - FORGE_DEADLINE_EXCEEDED: no answer within the call's timeout.
 *   - FORGE_INTERNAL: the server sent bytes that break the protocol; the connection is closed
 *     and the next call opens a new one.
 *   - anything else: the server's answer (e.g. FORGE_PERMISSION_DENIED, FORGE_NOT_FOUND).
 *
 * Retries. A call is sent again on a new connection (after a capped exponential backoff with
 * jitter, within the call's timeout) when the connection fails and either the call was never
 * sent, or the server said in a GoAway that it never started it, or the call carries an
 * idempotency key (the server then applies it once however often it arrives). Without a key,
 * a call whose connection broke after it was sent fails with FORGE_UNAVAILABLE: it may or may
 * not have been applied. Set `idempotency_key` (or `make_idempotency_key`) on anything that
 * changes data.
 *
 * Threads. There is no global state. A `forge_conn` is not thread-safe: use one per thread, or
 * hold your own mutex around every call that takes the connection (including
 * forge_call_start/forge_call_finish pairs). Different connections may be used concurrently.
 * OpenSSL 1.1+ initialises itself; you need not call any OpenSSL function.
 *
 * Memory. Requests stay yours. Responses are allocated with protobuf-c's default allocator:
 * free them with protobuf_c_message_free_unpacked(response, NULL). Clear every forge_status you
 * passed with forge_status_clear().
 */
#ifndef FORGE_CONNECTOR_H
#define FORGE_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FORGE_CONNECTOR_VERSION "1.0.0"

/* A call's outcome: gRPC's canonical status codes (DESIGN.md §4). */
typedef enum forge_code {
    FORGE_OK = 0,
    FORGE_CANCELLED = 1,
    FORGE_UNKNOWN = 2,
    FORGE_INVALID_ARGUMENT = 3,
    FORGE_DEADLINE_EXCEEDED = 4,
    FORGE_NOT_FOUND = 5,
    FORGE_ALREADY_EXISTS = 6,
    FORGE_PERMISSION_DENIED = 7,
    FORGE_RESOURCE_EXHAUSTED = 8,
    FORGE_FAILED_PRECONDITION = 9,
    FORGE_ABORTED = 10,
    FORGE_OUT_OF_RANGE = 11,
    FORGE_UNIMPLEMENTED = 12,
    FORGE_INTERNAL = 13,
    FORGE_UNAVAILABLE = 14,
    FORGE_DATA_LOSS = 15,
    FORGE_UNAUTHENTICATED = 16
} forge_code;

/* "INVALID_ARGUMENT" for FORGE_INVALID_ARGUMENT, "UNKNOWN" for a number outside the list. */
const char *forge_code_name(forge_code code);

/* One bad field of a request, e.g. field "reports[3].status", description "is required". */
typedef struct forge_violation {
    char *field;
    char *description;
} forge_violation;

/* What went wrong (or "" when nothing did). Owned by you; clear it with forge_status_clear(),
 * which also makes it ready for the next call. A status passed to a call is cleared first. */
typedef struct forge_status {
    forge_code code;
    char *message;
    size_t n_violations;
    forge_violation *violations;
} forge_status;

#define FORGE_STATUS_INIT { FORGE_OK, NULL, 0, NULL }

void forge_status_clear(forge_status *status);

/* How to reach a server. Fill it with forge_options_init(), then set what you need. The strings
 * are copied by forge_conn_new(); you may free them afterwards. */
typedef struct forge_options {
    const char *host;               /* name or address of the gateway or service (required) */
    uint16_t port;                  /* its wire port, e.g. 7100 for the gateway (required) */
    const char *token;              /* an API key "fk_…" or a JWT; sent as "authorization: Bearer …" */

    int tls;                        /* 1: TLS. The server's certificate is verified, always. */
    const char *ca_file;            /* PEM file of the CA(s) to trust; NULL: the system's store */
    const char *cert_file;          /* PEM client certificate, for mutual TLS (with key_file) */
    const char *key_file;           /* PEM private key of cert_file */
    const char *server_name;        /* name sent as SNI and checked in the certificate; NULL: host */

    uint32_t connect_timeout_ms;    /* one TCP + TLS connect attempt; default 5000 */
    uint32_t call_timeout_ms;       /* a call, retries included, unless the call sets its own; default 30000 */
    uint32_t max_frame_bytes;       /* largest frame sent or accepted; default 4 MiB (the servers' limit) */
    uint32_t max_in_flight;         /* calls started and not finished; default 512 (the servers' limit) */

    uint32_t backoff_initial_ms;    /* first wait before reconnecting; default 100 */
    uint32_t backoff_max_ms;        /* cap of the wait; default 5000 */
    uint32_t max_attempts;          /* attempts of one call (first try included); default 6 */
} forge_options;

void forge_options_init(forge_options *options);

/* Per-call settings; pass NULL for the defaults. Strings are copied when the call starts. */
typedef struct forge_call_options {
    uint32_t timeout_ms;            /* 0: options.call_timeout_ms. Sent to the server as the deadline. */
    const char *idempotency_key;    /* "idempotency-key": a repeat of the same key applies once */
    int make_idempotency_key;       /* 1: the library makes a random key for this call */
    const char *request_id;         /* "x-request-id", logged by every service it passes */
} forge_call_options;

typedef struct forge_conn forge_conn;

/* A connection object for `options`. It connects lazily, at the first call (or forge_connect()),
 * and reconnects by itself. NULL (with the reason in *status) when an option is invalid or a
 * TLS file cannot be read. */
forge_conn *forge_conn_new(const forge_options *options, forge_status *status);

/* Connects now (one attempt, options.connect_timeout_ms), so a program can report a wrong host,
 * port, CA or certificate at start-up. FORGE_OK when connected. */
forge_code forge_connect(forge_conn *conn, forge_status *status);

/* Closes the connection (calls in flight are abandoned) and frees everything. NULL is fine. */
void forge_conn_free(forge_conn *conn);

/* One unary call: sends `request` to `method` ("/<package>.<Service>/<Method>", e.g.
 * "/forge.orders.v1.Orders/ReportProductionStatuses") and waits for the answer. On FORGE_OK,
 * *response is the decoded `response_type` (free it with protobuf_c_message_free_unpacked);
 * otherwise *response is NULL and *status says why. */
forge_code forge_call(forge_conn *conn, const char *method, const ProtobufCMessage *request,
                      const ProtobufCMessageDescriptor *response_type, ProtobufCMessage **response,
                      const forge_call_options *call_options, forge_status *status);

/* Pipelining: start several calls, then finish each (in any order). The server works on them
 * concurrently. *call_id identifies the call to forge_call_finish(); every started call must be
 * finished (or the connection freed). forge_call is forge_call_start + forge_call_finish. */
forge_code forge_call_start(forge_conn *conn, const char *method, const ProtobufCMessage *request,
                            const forge_call_options *call_options, uint64_t *call_id, forge_status *status);
forge_code forge_call_finish(forge_conn *conn, uint64_t call_id,
                             const ProtobufCMessageDescriptor *response_type, ProtobufCMessage **response,
                             forge_status *status);

/* The same with the request already serialized and the response left serialized (for tools
 * that forward bytes). *response_bytes is malloc'd: free() it. */
forge_code forge_call_start_bytes(forge_conn *conn, const char *method, const uint8_t *request, size_t request_len,
                                  const forge_call_options *call_options, uint64_t *call_id, forge_status *status);
forge_code forge_call_finish_bytes(forge_conn *conn, uint64_t call_id, uint8_t **response_bytes,
                                   size_t *response_len, forge_status *status);

/* Sends a Ping and waits for the Pong: FORGE_OK when the server answered within timeout_ms
 * (0: call_timeout_ms); *rtt_us (may be NULL) is the round trip in microseconds. */
forge_code forge_ping(forge_conn *conn, uint32_t timeout_ms, uint64_t *rtt_us, forge_status *status);

/* How many times this connection object opened a connection (1 after the first call; more
 * after reconnects). For logging and tests. */
uint64_t forge_conn_connects(const forge_conn *conn);

#ifdef __cplusplus
}
#endif

#endif
