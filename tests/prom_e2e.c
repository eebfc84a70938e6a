/* prom_e2e.c - built and run by tests/test_prometheus.sh and tests/test_e2e_examples.sh (not
   a test by itself): real instruments recorded through the public API, served by the
   PROMETHEUS reader that OTEL_METRICS_EXPORTER=prometheus makes (host and port from
   OTEL_EXPORTER_PROMETHEUS_HOST/_PORT; without the variable, a PROMETHEUS reader from code).
       prom_e2e --seconds N    records once, then serves for N seconds or until SIGTERM/SIGINT;
                               prints "serving" once otel_init returned
       prom_e2e --expect       prints the checks for test_prometheus.sh: one per line,
                               "<value><TAB><PromQL>", job="e2e"                            */
#define OTEL_IMPLEMENTATION
#include "../otel.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* What a real Prometheus must read back after scraping this program (job "e2e"). */
static const char *const EXPECT[] = {
    "1\tup{job=\"e2e\"}",
    /* an int counter: _total, attributes as labels, the scope as labels */
    "8\te2e_requests_total{job=\"e2e\",http_method=\"GET\",http_route=\"/a\",otel_scope_name=\"e2e.meter\","
    "otel_scope_version=\"1.2.3\"}",
    "2\te2e_requests_total{job=\"e2e\",http_method=\"POST\"}",
    /* a double counter, the unit By already in the name */
    "3.75\te2e_bytes_total{job=\"e2e\",ok=\"true\",code=\"200\"}",
    /* a histogram in seconds with custom bounds */
    "2\te2e_latency_seconds_bucket{job=\"e2e\",http_route=\"/a\",le=\"0.25\"}",
    "3\te2e_latency_seconds_bucket{job=\"e2e\",http_route=\"/a\",le=\"1\"}",
    "4\te2e_latency_seconds_bucket{job=\"e2e\",http_route=\"/a\",le=\"2.5\"}",
    "6\te2e_latency_seconds_bucket{job=\"e2e\",http_route=\"/a\",le=\"+Inf\"}",
    "10.875\te2e_latency_seconds_sum{job=\"e2e\",http_route=\"/a\"}",
    "6\te2e_latency_seconds_count{job=\"e2e\",http_route=\"/a\"}",
    "1\thistogram_quantile(0.5, e2e_latency_seconds_bucket{job=\"e2e\",http_route=\"/a\"})",
    /* gauges: synchronous (last value), up-down counter, observable */
    "21.25\te2e_temperature_celsius{job=\"e2e\",room=\"lab\"}",
    "-3\te2e_queue{job=\"e2e\"}", /* {item}: an annotation, no suffix */
    "0.5\te2e_cpu_utilization_ratio{job=\"e2e\",cpu=\"0\"}",
    "0.75\te2e_cpu_utilization_ratio{job=\"e2e\",cpu=\"1\"}",
    /* an observable counter, called at every scrape */
    "100\te2e_page_faults_total{job=\"e2e\"}",
    /* the resource */
    "1\ttarget_info{job=\"e2e\",service_name=\"prom-e2e\",service_version=\"9.9\",deployment_environment=\"test\","
    "telemetry_sdk_language=\"c\",telemetry_sdk_name=\"otel.h\"}",
};

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

static void observe_cpu(otel_observer *obs, void *user) {
    (void)user;
    otel_observe_double(obs, 0.5, (otel_attr[]){otel_attr_int("cpu", 0)}, 1);
    otel_observe_double(obs, 0.75, (otel_attr[]){otel_attr_int("cpu", 1)}, 1);
}
static void observe_faults(otel_observer *obs, void *user) {
    (void)user;
    otel_observe_int(obs, 100, NULL, 0);
}

int main(int argc, char **argv) {
    double seconds = 2;
    int i;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect")) {
            for (size_t k = 0; k < sizeof EXPECT / sizeof EXPECT[0]; k++) printf("%s\n", EXPECT[k]);
            return 0;
        }
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    }
    otel_attr res[2] = {otel_attr_str("service.version", "9.9"), otel_attr_str("deployment.environment", "test")};
    otel_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.service_name = "prom-e2e";
    desc.resource_attrs = res;
    desc.resource_attr_count = 2;
    desc.default_exporters = "none";
    desc.default_logs_exporters = "none";
    desc.readers[0].kind = OTEL_READER_PROMETHEUS; /* OTEL_METRICS_EXPORTER, when set, decides instead */
    otel_result r = otel_init(&desc);
    if (r != OTEL_OK) {
        fprintf(stderr, "prom_e2e: otel_init: %s\n", otel_result_str(r));
        return 1;
    }
    if (!otel_config() || otel_config()->readers[0].kind != OTEL_READER_PROMETHEUS) {
        fprintf(stderr, "prom_e2e: no Prometheus reader\n");
        return 1;
    }

    otel_meter *m = otel_meter_get("e2e.meter", "1.2.3");
    otel_instrument_desc d;
    otel_instrument *requests = otel_counter_create(m, "e2e.requests", "{request}", "Requests served");
    memset(&d, 0, sizeof d);
    d.name = "e2e.bytes"; d.unit = "By"; d.description = "Bytes sent";
    otel_instrument *bytes = otel_instrument_create(m, OTEL_INSTRUMENT_COUNTER, OTEL_NUMBER_DOUBLE, &d);
    static const double bounds[3] = {0.25, 1, 2.5};
    memset(&d, 0, sizeof d);
    d.name = "e2e.latency"; d.unit = "s"; d.description = "Request latency"; d.boundaries = bounds; d.boundary_count = 3;
    otel_instrument *latency = otel_instrument_create(m, OTEL_INSTRUMENT_HISTOGRAM, OTEL_NUMBER_DOUBLE, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.temperature"; d.unit = "Cel"; d.description = "Room temperature";
    otel_instrument *temp = otel_instrument_create(m, OTEL_INSTRUMENT_GAUGE, OTEL_NUMBER_DOUBLE, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.queue"; d.unit = "{item}"; d.description = "Queue length";
    otel_instrument *queue = otel_instrument_create(m, OTEL_INSTRUMENT_UP_DOWN_COUNTER, OTEL_NUMBER_INT64, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.cpu.utilization"; d.unit = "1"; d.description = "CPU utilization"; d.callback = observe_cpu;
    otel_instrument *cpu = otel_instrument_create(m, OTEL_INSTRUMENT_OBSERVABLE_GAUGE, OTEL_NUMBER_DOUBLE, &d);
    memset(&d, 0, sizeof d);
    d.name = "e2e.page_faults"; d.unit = "{fault}"; d.description = "Page faults"; d.callback = observe_faults;
    otel_instrument *faults = otel_instrument_create(m, OTEL_INSTRUMENT_OBSERVABLE_COUNTER, OTEL_NUMBER_INT64, &d);
    if (!requests || !bytes || !latency || !temp || !queue || !cpu || !faults) {
        fprintf(stderr, "prom_e2e: an instrument was refused\n");
        return 1;
    }

    otel_attr get_a[2] = {otel_attr_str("http.method", "GET"), otel_attr_str("http.route", "/a")};
    otel_attr a_get[2] = {otel_attr_str("http.route", "/a"), otel_attr_str("http.method", "GET")};
    otel_attr post[1] = {otel_attr_str("http.method", "POST")};
    otel_attr ok[2] = {otel_attr_bool("ok", true), otel_attr_int("code", 200)};
    otel_attr route[1] = {otel_attr_str("http.route", "/a")};
    otel_attr lab[1] = {otel_attr_str("room", "lab")};
    otel_record_int(requests, 5, get_a, 2);
    otel_record_int(requests, 3, a_get, 2);
    otel_record_int(requests, 2, post, 1);
    otel_record_double(bytes, 1.5, ok, 2);
    otel_record_double(bytes, 2.25, ok, 2);
    static const double lat[6] = {0.125, 0.25, 0.5, 2, 4, 4};
    for (i = 0; i < 6; i++) otel_record_double(latency, lat[i], route, 1);
    otel_record_double(temp, 20.5, lab, 1);
    otel_record_double(temp, 21.25, lab, 1);
    otel_record_int(queue, 4, NULL, 0);
    otel_record_int(queue, -7, NULL, 0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("serving\n");
    fflush(stdout);
    struct timespec tick = {0, 50000000};
    for (long t = (long)(seconds * 20); !stop && t > 0; t--) nanosleep(&tick, NULL);
    otel_shutdown(5000);
    return 0;
}
