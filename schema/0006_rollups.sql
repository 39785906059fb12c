-- 0006_rollups.sql -- incremental hourly/daily/monthly rollups of
-- business_metrics_raw into business_metrics_aggregated, maintained by the
-- telos extension, and derived metrics that are checked when defined. One
-- transaction, run as telos_owner.
--
-- * public.tenant_timezone(uuid): the tenant's IANA zone, in which daily and
--   monthly buckets are cut (a business day in New York is not a UTC day).
-- * A rollup policy on business_metrics_raw: statement triggers log what
--   each INSERT/COPY/UPDATE/DELETE changes, a job refreshes the invalidated
--   buckets every minute as telos_worker, and telos.metric_series() answers
--   with materialized buckets plus the not-yet-materialized rest.
-- * A tenant's change of time zone re-cuts its days and months.
-- * metric_definitions.calculation_formula is compiled when written: syntax,
--   references to metrics the tenant defines, no cycles; a metric a formula
--   uses cannot be deleted or renamed.
-- See docs/schema.md ("business_metrics_aggregated") and
-- docs/sql-reference.md ("Rollups").

-- Fail early with a clear message if the engine is too old.
DO $$
BEGIN
    IF to_regprocedure('telos.add_rollup_policy(regclass, regclass, regclass, regprocedure, interval, regrole, name)') IS NULL THEN
        RAISE EXCEPTION 'the telos extension has no telos.add_rollup_policy()'
            USING HINT = 'bootstrap must install the telos extension 0.2.0 or later (ALTER EXTENSION telos UPDATE) as superuser before migrations';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- The tenant's zone. SECURITY INVOKER: the refresh job (telos_worker,
-- BYPASSRLS) sees every tenant; a request (telos_app) sees its own tenant,
-- which is the only one it asks metric_series about. NULL for a tenant that
-- does not exist (any more): the engine cuts its days in UTC.
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.tenant_timezone(tenant uuid) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.timezone FROM public.tenants AS t WHERE t.id = tenant
$$;
GRANT EXECUTE ON FUNCTION public.tenant_timezone(uuid) TO telos_app, telos_worker;

-- ---------------------------------------------------------------------------
-- The policy. The refresh must see every tenant, so its job runs as
-- telos_worker; scheduling a job as that role needs its privileges, which
-- bootstrap grants to telos_owner (as for 0007's policies).
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    worker boolean := pg_catalog.pg_has_role(current_user, 'telos_worker', 'USAGE');
BEGIN
    IF NOT worker THEN
        RAISE WARNING 'rollup refresh job not scheduled: % lacks the privileges of telos_worker', current_user
            USING HINT = 'bootstrap must GRANT telos_worker TO telos_owner; until then run telos.refresh_rollups(''public.business_metrics_raw'') as telos_worker';
    END IF;
    PERFORM telos.add_rollup_policy(
        raw         => 'public.business_metrics_raw',
        agg         => 'public.business_metrics_aggregated',
        definitions => 'public.metric_definitions',
        timezone_fn => 'public.tenant_timezone(uuid)',
        schedule    => CASE WHEN worker THEN interval '1 minute' END,
        run_as      => CASE WHEN worker THEN 'telos_worker'::regrole END,
        time_column => 'time');
END
$$;

-- ---------------------------------------------------------------------------
-- A new zone moves the tenant's local midnights: its daily and monthly
-- buckets are recomputed from raw by the next refresh (reads are right at
-- once). Raw data already dropped by retention cannot be re-cut: its
-- monthly rollups go (documented in docs/schema.md).
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.tenants_timezone_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM telos.invalidate_rollups('public.business_metrics_raw', NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_timezone_changed
    AFTER UPDATE OF timezone ON public.tenants
    FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION public.tenants_timezone_changed();

-- ---------------------------------------------------------------------------
-- Derived metrics are checked when they are written, with the tenant's
-- other definitions (as the writer sees them: RLS limits telos_app to its
-- tenant, which is the row's tenant):
--   * the formula compiles (telos.formula_check: 42601 syntax, 42883
--     function, 22003 number, 54000/54001 size);
--   * every metric it references is defined for the tenant (23503);
--   * following formulas from it never comes back to it (42P19), within 32
--     levels (54001; metric_series refuses deeper nesting anyway).
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.metric_definitions_check_formula() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    refs    text[];
    missing text;
    cycle   text[];
BEGIN
    IF NEW.calculation_formula IS NULL THEN
        RETURN NEW;
    END IF;
    refs := telos.formula_check(NEW.calculation_formula);

    SELECT r INTO missing
      FROM unnest(refs) AS r
     WHERE r <> NEW.metric_type
       AND NOT EXISTS (SELECT 1 FROM public.metric_definitions d
                        WHERE d.tenant_id = NEW.tenant_id AND d.metric_type = r)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'formula of metric "%" references "%", which is not defined', NEW.metric_type, missing
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Define the referenced metrics first.';
    END IF;

    -- Walk the formulas from NEW, with NEW's formula in place of the stored one.
    WITH RECURSIVE walk (metric, path) AS (
        SELECT r, ARRAY[NEW.metric_type, r]
          FROM unnest(refs) AS r
        UNION ALL
        SELECT r2, w.path || r2
          FROM walk w
          JOIN public.metric_definitions d
            ON d.tenant_id = NEW.tenant_id AND d.metric_type = w.metric
         CROSS JOIN LATERAL unnest(telos.formula_check(d.calculation_formula)) AS r2
         WHERE w.metric <> NEW.metric_type
           AND d.calculation_formula IS NOT NULL
           AND cardinality(w.path) <= 33
    )
    SELECT path INTO cycle FROM walk
     WHERE metric = NEW.metric_type OR cardinality(path) > 33
     LIMIT 1;
    IF FOUND THEN
        IF cycle[cardinality(cycle)] <> NEW.metric_type THEN
            RAISE EXCEPTION 'formula of metric "%" nests derived metrics more than 32 levels deep', NEW.metric_type
                USING ERRCODE = 'statement_too_complex';
        END IF;
        RAISE EXCEPTION 'formula of metric "%" makes a cycle: %', NEW.metric_type, array_to_string(cycle, ' -> ')
            USING ERRCODE = 'invalid_recursion';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER metric_definitions_check_formula
    BEFORE INSERT OR UPDATE OF calculation_formula, metric_type, tenant_id
    ON public.metric_definitions
    FOR EACH ROW EXECUTE FUNCTION public.metric_definitions_check_formula();

-- A metric used by another formula stays while that formula does. Deleting
-- the tenant (whose row is then gone) takes all its definitions at once.
CREATE FUNCTION public.metric_definitions_check_use() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    user_metric text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.tenant_id = OLD.tenant_id AND NEW.metric_type = OLD.metric_type THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.tenants t WHERE t.id = OLD.tenant_id) THEN
        RETURN coalesce(NEW, OLD);
    END IF;
    SELECT d.metric_type INTO user_metric
      FROM public.metric_definitions d
     WHERE d.tenant_id = OLD.tenant_id AND d.metric_type <> OLD.metric_type
       AND d.calculation_formula IS NOT NULL
       AND OLD.metric_type = ANY (telos.formula_check(d.calculation_formula))
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'metric "%" is used by the formula of metric "%"', OLD.metric_type, user_metric
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Change or delete that formula first.';
    END IF;
    RETURN coalesce(NEW, OLD);
END
$$;
CREATE TRIGGER metric_definitions_check_use
    BEFORE DELETE OR UPDATE OF metric_type, tenant_id ON public.metric_definitions
    FOR EACH ROW EXECUTE FUNCTION public.metric_definitions_check_use();

-- Formulas stored before this migration are not re-checked here: FORCE'd
-- row-level security hides every tenant's rows from this migration. A bad
-- one fails its metric_series reads with the same errors, and the next
-- write of its row.
