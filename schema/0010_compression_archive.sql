-- 0010_compression_archive.sql -- the seed's "Compression: Automatic after
-- 7 days" and "Archival Strategy: Move data >12 months to cold storage" for
-- raw metrics, as telos extension policies (issue 4). One transaction, run
-- as telos_owner.
--
-- Compression: every chunk of business_metrics_raw whose range ended more
-- than 7 days ago becomes a compressed foreign partition (segments of one
-- tenant and metric, <= 1000 rows each); late rows land in its delta table
-- and the next run merges them.
--
-- Archive, per tenant tier: a tenant keeps its data hot (in the database)
-- for the tier's hot period or until its retention ends, whichever comes
-- first; a chunk goes to a checksummed file under telos.archive_directory
-- ($TELOS_HOME/archive) once no tenant keeps it hot and some tenant still
-- keeps it. With the tier retentions of 0001 (free 3 months, standard 12,
-- enterprise 36) and 12 months hot, only the longer-lived tiers' data ever
-- goes cold; retention then removes it from the files.

-- Hot period per tier: what the seed says (12 months) for every tier; a
-- tenant's own retention shorter than that wins anyway.
CREATE FUNCTION public.tier_hot_period(tier text) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT interval '12 months'
$$;

CREATE FUNCTION public.tenant_hot_periods() RETURNS TABLE(tenant_id uuid, archive_after interval)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.id, public.tier_hot_period(t.tier) FROM public.tenants t
$$;
REVOKE EXECUTE ON FUNCTION public.tenant_hot_periods() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.tenant_hot_periods() TO telos_worker;
GRANT EXECUTE ON FUNCTION public.tier_hot_period(text) TO telos_app, telos_worker;

DO $$
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'telos_worker', 'USAGE') THEN
        RAISE WARNING 'compression and archive policies not scheduled: % lacks the privileges of telos_worker', current_user
            USING HINT = 'bootstrap must GRANT telos_worker TO telos_owner';
        RETURN;
    END IF;

    PERFORM telos.add_compression_policy('public.business_metrics_raw',
        compress_after => interval '7 days',
        if_not_exists  => true,
        schedule       => interval '1 hour',
        run_as         => 'telos_worker'::regrole);

    PERFORM telos.add_archive_policy('public.business_metrics_raw',
        archive_after           => interval '12 months',
        if_not_exists           => true,
        tenant_archive_after_fn => 'public.tenant_hot_periods()'::regprocedure,
        schedule                => interval '1 day',
        run_as                  => 'telos_worker'::regrole);
END
$$;
