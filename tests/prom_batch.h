/* prom_batch.h - a hand-built otel_metric_batch for the Prometheus tests (test_prometheus.c and
   prom_helper.c): counters (int, double), an up-down counter, gauges, a histogram with custom
   bounds, odd names and units, label values with quotes, backslashes, newlines and UTF-8,
   colliding label names, two scopes sharing a metric name, a delta sum (dropped) and a
   conflicting type (dropped), and resource attributes for target_info.
   The expected exposition text is PROM_BATCH_TEXT below (test_prometheus.c checks it). */
#ifndef PROM_BATCH_H
#define PROM_BATCH_H

#include <math.h>

static const otel_scope pb_scope_http = {{"app.http", 8}, {"1.0", 3}};
static const otel_scope pb_scope_db = {{"lib.db", 6}, {"", 0}};

static otel_attr pb_res_attrs[5];
static otel_resource pb_resource;

static otel_attr pb_get[2], pb_post[2], pb_odd[4], pb_clash[2], pb_none[1];
static const char *const pb_tags[] = {"a", "b\"c"};
static const double pb_bounds[] = {0.5, 2.5, 10, 100};
static const uint64_t pb_counts[] = {1, 2, 3, 0, 1};
static const uint64_t pb_counts2[] = {0, 0, 0, 0, 0};

static otel_metric_point pb_p_req[2], pb_p_bytes[1], pb_p_conn[2], pb_p_util[1], pb_p_temp[1], pb_p_hist[2],
    pb_p_odd[1], pb_p_jobs_a[1], pb_p_jobs_b[1], pb_p_special[6], pb_p_delta[1], pb_p_conflict[1],
    pb_p_total[1], pb_p_dur[1], pb_p_rate[1], pb_p_speed[1], pb_p_clash[1];
static otel_metric_data pb_metrics[17];
static otel_metric_batch pb_batch;

static otel_metric_data pb_metric(const char *name, const char *unit, const char *desc, const otel_scope *scope,
                                  otel_metric_type type, otel_number_type nt, bool mono, otel_metric_point *pts,
                                  size_t npts) {
    otel_metric_data m;
    memset(&m, 0, sizeof m);
    m.name.ptr = name;
    m.name.len = strlen(name);
    m.unit.ptr = unit;
    m.unit.len = strlen(unit);
    m.description.ptr = desc;
    m.description.len = strlen(desc);
    m.scope = scope;
    m.type = type;
    m.number_type = nt;
    m.monotonic = mono;
    m.temporality = type == OTEL_METRIC_GAUGE ? OTEL_TEMPORALITY_UNSPECIFIED : OTEL_TEMPORALITY_CUMULATIVE;
    m.points = pts;
    m.point_count = npts;
    return m;
}

static otel_metric_point pb_int(const otel_attr *a, size_t n, int64_t v) {
    otel_metric_point p;
    memset(&p, 0, sizeof p);
    p.attrs = a;
    p.attr_count = n;
    p.value.i = v;
    p.time_ns = 1700000000000000000ull;
    return p;
}

static otel_metric_point pb_dbl(const otel_attr *a, size_t n, double v) {
    otel_metric_point p = pb_int(a, n, 0);
    p.value.d = v;
    return p;
}

static otel_metric_point pb_hist(const otel_attr *a, size_t n, const uint64_t *counts, uint64_t count, double sum) {
    otel_metric_point p = pb_int(a, n, 0);
    p.bucket_counts = counts;
    p.bucket_count = 5;
    p.count = count;
    p.sum = sum;
    p.min = 0.1;
    p.max = 150;
    return p;
}

static const otel_metric_batch *pb_build(void) {
    size_t n = 0;
    pb_res_attrs[0] = otel_attr_str("service.name", "prom-test");
    pb_res_attrs[1] = otel_attr_str("service.version", "1.2.3");
    pb_res_attrs[2] = otel_attr_str("host.name", "box \"one\"");
    pb_res_attrs[3] = otel_attr_int("process.pid", 42);
    pb_res_attrs[4] = otel_attr_bool("debug", false);
    pb_resource.attrs = pb_res_attrs;
    pb_resource.count = 5;

    pb_get[0] = otel_attr_str("http.request.method", "GET");
    pb_get[1] = otel_attr_str("http.route", "/api");
    pb_post[0] = otel_attr_str("http.route", "/api");
    pb_post[1] = otel_attr_str("http.request.method", "POST");
    pb_odd[0] = otel_attr_str("weird key.\xc3\xa9", "quote \" backslash \\ newline \n and \xc3\xbc");
    pb_odd[1] = otel_attr_bool("9lives", true);
    pb_odd[2] = otel_attr_str_array("tags", pb_tags, 2);
    pb_odd[3] = otel_attr_str("bad.utf8", "x\xff" "y");
    pb_clash[0] = otel_attr_str("a_b", "2");
    pb_clash[1] = otel_attr_str("a.b", "1");
    pb_none[0] = otel_attr_double("ratio", 0.5);

    pb_p_req[0] = pb_int(pb_get, 2, 42);
    pb_p_req[1] = pb_int(pb_post, 2, 7);
    pb_metrics[n++] = pb_metric("http.server.requests", "{request}", "Requests served.", &pb_scope_http, OTEL_METRIC_SUM,
                                OTEL_NUMBER_INT64, true, pb_p_req, 2);
    pb_p_bytes[0] = pb_dbl(NULL, 0, 1536.5);
    pb_metrics[n++] = pb_metric("bytes.sent", "By", "Bytes \"sent\" \\ to clients\nsecond line", &pb_scope_http,
                                OTEL_METRIC_SUM, OTEL_NUMBER_DOUBLE, true, pb_p_bytes, 1);
    pb_p_conn[0] = pb_int(pb_get, 2, 3);
    pb_p_conn[1] = pb_int(pb_post, 2, -2);
    pb_metrics[n++] = pb_metric("http.connections.active", "{connection}", "Open connections.", &pb_scope_http,
                                OTEL_METRIC_SUM, OTEL_NUMBER_INT64, false, pb_p_conn, 2);
    pb_p_util[0] = pb_dbl(NULL, 0, 0.25);
    pb_metrics[n++] = pb_metric("system.memory.utilization", "1", "Memory in use.", &pb_scope_db, OTEL_METRIC_GAUGE,
                                OTEL_NUMBER_DOUBLE, false, pb_p_util, 1);
    pb_p_temp[0] = pb_dbl(NULL, 0, -3.5);
    pb_metrics[n++] = pb_metric("temperature", "Cel", "", &pb_scope_db, OTEL_METRIC_GAUGE, OTEL_NUMBER_DOUBLE, false,
                                pb_p_temp, 1);
    pb_p_hist[0] = pb_hist(pb_get, 2, pb_counts, 7, 123.25);
    pb_p_hist[1] = pb_hist(pb_post, 2, pb_counts2, 0, 0);
    pb_metrics[n] = pb_metric("http.server.request.duration", "ms", "Request time.", &pb_scope_http,
                              OTEL_METRIC_HISTOGRAM, OTEL_NUMBER_DOUBLE, false, pb_p_hist, 2);
    pb_metrics[n].boundaries = pb_bounds;
    pb_metrics[n++].boundary_count = 4;
    pb_p_odd[0] = pb_int(pb_odd, 4, 5);
    pb_metrics[n++] = pb_metric("3d.render-time/avg", "s", "Odd name.", &pb_scope_db, OTEL_METRIC_GAUGE,
                                OTEL_NUMBER_INT64, false, pb_p_odd, 1);
    pb_p_jobs_a[0] = pb_int(NULL, 0, 10);
    pb_metrics[n++] = pb_metric("jobs.processed", "", "Jobs done.", &pb_scope_http, OTEL_METRIC_SUM, OTEL_NUMBER_INT64,
                                true, pb_p_jobs_a, 1);
    pb_p_special[0] = pb_dbl(pb_get, 1, NAN);
    pb_p_special[1] = pb_dbl(pb_post + 1, 1, INFINITY);
    pb_p_special[2] = pb_dbl(pb_get + 1, 1, -INFINITY);
    pb_p_special[3] = pb_dbl(pb_none, 1, 1e300);
    pb_p_special[4] = pb_dbl(NULL, 0, 1e-7);
    pb_p_special[5] = pb_dbl(pb_clash, 1, 1152921504606846976.0); /* 2^60 */
    pb_metrics[n++] = pb_metric("special", "", "Special values.", &pb_scope_db, OTEL_METRIC_GAUGE, OTEL_NUMBER_DOUBLE,
                                false, pb_p_special, 6);
    pb_p_jobs_b[0] = pb_int(NULL, 0, 20);
    pb_metrics[n++] = pb_metric("jobs.processed", "", "Jobs done (db).", &pb_scope_db, OTEL_METRIC_SUM,
                                OTEL_NUMBER_INT64, true, pb_p_jobs_b, 1);
    pb_p_delta[0] = pb_int(NULL, 0, 99);
    pb_metrics[n] = pb_metric("delta.sum", "", "Delta: dropped.", &pb_scope_db, OTEL_METRIC_SUM, OTEL_NUMBER_INT64,
                              true, pb_p_delta, 1);
    pb_metrics[n++].temporality = OTEL_TEMPORALITY_DELTA;
    pb_p_conflict[0] = pb_int(NULL, 0, 1);
    pb_metrics[n++] = pb_metric("jobs_processed_total", "", "A gauge: conflicts.", &pb_scope_db, OTEL_METRIC_GAUGE,
                                OTEL_NUMBER_INT64, false, pb_p_conflict, 1);
    pb_p_total[0] = pb_int(NULL, 0, 5);
    pb_metrics[n++] = pb_metric("requests_total", "", "Already _total.", &pb_scope_http, OTEL_METRIC_SUM,
                                OTEL_NUMBER_INT64, true, pb_p_total, 1);
    pb_p_dur[0] = pb_dbl(NULL, 0, 0.125);
    pb_metrics[n++] = pb_metric("job.duration_seconds", "s", "Unit already there.", &pb_scope_http,
                                OTEL_METRIC_GAUGE, OTEL_NUMBER_DOUBLE, false, pb_p_dur, 1);
    pb_p_rate[0] = pb_int(NULL, 0, 2048);
    pb_metrics[n++] = pb_metric("network.io", "By/s", "Per unit.", &pb_scope_http, OTEL_METRIC_GAUGE,
                                OTEL_NUMBER_INT64, false, pb_p_rate, 1);
    pb_p_speed[0] = pb_dbl(NULL, 0, 1.5);
    pb_metrics[n++] = pb_metric("speed", "m/s", "", &pb_scope_http, OTEL_METRIC_GAUGE, OTEL_NUMBER_DOUBLE, false,
                                pb_p_speed, 1);
    pb_p_clash[0] = pb_int(pb_clash, 2, 1);
    pb_metrics[n++] = pb_metric("clash", "{x}/{y}", "Colliding label names.", &pb_scope_http, OTEL_METRIC_GAUGE,
                                OTEL_NUMBER_INT64, false, pb_p_clash, 1);
    pb_batch.metrics = pb_metrics;
    pb_batch.count = n;
    pb_batch.resource = &pb_resource;
    return &pb_batch;
}

#endif

/* ---- a random batch (property tests): random bytes in names, units, attribute keys and
   values (quotes, backslashes, newlines, NULs, invalid UTF-8), random types and bounds. Each
   point has a unique "i" attribute, so no two samples share a label set. */
#define PB_RAND_METRICS 24
#define PB_RAND_POINTS 4
#define PB_RAND_ATTRS 4
static char pb_r_text[PB_RAND_METRICS * 2 + PB_RAND_METRICS * PB_RAND_POINTS * PB_RAND_ATTRS * 2][24];
static otel_attr pb_r_attrs[PB_RAND_METRICS][PB_RAND_POINTS][PB_RAND_ATTRS + 1];
static otel_metric_point pb_r_points[PB_RAND_METRICS][PB_RAND_POINTS];
static otel_metric_data pb_r_metrics[PB_RAND_METRICS];
static double pb_r_bounds[PB_RAND_METRICS][6];
static uint64_t pb_r_counts[PB_RAND_METRICS][PB_RAND_POINTS][7];
static otel_scope pb_r_scope;
static otel_metric_batch pb_r_batch;
static uint64_t pb_r_state;

static uint32_t pb_rand(void) {
    pb_r_state = pb_r_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(pb_r_state >> 33);
}

/* A random string of up to 20 bytes into slot k; returns its length. */
static size_t pb_rand_str(size_t k, bool wild) {
    static const char tame[] = "abcXYZ019_.-/:{} ";
    static const char *const pieces[] = {"\"", "\\", "\n", "\xc3\xa9", "\xff", "\xe6\x97", "\0", "_", "%", "le"};
    size_t n = pb_rand() % 21, o = 0;
    while (o < n) {
        if (wild && pb_rand() % 4 == 0) {
            const char *p = pieces[pb_rand() % 10];
            size_t pl = p[0] ? strlen(p) : 1;
            if (o + pl > 20) break;
            memcpy(pb_r_text[k] + o, p, pl);
            o += pl;
        } else {
            pb_r_text[k][o++] = tame[pb_rand() % (sizeof tame - 1)];
        }
    }
    return o;
}

static const otel_metric_batch *pb_random(uint64_t seed) {
    static const char *const units[] = {"", "ms", "s", "By", "1", "{req}", "m/s", "By/s", "%", "Cel", "KiBy", "x/y"};
    size_t k = 0;
    pb_build(); /* the resource */
    pb_r_state = seed * 2654435761u + 1;
    pb_r_scope.name.ptr = "rand.scope";
    pb_r_scope.name.len = 10;
    for (int m = 0; m < PB_RAND_METRICS; m++) {
        otel_metric_data *d = &pb_r_metrics[m];
        memset(d, 0, sizeof *d);
        d->name.ptr = pb_r_text[k];
        d->name.len = pb_rand_str(k++, m % 3 == 0);
        if (pb_rand() % 3 == 0) {
            d->unit.ptr = units[pb_rand() % 12];
            d->unit.len = strlen(d->unit.ptr);
        } else {
            d->unit.ptr = pb_r_text[k];
            d->unit.len = pb_rand_str(k, false) % 6;
        }
        k++;
        d->description.ptr = d->name.ptr;
        d->description.len = d->name.len;
        d->scope = &pb_r_scope;
        d->type = (otel_metric_type)(1 + pb_rand() % 3);
        d->monotonic = pb_rand() % 2;
        d->number_type = (otel_number_type)(pb_rand() % 2);
        d->temporality = pb_rand() % 8 ? OTEL_TEMPORALITY_CUMULATIVE : OTEL_TEMPORALITY_DELTA;
        d->boundary_count = pb_rand() % 7;
        for (size_t b = 0; b < d->boundary_count; b++)
            pb_r_bounds[m][b] = (double)(int)(pb_rand() % 200) - 50 + (pb_rand() % 4) * 0.25;
        d->boundaries = pb_r_bounds[m];
        d->points = pb_r_points[m];
        d->point_count = PB_RAND_POINTS;
        for (int p = 0; p < PB_RAND_POINTS; p++) {
            otel_metric_point *pt = &pb_r_points[m][p];
            size_t na = pb_rand() % (PB_RAND_ATTRS + 1);
            memset(pt, 0, sizeof *pt);
            pb_r_attrs[m][p][0] = otel_attr_int("i", m * PB_RAND_POINTS + p);
            for (size_t a = 1; a <= na; a++) {
                const char *key = pb_r_text[k];
                size_t kl = pb_rand_str(k++, true);
                const char *val = pb_r_text[k];
                size_t vl = pb_rand_str(k++, true);
                pb_r_attrs[m][p][a] = otel_attr_strn(key, val, vl);
                pb_r_attrs[m][p][a].key.len = kl;
                if (kl == 1 && key[0] == 'i') pb_r_attrs[m][p][a].key.len = 0; /* keep "i" unique */
            }
            pt->attrs = pb_r_attrs[m][p];
            pt->attr_count = na + 1;
            pt->value.i = (int64_t)pb_rand() - 1000000000;
            if (d->number_type == OTEL_NUMBER_DOUBLE) pt->value.d = (double)(int32_t)pb_rand() / 1000.0;
            pt->bucket_counts = pb_r_counts[m][p];
            pt->bucket_count = d->boundary_count + 1;
            for (size_t b = 0; b <= d->boundary_count; b++) {
                pb_r_counts[m][p][b] = pb_rand() % 10;
                pt->count += pb_r_counts[m][p][b];
            }
            pt->sum = pt->count * 1.5;
        }
    }
    pb_r_batch.metrics = pb_r_metrics;
    pb_r_batch.count = PB_RAND_METRICS;
    pb_r_batch.resource = &pb_resource;
    return &pb_r_batch;
}
