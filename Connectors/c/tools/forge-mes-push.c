/* forge-mes-push: sends production-status events exported by a MES (CSV) to Forge's orders
 * bridge, in batches (two in flight), with retries; prints one result per row in the file's
 * order; exits 1 when a row was rejected.
 *
 *   forge-mes-push [options] [FILE]      (no FILE, or "-": standard input)
 *
 * The CSV has a header row; columns (any order, unknown ones ignored):
 *   event_id          the MES's record id (a repeat is applied once); without it, one is made
 *                     from the row's content, so sending the same file twice applies it once
 *   order_id | erp_order_number   the order: Forge's id or ERP's sales-order number
 *   line_no           the order line (0 or empty: every line)
 *   status            scheduled, material_ready, in_production, quality_inspection, packed,
 *                     shipped, delivered (or 已排产, 备料完成, 生产中, 质检, 待发货, 已发货, 已签收)
 *   source_time       when the MES saw it: 2026-12-01T08:30:00+08:00, ...Z, or
 *                     "2026-12-01 08:30:00" (this machine's time zone)
 *   percent, work_centre, carrier, tracking_number, signed_by, note
 *   serial_numbers    separated by ';'
 *
 * Options (environment variables in brackets):
 *   --host NAME            the gateway or forge-orders [FORGE_HOST, default 127.0.0.1]
 *   --port N               its wire port [FORGE_WIRE_PORT, default 7100]
 *   --token-env VAR        the variable holding the API key or token [default FORGE_API_KEY]
 *   --tls                  use TLS (the server's certificate is verified)
 *   --ca FILE, --cert FILE, --key FILE, --server-name NAME   TLS trust, client certificate, SNI
 *   --source NAME          who reports, e.g. mes-plant-2 [default mes]
 *   --batch N              reports per call, 1–500 [default 200]
 *   --timeout-ms N         per batch, retries included [default 30000]
 *   --pause-ms N           wait between sending batches, to spread a large file's load [default 0]
 *
 * Exit status: 0 every row applied (or kept as history), 1 a row was rejected, 2 the input or
 * the options are wrong, 3 a batch could not be delivered (its rows are printed as FAILED).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forge/connector.h"
#include "forge/orders/v1/orders.pb-c.h"

enum column { C_EVENT, C_ORDER, C_ERP, C_LINE, C_STATUS, C_TIME, C_PERCENT, C_CENTRE, C_CARRIER, C_TRACKING,
              C_SIGNED, C_SERIALS, C_NOTE, C_COUNT };
static const char *column_names[C_COUNT] = {
    "event_id", "order_id", "erp_order_number", "line_no", "status", "source_time", "percent", "work_centre",
    "carrier", "tracking_number", "signed_by", "serial_numbers", "note",
};

static const struct { const char *name; int status; } statuses[] = {
    { "scheduled", 1 }, { "已排产", 1 }, { "排产", 1 },
    { "material_ready", 2 }, { "material ready", 2 }, { "备料完成", 2 }, { "齐套", 2 },
    { "in_production", 3 }, { "in production", 3 }, { "生产中", 3 }, { "在制", 3 },
    { "quality_inspection", 4 }, { "quality inspection", 4 }, { "qc", 4 }, { "质检", 4 }, { "质检中", 4 },
    { "packed", 5 }, { "待发货", 5 }, { "已包装", 5 },
    { "shipped", 6 }, { "已发货", 6 }, { "发货", 6 },
    { "delivered", 7 }, { "已签收", 7 }, { "签收", 7 }, { "已送达", 7 },
};

/* ---- CSV ---- */

typedef struct row {
    int number;            /* line in the file (the header is 1) */
    char *cells[C_COUNT];  /* NULL when the column is absent */
} row;

/* Splits the next CSV record from *cursor into fields (quotes and "" escapes honoured, CR LF or
 * LF). Returns the number of fields, 0 at the end. Fields point into a malloc'd copy. */
static size_t next_record(const char **cursor, const char *end, char ***fields, int *lines) {
    if (*cursor >= end) return 0;
    size_t count = 0, capacity = 16;
    *fields = malloc(capacity * sizeof **fields);
    char *field = malloc((size_t)(end - *cursor) + 1);
    size_t length = 0;
    int quoted = 0;
    const char *p = *cursor;
    for (;;) {
        if (p >= end || (!quoted && (*p == '\n' || *p == ',' || (*p == '\r' && p + 1 < end && p[1] == '\n')))) {
            field[length] = '\0';
            if (count == capacity) *fields = realloc(*fields, (capacity *= 2) * sizeof **fields);
            (*fields)[count++] = strdup(field);
            length = 0;
            if (p >= end) break;
            if (*p == ',') { p++; continue; }
            p += *p == '\r' ? 2 : 1;
            (*lines)++;
            break;
        }
        if (*p == '"') {
            if (quoted && p + 1 < end && p[1] == '"') { field[length++] = '"'; p += 2; continue; }
            quoted = !quoted;
            p++;
            continue;
        }
        if (*p == '\n') (*lines)++;
        field[length++] = *p++;
    }
    free(field);
    *cursor = p;
    return count;
}

static char *trim(char *text) {
    while (isspace((unsigned char)*text)) text++;
    char *end = text + strlen(text);
    while (end > text && isspace((unsigned char)end[-1])) *--end = '\0';
    return text;
}

static int header_column(const char *name) {
    char normal[64];
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < sizeof normal; p++) {
        if ((unsigned char)*p == 0xEF) { p += 2; continue; } /* a UTF-8 byte-order mark */
        normal[n++] = *p == ' ' || *p == '-' ? '_' : (char)tolower((unsigned char)*p);
    }
    normal[n] = '\0';
    for (int c = 0; c < C_COUNT; c++) {
        if (strcmp(normal, column_names[c]) == 0) return c;
    }
    return -1;
}

/* ---- one row as a report ---- */

static uint64_t fnv1a(uint64_t hash, const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) hash = (hash ^ *p) * 1099511628211ULL;
    return (hash ^ 0x1f) * 1099511628211ULL;
}

static int parse_status(const char *text) {
    char lower[64];
    size_t n = 0;
    if (strncasecmp(text, "PRODUCTION_STATUS_", 18) == 0) text += 18;
    for (const char *p = text; *p && n + 1 < sizeof lower; p++) lower[n++] = (char)tolower((unsigned char)*p);
    lower[n] = '\0';
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
        if (strcmp(lower, statuses[i].name) == 0) return statuses[i].status;
    }
    return 0;
}

/* Seconds since the epoch, or -1. */
static long long parse_time(const char *text) {
    int year, month, day, hour = 0, minute = 0, second = 0, consumed = 0;
    if (sscanf(text, "%4d-%2d-%2d%n", &year, &month, &day, &consumed) != 3) return -1;
    const char *rest = text + consumed;
    if (*rest == 'T' || *rest == ' ') {
        int more = 0;
        if (sscanf(rest + 1, "%2d:%2d:%2d%n", &hour, &minute, &second, &more) != 3) {
            if (sscanf(rest + 1, "%2d:%2d%n", &hour, &minute, &more) != 2) return -1;
        }
        rest += 1 + more;
        if (*rest == '.') { rest++; while (isdigit((unsigned char)*rest)) rest++; }
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return -1;
    struct tm tm = { .tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = hour, .tm_min = minute, .tm_sec = second };
    if (*rest == '\0') {
        tm.tm_isdst = -1;
        return (long long)mktime(&tm);
    }
    long long seconds = (long long)timegm(&tm);
    if (*rest == 'Z' && rest[1] == '\0') return seconds;
    int sign = *rest == '+' ? 1 : *rest == '-' ? -1 : 0, offset_hours, offset_minutes;
    if (sign == 0 || sscanf(rest + 1, "%2d:%2d", &offset_hours, &offset_minutes) != 2) return -1;
    return seconds - sign * (offset_hours * 3600LL + offset_minutes * 60LL);
}

typedef struct report_slot {
    Forge__Orders__V1__StatusReport report;
    Google__Protobuf__Timestamp time;
    char event_id[80];
    char **serials;
    size_t n_serials;
} report_slot;

static const char *cell(const row *r, int column) {
    return r->cells[column] ? r->cells[column] : "";
}

/* Fills the report for a row; a message in `problem` (and 0) when the row cannot be sent. */
static int make_report(const row *r, const char *source, report_slot *slot, char *problem, size_t size) {
    Forge__Orders__V1__StatusReport empty = FORGE__ORDERS__V1__STATUS_REPORT__INIT;
    Google__Protobuf__Timestamp no_time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    slot->report = empty;
    slot->time = no_time;
    slot->serials = NULL;
    slot->n_serials = 0;
    Forge__Orders__V1__StatusReport *report = &slot->report;
    if (cell(r, C_EVENT)[0]) {
        snprintf(slot->event_id, sizeof slot->event_id, "%s", cell(r, C_EVENT));
    } else {
        uint64_t hash = 14695981039346656037ULL;
        for (int c = 0; c < C_COUNT; c++) hash = fnv1a(hash, cell(r, c));
        snprintf(slot->event_id, sizeof slot->event_id, "%s:%016llx", source, (unsigned long long)hash);
    }
    report->event_id = slot->event_id;
    report->source = (char *)source;
    report->order_id = (char *)cell(r, C_ORDER);
    report->erp_order_number = (char *)cell(r, C_ERP);
    report->work_centre = (char *)cell(r, C_CENTRE);
    report->carrier = (char *)cell(r, C_CARRIER);
    report->tracking_number = (char *)cell(r, C_TRACKING);
    report->signed_by = (char *)cell(r, C_SIGNED);
    report->note = (char *)cell(r, C_NOTE);
    if (cell(r, C_LINE)[0]) {
        char *end;
        long line = strtol(cell(r, C_LINE), &end, 10);
        if (*end || line < 0 || line > 100000) { snprintf(problem, size, "line_no: '%s' is not a line number", cell(r, C_LINE)); return 0; }
        report->line_no = (int32_t)line;
    }
    report->status = (Forge__Orders__V1__ProductionStatus)parse_status(cell(r, C_STATUS));
    if (report->status == 0) {
        snprintf(problem, size, "status: '%s' is not a status (scheduled, material_ready, in_production, "
                 "quality_inspection, packed, shipped, delivered)", cell(r, C_STATUS));
        return 0;
    }
    if (cell(r, C_TIME)[0]) {
        long long seconds = parse_time(cell(r, C_TIME));
        if (seconds < 0) { snprintf(problem, size, "source_time: '%s' is not a time like 2026-12-01T08:30:00+08:00", cell(r, C_TIME)); return 0; }
        slot->time.seconds = seconds;
        report->source_time = &slot->time;
    }
    if (cell(r, C_PERCENT)[0]) {
        char *end;
        long percent = strtol(cell(r, C_PERCENT), &end, 10);
        if (*end || percent < 0 || percent > 100) { snprintf(problem, size, "percent: '%s' is not 0–100", cell(r, C_PERCENT)); return 0; }
        report->percent = (int32_t)percent;
    }
    if (cell(r, C_SERIALS)[0]) {
        char *copy = strdup(cell(r, C_SERIALS)), *save = NULL;
        for (char *part = strtok_r(copy, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
            char *serial = trim(part);
            if (!*serial) continue;
            slot->serials = realloc(slot->serials, (slot->n_serials + 1) * sizeof *slot->serials);
            slot->serials[slot->n_serials++] = strdup(serial);
        }
        free(copy);
        report->serial_numbers = slot->serials;
        report->n_serial_numbers = slot->n_serials;
    }
    return 1;
}

static void free_slot(report_slot *slot) {
    for (size_t i = 0; i < slot->n_serials; i++) free(slot->serials[i]);
    free(slot->serials);
}

/* ---- main ---- */

static void usage(void) {
    fprintf(stderr, "usage: forge-mes-push [--host NAME] [--port N] [--token-env VAR] [--tls] [--ca FILE] [--cert FILE]\n"
                    "                      [--key FILE] [--server-name NAME] [--source NAME] [--batch N] [--timeout-ms N]\n"
                    "                      [--pause-ms N] [FILE|-]\n"
                    "(the file's columns and the exit codes are described in forge-mes-push.c and Forge's README)\n");
}

static char *read_all(FILE *file, size_t *length) {
    size_t capacity = 65536, used = 0;
    char *data = malloc(capacity);
    size_t n;
    while (data && (n = fread(data + used, 1, capacity - used, file)) > 0) {
        used += n;
        if (used == capacity) {
            if (capacity > ((size_t)1 << 30)) { free(data); return NULL; }
            data = realloc(data, capacity *= 2);
        }
    }
    *length = used;
    return data;
}

static const char *outcome_name(Forge__Orders__V1__ReportOutcome outcome) {
    switch (outcome) {
    case FORGE__ORDERS__V1__REPORT_OUTCOME__REPORT_OUTCOME_APPLIED: return "APPLIED";
    case FORGE__ORDERS__V1__REPORT_OUTCOME__REPORT_OUTCOME_HISTORY_ONLY: return "HISTORY_ONLY";
    case FORGE__ORDERS__V1__REPORT_OUTCOME__REPORT_OUTCOME_REJECTED: return "REJECTED";
    default: return "UNKNOWN";
    }
}

/* Up to --batch sendable rows from `start`, with the rows refused here in their place. */
typedef struct batch {
    report_slot *slots;
    Forge__Orders__V1__StatusReport **reports;
    size_t n;          /* reports in the call */
    size_t start, end; /* the rows it covers */
    uint64_t call_id;
    forge_code code;   /* of sending it; FORGE_OK while its answer is awaited */
    forge_status status;
} batch;

typedef struct tally { int applied, history, rejected, failed; } tally;

static void build_batch(batch *b, row *rows, size_t start, size_t n_rows, size_t batch_size, const char *source, char (*problems)[300]) {
    size_t i = start;
    b->n = 0;
    b->start = start;
    for (; i < n_rows && b->n < batch_size; i++) {
        if (!make_report(&rows[i], source, &b->slots[b->n], problems[i], sizeof problems[i])) {
            free_slot(&b->slots[b->n]);
            continue;
        }
        problems[i][0] = '\0';
        b->reports[b->n] = &b->slots[b->n].report;
        b->n++;
    }
    b->end = i;
}

static void start_batch(forge_conn *conn, batch *b) {
    b->code = FORGE_OK;
    if (b->n == 0) return;
    Forge__Orders__V1__ReportProductionStatusesRequest request = FORGE__ORDERS__V1__REPORT_PRODUCTION_STATUSES_REQUEST__INIT;
    request.reports = b->reports;
    request.n_reports = b->n;
    /* A key per batch (the library keeps it across its retries): a batch resent after a broken
     * connection is answered from the first run. A rerun of the file gets new keys, and each
     * event id already applied answers "(sent before)". */
    forge_call_options call_options = { .make_idempotency_key = 1 };
    b->code = forge_call_start(conn, "/forge.orders.v1.Orders/ReportProductionStatuses", &request.base, &call_options, &b->call_id, &b->status);
}

/* Waits for the batch's answer and prints a line per row. */
static void finish_batch(forge_conn *conn, batch *b, row *rows, char (*problems)[300], tally *counts) {
    ProtobufCMessage *message = NULL;
    if (b->n > 0 && b->code == FORGE_OK) {
        b->code = forge_call_finish(conn, b->call_id, &forge__orders__v1__report_production_statuses_response__descriptor, &message, &b->status);
    }
    Forge__Orders__V1__ReportProductionStatusesResponse *response = (Forge__Orders__V1__ReportProductionStatusesResponse *)message;
    size_t k = 0;
    for (size_t r = b->start; r < b->end; r++) {
        if (problems[r][0] != '\0') {
            printf("row %d\t-\tREJECTED\t%s\n", rows[r].number, problems[r]);
            counts->rejected++;
            continue;
        }
        if (b->code != FORGE_OK || response == NULL || k >= response->n_results) {
            printf("row %d\t%s\tFAILED\t%s: %s\n", rows[r].number, b->slots[k].event_id, forge_code_name(b->code), b->status.message);
            for (size_t v = 0; v < b->status.n_violations; v++) printf("\t\t\t%s: %s\n", b->status.violations[v].field, b->status.violations[v].description);
            counts->failed++;
            k++;
            continue;
        }
        Forge__Orders__V1__ReportResult *result = response->results[k++];
        printf("row %d\t%s\t%s\t%s%s", rows[r].number, result->event_id, outcome_name(result->outcome), result->order_id,
               result->repeated ? " (sent before)" : "");
        for (size_t v = 0; v < result->n_violations; v++) {
            printf("%s%s: %s", v ? "; " : "\t", result->violations[v]->field, result->violations[v]->description);
        }
        printf("\n");
        switch (result->outcome) {
        case FORGE__ORDERS__V1__REPORT_OUTCOME__REPORT_OUTCOME_APPLIED: counts->applied++; break;
        case FORGE__ORDERS__V1__REPORT_OUTCOME__REPORT_OUTCOME_HISTORY_ONLY: counts->history++; break;
        default: counts->rejected++; break;
        }
    }
    protobuf_c_message_free_unpacked(message, NULL);
    for (size_t j = 0; j < b->n; j++) free_slot(&b->slots[j]);
    b->n = 0;
    fflush(stdout);
}

int main(int argc, char **argv) {
    forge_options options;
    forge_options_init(&options);
    options.host = getenv("FORGE_HOST") && *getenv("FORGE_HOST") ? getenv("FORGE_HOST") : "127.0.0.1";
    options.port = 7100;
    if (getenv("FORGE_WIRE_PORT") && *getenv("FORGE_WIRE_PORT")) options.port = (uint16_t)atoi(getenv("FORGE_WIRE_PORT"));
    const char *token_env = "FORGE_API_KEY", *source = "mes", *path = "-";
    long batch_size = 200, pause_ms = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--tls") == 0) { options.tls = 1; continue; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(); return 0; }
        if (a[0] == '-' && a[1] == '-' && value == NULL) { usage(); return 2; }
        if (strcmp(a, "--host") == 0) options.host = argv[++i];
        else if (strcmp(a, "--port") == 0) options.port = (uint16_t)atoi(argv[++i]);
        else if (strcmp(a, "--token-env") == 0) token_env = argv[++i];
        else if (strcmp(a, "--ca") == 0) options.ca_file = argv[++i];
        else if (strcmp(a, "--cert") == 0) options.cert_file = argv[++i];
        else if (strcmp(a, "--key") == 0) options.key_file = argv[++i];
        else if (strcmp(a, "--server-name") == 0) options.server_name = argv[++i];
        else if (strcmp(a, "--source") == 0) source = argv[++i];
        else if (strcmp(a, "--batch") == 0) batch_size = atol(argv[++i]);
        else if (strcmp(a, "--timeout-ms") == 0) options.call_timeout_ms = (uint32_t)atol(argv[++i]);
        else if (strcmp(a, "--pause-ms") == 0) pause_ms = atol(argv[++i]);
        else if (a[0] == '-' && a[1] != '\0') { fprintf(stderr, "forge-mes-push: unknown option %s\n", a); usage(); return 2; }
        else path = a;
    }
    if (batch_size < 1 || batch_size > 500) { fprintf(stderr, "forge-mes-push: --batch must be 1–500\n"); return 2; }
    if (pause_ms < 0 || pause_ms > 60000) { fprintf(stderr, "forge-mes-push: --pause-ms must be 0–60000\n"); return 2; }
    if (options.port == 0) { fprintf(stderr, "forge-mes-push: --port must be a port number\n"); return 2; }
    options.token = getenv(token_env);
    if (options.token == NULL || !*options.token) {
        fprintf(stderr, "forge-mes-push: set %s to an API key (fk_…) of a user with the erp_connector role\n", token_env);
        return 2;
    }

    FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (file == NULL) { fprintf(stderr, "forge-mes-push: cannot open %s: %s\n", path, strerror(errno)); return 2; }
    size_t length;
    char *data = read_all(file, &length);
    if (file != stdin) fclose(file);
    if (data == NULL) { fprintf(stderr, "forge-mes-push: cannot read %s\n", path); return 2; }

    /* The header, then the rows. */
    const char *cursor = data, *end = data + length;
    char **fields = NULL;
    int line = 1;
    size_t n_header = next_record(&cursor, end, &fields, &line);
    int map[256];
    int have_status = 0, have_order = 0;
    for (size_t i = 0; i < n_header && i < 256; i++) {
        map[i] = header_column(trim(fields[i]));
        have_status |= map[i] == C_STATUS;
        have_order |= map[i] == C_ORDER || map[i] == C_ERP;
        free(fields[i]);
    }
    for (size_t i = 256; i < n_header; i++) free(fields[i]);
    free(fields);
    if (!have_status || !have_order) {
        fprintf(stderr, "forge-mes-push: the header needs a status column and order_id or erp_order_number (got %zu columns)\n", n_header);
        free(data);
        return 2;
    }
    row *rows = NULL;
    size_t n_rows = 0;
    for (;;) {
        int number = line;
        size_t count = next_record(&cursor, end, &fields, &line);
        if (count == 0) break;
        int blank = count == 1 && fields[0][0] == '\0';
        row r = { .number = number };
        for (size_t i = 0; i < count; i++) {
            if (!blank && i < n_header && i < 256 && map[i] >= 0) {
                free(r.cells[map[i]]);
                r.cells[map[i]] = strdup(trim(fields[i]));
            }
            free(fields[i]);
        }
        free(fields);
        if (blank) continue;
        rows = realloc(rows, (n_rows + 1) * sizeof *rows);
        rows[n_rows++] = r;
    }
    free(data);

    forge_status status = FORGE_STATUS_INIT;
    forge_conn *conn = forge_conn_new(&options, &status);
    if (conn == NULL) {
        fprintf(stderr, "forge-mes-push: %s\n", status.message);
        forge_status_clear(&status);
        return 2;
    }
    /* Two batches in flight: the next one is built, encoded and sent while the server applies
     * the one before (the server then never waits for this program or for the network between
     * batches). Reports are idempotent and out-of-order safe, so a batch retried after the one
     * behind it changes no line's final state. Results are printed in row order; --pause-ms
     * waits between sending one batch and the next. */
    tally counts = { 0 };
    batch batches[2];
    for (int b = 0; b < 2; b++) {
        batches[b] = (batch){ .status = FORGE_STATUS_INIT };
        batches[b].slots = calloc((size_t)batch_size, sizeof *batches[b].slots);
        batches[b].reports = calloc((size_t)batch_size, sizeof *batches[b].reports);
    }
    /* Why each row cannot be sent ("" when it can), by row. */
    char (*problems)[300] = calloc(n_rows ? n_rows : 1, sizeof *problems);
    batch *behind = NULL;
    for (size_t start = 0, next = 0; start < n_rows; start = batches[next].end, next ^= 1) {
        batch *current = &batches[next];
        build_batch(current, rows, start, n_rows, (size_t)batch_size, source, problems);
        start_batch(conn, current);
        if (behind) finish_batch(conn, behind, rows, problems, &counts);
        behind = current;
        if (pause_ms > 0 && current->end < n_rows) {
            struct timespec pause = { .tv_sec = pause_ms / 1000, .tv_nsec = (pause_ms % 1000) * 1000000L };
            nanosleep(&pause, NULL);
        }
    }
    if (behind) finish_batch(conn, behind, rows, problems, &counts);
    int applied = counts.applied, history = counts.history, rejected = counts.rejected, failed = counts.failed;
    fprintf(stderr, "forge-mes-push: %zu rows: %d applied, %d history only, %d rejected, %d failed\n",
            n_rows, applied, history, rejected, failed);
    for (size_t i = 0; i < n_rows; i++) {
        for (int c = 0; c < C_COUNT; c++) free(rows[i].cells[c]);
    }
    free(rows);
    for (int b = 0; b < 2; b++) {
        free(batches[b].slots);
        free(batches[b].reports);
        forge_status_clear(&batches[b].status);
    }
    free(problems);
    forge_status_clear(&status);
    forge_conn_free(conn);
    return failed ? 3 : rejected ? 1 : 0;
}
