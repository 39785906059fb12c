/*
 * demo.c -- load the demo tenant (see demo.h).
 *
 * The data are generated inside PostgreSQL by generate_series() with
 * deterministic shapes (daily and weekly seasonality, a trend, hashint4()
 * noise), so a load of a year of hourly points takes one round trip.
 * Times are anchored at the hour of the first load.
 */
#include "demo.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "tenant.h"

static const char *const demo_sql[] = {
    /* The year lies before the chunks made ahead of time: create its
     * chunks first, as every writer does, so no row lands in the default
     * partition. */
    "SELECT telos.ensure_chunks('business_metrics_raw', "
    "  date_trunc('day', now()) - interval '366 days', now()) "
    "WHERE $1::uuid IS NOT NULL",

    "INSERT INTO users (tenant_id, id, email, name, role) VALUES "
    " ($1, 'd3e0d3e0-0000-4000-8000-0000000000a1', 'owner@demo.example', "
    "  'Dana Demo', 'owner')",

    "INSERT INTO metric_definitions (tenant_id, metric_type, unit, description, "
    "  calculation_formula, aggregation) VALUES "
    " ($1, 'revenue', 'USD', 'Net revenue booked', NULL, 'sum'), "
    " ($1, 'cogs', 'USD', 'Cost of goods sold', NULL, 'sum'), "
    " ($1, 'gross_margin', 'ratio', 'Gross margin', "
    "  '(revenue - cogs) / revenue', 'avg'), "
    " ($1, 'cash_balance', 'USD', 'Cash on hand at end of day', NULL, 'last'), "
    " ($1, 'website_sessions', 'count', 'Web sessions per hour', NULL, 'sum'), "
    " ($1, 'orders', 'count', 'Orders placed per hour', NULL, 'sum'), "
    " ($1, 'conversion_rate', 'ratio', 'Orders / sessions, daily', NULL, 'avg')",

    /* hourly: a year of web sessions and orders */
    "INSERT INTO business_metrics_raw (tenant_id, time, metric_type, value) "
    "SELECT $1, a - make_interval(hours => i), m, "
    "  CASE m WHEN 'website_sessions' THEN "
    "    round((140 + 90 * sin(2 * pi() * ((i + 6) % 24) / 24) "
    "      + 25 * sin(2 * pi() * i / 168.0) + abs(hashint4(i)) % 40)::numeric) "
    "  ELSE round((6 + 4 * sin(2 * pi() * ((i + 6) % 24) / 24) "
    "      + abs(hashint4(i + 7)) % 5)::numeric) END "
    "FROM generate_series(1, 8760) i, "
    "  (SELECT date_trunc('hour', now()) AS a) s, "
    "  unnest(ARRAY['website_sessions', 'orders']) m",

    /* daily: revenue with a trend, cogs, cash, conversion */
    "INSERT INTO business_metrics_raw (tenant_id, time, metric_type, value) "
    "SELECT $1, a - make_interval(days => d), m, "
    "  CASE m "
    "  WHEN 'revenue' THEN round((9000 - 6 * d + 1500 * sin(2 * pi() * d / 7) "
    "      + abs(hashint4(d)) % 900)::numeric, 2) "
    "  WHEN 'cogs' THEN round((5200 - 2 * d + 600 * sin(2 * pi() * d / 7) "
    "      + abs(hashint4(d + 11)) % 500)::numeric, 2) "
    "  WHEN 'cash_balance' THEN round((250000 - 180 * d "
    "      + 8000 * sin(2 * pi() * d / 30) + abs(hashint4(d + 3)) % 3000)::numeric, 2) "
    "  ELSE round((0.028 + 0.006 * sin(2 * pi() * d / 7) "
    "      + (abs(hashint4(d + 5)) % 100) / 20000.0)::numeric, 4) END "
    "FROM generate_series(1, 365) d, "
    "  (SELECT date_trunc('day', now()) AS a) s, "
    "  unnest(ARRAY['revenue', 'cogs', 'cash_balance', 'conversion_rate']) m",

    "INSERT INTO smart_goals (id, tenant_id, user_id, status, specific, "
    "  measurable, achievable, relevant, time_bound, action_plan) VALUES "
    " ('d3e0d3e0-0000-4000-8000-0000000000b1', $1, "
    "  'd3e0d3e0-0000-4000-8000-0000000000a1', 'active', "
    "  '{\"description\": \"Grow monthly revenue by 15%\", "
    "    \"focus_area\": \"sales\", \"owner\": \"Dana Demo\"}', "
    "  '{\"primary_metric_id\": \"revenue\", \"target_value\": 310000, "
    "    \"current_value\": 270000, \"unit\": \"USD\"}', "
    "  '{\"feasibility_score\": 0.7, \"reasoning\": \"Conversion is below "
    "    peers; traffic is growing\", \"resources_required\": [\"ads\"]}', "
    "  '{\"aligned_metrics\": [\"orders\", \"conversion_rate\"], "
    "    \"business_impact\": \"high\", \"evidence_ids\": []}', "
    "  jsonb_build_object('start_date', current_date, 'target_date', "
    "    current_date + 90, 'milestones', '[]'::jsonb), "
    "  '[{\"task\": \"Launch spring campaign\", \"assigned_to\": \"Dana\", "
    "     \"due_date\": null, \"status\": \"todo\"}]'), "
    " ('d3e0d3e0-0000-4000-8000-0000000000b2', $1, "
    "  'd3e0d3e0-0000-4000-8000-0000000000a1', 'draft', "
    "  '{\"description\": \"Keep 6 months of cash runway\", "
    "    \"focus_area\": \"finance\", \"owner\": \"Dana Demo\"}', "
    "  '{\"primary_metric_id\": \"cash_balance\", \"target_value\": 240000, "
    "    \"current_value\": 200000, \"unit\": \"USD\"}', "
    "  '{\"feasibility_score\": 0.5, \"reasoning\": \"Costs are stable\", "
    "    \"resources_required\": []}', "
    "  '{\"aligned_metrics\": [\"cogs\"], \"business_impact\": \"medium\", "
    "    \"evidence_ids\": []}', "
    "  jsonb_build_object('start_date', current_date, 'target_date', "
    "    current_date + 180, 'milestones', '[]'::jsonb), '[]')",

    "INSERT INTO coaching_sessions (id, tenant_id, user_id, session_type, "
    "  messages, session_summary, generated_goal_ids, key_insights, "
    "  started_at, ended_at) VALUES "
    " ('d3e0d3e0-0000-4000-8000-0000000000c1', $1, "
    "  'd3e0d3e0-0000-4000-8000-0000000000a1', 'goal_discovery', "
    "  jsonb_build_array("
    "    jsonb_build_object('role', 'user', 'content', 'Revenue is flat. "
    "      Where should we focus?', 'timestamp', now() - interval '1 hour'), "
    "    jsonb_build_object('role', 'assistant', 'content', 'Sessions grew "
    "      12% while conversion fell; start with checkout.', 'timestamp', "
    "      now() - interval '59 minutes')), "
    "  'Flat revenue traced to falling conversion; goal set to grow revenue.', "
    "  ARRAY['d3e0d3e0-0000-4000-8000-0000000000b1']::uuid[], "
    "  ARRAY['conversion fell while traffic grew'], "
    "  now() - interval '1 hour', now() - interval '30 minutes')",
};

static int exec1(PGconn *c, const char *sql, const char *tenant, char *err,
                 size_t errlen)
{
    const char *p[] = {tenant};
    PGresult *r = PQexecParams(c, sql, tenant ? 1 : 0, NULL, tenant ? p : NULL,
                               NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        snprintf(err, errlen, "demo: %s", PQresultErrorMessage(r));
        err[strcspn(err, "\n")] = '\0';
    }
    PQclear(r);
    return ok ? 0 : -1;
}

int demo_load(const telos_config *cfg,
              const unsigned char pepper[APIKEY_PEPPER_LEN], char *key_out,
              int *created, char *err, size_t errlen)
{
    *created = 0;
    apikey_demo(pepper, key_out);
    PGconn *c = db_connect(cfg, DB_OWNER, NULL, err, errlen);
    if (c == NULL)
        return -1;
    /* Serialise concurrent `telos run`s on the same database. */
    if (exec1(c, "BEGIN", NULL, err, errlen) < 0 ||
        exec1(c, "SELECT pg_advisory_xact_lock(hashtext('telos demo'))", NULL,
              err, errlen) < 0 ||
        exec1(c, "SELECT set_config('app.current_tenant_id', $1, true)",
              DEMO_TENANT_ID, err, errlen) < 0)
        goto fail;
    PGresult *r = PQexec(c, "SELECT count(*) FROM tenants");
    int exists = PQresultStatus(r) == PGRES_TUPLES_OK &&
                 strcmp(PQgetvalue(r, 0, 0), "1") == 0;
    PQclear(r);
    if (exists) {
        if (tenant_add_key(c, pepper, DEMO_TENANT_ID, key_out, "demo", err,
                           errlen) < 0 ||
            exec1(c, "COMMIT", NULL, err, errlen) < 0)
            goto fail;
        PQfinish(c);
        return 0;
    }
    if (exec1(c, "INSERT INTO tenants (id, name, tier, timezone) VALUES "
              "($1, 'Demo Coffee Roasters', 'standard', 'America/New_York')",
              DEMO_TENANT_ID, err, errlen) < 0 ||
        tenant_add_key(c, pepper, DEMO_TENANT_ID, key_out, "demo", err,
                       errlen) < 0)
        goto fail;
    for (size_t i = 0; i < sizeof demo_sql / sizeof demo_sql[0]; i++)
        if (exec1(c, demo_sql[i], DEMO_TENANT_ID, err, errlen) < 0)
            goto fail;
    if (exec1(c, "COMMIT", NULL, err, errlen) < 0)
        goto fail;
    *created = 1;
    PQfinish(c);
    return 0;
fail:
    PQfinish(c);
    return -1;
}
