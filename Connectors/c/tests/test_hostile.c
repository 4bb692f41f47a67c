/* The library against a fake server that misbehaves on purpose: every case must end in a clear
 * error value (never a crash, a hang or a leak — `make asan` and `make valgrind` run this same
 * program), and the well-behaved cases (pipelining, Ping, GoAway, retries) must work. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "forge/testing/v1/echo.pb-c.h"

static int failures;

#define EXPECT(condition, ...)                                          \
    do {                                                                \
        if (!(condition)) {                                             \
            failures++;                                                 \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);        \
            fprintf(stderr, __VA_ARGS__);                               \
            fprintf(stderr, "\n");                                      \
        }                                                               \
    } while (0)

/* ---- the fake server ---- */

typedef struct server server;
typedef void (*script)(server *s, int connection, int index);

struct server {
    int listener;
    uint16_t port;
    int connections;     /* how many to accept */
    script run;
    pthread_t thread;
    char seen_keys[4][64];   /* idempotency keys of the calls seen, per connection */
    int pong_seen;
};

static int read_exact(int fd, uint8_t *buffer, size_t length) {
    size_t got = 0;
    while (got < length) {
        ssize_t n = recv(fd, buffer + got, length - got, 0);
        if (n <= 0) return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Reads one frame from the client; NULL when the client closed. */
static Forge__Wire__V1__Frame *read_frame(int fd) {
    uint8_t prefix[4];
    if (read_exact(fd, prefix, 4) < 0) return NULL;
    uint32_t length = ((uint32_t)prefix[0] << 24) | ((uint32_t)prefix[1] << 16) | ((uint32_t)prefix[2] << 8) | prefix[3];
    if (length > (1u << 20)) return NULL;
    uint8_t *body = malloc(length ? length : 1);
    if (read_exact(fd, body, length) < 0) {
        free(body);
        return NULL;
    }
    Forge__Wire__V1__Frame *frame = (Forge__Wire__V1__Frame *)protobuf_c_message_unpack(&forge__wire__v1__frame__descriptor, NULL, length, body);
    free(body);
    return frame;
}

static void send_raw(int fd, const void *bytes, size_t length) {
    if (send(fd, bytes, length, MSG_NOSIGNAL) < 0) { /* the client may be gone: fine */ }
}

static void send_frame(int fd, const Forge__Wire__V1__Frame *frame) {
    size_t length;
    uint8_t *bytes = forge_frame_encode(frame, 1u << 20, &length);
    send_raw(fd, bytes, length);
    free(bytes);
}

/* A Reply to call_id: OK with an EchoResponse saying `text`, or `code` with violations. */
static void send_reply(int fd, uint64_t call_id, int code, const char *text) {
    Forge__Testing__V1__EchoResponse echo = FORGE__TESTING__V1__ECHO_RESPONSE__INIT;
    echo.text = (char *)text;
    uint8_t payload[256];
    size_t payload_length = protobuf_c_message_pack(&echo.base, payload);
    Forge__Wire__V1__FieldViolation first = FORGE__WIRE__V1__FIELD_VIOLATION__INIT, second = FORGE__WIRE__V1__FIELD_VIOLATION__INIT;
    first.field = "reports[0].status";
    first.description = "is required";
    second.field = "reports[1].order_id";
    second.description = "names no order";
    Forge__Wire__V1__FieldViolation *violations[] = { &first, &second };
    Forge__Wire__V1__Status status = FORGE__WIRE__V1__STATUS__INIT;
    status.code = (Forge__Wire__V1__Code)code;
    status.message = code ? "bad request" : "";
    if (code == FORGE_INVALID_ARGUMENT) {
        status.violations = violations;
        status.n_violations = 2;
    }
    Forge__Wire__V1__Reply reply = FORGE__WIRE__V1__REPLY__INIT;
    reply.status = &status;
    if (code == 0) {
        reply.payload.data = payload;
        reply.payload.len = payload_length;
    }
    Forge__Wire__V1__Frame frame = FORGE__WIRE__V1__FRAME__INIT;
    frame.call_id = call_id;
    frame.kind_case = FORGE__WIRE__V1__FRAME__KIND_REPLY;
    frame.reply = &reply;
    send_frame(fd, &frame);
}

/* Reads the next Call (skipping Cancel/Pong) and notes its idempotency key; returns its id (0 when the client left). */
static uint64_t read_call(server *s, int fd, int index) {
    for (;;) {
        Forge__Wire__V1__Frame *frame = read_frame(fd);
        if (frame == NULL) return 0;
        if (frame->kind_case == FORGE__WIRE__V1__FRAME__KIND_PONG) s->pong_seen = 1;
        if (frame->kind_case != FORGE__WIRE__V1__FRAME__KIND_CALL) {
            protobuf_c_message_free_unpacked(&frame->base, NULL);
            continue;
        }
        for (size_t i = 0; i < frame->call->n_metadata; i++) {
            if (strcmp(frame->call->metadata[i]->key, "idempotency-key") == 0 && index < 4) {
                snprintf(s->seen_keys[index], sizeof s->seen_keys[index], "%s", frame->call->metadata[i]->value);
            }
        }
        uint64_t id = frame->call_id;
        protobuf_c_message_free_unpacked(&frame->base, NULL);
        return id;
    }
}

static void *serve(void *argument) {
    server *s = argument;
    for (int i = 0; i < s->connections; i++) {
        int fd = accept(s->listener, NULL, NULL);
        if (fd < 0) break;
        s->run(s, fd, i);
        close(fd);
    }
    return NULL;
}

static void server_start(server *s, script run, int connections) {
    memset(s, 0, sizeof *s);
    s->run = run;
    s->connections = connections;
    s->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0 };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s->listener, (struct sockaddr *)&address, sizeof address);
    listen(s->listener, 8);
    socklen_t length = sizeof address;
    getsockname(s->listener, (struct sockaddr *)&address, &length);
    s->port = ntohs(address.sin_port);
    pthread_create(&s->thread, NULL, serve, s);
}

static void server_stop(server *s) {
    pthread_join(s->thread, NULL);
    close(s->listener);
}

static forge_conn *client(uint16_t port, uint32_t timeout_ms) {
    forge_options options;
    forge_options_init(&options);
    options.host = "127.0.0.1";
    options.port = port;
    options.token = "fk_test";
    options.call_timeout_ms = timeout_ms;
    options.backoff_initial_ms = 5;
    options.backoff_max_ms = 20;
    options.max_attempts = 3;
    forge_status status = FORGE_STATUS_INIT;
    forge_conn *conn = forge_conn_new(&options, &status);
    forge_status_clear(&status);
    return conn;
}

/* One echo call; returns the code and leaves the reply text (or error message) in `text`. */
static forge_code echo(forge_conn *conn, const char *text, const forge_call_options *options, forge_status *status, char *out, size_t out_size) {
    Forge__Testing__V1__EchoRequest request = FORGE__TESTING__V1__ECHO_REQUEST__INIT;
    request.text = (char *)text;
    ProtobufCMessage *response = NULL;
    forge_code code = forge_call(conn, "/forge.testing.v1.Echo/Echo", &request.base, &forge__testing__v1__echo_response__descriptor,
                                 &response, options, status);
    if (code == FORGE_OK) {
        snprintf(out, out_size, "%s", ((Forge__Testing__V1__EchoResponse *)response)->text);
    } else {
        snprintf(out, out_size, "%s", status->message);
    }
    protobuf_c_message_free_unpacked(response, NULL);
    return code;
}

/* Runs one call against a server that answers with `run` and expects `code` and a message
 * containing `needle`. */
static void expect_outcome(const char *name, script run, int connections, forge_code code, const char *needle) {
    server s;
    server_start(&s, run, connections);
    forge_conn *conn = client(s.port, 2000);
    forge_status status = FORGE_STATUS_INIT;
    char text[600];
    forge_code got = echo(conn, "hello", NULL, &status, text, sizeof text);
    EXPECT(got == code, "%s: expected %s, got %s (%s)", name, forge_code_name(code), forge_code_name(got), text);
    EXPECT(strstr(text, needle) != NULL, "%s: expected a message with '%s', got '%s'", name, needle, text);
    forge_status_clear(&status);
    forge_conn_free(conn);
    server_stop(&s);
    printf("ok %s\n", name);
}

/* ---- hostile scripts ---- */

static void garbage_body(server *s, int fd, int i) {
    read_call(s, fd, i);
    const uint8_t bytes[] = { 0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    send_raw(fd, bytes, sizeof bytes);
}

static void four_gib_length(server *s, int fd, int i) {
    read_call(s, fd, i);
    const uint8_t bytes[] = { 0xff, 0xff, 0xff, 0xff, 1, 2, 3 };
    send_raw(fd, bytes, sizeof bytes);
}

static void zero_length(server *s, int fd, int i) {
    read_call(s, fd, i);
    const uint8_t bytes[] = { 0, 0, 0, 0 };
    send_raw(fd, bytes, sizeof bytes);
}

static void truncated_frame(server *s, int fd, int i) {
    read_call(s, fd, i);
    const uint8_t bytes[] = { 0, 0, 0, 100, 8, 1, 26, 3 };
    send_raw(fd, bytes, sizeof bytes);
}

static void unknown_call_id(server *s, int fd, int i) {
    read_call(s, fd, i);
    send_reply(fd, 999, 0, "for nobody");
}

static void call_from_server(server *s, int fd, int i) {
    read_call(s, fd, i);
    Forge__Wire__V1__Call call = FORGE__WIRE__V1__CALL__INIT;
    call.method = "/x.Y/Z";
    Forge__Wire__V1__Frame frame = FORGE__WIRE__V1__FRAME__INIT;
    frame.call_id = 1;
    frame.kind_case = FORGE__WIRE__V1__FRAME__KIND_CALL;
    frame.call = &call;
    send_frame(fd, &frame);
}

static void close_after_call(server *s, int fd, int i) {
    read_call(s, fd, i);
}

static void never_answer(server *s, int fd, int i) {
    read_call(s, fd, i);
    Forge__Wire__V1__Frame *next = read_frame(fd); /* the Cancel, then the close */
    if (next) protobuf_c_message_free_unpacked(&next->base, NULL);
}

static void violations(server *s, int fd, int i) {
    uint64_t id = read_call(s, fd, i);
    send_reply(fd, id, FORGE_INVALID_ARGUMENT, "");
}

/* ---- well-behaved scripts ---- */

static void byte_by_byte(server *s, int fd, int i) {
    uint64_t id = read_call(s, fd, i);
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    send_reply(pair[0], id, 0, "slowly");
    close(pair[0]);
    uint8_t byte;
    while (recv(pair[1], &byte, 1, 0) == 1) {
        send_raw(fd, &byte, 1);
        usleep(200);
    }
    close(pair[1]);
}

static void ping_first(server *s, int fd, int i) {
    uint64_t id = read_call(s, fd, i);
    Forge__Wire__V1__Ping ping = FORGE__WIRE__V1__PING__INIT;
    ping.nonce = 42;
    Forge__Wire__V1__Frame frame = FORGE__WIRE__V1__FRAME__INIT;
    frame.kind_case = FORGE__WIRE__V1__FRAME__KIND_PING;
    frame.ping = &ping;
    send_frame(fd, &frame);
    Forge__Wire__V1__Frame *pong = read_frame(fd);
    s->pong_seen = pong && pong->kind_case == FORGE__WIRE__V1__FRAME__KIND_PONG && pong->pong->nonce == 42;
    if (pong) protobuf_c_message_free_unpacked(&pong->base, NULL);
    send_reply(fd, id, 0, "after ping");
}

/* Connection 1: GoAway promising nothing (the call was never started), then close; connection
 * 2 answers. */
static void go_away_then_answer(server *s, int fd, int i) {
    uint64_t id = read_call(s, fd, i);
    if (i == 0) {
        Forge__Wire__V1__Status reason = FORGE__WIRE__V1__STATUS__INIT;
        reason.code = FORGE__WIRE__V1__CODE__UNAVAILABLE;
        reason.message = "server shutting down";
        Forge__Wire__V1__GoAway go_away = FORGE__WIRE__V1__GO_AWAY__INIT;
        go_away.reason = &reason;
        go_away.last_call_id = 0;
        Forge__Wire__V1__Frame frame = FORGE__WIRE__V1__FRAME__INIT;
        frame.kind_case = FORGE__WIRE__V1__FRAME__KIND_GO_AWAY;
        frame.go_away = &go_away;
        send_frame(fd, &frame);
        return;
    }
    send_reply(fd, id, 0, "second connection");
}

/* Connection 1 takes two calls, says GoAway promising only the first, answers it, then
 * closes; connection 2 gets the second again and answers it. */
static void go_away_after_first(server *s, int fd, int i) {
    if (i == 0) {
        uint64_t first = read_call(s, fd, i);
        read_call(s, fd, i);
        Forge__Wire__V1__GoAway go_away = FORGE__WIRE__V1__GO_AWAY__INIT;
        go_away.last_call_id = first;
        Forge__Wire__V1__Frame frame = FORGE__WIRE__V1__FRAME__INIT;
        frame.kind_case = FORGE__WIRE__V1__FRAME__KIND_GO_AWAY;
        frame.go_away = &go_away;
        send_frame(fd, &frame);
        usleep(20000);
        send_reply(fd, first, 0, "first, finished on the old connection");
        usleep(20000);
        return;
    }
    uint64_t id = read_call(s, fd, i);
    send_reply(fd, id, 0, "second, on the new connection");
}

/* Connection 1 reads the call and drops the connection; connection 2 answers. */
static void drop_then_answer(server *s, int fd, int i) {
    uint64_t id = read_call(s, fd, i);
    if (i > 0) send_reply(fd, id, 0, "retried");
}

static void reverse_order(server *s, int fd, int i) {
    uint64_t ids[3];
    for (int k = 0; k < 3; k++) ids[k] = read_call(s, fd, i);
    send_reply(fd, ids[2], 0, "three");
    send_reply(fd, ids[1], 0, "two");
    send_reply(fd, ids[0], 0, "one");
}

/* ---- the cases ---- */

static void test_pipelined(void) {
    server s;
    server_start(&s, reverse_order, 1);
    forge_conn *conn = client(s.port, 2000);
    forge_status status = FORGE_STATUS_INIT;
    uint64_t ids[3];
    Forge__Testing__V1__EchoRequest request = FORGE__TESTING__V1__ECHO_REQUEST__INIT;
    for (int k = 0; k < 3; k++) {
        EXPECT(forge_call_start(conn, "/forge.testing.v1.Echo/Echo", &request.base, NULL, &ids[k], &status) == FORGE_OK, "start %d", k);
    }
    const char *expected[] = { "one", "two", "three" };
    for (int k = 0; k < 3; k++) {
        ProtobufCMessage *response = NULL;
        forge_code code = forge_call_finish(conn, ids[k], &forge__testing__v1__echo_response__descriptor, &response, &status);
        EXPECT(code == FORGE_OK && strcmp(((Forge__Testing__V1__EchoResponse *)response)->text, expected[k]) == 0,
               "pipelined call %d answered %s", k, code == FORGE_OK ? ((Forge__Testing__V1__EchoResponse *)response)->text : status.message);
        protobuf_c_message_free_unpacked(response, NULL);
    }
    EXPECT(forge_call_finish_bytes(conn, ids[0], &(uint8_t *){ NULL }, &(size_t){ 0 }, &status) == FORGE_INVALID_ARGUMENT,
           "finishing a finished call is refused");
    forge_status_clear(&status);
    forge_conn_free(conn);
    server_stop(&s);
    printf("ok pipelined calls answered out of order\n");
}

static void test_violations(void) {
    server s;
    server_start(&s, violations, 1);
    forge_conn *conn = client(s.port, 2000);
    forge_status status = FORGE_STATUS_INIT;
    char text[600];
    forge_code code = echo(conn, "x", NULL, &status, text, sizeof text);
    EXPECT(code == FORGE_INVALID_ARGUMENT && status.n_violations == 2, "violations: %s with %zu", forge_code_name(code), status.n_violations);
    if (status.n_violations == 2) {
        EXPECT(strcmp(status.violations[0].field, "reports[0].status") == 0, "first field %s", status.violations[0].field);
        EXPECT(strcmp(status.violations[1].description, "names no order") == 0, "second description %s", status.violations[1].description);
    }
    forge_status_clear(&status);
    forge_conn_free(conn);
    server_stop(&s);
    printf("ok field violations reach the caller\n");
}

static void test_ping_from_server(void) {
    server s;
    server_start(&s, ping_first, 1);
    forge_conn *conn = client(s.port, 2000);
    forge_status status = FORGE_STATUS_INIT;
    char text[600];
    forge_code code = echo(conn, "x", NULL, &status, text, sizeof text);
    EXPECT(code == FORGE_OK && strcmp(text, "after ping") == 0, "ping: %s %s", forge_code_name(code), text);
    EXPECT(s.pong_seen, "the client answered the server's Ping with its nonce");
    forge_status_clear(&status);
    forge_conn_free(conn);
    server_stop(&s);
    printf("ok a server's Ping is answered\n");
}

static void test_go_away(void) {
    server s;
    server_start(&s, go_away_then_answer, 2);
    forge_conn *conn = client(s.port, 3000);
    forge_status status = FORGE_STATUS_INIT;
    char text[600];
    /* No idempotency key: GoAway said the call was never started, so it is resent anyway. */
    forge_code code = echo(conn, "x", NULL, &status, text, sizeof text);
    EXPECT(code == FORGE_OK && strcmp(text, "second connection") == 0, "go away: %s %s", forge_code_name(code), text);
    EXPECT(forge_conn_connects(conn) == 2, "go away: %llu connections", (unsigned long long)forge_conn_connects(conn));
    forge_status_clear(&status);
    forge_conn_free(conn);
    server_stop(&s);
    printf("ok GoAway: the unstarted call goes again on a new connection\n");
}

static void test_go_away_finishes_in_flight(void) {
    server s;
    server_start(&s, go_away_after_first, 2);
    forge_conn *conn = client(s.port, 3000);
    forge_status status = FORGE_STATUS_INIT;
    Forge__Testing__V1__EchoRequest request = FORGE__TESTING__V1__ECHO_REQUEST__INIT;
    uint64_t first, second;
    forge_call_start(conn, "/forge.testing.v1.Echo/Echo", &request.base, NULL, &first, &status);
    forge_call_start(conn, "/forge.testing.v1.Echo/Echo", &request.base, NULL, &second, &status);
    const char *expected[] = { "first, finished on the old connection", "second, on the new connection" };
    uint64_t ids[] = { first, second };
    for (int k = 0; k < 2; k++) {
        ProtobufCMessage *response = NULL;
        forge_code code = forge_call_finish(conn, ids[k], &forge__testing__v1__echo_response__descriptor, &response, &status);
        EXPECT(code == FORGE_OK && strcmp(((Forge__Testing__V1__EchoResponse *)response)->text, expected[k]) == 0,
               "go away call %d: %s %s", k, forge_code_name(code), code == FORGE_OK ? ((Forge__Testing__V1__EchoResponse *)response)->text : status.message);
        protobuf_c_message_free_unpacked(response, NULL);
    }
    EXPECT(forge_conn_connects(conn) == 2, "go away: %llu connections", (unsigned long long)forge_conn_connects(conn));
    forge_status_clear(&status);
    forge_conn_free(conn);
    server_stop(&s);
    printf("ok GoAway: the promised call finishes on the old connection, the other goes again on a new one\n");
}

static void test_retry_with_key(void) {
    server s;
    server_start(&s, drop_then_answer, 2);
    forge_conn *conn = client(s.port, 3000);
    forge_status status = FORGE_STATUS_INIT;
    char text[600];
    forge_call_options options = { .idempotency_key = "batch-7" };
    forge_code code = echo(conn, "x", &options, &status, text, sizeof text);
    EXPECT(code == FORGE_OK && strcmp(text, "retried") == 0, "retry: %s %s", forge_code_name(code), text);
    EXPECT(strcmp(s.seen_keys[0], "batch-7") == 0 && strcmp(s.seen_keys[1], "batch-7") == 0,
           "the retried call carries the same idempotency key: '%s' '%s'", s.seen_keys[0], s.seen_keys[1]);
    forge_status_clear(&status);
    forge_conn_free(conn);
    server_stop(&s);
    printf("ok a call with an idempotency key is retried after the connection broke\n");
}

static void test_refused(void) {
    server s;
    server_start(&s, close_after_call, 0); /* a port that was listening: close it */
    uint16_t port = s.port;
    server_stop(&s);
    forge_conn *conn = client(port, 2000);
    forge_status status = FORGE_STATUS_INIT;
    char text[600];
    forge_code code = echo(conn, "x", NULL, &status, text, sizeof text);
    EXPECT(code == FORGE_UNAVAILABLE && strstr(text, "refused") != NULL && strstr(text, "3 attempts") != NULL,
           "refused: %s %s", forge_code_name(code), text);
    forge_status_clear(&status);
    forge_conn_free(conn);
    printf("ok nothing listening: UNAVAILABLE after the attempts\n");
}

static void test_bad_options(void) {
    forge_options options;
    forge_options_init(&options);
    forge_status status = FORGE_STATUS_INIT;
    EXPECT(forge_conn_new(&options, &status) == NULL && status.code == FORGE_INVALID_ARGUMENT, "no host is refused");
    options.host = "127.0.0.1";
    options.port = 1;
    options.tls = 1;
    options.ca_file = "/nonexistent/ca.pem";
    EXPECT(forge_conn_new(&options, &status) == NULL && strstr(status.message, "CA file") != NULL, "a missing CA file is named: %s", status.message);
    forge_status_clear(&status);
    printf("ok bad options are refused with a reason\n");
}

int main(void) {
    expect_outcome("garbage body", garbage_body, 1, FORGE_INTERNAL, "not a forge.wire.v1.Frame");
    expect_outcome("4 GiB length", four_gib_length, 1, FORGE_INTERNAL, "4294967295 bytes");
    expect_outcome("zero length", zero_length, 1, FORGE_INTERNAL, "length 0");
    expect_outcome("truncated frame", truncated_frame, 1, FORGE_INTERNAL, "middle of a frame");
    expect_outcome("reply for an unknown call id", unknown_call_id, 1, FORGE_INTERNAL, "never sent");
    expect_outcome("a Call from the server", call_from_server, 1, FORGE_INTERNAL, "may not send");
    expect_outcome("closed after the call", close_after_call, 1, FORGE_UNAVAILABLE, "may or may not have been applied");
    expect_outcome("no answer", never_answer, 1, FORGE_DEADLINE_EXCEEDED, "timeout");
    expect_outcome("a reply one byte at a time", byte_by_byte, 1, FORGE_OK, "slowly");
    test_violations();
    test_pipelined();
    test_ping_from_server();
    test_go_away();
    test_go_away_finishes_in_flight();
    test_retry_with_key();
    test_refused();
    test_bad_options();
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("all hostile-server cases passed\n");
    return 0;
}
