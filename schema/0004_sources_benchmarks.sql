-- 0004_sources_benchmarks.sql -- connector management (data_sources) and
-- external benchmarks. One transaction, run as telos_owner.

-- ---------------------------------------------------------------------------
-- data_sources (printed twice in the seed, under sections 5 and 6: one table)
-- ---------------------------------------------------------------------------
CREATE TABLE public.data_sources (
    tenant_id   uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    -- Connector kind: erpnext, salesforce, quickbooks, ...
    source_type text NOT NULL CHECK (source_type ~ '^[a-z][a-z0-9_]{0,62}$'),

    -- Configuration: {api_url, auth_type, credentials_ref}. No secret is ever
    -- stored here; credentials_ref names where the worker finds them. The
    -- CHECK refuses the usual secret-bearing top-level keys as a guard rail.
    config      jsonb NOT NULL CHECK (
                    jsonb_typeof(config) = 'object'
                    AND NOT config ?| ARRAY['password', 'passwd', 'secret', 'client_secret',
                                            'token', 'access_token', 'refresh_token',
                                            'api_key', 'apikey', 'private_key', 'credentials']),
    field_mappings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(field_mappings) = 'object'), -- {source_field: target_metric_type}

    -- Sync status
    sync_status      text NOT NULL DEFAULT 'pending'
                          CHECK (sync_status IN ('pending', 'active', 'error', 'paused')),
    last_sync_at     timestamptz,
    last_sync_status jsonb CHECK (last_sync_status IS NULL OR jsonb_typeof(last_sync_status) = 'object'), -- {success, records_synced, errors[]}
    next_sync_at     timestamptz,

    -- Health monitoring
    health_check_status text NOT NULL DEFAULT 'unknown'
                             CHECK (health_check_status IN ('unknown', 'healthy', 'degraded', 'unhealthy')),
    error_count integer NOT NULL DEFAULT 0 CHECK (error_count >= 0),

    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE TRIGGER data_sources_touch
    BEFORE UPDATE ON public.data_sources
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();
-- The sync scheduler (worker, all tenants): "what is due next".
CREATE INDEX idx_data_sources_due ON public.data_sources (next_sync_at)
    WHERE sync_status IN ('pending', 'active');

ALTER TABLE public.data_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.data_sources FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.data_sources
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.data_sources TO telos_app;

-- ---------------------------------------------------------------------------
-- external_benchmarks: industry percentiles and economic indicator series.
-- tenant_id NULL = a global row (published data loaded by the worker), shared
-- read-only by every tenant; otherwise a tenant's own benchmark.
--   industry_percentile: metric_type + industry/cohort, p10..p90
--   economic_indicator:  indicator + region, value
-- vintage is the release date of the figure: economic series are revised,
-- and every release is kept so a past analysis can be reproduced.
-- ---------------------------------------------------------------------------
CREATE TABLE public.external_benchmarks (
    id           uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    tenant_id    uuid REFERENCES public.tenants (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('industry_percentile', 'economic_indicator')),
    metric_type  text CHECK (metric_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    indicator    text CHECK (indicator ~ '^[a-z][a-z0-9_.]{0,62}$'),  -- e.g. us.cpi_u
    industry     text,          -- e.g. a NAICS code; NULL = all industries
    cohort       text,          -- e.g. 'arr_1m_10m'; NULL = all sizes
    region       text,          -- ISO 3166 code; NULL = world / not applicable
    period_start date NOT NULL,
    period_end   date NOT NULL,
    vintage      date NOT NULL,
    p10          double precision,
    p25          double precision,
    p50          double precision,
    p75          double precision,
    p90          double precision,
    value        double precision,
    unit         text,
    sample_size  integer CHECK (sample_size > 0),
    source       text NOT NULL CHECK (btrim(source) <> ''),  -- publisher
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end >= period_start),
    CHECK (
        (kind = 'industry_percentile'
            AND metric_type IS NOT NULL AND indicator IS NULL
            AND p50 IS NOT NULL AND value IS NULL)
        OR
        (kind = 'economic_indicator'
            AND indicator IS NOT NULL AND metric_type IS NULL
            AND value IS NOT NULL
            AND p10 IS NULL AND p25 IS NULL AND p50 IS NULL AND p75 IS NULL AND p90 IS NULL)),
    -- Adjacent percentiles, when both present, are ordered.
    CHECK (p10 <= p25 AND p25 <= p50 AND p50 <= p75 AND p75 <= p90),
    -- One figure per series, period and vintage; NULLs compare equal (PG15),
    -- so the global rows (tenant_id NULL) and "all industries" are unique too.
    CONSTRAINT external_benchmarks_series_key UNIQUE NULLS NOT DISTINCT
        (tenant_id, kind, metric_type, indicator, industry, cohort, region,
         period_start, period_end, vintage, source)
);
CREATE INDEX idx_benchmarks_percentile ON public.external_benchmarks
    (metric_type, industry, cohort, period_start) WHERE kind = 'industry_percentile';
CREATE INDEX idx_benchmarks_indicator ON public.external_benchmarks
    (indicator, region, period_start) WHERE kind = 'economic_indicator';
CREATE INDEX idx_benchmarks_tenant ON public.external_benchmarks (tenant_id)
    WHERE tenant_id IS NOT NULL;

ALTER TABLE public.external_benchmarks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.external_benchmarks FORCE ROW LEVEL SECURITY;
-- Own rows: read and write. A NULL tenant_id never equals the setting, so a
-- tenant can neither create nor modify nor delete a global row.
CREATE POLICY tenant_isolation ON public.external_benchmarks
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
-- Global rows: read-only, and only once a tenant is set (an unset tenant
-- sees nothing, as everywhere). Permissive policies OR together for SELECT;
-- UPDATE/DELETE still require tenant_isolation's USING, so global rows stay
-- out of their reach.
CREATE POLICY global_read ON public.external_benchmarks
    FOR SELECT
    USING (tenant_id IS NULL
           AND nullif(current_setting('app.current_tenant_id', true), '') IS NOT NULL);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.external_benchmarks TO telos_app;
