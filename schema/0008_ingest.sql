-- 0008_ingest.sql -- what POST /v1/metrics and `telos ingest` need beyond
-- the metric tables: persistent idempotency keys, and the right to the temp
-- staging table that binary COPY goes through. One transaction, run as
-- telos_owner.

-- Ingest COPYs into a per-session temp table (COPY into a table with row
-- level security is refused) and INSERTs from there under RLS. Bootstrap
-- grants TEMPORARY already; say it here too, since ingest depends on it.
DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO telos_app', current_database());
END
$$;

-- ---------------------------------------------------------------------------
-- idempotency_keys: the outcome of a POST /v1/metrics that carried an
-- Idempotency-Key header, written in the same transaction as its rows, so
-- that a retry (after a timeout, a crash, a server restart) returns the same
-- response and writes nothing. request_hash is a BLAKE2b-256 of the method,
-- path, body format, options and body: the same key with another request is
-- refused (422), not replayed. Only successful requests are recorded (an
-- error rolls the transaction back, so a retry runs again).
--
-- A request claims its key first (INSERT ... ON CONFLICT DO NOTHING, with
-- status and response NULL) and fills them in before COMMIT; a concurrent
-- request with the same key waits on the primary key until the first
-- commits, then replays it. Rows with NULL status are therefore never seen
-- by another transaction.
-- ---------------------------------------------------------------------------
CREATE TABLE public.idempotency_keys (
    tenant_id    uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    key          text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash bytea       NOT NULL CHECK (octet_length(request_hash) = 32),
    status       integer     CHECK (status BETWEEN 100 AND 599),
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key),
    CHECK ((status IS NULL) = (response IS NULL))
);
-- For purging old keys.
CREATE INDEX idempotency_keys_created_at_idx ON public.idempotency_keys (created_at);

ALTER TABLE public.idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.idempotency_keys
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE ON public.idempotency_keys TO telos_app;

-- Delete keys older than config->>'older_than' (default 7 days). Shaped as a
-- telos job (job_id, config) so the scheduler can run it as telos_worker,
-- which spans tenants (BYPASSRLS) and holds DELETE on public tables.
CREATE FUNCTION public.purge_idempotency_keys(job_id integer, config jsonb)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM public.idempotency_keys
     WHERE created_at < now() - coalesce((config ->> 'older_than')::interval,
                                         interval '7 days');
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION public.purge_idempotency_keys(integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.purge_idempotency_keys(integer, jsonb) TO telos_worker;

-- Purge hourly, as telos_worker (a job runs as a session of its role; the
-- same requirement as 0007's policies, handled the same way).
DO $$
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'telos_worker', 'USAGE') THEN
        RAISE WARNING 'idempotency key purge not scheduled: % lacks the privileges of telos_worker', current_user
            USING HINT = 'bootstrap must GRANT telos_worker TO telos_owner';
        RETURN;
    END IF;
    PERFORM telos.add_job('public.purge_idempotency_keys'::regproc, interval '1 hour',
                          config => '{"older_than": "7 days"}',
                          run_as => 'telos_worker'::regrole);
END
$$;
