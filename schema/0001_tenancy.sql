-- 0001_tenancy.sql -- privileges baseline, tenants, users, API keys and the
-- key lookup function.
--
-- Applied in one transaction by the telos binary as telos_owner (no
-- BEGIN/COMMIT here). Bootstrap, as superuser, has already created the roles
-- telos_owner, telos_app, telos_worker, telos_auth, GRANTed telos_auth TO
-- telos_owner, created this database OWNER telos_owner and the extensions
-- btree_gist and telos. See docs/schema.md.
--
-- Every tenant table follows one pattern: tenant_id uuid NOT NULL as the
-- first key column, RLS enabled AND forced (so the owner is filtered too),
-- and a policy tenant_isolation whose USING and WITH CHECK compare tenant_id
-- with the transaction-local setting app.current_tenant_id. nullif(..., '')
-- makes an unset (or reset) setting NULL, so an unset tenant sees no rows
-- instead of raising an error.

-- Fail early with a clear message instead of at the first GiST index.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'btree_gist') THEN
        RAISE EXCEPTION 'extension btree_gist is missing'
            USING HINT = 'bootstrap must run CREATE EXTENSION btree_gist as superuser before migrations';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- Privileges baseline: nothing is reachable by PUBLIC; each role gets what
-- it needs, explicitly.
-- ---------------------------------------------------------------------------

-- The database name is configurable (TELOS_DB_NAME), hence dynamic SQL.
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO telos_app, telos_worker', current_database());
END
$$;

-- Schema public is owned by pg_database_owner (PG15), i.e. by telos_owner.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO telos_app, telos_worker, telos_auth;

-- Functions are executable by PUBLIC unless revoked; make every function
-- the owner creates private by default and grant EXECUTE where meant.
ALTER DEFAULT PRIVILEGES FOR ROLE telos_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
-- The worker spans tenants and runs every background job: all DML on every
-- table created later in public, including new metric partitions.
ALTER DEFAULT PRIVILEGES FOR ROLE telos_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO telos_worker;
ALTER DEFAULT PRIVILEGES FOR ROLE telos_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO telos_worker;

-- ---------------------------------------------------------------------------
-- Shared trigger function: keep updated_at honest whatever the client sends.
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- ---------------------------------------------------------------------------
-- tenants
-- ---------------------------------------------------------------------------

-- Default retention of raw metrics per tier, used when tenants.retention is
-- NULL. A function (not a table) so it is usable in SQL by the engine and
-- changed only by a migration.
CREATE FUNCTION public.tier_default_retention(tier text) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE tier
        WHEN 'free'       THEN interval '3 months'
        WHEN 'standard'   THEN interval '12 months'
        WHEN 'enterprise' THEN interval '36 months'
    END
$$;
GRANT EXECUTE ON FUNCTION public.tier_default_retention(text) TO telos_app, telos_worker;

CREATE TABLE public.tenants (
    id          uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    name        text        NOT NULL CHECK (btrim(name) <> ''),
    tier        text        NOT NULL DEFAULT 'standard'
                            CHECK (tier IN ('free', 'standard', 'enterprise')),
    -- IANA zone name; business days are computed in this zone. Validated by
    -- the trigger below, not a CHECK (see docs/schema.md).
    timezone    text        NOT NULL DEFAULT 'UTC',
    -- Raw metric retention; NULL = tier_default_retention(tier).
    retention   interval    CHECK (retention >= interval '1 day'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The tz database lives in files that change with PostgreSQL/OS upgrades, so
-- a CHECK calling it would have to be falsely IMMUTABLE (and could make a
-- dump unrestorable if a zone is ever removed). A trigger validates only at
-- write time, which is what we want. pg_timezone_names lists full IANA names
-- only: abbreviations ('PST') and POSIX strings ('UTC+5'), which
-- AT TIME ZONE would accept with surprising meanings, are refused.
CREATE FUNCTION public.tenants_check_timezone() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = NEW.timezone) THEN
        RAISE EXCEPTION 'invalid time zone "%"', NEW.timezone
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'use an IANA time zone name such as Europe/Paris or UTC';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER tenants_check_timezone
    BEFORE INSERT OR UPDATE OF timezone ON public.tenants
    FOR EACH ROW EXECUTE FUNCTION public.tenants_check_timezone();

ALTER TABLE public.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.tenants FORCE ROW LEVEL SECURITY;
-- A tenant sees and writes only its own row. Creating a tenant therefore
-- means: choose the id, set app.current_tenant_id to it, insert -- in one
-- transaction. Listing all tenants is a telos_worker (BYPASSRLS) job.
CREATE POLICY tenant_isolation ON public.tenants
    USING (id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

GRANT SELECT ON public.tenants TO telos_app;

-- ---------------------------------------------------------------------------
-- users
-- ---------------------------------------------------------------------------
CREATE TABLE public.users (
    tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    email       text        NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    name        text,
    role        text        NOT NULL DEFAULT 'member'
                            CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_tenant_email_key ON public.users (tenant_id, lower(email));

ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.users
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.users TO telos_app;

-- ---------------------------------------------------------------------------
-- api_keys: only a keyed BLAKE2b-256 hash of the secret is stored.
-- ---------------------------------------------------------------------------
CREATE TABLE public.api_keys (
    tenant_id    uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    key_hash     bytea       NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    -- First characters of the secret, shown to humans to tell keys apart.
    prefix       text        NOT NULL CHECK (char_length(prefix) BETWEEN 4 AND 16),
    name         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (tenant_id, id)
);

ALTER TABLE public.api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.api_keys
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
-- The key lookup runs before any tenant is known; only telos_auth (the owner
-- of auth.tenant_for_key) may read across tenants, and only read.
-- A policy TO a role also applies to every member of that role, and
-- telos_owner is a member of telos_auth (so that it can hand it the
-- function): with USING (true) the owner would see every tenant's keys
-- despite FORCE. Checking current_user narrows the policy to telos_auth
-- itself, i.e. to code running inside its SECURITY DEFINER function.
CREATE POLICY key_lookup ON public.api_keys
    FOR SELECT TO telos_auth
    USING (current_user = 'telos_auth');

-- telos_app gets nothing here: keys are created/revoked by the owner through
-- the CLI, and requests authenticate through auth.tenant_for_key only.
GRANT SELECT ON public.api_keys TO telos_auth;

-- ---------------------------------------------------------------------------
-- auth.tenant_for_key
-- ---------------------------------------------------------------------------
CREATE SCHEMA auth;
REVOKE ALL ON SCHEMA auth FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO telos_app, telos_auth;

-- The tenant owning a non-revoked key with this hash, or NULL.
-- SECURITY DEFINER owned by telos_auth: the caller (telos_app) cannot read
-- api_keys at all; it can only ask "whose key is this hash". search_path is
-- pinned (pg_temp last) and every name is qualified so a caller cannot
-- redirect the lookup.
CREATE FUNCTION auth.tenant_for_key(key_hash bytea) RETURNS uuid
    LANGUAGE sql STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT k.tenant_id
      FROM public.api_keys AS k
     WHERE k.key_hash = $1
       AND k.revoked_at IS NULL
$$;

REVOKE ALL ON FUNCTION auth.tenant_for_key(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.tenant_for_key(bytea) TO telos_app;

-- ALTER ... OWNER TO needs the new owner to hold CREATE on the schema; give
-- it for the change only. The ACL above moves with the ownership.
GRANT CREATE ON SCHEMA auth TO telos_auth;
ALTER FUNCTION auth.tenant_for_key(bytea) OWNER TO telos_auth;
REVOKE CREATE ON SCHEMA auth FROM telos_auth;
