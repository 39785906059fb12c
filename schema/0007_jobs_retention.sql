-- 0007_jobs_retention.sql -- per-tenant retention of raw metrics and the
-- maintenance of business_metrics_raw's chunks, as jobs of the telos
-- extension's scheduler. One transaction, run as telos_owner.
--
-- * public.tenant_retentions(): each tenant's raw-data window,
--   tenants.retention or else tier_default_retention(tier) (free 3 months,
--   standard 12, enterprise 36).
-- * A retention policy on business_metrics_raw: every hour, chunks older
--   than every tenant's window are dropped whole (the hypertable's archive
--   function, when the archive issue sets one, takes them instead); rows of
--   tenants with shorter windows are deleted from live chunks; rollups in
--   business_metrics_aggregated: hourly buckets follow the raw windows, daily
--   ones are kept 3 years, monthly ones forever. Rows of tenants that no
--   longer exist get the 12-month default.
-- * A maintenance policy: every hour, telos.maintain() makes the chunks of
--   the next 4 weeks and empties the default partition into chunks.
--
-- Both run as telos_worker: retention must see every tenant's rows
-- (BYPASSRLS), and the jobs are sessions of that role. Scheduling a job as
-- a role needs that role's privileges, so bootstrap grants telos_worker to
-- telos_owner (see docs/schema.md, "Retention").

-- The window of each tenant. SECURITY INVOKER: telos_worker (BYPASSRLS)
-- gets every tenant, telos_app only its own (RLS on tenants).
CREATE FUNCTION public.tenant_retentions()
    RETURNS TABLE (tenant_id uuid, retention interval)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.id, coalesce(t.retention, public.tier_default_retention(t.tier))
      FROM public.tenants AS t
$$;
GRANT EXECUTE ON FUNCTION public.tenant_retentions() TO telos_worker, telos_app;

DO $$
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'telos_worker', 'USAGE') THEN
        -- Bootstrap of an older telos binary: leave the policies to a later
        -- migration rather than fail the whole upgrade.
        RAISE WARNING 'retention and maintenance policies not scheduled: % lacks the privileges of telos_worker', current_user
            USING HINT = 'bootstrap must GRANT telos_worker TO telos_owner';
        RETURN;
    END IF;

    PERFORM telos.add_retention_policy('public.business_metrics_raw',
        default_retention   => interval '12 months',
        tenant_retention_fn => 'public.tenant_retentions()'::regprocedure,
        rollups             => 'public.business_metrics_aggregated'::regclass,
        keep_hourly         => NULL,
        keep_daily          => interval '3 years',
        schedule            => interval '1 hour',
        run_as              => 'telos_worker'::regrole,
        if_not_exists       => true);

    PERFORM telos.add_maintenance_policy('public.business_metrics_raw',
        ahead         => interval '4 weeks',
        schedule      => interval '1 hour',
        run_as        => 'telos_worker'::regrole,
        if_not_exists => true);
END
$$;
