-- 0012_evidence.sql -- the evidence engine's application side (issue 6):
-- stable edge identity, retirement and history on evidence_edges, the
-- indexes of the graph API, business events and their effect test, goals'
-- metrics as `supports` edges, and discovery runs (inline or as jobs).
-- One transaction, run as telos_owner. See docs/evidence.md.
--
-- Where discovery lives: the statistics and the discovery algorithm are
-- the telos extension's (telos.granger_pairs, telos.adf, ...,
-- telos.discover_evidence, which reads the rollups through the rollup
-- policy and returns its findings without writing anything); the evidence
-- graph is this application's table, so storing the findings -- identity,
-- retirement, history -- is public.discover_evidence below. The engine
-- thus needs no knowledge of the application's columns.

DO $$
BEGIN
    IF to_regprocedure('telos.discover_evidence(uuid, text, integer, double precision, text[], regclass, jsonb)') IS NULL THEN
        RAISE EXCEPTION 'the telos extension has no telos.discover_evidence()'
            USING HINT = 'bootstrap must install the telos extension 0.3.0 or later (ALTER EXTENSION telos UPDATE) as superuser before migrations';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- evidence_edges: identity, life cycle, node keys.
-- ---------------------------------------------------------------------------
-- "type:id" of each end ("metric:revenue"): what the API names nodes by and
-- what the indexes below serve. Generated, so they can never disagree with
-- the jsonb nodes.
ALTER TABLE public.evidence_edges
    ADD COLUMN source_key text GENERATED ALWAYS AS ((source_node ->> 'type') || ':' || (source_node ->> 'id')) STORED,
    ADD COLUMN target_key text GENERATED ALWAYS AS ((target_node ->> 'type') || ':' || (target_node ->> 'id')) STORED,
    -- what produced the edge: granger_causality, lagged_correlation,
    -- welch_t (events), goal_metric (goals); NULL for edges written by hand.
    -- With both ends it is the edge's identity: a re-run updates the edge.
    ADD COLUMN method     text CHECK (method IS NULL OR method ~ '^[a-z][a-z0-9_]{0,62}$'),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    -- set when a re-run no longer finds the edge; NULL = current
    ADD COLUMN retired_at timestamptz;

CREATE UNIQUE INDEX evidence_edges_identity
    ON public.evidence_edges (tenant_id, source_key, target_key, method) WHERE method IS NOT NULL;
-- Edges out of / into a node: GET /v1/evidence, the traversal of
-- /v1/evidence/paths (one index probe per step) and drivers of a metric.
CREATE INDEX evidence_edges_source ON public.evidence_edges (tenant_id, source_key, edge_type);
CREATE INDEX evidence_edges_target ON public.evidence_edges (tenant_id, target_key, edge_type);

-- History: every change of an edge keeps the version it replaces.
CREATE TABLE public.evidence_edge_history (
    tenant_id   uuid         NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id          uuid         NOT NULL DEFAULT gen_random_uuid(),
    edge_id     uuid         NOT NULL,
    edge_type   text         NOT NULL,
    confidence  numeric(3,2),
    evidence    jsonb,
    retired_at  timestamptz,
    valid_from  timestamptz  NOT NULL,
    valid_to    timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, edge_id) REFERENCES public.evidence_edges (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX evidence_edge_history_edge ON public.evidence_edge_history (tenant_id, edge_id, valid_to);
ALTER TABLE public.evidence_edge_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.evidence_edge_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.evidence_edge_history
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT ON public.evidence_edge_history TO telos_app;

CREATE FUNCTION public.evidence_edges_keep_history() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO public.evidence_edge_history
           (tenant_id, edge_id, edge_type, confidence, evidence, retired_at, valid_from)
    VALUES (OLD.tenant_id, OLD.id, OLD.edge_type, OLD.confidence, OLD.evidence, OLD.retired_at,
            OLD.updated_at);
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER evidence_edges_history
    BEFORE UPDATE ON public.evidence_edges
    FOR EACH ROW
    WHEN (OLD.edge_type IS DISTINCT FROM NEW.edge_type
          OR OLD.confidence IS DISTINCT FROM NEW.confidence
          OR OLD.evidence IS DISTINCT FROM NEW.evidence
          OR OLD.retired_at IS DISTINCT FROM NEW.retired_at)
    EXECUTE FUNCTION public.evidence_edges_keep_history();

-- ---------------------------------------------------------------------------
-- upsert_evidence_edge: insert or update the edge of this identity (a
-- retired one comes back). Returns its id.
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.upsert_evidence_edge(tenant uuid, source_node jsonb, target_node jsonb,
                                            edge_type text, method text, confidence numeric,
                                            evidence jsonb) RETURNS uuid
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO public.evidence_edges AS e
           (tenant_id, source_node, target_node, edge_type, method, confidence, evidence)
    VALUES (tenant, source_node, target_node, edge_type, method, confidence, evidence)
    ON CONFLICT (tenant_id, source_key, target_key, method) WHERE method IS NOT NULL
    DO UPDATE SET edge_type = EXCLUDED.edge_type, confidence = EXCLUDED.confidence,
                  evidence = EXCLUDED.evidence, retired_at = NULL
    RETURNING e.id
$$;
GRANT EXECUTE ON FUNCTION public.upsert_evidence_edge(uuid, jsonb, jsonb, text, text, numeric, jsonb)
    TO telos_app, telos_worker;

-- ---------------------------------------------------------------------------
-- public.discover_evidence: run the engine's discovery for a tenant and
-- store it. Significant findings become (or update) edges between metric
-- nodes, identified by (tenant, source, target, method); an edge of a pair
-- that was tested in this run and is no longer significant is retired
-- (retired_at set, history kept). Skipped pairs leave their edges as they
-- are: nothing was learnt about them. Returns a summary with every tested,
-- superseded and skipped pair.
-- factors: economic indicators of external_benchmarks (the tenant's own
-- and the global ones; per period the latest vintage, the tenant's own on
-- a tie) tested as ExternalFactorNodes driving the metrics: a period's
-- value holds over its local days [period_start, period_end].
-- SECURITY INVOKER: a request (telos_app) can only run it for its own
-- tenant (the tenant row must be visible); the job runner is telos_worker.
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.discover_evidence(tenant uuid, bucket text DEFAULT 'day',
                                         maxlag integer DEFAULT 7, fdr float8 DEFAULT 0.05,
                                         metrics text[] DEFAULT NULL, factors text[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f       record;
    tz      text := coalesce(public.tenant_timezone(tenant), 'UTC');
    series  jsonb;
    found_n integer := 0;
    retired integer := 0;
    out     jsonb := '[]';
    started timestamptz := clock_timestamp();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM public.tenants t WHERE t.id = tenant) THEN
        RAISE EXCEPTION 'tenant % not found', tenant USING ERRCODE = '42704';
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.evidence_findings (
        source text, target text, method text, edge_type text, confidence numeric,
        p_value float8, q_value float8, evidence jsonb, status text, reason text
    ) ON COMMIT DROP;
    TRUNCATE pg_temp.evidence_findings;
    IF factors IS NOT NULL THEN
        SELECT jsonb_object_agg('external_factor:' || y.indicator, y.periods) INTO series
          FROM (SELECT x.indicator, jsonb_agg(jsonb_build_object(
                       'from', x.period_start::timestamp AT TIME ZONE tz,
                       'to', (x.period_end + 1)::timestamp AT TIME ZONE tz,
                       'value', x.value) ORDER BY x.period_start) AS periods
                  FROM (SELECT DISTINCT ON (b.indicator, b.period_start)
                               b.indicator, b.period_start, b.period_end, b.value
                          FROM public.external_benchmarks b
                         WHERE b.kind = 'economic_indicator' AND b.indicator = ANY (factors)
                         ORDER BY b.indicator, b.period_start, b.vintage DESC,
                                  (b.tenant_id IS NOT NULL) DESC) x
                 GROUP BY x.indicator) y;
    END IF;
    INSERT INTO pg_temp.evidence_findings
    SELECT * FROM telos.discover_evidence(tenant, bucket, maxlag, fdr, metrics,
                                          'public.business_metrics_raw', series);

    -- Names are metric types, or 'external_factor:<indicator>' (a metric
    -- type cannot hold ':'): the node keys are 'metric:<type>' and the name.
    FOR f IN SELECT * FROM pg_temp.evidence_findings WHERE edge_type IS NOT NULL LOOP
        PERFORM public.upsert_evidence_edge(tenant,
            CASE WHEN f.source LIKE 'external_factor:%'
                 THEN jsonb_build_object('type', 'external_factor', 'id', substr(f.source, 17))
                 ELSE jsonb_build_object('type', 'metric', 'id', f.source) END,
            jsonb_build_object('type', 'metric', 'id', f.target),
            f.edge_type, f.method, f.confidence, f.evidence);
        found_n := found_n + 1;
    END LOOP;

    UPDATE public.evidence_edges e SET retired_at = now()
      FROM pg_temp.evidence_findings fd
     WHERE e.tenant_id = tenant AND e.retired_at IS NULL
       AND fd.edge_type IS NULL AND fd.method IS NOT NULL
       AND e.method = fd.method
       AND e.source_key = CASE WHEN fd.source LIKE 'external_factor:%' THEN fd.source
                               ELSE 'metric:' || fd.source END
       AND e.target_key = 'metric:' || fd.target;
    GET DIAGNOSTICS retired = ROW_COUNT;

    SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'source', source, 'target', target, 'method', method, 'status', status,
               'edge_type', edge_type, 'confidence', confidence, 'p_value', p_value,
               'q_value', q_value, 'lag', evidence -> 'lag', 'reason', reason))
               ORDER BY status, source, target, method), '[]')
      INTO out FROM pg_temp.evidence_findings;
    RETURN jsonb_build_object(
        'bucket', bucket, 'maxlag', maxlag, 'fdr', fdr,
        'factors', (SELECT coalesce(jsonb_agg(substr(k, 17) ORDER BY k), '[]')
                      FROM jsonb_object_keys(coalesce(series, '{}')) k),
        'edges_found', found_n, 'edges_retired', retired,
        'tests', (SELECT count(*) FROM pg_temp.evidence_findings WHERE method IS NOT NULL),
        'skipped', (SELECT count(*) FROM pg_temp.evidence_findings WHERE status = 'skipped'),
        'seconds', round(extract(epoch FROM clock_timestamp() - started)::numeric, 3),
        'findings', out);
END
$$;
GRANT EXECUTE ON FUNCTION public.discover_evidence(uuid, text, integer, float8, text[], text[])
    TO telos_app, telos_worker;

-- ---------------------------------------------------------------------------
-- Discovery runs. POST /v1/evidence/discover records one; a small tenant's
-- run is done inside the request, a big tenant's (or ?async) is left
-- 'queued' for the job below, and the client polls GET .../discover/{id}.
-- ---------------------------------------------------------------------------
CREATE TABLE public.discovery_jobs (
    tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    status      text        NOT NULL DEFAULT 'queued'
                            CHECK (status IN ('queued', 'running', 'done', 'failed')),
    params      jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
    result      jsonb,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX discovery_jobs_queued ON public.discovery_jobs (created_at) WHERE status = 'queued';
CREATE INDEX discovery_jobs_tenant ON public.discovery_jobs (tenant_id, created_at DESC);
ALTER TABLE public.discovery_jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.discovery_jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.discovery_jobs
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE ON public.discovery_jobs TO telos_app;

-- Run one discovery_jobs row (already claimed) and record the outcome.
CREATE FUNCTION public.run_discovery_job(job uuid) RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j   public.discovery_jobs;
    res jsonb;
BEGIN
    SELECT * INTO j FROM public.discovery_jobs WHERE id = job;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'discovery job % not found', job USING ERRCODE = '42704';
    END IF;
    BEGIN
        res := public.discover_evidence(j.tenant_id,
                   coalesce(j.params ->> 'bucket', 'day'),
                   coalesce((j.params ->> 'maxlag')::integer, 7),
                   coalesce((j.params ->> 'fdr')::float8, 0.05),
                   CASE WHEN j.params ? 'metrics'
                        THEN ARRAY(SELECT jsonb_array_elements_text(j.params -> 'metrics')) END,
                   CASE WHEN j.params ? 'factors'
                        THEN ARRAY(SELECT jsonb_array_elements_text(j.params -> 'factors')) END);
        UPDATE public.discovery_jobs SET status = 'done', result = res, finished_at = clock_timestamp()
         WHERE id = job;
        RETURN 'done';
    EXCEPTION WHEN OTHERS THEN
        UPDATE public.discovery_jobs SET status = 'failed', error = SQLERRM, finished_at = clock_timestamp()
         WHERE id = job;
        RETURN 'failed';
    END;
END
$$;
GRANT EXECUTE ON FUNCTION public.run_discovery_job(uuid) TO telos_app, telos_worker;

-- The job: claim queued runs one by one (SKIP LOCKED: two runners never
-- take the same), each in a transaction of its own. Runs that were
-- 'running' for over an hour (a runner that died) are queued again. No
-- SET search_path clause: a procedure with one cannot COMMIT; every name
-- is qualified instead.
CREATE PROCEDURE public.run_discovery_jobs(job_id integer, config jsonb)
    LANGUAGE plpgsql
AS $$
DECLARE
    next uuid;
    n    integer := 0;
BEGIN
    UPDATE public.discovery_jobs SET status = 'queued', started_at = NULL
     WHERE status = 'running' AND started_at < now() - interval '1 hour';
    COMMIT;
    LOOP
        SELECT id INTO next FROM public.discovery_jobs
         WHERE status = 'queued' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED;
        EXIT WHEN next IS NULL;
        UPDATE public.discovery_jobs SET status = 'running', started_at = now() WHERE id = next;
        COMMIT;
        PERFORM public.run_discovery_job(next);
        COMMIT;
        n := n + 1;
        EXIT WHEN n >= coalesce((config ->> 'max_runs')::integer, 10);
    END LOOP;
END
$$;
REVOKE ALL ON PROCEDURE public.run_discovery_jobs(integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE public.run_discovery_jobs(integer, jsonb) TO telos_worker;

DO $$
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'telos_worker', 'USAGE') THEN
        RAISE WARNING 'discovery job runner not scheduled: % lacks the privileges of telos_worker', current_user
            USING HINT = 'bootstrap must GRANT telos_worker TO telos_owner';
        RETURN;
    END IF;
    PERFORM telos.add_job('public.run_discovery_jobs'::regproc, interval '5 seconds',
                          config => '{"max_runs": 10}',
                          run_as => 'telos_worker'::regrole);
END
$$;

-- ---------------------------------------------------------------------------
-- Business events (EventNodes) and their effect on metrics.
-- ---------------------------------------------------------------------------
CREATE TABLE public.business_events (
    tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    kind        text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$'),  -- price_change, campaign_launch
    name        text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    description text,
    occurred_at timestamptz NOT NULL,
    -- metrics whose level shift is tested; NULL = every metric of the tenant
    metrics     text[]      CHECK (metrics IS NULL OR array_position(metrics, NULL) IS NULL),
    attributes  jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    -- the effect test: `window` buckets of width `bucket` on each side
    bucket      text        NOT NULL DEFAULT 'day' CHECK (bucket IN ('hour', 'day', 'month')),
    "window"    integer     NOT NULL DEFAULT 14 CHECK ("window" BETWEEN 3 AND 366),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX business_events_time ON public.business_events (tenant_id, occurred_at DESC);
ALTER TABLE public.business_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.business_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.business_events
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON public.business_events TO telos_app;

-- An event's effect on each of its metrics: a level shift tested by
-- Welch's t-test between the `window` complete buckets before the bucket
-- that holds the event and the `window` buckets after it (the event's own
-- bucket, partly before and partly after, is left out). At least 3 buckets
-- on each side, else the metric is skipped with the reason. Significant
-- (p <= alpha, default 0.05): an `influenced_by` edge metric -> event,
-- method welch_t, confidence round(0.5 * (1 - p) + 0.5 * |d| / (1 + |d|), 2)
-- with d Cohen's d (mean difference over the pooled standard deviation);
-- otherwise an existing edge of the pair is retired. Returns one object
-- per metric.
CREATE FUNCTION public.test_event_effect(event uuid, alpha float8 DEFAULT 0.05) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ev      public.business_events;
    tz      text;
    step    interval;
    ev_b    timestamptz;
    m       text;
    before  float8[];
    after   float8[];
    w       record;
    d       float8;
    conf    numeric;
    evid    jsonb;
    out     jsonb := '[]';
    node_m  jsonb;
    node_e  jsonb;
BEGIN
    SELECT * INTO ev FROM public.business_events WHERE id = event;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'event % not found', event USING ERRCODE = '42704';
    END IF;
    tz := coalesce(public.tenant_timezone(ev.tenant_id), 'UTC');
    step := ('1 ' || ev.bucket)::interval;
    ev_b := CASE ev.bucket WHEN 'hour' THEN date_trunc('hour', ev.occurred_at, 'UTC')
                           ELSE date_trunc(ev.bucket, ev.occurred_at AT TIME ZONE tz) AT TIME ZONE tz END;
    node_e := jsonb_build_object('type', 'event', 'id', ev.id::text, 'kind', ev.kind, 'name', ev.name);

    FOR m IN SELECT u FROM unnest(coalesce(ev.metrics,
                 ARRAY(SELECT metric_type FROM public.metric_definitions
                        WHERE tenant_id = ev.tenant_id ORDER BY metric_type))) u
    LOOP
        node_m := jsonb_build_object('type', 'metric', 'id', m);
        IF NOT EXISTS (SELECT 1 FROM public.metric_definitions
                        WHERE tenant_id = ev.tenant_id AND metric_type = m) THEN
            out := out || jsonb_build_object('metric', m, 'status', 'skipped',
                                             'reason', 'the metric is not defined (any more)');
            CONTINUE;
        END IF;
        -- local wall-clock arithmetic, so days are calendar days across DST
        before := ARRAY(SELECT s.value FROM telos.metric_series(ev.tenant_id, m,
                            CASE ev.bucket WHEN 'hour' THEN ev_b - ev."window" * step
                                 ELSE ((ev_b AT TIME ZONE tz) - ev."window" * step) AT TIME ZONE tz END,
                            ev_b, ev.bucket) s
                        WHERE s.value IS NOT NULL AND s.value NOT IN ('NaN', 'Infinity', '-Infinity')
                        ORDER BY s.bucket);
        after := ARRAY(SELECT s.value FROM telos.metric_series(ev.tenant_id, m,
                            CASE ev.bucket WHEN 'hour' THEN ev_b + step
                                 ELSE ((ev_b AT TIME ZONE tz) + step) AT TIME ZONE tz END,
                            least(CASE ev.bucket WHEN 'hour' THEN ev_b + (ev."window" + 1) * step
                                       ELSE ((ev_b AT TIME ZONE tz) + (ev."window" + 1) * step) AT TIME ZONE tz END,
                                  CASE ev.bucket WHEN 'hour' THEN date_trunc('hour', now(), 'UTC')
                                       ELSE date_trunc(ev.bucket, now() AT TIME ZONE tz) AT TIME ZONE tz END),
                            ev.bucket) s
                        WHERE s.value IS NOT NULL AND s.value NOT IN ('NaN', 'Infinity', '-Infinity')
                        ORDER BY s.bucket);
        IF cardinality(before) < 3 OR cardinality(after) < 3 THEN
            out := out || jsonb_build_object('metric', m, 'status', 'skipped',
                'reason', format('too few buckets: %s before, %s after (at least 3 each)',
                                 cardinality(before), cardinality(after)));
            CONTINUE;
        END IF;
        BEGIN
            SELECT * INTO w FROM telos.welch_t(after, before);
        EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
            out := out || jsonb_build_object('metric', m, 'status', 'skipped', 'reason', SQLERRM);
            CONTINUE;
        END;
        SELECT (avg(a) - (SELECT avg(b) FROM unnest(before) b))
               / nullif(sqrt((var_samp(a) + (SELECT var_samp(b) FROM unnest(before) b)) / 2), 0)
          INTO d FROM unnest(after) a;
        conf := round((0.5 * (1 - w.p_value) + 0.5 * abs(coalesce(d, 0)) / (1 + abs(coalesce(d, 0))))::numeric, 2);
        evid := jsonb_build_object('method', 'welch_t', 'p_value', w.p_value, 't_stat', w.t,
            'df', w.df, 'mean_diff', w.mean_diff, 'cohens_d', d, 'alpha', alpha,
            'n_before', cardinality(before), 'n_after', cardinality(after),
            'direction', CASE WHEN w.mean_diff >= 0 THEN 'increase' ELSE 'decrease' END,
            'window', jsonb_build_object('bucket', ev.bucket, 'buckets', ev."window",
                                         'event_bucket', ev_b, 'time_zone', tz),
            'data_as_of', now());
        IF w.p_value <= alpha THEN
            PERFORM public.upsert_evidence_edge(ev.tenant_id, node_m, node_e, 'influenced_by',
                                                'welch_t', conf, evid);
            out := out || jsonb_build_object('metric', m, 'status', 'significant',
                                             'confidence', conf, 'evidence', evid);
        ELSE
            UPDATE public.evidence_edges SET retired_at = now()
             WHERE tenant_id = ev.tenant_id AND method = 'welch_t' AND retired_at IS NULL
               AND source_key = 'metric:' || m AND target_key = 'event:' || ev.id::text;
            out := out || jsonb_build_object('metric', m, 'status', 'not_significant',
                                             'evidence', evid);
        END IF;
    END LOOP;
    RETURN out;
END
$$;
GRANT EXECUTE ON FUNCTION public.test_event_effect(uuid, float8) TO telos_app, telos_worker;

-- ---------------------------------------------------------------------------
-- Goals link to their metrics: `supports` edges metric -> goal (method
-- goal_metric) for measurable.primary_metric_id and relevant.aligned_metrics;
-- a metric the goal no longer names has its edge retired.
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.smart_goals_link_metrics() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    names  text[];
    m      text;
    node_g jsonb := jsonb_build_object('type', 'goal', 'id', NEW.id::text);
BEGIN
    names := ARRAY(SELECT DISTINCT x FROM (
                SELECT NEW.measurable ->> 'primary_metric_id' AS x
                UNION ALL
                SELECT jsonb_array_elements_text(CASE WHEN jsonb_typeof(NEW.relevant -> 'aligned_metrics') = 'array'
                                                      THEN NEW.relevant -> 'aligned_metrics' END)) s
             WHERE x IS NOT NULL AND x <> '');
    FOREACH m IN ARRAY names LOOP
        PERFORM public.upsert_evidence_edge(NEW.tenant_id, jsonb_build_object('type', 'metric', 'id', m),
            node_g, 'supports', 'goal_metric', 1.00,
            jsonb_build_object('method', 'goal_metric',
                'role', CASE WHEN m = NEW.measurable ->> 'primary_metric_id' THEN 'primary' ELSE 'aligned' END));
    END LOOP;
    UPDATE public.evidence_edges SET retired_at = now()
     WHERE tenant_id = NEW.tenant_id AND method = 'goal_metric' AND retired_at IS NULL
       AND target_key = 'goal:' || NEW.id::text
       AND NOT (source_key = ANY (ARRAY(SELECT 'metric:' || n FROM unnest(names) n)));
    RETURN NULL;
END
$$;
CREATE TRIGGER smart_goals_link_metrics
    AFTER INSERT OR UPDATE OF measurable, relevant ON public.smart_goals
    FOR EACH ROW EXECUTE FUNCTION public.smart_goals_link_metrics();
-- Goals written before this migration get their edges when next updated
-- (the migration, bound by FORCE ROW LEVEL SECURITY, sees no tenant's rows).
