-- 0005_hypertable.sql -- business_metrics_raw becomes a hypertable of the
-- telos extension: weekly chunks (Monday 00:00 UTC to Monday, the bounds
-- 0002 already used) that the engine makes before writes, ahead of time and
-- from the default partition's rows. One transaction, run as telos_owner.
--
-- What changes:
-- * 0002's weekly partitions business_metrics_raw_pYYYYMMDD are adopted as
--   chunks (they are aligned to the engine's default origin, Monday
--   2000-01-03); new chunks get the same names, their RLS (enabled, forced,
--   the tenant_isolation policy) and the parent's indexes.
-- * business_metrics_raw_default stays the safety net; the rows it holds
--   move into chunks now and, later, whenever telos.maintain() runs.
-- * public.ensure_weekly_partitions() is dropped: telos.ensure_chunks() (any
--   role with INSERT, e.g. telos_app before a batch) and telos.maintain()
--   (the maintenance job, as telos_worker) replace it. Nothing else calls it.

-- Fail early with a clear message if the engine is too old.
DO $$
BEGIN
    IF to_regprocedure('telos.create_hypertable(regclass, name, interval, boolean, timestamptz)') IS NULL THEN
        RAISE EXCEPTION 'the telos extension has no telos.create_hypertable()'
            USING HINT = 'bootstrap must install the telos extension 0.2.0 or later (ALTER EXTENSION telos UPDATE) as superuser before migrations';
    END IF;
END
$$;

SELECT telos.create_hypertable('public.business_metrics_raw', 'time', chunk_interval => interval '7 days');

DROP FUNCTION public.ensure_weekly_partitions(timestamptz, timestamptz);

-- Chunks for the coming weeks, as 0002 made them at its time; the
-- maintenance job keeps four weeks ahead from now on.
SELECT telos.maintain('public.business_metrics_raw', interval '4 weeks');
