/* forge-connector-interop: the C library against real Forge processes, driven by
 * Tests/ConnectorTests (Swift), which starts the processes, runs a command and checks what it
 * prints. One line per outcome: "<CODE> <detail>", violations as "violation <field>: <text>".
 *
 *   forge-connector-interop [--host H] --port N [--token T] [--tls --ca F [--cert F --key F] [--server-name N]]
 *       health                          Health/Check
 *       ping                            Ping/Pong
 *       report EVENT ORDER STATUS       ReportProductionStatus (STATUS as a number, 0 = missing)
 *       batch ORDER N                   ReportProductionStatuses: N reports with every status once,
 *                                       then the same batch again (idempotency key), then a bad one
 *       oversize ORDER                  501 reports in one call (INVALID_ARGUMENT on `reports`)
 *       pipelined N                     N Health checks in flight at once on one connection
 *       get-product SKU                 Orders/GetProduct (through the gateway: forwarded)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forge/connector.h"
#include "forge/common/v1/health.pb-c.h"
#include "forge/orders/v1/orders.pb-c.h"

static void print_status(forge_code code, const forge_status *status) {
    printf("%s %s\n", forge_code_name(code), status->message ? status->message : "");
    for (size_t i = 0; i < status->n_violations; i++) {
        printf("violation %s: %s\n", status->violations[i].field, status->violations[i].description);
    }
}

static forge_code health(forge_conn *conn, forge_status *status) {
    Forge__Common__V1__CheckRequest request = FORGE__COMMON__V1__CHECK_REQUEST__INIT;
    ProtobufCMessage *message = NULL;
    forge_code code = forge_call(conn, "/forge.common.v1.Health/Check", &request.base,
                                 &forge__common__v1__check_response__descriptor, &message, NULL, status);
    if (code == FORGE_OK) {
        Forge__Common__V1__CheckResponse *response = (Forge__Common__V1__CheckResponse *)message;
        printf("OK %s serving=%d\n", response->service, response->status == FORGE__COMMON__V1__SERVING_STATUS__SERVING_STATUS_SERVING);
    } else {
        print_status(code, status);
    }
    protobuf_c_message_free_unpacked(message, NULL);
    return code;
}

static void print_results(const Forge__Orders__V1__ReportProductionStatusesResponse *response) {
    for (size_t i = 0; i < response->n_results; i++) {
        const Forge__Orders__V1__ReportResult *result = response->results[i];
        printf("result %s outcome=%d repeated=%d", result->event_id, (int)result->outcome, (int)result->repeated);
        for (size_t v = 0; v < result->n_violations; v++) printf(" violation=%s:%s", result->violations[v]->field, result->violations[v]->description);
        printf("\n");
    }
}

static forge_code batch(forge_conn *conn, Forge__Orders__V1__StatusReport **reports, size_t n, const char *key, forge_status *status) {
    Forge__Orders__V1__ReportProductionStatusesRequest request = FORGE__ORDERS__V1__REPORT_PRODUCTION_STATUSES_REQUEST__INIT;
    request.reports = reports;
    request.n_reports = n;
    forge_call_options options = { .idempotency_key = key };
    ProtobufCMessage *message = NULL;
    forge_code code = forge_call(conn, "/forge.orders.v1.Orders/ReportProductionStatuses", &request.base,
                                 &forge__orders__v1__report_production_statuses_response__descriptor, &message,
                                 key ? &options : NULL, status);
    if (code == FORGE_OK) {
        printf("OK batch of %zu\n", n);
        print_results((Forge__Orders__V1__ReportProductionStatusesResponse *)message);
    } else {
        print_status(code, status);
    }
    protobuf_c_message_free_unpacked(message, NULL);
    return code;
}

int main(int argc, char **argv) {
    forge_options options;
    forge_options_init(&options);
    options.host = "127.0.0.1";
    options.call_timeout_ms = 10000;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--tls") == 0) { options.tls = 1; continue; }
        if (i + 1 >= argc) break;
        const char *value = argv[++i];
        if (strcmp(argv[i - 1], "--host") == 0) options.host = value;
        else if (strcmp(argv[i - 1], "--port") == 0) options.port = (uint16_t)atoi(value);
        else if (strcmp(argv[i - 1], "--token") == 0) options.token = value;
        else if (strcmp(argv[i - 1], "--ca") == 0) options.ca_file = value;
        else if (strcmp(argv[i - 1], "--cert") == 0) options.cert_file = value;
        else if (strcmp(argv[i - 1], "--key") == 0) options.key_file = value;
        else if (strcmp(argv[i - 1], "--server-name") == 0) options.server_name = value;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: see the comment at the top of tests/interop.c\n");
        return 2;
    }
    const char *command = argv[i++];
    forge_status status = FORGE_STATUS_INIT;
    forge_conn *conn = forge_conn_new(&options, &status);
    if (conn == NULL) {
        print_status(status.code, &status);
        forge_status_clear(&status);
        return 1;
    }
    forge_code code = FORGE_OK;
    if (strcmp(command, "health") == 0) {
        code = health(conn, &status);
    } else if (strcmp(command, "ping") == 0) {
        uint64_t rtt = 0;
        code = forge_ping(conn, 5000, &rtt, &status);
        if (code == FORGE_OK) printf("OK pong after %llu us\n", (unsigned long long)rtt); else print_status(code, &status);
    } else if (strcmp(command, "report") == 0 && i + 2 < argc) {
        Forge__Orders__V1__StatusReport report = FORGE__ORDERS__V1__STATUS_REPORT__INIT;
        report.event_id = argv[i];
        report.source = "c-interop";
        report.order_id = argv[i + 1];
        report.status = (Forge__Orders__V1__ProductionStatus)atoi(argv[i + 2]);
        Google__Protobuf__Timestamp now = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
        now.seconds = (int64_t)time(NULL);
        report.source_time = &now;
        Forge__Orders__V1__ReportProductionStatusRequest request = FORGE__ORDERS__V1__REPORT_PRODUCTION_STATUS_REQUEST__INIT;
        request.report = &report;
        ProtobufCMessage *message = NULL;
        code = forge_call(conn, "/forge.orders.v1.Orders/ReportProductionStatus", &request.base,
                          &forge__orders__v1__report_production_status_response__descriptor, &message, NULL, &status);
        if (code == FORGE_OK) {
            Forge__Orders__V1__ReportProductionStatusResponse *response = (Forge__Orders__V1__ReportProductionStatusResponse *)message;
            printf("OK outcome=%d order=%s\n", (int)response->outcome, response->order ? response->order->id : "");
        } else {
            print_status(code, &status);
        }
        protobuf_c_message_free_unpacked(message, NULL);
    } else if (strcmp(command, "batch") == 0 && i + 1 < argc) {
        size_t n = (size_t)atoi(argv[i + 1]);
        Forge__Orders__V1__StatusReport *reports = calloc(n, sizeof *reports);
        Forge__Orders__V1__StatusReport **pointers = calloc(n, sizeof *pointers);
        Google__Protobuf__Timestamp *times = calloc(n, sizeof *times);
        char (*ids)[48] = calloc(n, sizeof *ids);
        for (size_t k = 0; k < n; k++) {
            Forge__Orders__V1__StatusReport empty = FORGE__ORDERS__V1__STATUS_REPORT__INIT;
            Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
            reports[k] = empty;
            times[k] = time;
            times[k].seconds = 1764547200 + (int64_t)k * 60;
            snprintf(ids[k], sizeof ids[k], "c-batch-%s-%zu", argv[i], k);
            reports[k].event_id = ids[k];
            reports[k].source = "c-interop";
            reports[k].order_id = argv[i];
            reports[k].status = (Forge__Orders__V1__ProductionStatus)(1 + k % 7);
            reports[k].source_time = &times[k];
            pointers[k] = &reports[k];
        }
        char key[64];
        snprintf(key, sizeof key, "c-batch-%s", argv[i]);
        code = batch(conn, pointers, n, key, &status);
        if (code == FORGE_OK) code = batch(conn, pointers, n, key, &status);
        /* A batch with one good and one bad report: the bad one is REJECTED on its own. */
        if (code == FORGE_OK && n > 0) {
            Forge__Orders__V1__StatusReport bad = FORGE__ORDERS__V1__STATUS_REPORT__INIT;
            bad.event_id = "c-bad-1";
            bad.source = "c-interop";
            bad.order_id = argv[i];
            Forge__Orders__V1__StatusReport *mixed[] = { pointers[0], &bad };
            code = batch(conn, mixed, 2, NULL, &status);
        }
        free(reports);
        free(pointers);
        free(times);
        free(ids);
    } else if (strcmp(command, "oversize") == 0 && i < argc) {
        size_t n = 501;
        Forge__Orders__V1__StatusReport report = FORGE__ORDERS__V1__STATUS_REPORT__INIT;
        report.event_id = "c-over";
        report.order_id = argv[i];
        report.status = FORGE__ORDERS__V1__PRODUCTION_STATUS__PRODUCTION_STATUS_SCHEDULED;
        Forge__Orders__V1__StatusReport **pointers = calloc(n, sizeof *pointers);
        for (size_t k = 0; k < n; k++) pointers[k] = &report;
        code = batch(conn, pointers, n, NULL, &status);
        free(pointers);
    } else if (strcmp(command, "pipelined") == 0 && i < argc) {
        size_t n = (size_t)atoi(argv[i]);
        uint64_t *ids = calloc(n, sizeof *ids);
        Forge__Common__V1__CheckRequest request = FORGE__COMMON__V1__CHECK_REQUEST__INIT;
        size_t ok = 0;
        for (size_t k = 0; k < n; k++) forge_call_start(conn, "/forge.common.v1.Health/Check", &request.base, NULL, &ids[k], &status);
        for (size_t k = n; k-- > 0;) {
            ProtobufCMessage *message = NULL;
            if (forge_call_finish(conn, ids[k], &forge__common__v1__check_response__descriptor, &message, &status) == FORGE_OK) ok++;
            protobuf_c_message_free_unpacked(message, NULL);
        }
        printf("%s %zu of %zu answered on %llu connection(s)\n", ok == n ? "OK" : "FAILED", ok, n,
               (unsigned long long)forge_conn_connects(conn));
        code = ok == n ? FORGE_OK : FORGE_UNKNOWN;
        free(ids);
    } else if (strcmp(command, "get-product") == 0 && i < argc) {
        Forge__Orders__V1__GetProductRequest request = FORGE__ORDERS__V1__GET_PRODUCT_REQUEST__INIT;
        request.sku = argv[i];
        ProtobufCMessage *message = NULL;
        code = forge_call(conn, "/forge.orders.v1.Orders/GetProduct", &request.base, &forge__orders__v1__get_product_response__descriptor,
                          &message, NULL, &status);
        if (code == FORGE_OK) {
            Forge__Orders__V1__GetProductResponse *response = (Forge__Orders__V1__GetProductResponse *)message;
            printf("OK %s %s\n", response->product ? response->product->sku : "", response->product ? response->product->name : "");
        } else {
            print_status(code, &status);
        }
        protobuf_c_message_free_unpacked(message, NULL);
    } else {
        fprintf(stderr, "unknown command or missing arguments: %s\n", command);
        code = FORGE_INVALID_ARGUMENT;
    }
    forge_status_clear(&status);
    forge_conn_free(conn);
    return code == FORGE_OK ? 0 : 1;
}
