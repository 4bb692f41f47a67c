/* forge-echo-bench: unary calls from C on one connection, `depth` in flight (1 = one call after
 * the other), for `seconds` after a warm-up; prints one line:
 *   calls=N seconds=S calls_per_s=R p50_us=A p90_us=B p99_us=C errors=E
 * Benchmarks/Sources/ConnectorBench runs it beside the Swift client on the same server.
 *
 *   forge-echo-bench --port N [--host H] [--token T] [--depth D] [--seconds S] [--warmup S]
 *                    [--method echo | get-product:SKU]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forge/connector.h"
#include "forge/orders/v1/orders.pb-c.h"
#include "forge/testing/v1/echo.pb-c.h"

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    forge_options options;
    forge_options_init(&options);
    options.host = "127.0.0.1";
    int depth = 1;
    double seconds = 10, warmup = 2;
    const char *method = "echo";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--host") == 0) options.host = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) options.port = (uint16_t)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--token") == 0) options.token = argv[i + 1];
        else if (strcmp(argv[i], "--depth") == 0) depth = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--warmup") == 0) warmup = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--method") == 0) method = argv[i + 1];
    }
    if (depth < 1 || depth > 512 || seconds <= 0) {
        fprintf(stderr, "--depth 1–512, --seconds > 0\n");
        return 2;
    }
    forge_status status = FORGE_STATUS_INIT;
    forge_conn *conn = forge_conn_new(&options, &status);
    if (conn == NULL) {
        fprintf(stderr, "%s\n", status.message);
        return 1;
    }

    /* The request, serialized once: a 100-byte echo, or a product lookup. */
    uint8_t request[256];
    size_t request_length;
    const char *path;
    if (strncmp(method, "get-product:", 12) == 0) {
        Forge__Orders__V1__GetProductRequest message = FORGE__ORDERS__V1__GET_PRODUCT_REQUEST__INIT;
        message.sku = (char *)method + 12;
        request_length = protobuf_c_message_pack(&message.base, request);
        path = "/forge.orders.v1.Orders/GetProduct";
    } else {
        uint8_t payload[100];
        memset(payload, 'x', sizeof payload);
        Forge__Testing__V1__EchoRequest message = FORGE__TESTING__V1__ECHO_REQUEST__INIT;
        message.payload.data = payload;
        message.payload.len = sizeof payload;
        request_length = protobuf_c_message_pack(&message.base, request);
        path = "/forge.testing.v1.Echo/Echo";
    }

    size_t capacity = 1 << 20, count = 0;
    uint64_t *latencies = malloc(capacity * sizeof *latencies);
    uint64_t *ids = calloc((size_t)depth, sizeof *ids), *started = calloc((size_t)depth, sizeof *started);
    uint64_t begin = now_ns(), measure_from = begin + (uint64_t)(warmup * 1e9), end = measure_from + (uint64_t)(seconds * 1e9);
    long errors = 0;
    for (int k = 0; k < depth; k++) {
        started[k] = now_ns();
        if (forge_call_start_bytes(conn, path, request, request_length, NULL, &ids[k], &status) != FORGE_OK) errors++;
    }
    int slot = 0;
    uint64_t measured_start = 0;
    for (;;) {
        uint8_t *response = NULL;
        size_t response_length = 0;
        forge_code code = forge_call_finish_bytes(conn, ids[slot], &response, &response_length, &status);
        uint64_t t = now_ns();
        free(response);
        if (code != FORGE_OK) {
            if (++errors < 5) fprintf(stderr, "%s: %s\n", forge_code_name(code), status.message);
        } else if (t >= measure_from) {
            if (measured_start == 0) measured_start = t;
            if (count == capacity) latencies = realloc(latencies, (capacity *= 2) * sizeof *latencies);
            latencies[count++] = t - started[slot];
        }
        if (t >= end) break;
        started[slot] = now_ns();
        if (forge_call_start_bytes(conn, path, request, request_length, NULL, &ids[slot], &status) != FORGE_OK) errors++;
        slot = (slot + 1) % depth;
    }
    uint64_t measured_end = now_ns();
    /* Drain the calls still in flight. */
    for (int k = 1; k < depth; k++) {
        uint8_t *response = NULL;
        size_t response_length = 0;
        forge_call_finish_bytes(conn, ids[(slot + k) % depth], &response, &response_length, &status);
        free(response);
    }
    qsort(latencies, count, sizeof *latencies, compare);
    double elapsed = (double)(measured_end - measured_start) / 1e9;
#define PCT(p) (count ? latencies[(size_t)((double)(count - 1) * (p))] / 1000.0 : 0.0)
    printf("calls=%zu seconds=%.2f calls_per_s=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f errors=%ld\n", count, elapsed,
           elapsed > 0 ? (double)count / elapsed : 0.0, PCT(0.50), PCT(0.90), PCT(0.99), errors);
    free(latencies);
    free(ids);
    free(started);
    forge_status_clear(&status);
    forge_conn_free(conn);
    return errors ? 1 : 0;
}
