-- 0002_metrics.sql -- metric definitions, raw time series (weekly range
-- partitions), rollups. One transaction, run as telos_owner.
--
-- The partitioning here is plain declarative partitioning; a later issue
-- hands business_metrics_raw and business_metrics_aggregated to the telos
-- extension's hypertable engine, which replaces ensure_weekly_partitions().

-- ---------------------------------------------------------------------------
-- metric_definitions
-- ---------------------------------------------------------------------------
CREATE TABLE public.metric_definitions (
    tenant_id           uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    metric_type         text        NOT NULL CHECK (metric_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    unit                text,
    description         text,
    calculation_formula text,
    -- How rollups of this metric combine into one figure.
    aggregation         text        NOT NULL DEFAULT 'sum'
                                    CHECK (aggregation IN ('sum', 'avg', 'min', 'max', 'last', 'first', 'count')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, metric_type)
);
CREATE TRIGGER metric_definitions_touch
    BEFORE UPDATE ON public.metric_definitions
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

ALTER TABLE public.metric_definitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.metric_definitions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.metric_definitions
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.metric_definitions TO telos_app;

-- ---------------------------------------------------------------------------
-- business_metrics_raw: append-only ingest, range-partitioned on time.
-- No primary key (duplicates are legal readings; a unique index would cost
-- every insert). No foreign keys: tenant_id is forced by RLS to the tenant
-- authenticated by its API key, and an FK trigger per row would sit on the
-- hottest insert path; tenant deletion deletes these rows explicitly.
-- ---------------------------------------------------------------------------
CREATE TABLE public.business_metrics_raw (
    tenant_id   uuid             NOT NULL,
    time        timestamptz      NOT NULL,
    metric_type text             NOT NULL CHECK (metric_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    value       double precision NOT NULL,
    -- data_sources.id that produced the reading; NULL = pushed through the API.
    source      uuid,
    ingested_at timestamptz      NOT NULL DEFAULT now()
) PARTITION BY RANGE (time);

-- Catches readings outside every weekly partition (late or far-future data)
-- instead of failing the insert; ensure_weekly_partitions() moves them out.
CREATE TABLE public.business_metrics_raw_default
    PARTITION OF public.business_metrics_raw DEFAULT;

-- Indexes on the parent are created on every partition, present and future.
CREATE INDEX business_metrics_raw_tenant_metric_time_idx
    ON public.business_metrics_raw (tenant_id, metric_type, time DESC);
-- The seed's "GiST on time" (btree_gist opclass). Kept as specified; its
-- insert cost versus btree/BRIN is measured in docs/schema.md.
CREATE INDEX business_metrics_raw_time_gist_idx
    ON public.business_metrics_raw USING gist (time);

ALTER TABLE public.business_metrics_raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.business_metrics_raw FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.business_metrics_raw
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

-- Queries through the parent apply only the parent's policies. Partitions
-- get their own (identical) RLS anyway, so reading a partition directly
-- (a role granted on it, or the owner) is filtered too.
ALTER TABLE public.business_metrics_raw_default ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.business_metrics_raw_default FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.business_metrics_raw_default
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

-- Append-only for requests: no UPDATE/DELETE (retention is the worker's).
-- Grants on the parent only; partitions are not reachable by telos_app.
GRANT SELECT, INSERT ON public.business_metrics_raw TO telos_app;

-- Create the missing weekly partitions of business_metrics_raw covering
-- [from_ts, to_ts): one per week starting Monday 00:00 UTC, named
-- business_metrics_raw_pYYYYMMDD (the Monday). Rows already sitting in the
-- default partition for such a week are moved into the new partition (a
-- plain CREATE ... PARTITION OF would fail on them). Returns the number of
-- partitions created. Idempotent.
--
-- SECURITY DEFINER so telos_worker (which owns nothing) can run it. It runs
-- as telos_owner, who is subject to the default partition's FORCEd RLS and
-- would not see the rows to move: FORCE is lifted on the default partition
-- for the rest of this transaction and restored before returning (an error
-- rolls the whole transaction back, restoring it as well).
CREATE FUNCTION public.ensure_weekly_partitions(from_ts timestamptz, to_ts timestamptz)
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    week_start timestamptz;
    week_end   timestamptz;
    part       text;
    lo         text;
    hi         text;
    created    integer := 0;
    unforced   boolean := false;
BEGIN
    IF from_ts IS NULL OR to_ts IS NULL OR to_ts <= from_ts THEN
        RETURN 0;
    END IF;
    IF to_ts - from_ts > interval '5 years' THEN
        RAISE EXCEPTION 'ensure_weekly_partitions: range longer than 5 years'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    week_start := date_trunc('week', from_ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    WHILE week_start < to_ts LOOP
        week_end := week_start + interval '7 days';
        part := 'business_metrics_raw_p' || to_char(week_start AT TIME ZONE 'UTC', 'YYYYMMDD');
        -- Bounds in an explicit UTC form, independent of DateStyle/TimeZone.
        lo := to_char(week_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00';
        hi := to_char(week_end AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00';

        IF to_regclass(format('public.%I', part)) IS NULL THEN
            IF NOT unforced THEN
                ALTER TABLE public.business_metrics_raw_default NO FORCE ROW LEVEL SECURITY;
                unforced := true;
            END IF;

            IF EXISTS (SELECT 1 FROM public.business_metrics_raw_default
                        WHERE time >= week_start AND time < week_end) THEN
                EXECUTE format('CREATE TABLE public.%I (LIKE public.business_metrics_raw '
                               'INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
                EXECUTE format('WITH moved AS (DELETE FROM public.business_metrics_raw_default '
                               'WHERE time >= $1 AND time < $2 RETURNING *) '
                               'INSERT INTO public.%I SELECT * FROM moved', part)
                    USING week_start, week_end;
                EXECUTE format('ALTER TABLE public.business_metrics_raw ATTACH PARTITION public.%I '
                               'FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
            ELSE
                EXECUTE format('CREATE TABLE public.%I PARTITION OF public.business_metrics_raw '
                               'FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
            END IF;

            EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', part);
            EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', part);
            EXECUTE format('CREATE POLICY tenant_isolation ON public.%I '
                           'USING (tenant_id = nullif(current_setting(''app.current_tenant_id'', true), '''')::uuid) '
                           'WITH CHECK (tenant_id = nullif(current_setting(''app.current_tenant_id'', true), '''')::uuid)',
                           part);
            created := created + 1;
        END IF;
        week_start := week_end;
    END LOOP;

    IF unforced THEN
        ALTER TABLE public.business_metrics_raw_default FORCE ROW LEVEL SECURITY;
    END IF;
    RETURN created;
END
$$;
REVOKE ALL ON FUNCTION public.ensure_weekly_partitions(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.ensure_weekly_partitions(timestamptz, timestamptz) TO telos_worker;

-- 8 weeks back (backfills) to 4 weeks ahead of the time of this migration;
-- the worker calls the function again to stay ahead.
DO $$
BEGIN
    PERFORM public.ensure_weekly_partitions(now() - interval '8 weeks', now() + interval '4 weeks');
END
$$;

-- ---------------------------------------------------------------------------
-- business_metrics_aggregated: hourly/daily/monthly rollups.
-- A table maintained by the engine, not a materialized view: a materialized
-- view cannot have RLS policies, so it would leak every tenant to whoever
-- can select it.
-- ---------------------------------------------------------------------------
CREATE TABLE public.business_metrics_aggregated (
    tenant_id    uuid             NOT NULL,
    metric_type  text             NOT NULL CHECK (metric_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    bucket_width text             NOT NULL CHECK (bucket_width IN ('hour', 'day', 'month')),
    -- Start of the bucket.
    bucket       timestamptz      NOT NULL,
    count        bigint           NOT NULL CHECK (count > 0),
    sum          double precision NOT NULL,
    min          double precision NOT NULL,
    max          double precision NOT NULL,
    first        double precision NOT NULL,
    last         double precision NOT NULL,
    CHECK (min <= max),
    PRIMARY KEY (tenant_id, metric_type, bucket_width, bucket)
);

ALTER TABLE public.business_metrics_aggregated ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.business_metrics_aggregated FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.business_metrics_aggregated
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

-- Written by the engine/worker only.
GRANT SELECT ON public.business_metrics_aggregated TO telos_app;
