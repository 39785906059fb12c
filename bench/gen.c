/*
 * gen.c -- deterministic generator of realistic business KPIs for benchmarks.
 *
 *   gen [--tenants N] [--metrics M] [--days D] [--end EPOCH] [--tenant K]
 *       [--metric-names] [--tenant-ids]
 *
 * Writes CSV to stdout: hourly points for D days ending at EPOCH (seconds,
 * default: the start of the current UTC hour), for N tenants x M metrics
 * (M <= 20). Without --tenant: "tenant_id,time,metric_type,value" lines, the
 * shape of a plain COPY into business_metrics_raw. With --tenant K (0-based):
 * only that tenant, with the header "time,metric_type,value" -- the body of a
 * POST /v1/metrics text/csv request. Values depend only on (tenant, metric,
 * hour), so two runs with the same arguments write the same bytes.
 * --metric-names prints the metric names (one a line) and their aggregation;
 * --tenant-ids prints the tenant ids.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name, *agg;
    double base, daily, weekly, trend, noise;
} metrics[20] = {
    {"revenue", "sum", 420, 0.6, 0.25, 0.0004, 0.30},
    {"cogs", "sum", 240, 0.5, 0.20, 0.0003, 0.25},
    {"orders", "sum", 9, 0.7, 0.30, 0.0003, 0.40},
    {"website_sessions", "sum", 160, 0.8, 0.25, 0.0005, 0.30},
    {"signups", "sum", 3, 0.6, 0.30, 0.0006, 0.60},
    {"churned_customers", "sum", 0.4, 0.2, 0.10, 0.0, 0.90},
    {"active_customers", "last", 1800, 0.02, 0.01, 0.0008, 0.01},
    {"support_tickets", "sum", 2, 0.6, 0.40, 0.0002, 0.70},
    {"nps", "avg", 42, 0.0, 0.05, 0.0001, 0.10},
    {"cash_balance", "last", 250000, 0.01, 0.02, -0.0001, 0.01},
    {"accounts_receivable", "last", 60000, 0.02, 0.05, 0.0002, 0.03},
    {"accounts_payable", "last", 38000, 0.02, 0.05, 0.0001, 0.03},
    {"inventory_units", "last", 5200, 0.05, 0.10, -0.0001, 0.02},
    {"ad_spend", "sum", 35, 0.5, 0.20, 0.0003, 0.20},
    {"leads", "sum", 6, 0.7, 0.35, 0.0004, 0.50},
    {"qualified_leads", "sum", 2, 0.7, 0.35, 0.0004, 0.60},
    {"pipeline_value", "last", 180000, 0.01, 0.05, 0.0003, 0.05},
    {"refunds", "sum", 12, 0.4, 0.20, 0.0, 0.80},
    {"avg_order_value", "avg", 47, 0.1, 0.05, 0.0001, 0.15},
    {"conversion_rate", "avg", 0.031, 0.3, 0.15, 0.0, 0.25},
};

/* splitmix64: a well-mixed hash of the point's coordinates. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double value(int t, int m, long h)
{
    double scale = 0.5 + (double)(mix((uint64_t)t * 7919) % 1000) / 500.0;
    double u = (double)(mix(((uint64_t)t << 40) ^ ((uint64_t)m << 32) ^
                            (uint64_t)h) % 100000) / 100000.0 - 0.5;
    double v = metrics[m].base * scale *
               (1 + metrics[m].daily * sin(2 * M_PI * ((h + 6) % 24) / 24.0)) *
               (1 + metrics[m].weekly * sin(2 * M_PI * (h % 168) / 168.0)) *
               (1 + metrics[m].trend * (double)h / 24.0) *
               (1 + metrics[m].noise * u);
    return v < 0 ? 0 : v;
}

static void tenant_id(int t, char *out)
{
    snprintf(out, 37, "00000000-0000-4000-8000-%012d", t + 1);
}

int main(int argc, char **argv)
{
    int tenants = 10, nmetrics = 20, days = 30, only = -1;
    long end = (long)time(NULL) / 3600 * 3600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--metric-names") == 0) {
            for (int m = 0; m < nmetrics; m++)
                printf("%s %s\n", metrics[m].name, metrics[m].agg);
            return 0;
        } else if (strcmp(a, "--tenant-ids") == 0) {
            char id[37];
            for (int t = 0; t < tenants; t++) {
                tenant_id(t, id);
                printf("%s\n", id);
            }
            return 0;
        } else if (v == NULL) {
            fprintf(stderr, "gen: %s needs a value\n", a);
            return 2;
        } else if (strcmp(a, "--tenants") == 0) {
            tenants = atoi(v);
        } else if (strcmp(a, "--metrics") == 0) {
            nmetrics = atoi(v);
        } else if (strcmp(a, "--days") == 0) {
            days = atoi(v);
        } else if (strcmp(a, "--end") == 0) {
            end = atol(v) / 3600 * 3600;
        } else if (strcmp(a, "--tenant") == 0) {
            only = atoi(v);
        } else {
            fprintf(stderr, "gen: unknown option %s\n", a);
            return 2;
        }
        i++;
    }
    if (tenants < 1 || nmetrics < 1 || nmetrics > 20 || days < 1) {
        fprintf(stderr, "gen: need tenants >= 1, 1 <= metrics <= 20, days >= 1\n");
        return 2;
    }
    long hours = (long)days * 24;
    long start = end - hours * 3600;
    char id[37], ts[32];
    if (only >= 0)
        printf("time,metric_type,value\n");
    for (int t = only >= 0 ? only : 0; t < (only >= 0 ? only + 1 : tenants); t++) {
        tenant_id(t, id);
        for (long h = 0; h < hours; h++) {
            time_t s = (time_t)(start + h * 3600);
            struct tm tm;
            gmtime_r(&s, &tm);
            strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
            for (int m = 0; m < nmetrics; m++) {
                if (only >= 0)
                    printf("%s,%s,%.4f\n", ts, metrics[m].name, value(t, m, h));
                else
                    printf("%s,%s,%s,%.4f\n", id, ts, metrics[m].name,
                           value(t, m, h));
            }
        }
    }
    return ferror(stdout) ? 1 : 0;
}
