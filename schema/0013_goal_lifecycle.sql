-- 0013_goal_lifecycle.sql -- the SMART goal lifecycle in one place (issue 7):
-- the transition table, the audit trail of every transition, SMART
-- validation before a goal leaves draft, and the two functions through
-- which the API changes a goal (goal_transition, goal_patch).
-- One transaction, run as telos_owner.
--
-- Errors the API maps (server/src/h_goal_lifecycle.c):
--   TL001  illegal transition         -> 409, detail {goal_status, action, allowed[]}
--   TL002  the goal is not valid      -> 422, detail [{path, reason}, ...]
--   P0002  no such goal (this tenant) -> 404
--   22023  unknown action             -> 400, detail {goal_status, action, allowed[]}

-- ---------------------------------------------------------------------------
-- goal_transition_rules: the state machine. Global (no tenant_id): the same
-- rules for every tenant, read-only for the roles that serve requests.
-- ---------------------------------------------------------------------------
CREATE TABLE public.goal_transition_rules (
    from_status text NOT NULL,
    action      text NOT NULL CHECK (action IN ('activate', 'mark_on_track', 'mark_at_risk',
                                                'complete', 'abandon', 'reopen')),
    to_status   text NOT NULL,
    PRIMARY KEY (from_status, action)
);
INSERT INTO public.goal_transition_rules (from_status, action, to_status) VALUES
    ('draft',     'activate',      'active'),
    ('active',    'mark_on_track', 'on_track'),
    ('active',    'mark_at_risk',  'at_risk'),
    ('at_risk',   'mark_on_track', 'on_track'),
    ('on_track',  'mark_at_risk',  'at_risk'),
    ('active',    'complete',      'completed'),
    ('on_track',  'complete',      'completed'),
    ('at_risk',   'complete',      'completed'),
    ('draft',     'abandon',       'abandoned'),
    ('active',    'abandon',       'abandoned'),
    ('on_track',  'abandon',       'abandoned'),
    ('at_risk',   'abandon',       'abandoned'),
    -- nothing leaves a terminal status but an explicit reopen
    ('completed', 'reopen',        'active'),
    ('abandoned', 'reopen',        'active');
GRANT SELECT ON public.goal_transition_rules TO telos_app, telos_worker;

-- ---------------------------------------------------------------------------
-- goal_transitions: the audit trail, append-only. Written only by
-- goal_transition() (SECURITY DEFINER): telos_app may read it, not forge it.
-- ---------------------------------------------------------------------------
CREATE TABLE public.goal_transitions (
    tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    goal_id     uuid        NOT NULL,
    action      text        NOT NULL,
    from_status text        NOT NULL,
    to_status   text        NOT NULL,
    reason      text,
    -- the user on whose behalf the transition was made; NULL = the API key
    -- itself (keys belong to the tenant, not to a user) or the system
    actor       uuid,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, goal_id) REFERENCES public.smart_goals (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, actor) REFERENCES public.users (tenant_id, id) ON DELETE SET NULL (actor),
    CONSTRAINT goal_transitions_abandon_reason CHECK (
        action <> 'abandon' OR length(btrim(reason)) > 0)
);
-- "the trail of this goal, in order", and the FK's cascade.
CREATE INDEX idx_goal_transitions_goal ON public.goal_transitions (tenant_id, goal_id, at);

ALTER TABLE public.goal_transitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.goal_transitions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.goal_transitions
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

GRANT SELECT ON public.goal_transitions TO telos_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.goal_transitions TO telos_worker;

-- ---------------------------------------------------------------------------
-- Status changes go through goal_transition() only: it raises a
-- transaction-local flag around its UPDATE; any other change of status is
-- refused. (A guard against bypassing the lifecycle by mistake, not a
-- security boundary: the flag is an ordinary setting.)
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.smart_goals_status_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status
       AND coalesce(current_setting('telos.goal_transition', true), '') <> 'on' THEN
        RAISE EXCEPTION 'the status of a goal changes only through goal_transition()'
            USING ERRCODE = 'TL001',
                  DETAIL = jsonb_build_object('goal_status', OLD.status, 'action', NULL,
                      'allowed', public.goal_allowed_actions(OLD.status))::text;
    END IF;
    RETURN NEW;
END
$$;

-- Actions allowed from a status, in a stable order.
CREATE FUNCTION public.goal_allowed_actions(status text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(r.action ORDER BY array_position(ARRAY['activate', 'mark_on_track',
               'mark_at_risk', 'complete', 'abandon', 'reopen'], r.action)), '[]')
      FROM public.goal_transition_rules r WHERE r.from_status = $1
$$;

CREATE TRIGGER smart_goals_status_guard
    BEFORE UPDATE OF status ON public.smart_goals
    FOR EACH ROW EXECUTE FUNCTION public.smart_goals_status_guard();

-- ---------------------------------------------------------------------------
-- goal_validate: the SMART parts of a goal (a smart_goals row as jsonb, or
-- any object with the parts), checked against the current tenant's data.
-- Returns [{path, reason}] (empty = valid). `achievable` is filled by telos
-- (feasibility) and not checked here.
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.goal_try_date(s text) RETURNS date
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF s IS NULL OR s !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN NULL;
    END IF;
    RETURN s::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

CREATE FUNCTION public.goal_validate(goal jsonb) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant  uuid := nullif(current_setting('app.current_tenant_id', true), '')::uuid;
    errs    jsonb := '[]';
    sp      jsonb := goal -> 'specific';
    ms      jsonb := goal -> 'measurable';
    rl      jsonb := goal -> 'relevant';
    tb      jsonb := goal -> 'time_bound';
    v       jsonb;
    m_unit  text;
    m_found boolean;
    d_start date;
    d_target date;
    d_prev  date;
    d       date;
    i       integer;
BEGIN
    -- specific --------------------------------------------------------------
    IF jsonb_typeof(sp) IS DISTINCT FROM 'object' THEN
        errs := errs || jsonb_build_object('path', '$.specific', 'reason', 'must be an object');
        sp := '{}';
    END IF;
    IF jsonb_typeof(sp -> 'description') IS DISTINCT FROM 'string' OR btrim(sp ->> 'description') = '' THEN
        errs := errs || jsonb_build_object('path', '$.specific.description', 'reason', 'a non-empty string is required');
    END IF;
    IF jsonb_typeof(sp -> 'focus_area') IS DISTINCT FROM 'string' OR btrim(sp ->> 'focus_area') = '' THEN
        errs := errs || jsonb_build_object('path', '$.specific.focus_area', 'reason', 'a non-empty string is required');
    END IF;
    IF jsonb_typeof(sp -> 'owner') IS DISTINCT FROM 'string' THEN
        errs := errs || jsonb_build_object('path', '$.specific.owner', 'reason',
                                           'the id or email of a user of the tenant is required');
    ELSIF NOT EXISTS (SELECT 1 FROM public.users u
                       WHERE u.tenant_id = tenant
                         AND (u.id::text = lower(sp ->> 'owner') OR lower(u.email) = lower(sp ->> 'owner'))) THEN
        errs := errs || jsonb_build_object('path', '$.specific.owner', 'reason', 'not a user of the tenant');
    END IF;

    -- measurable ------------------------------------------------------------
    IF jsonb_typeof(ms) IS DISTINCT FROM 'object' THEN
        errs := errs || jsonb_build_object('path', '$.measurable', 'reason', 'must be an object');
        ms := '{}';
    END IF;
    IF jsonb_typeof(ms -> 'primary_metric_id') IS DISTINCT FROM 'string' THEN
        errs := errs || jsonb_build_object('path', '$.measurable.primary_metric_id', 'reason',
                                           'the metric_type of a metric of the tenant is required');
    ELSE
        SELECT true, md.unit INTO m_found, m_unit FROM public.metric_definitions md
         WHERE md.tenant_id = tenant AND md.metric_type = ms ->> 'primary_metric_id';
        IF m_found IS NULL THEN
            errs := errs || jsonb_build_object('path', '$.measurable.primary_metric_id', 'reason',
                                               'not a metric of the tenant');
        ELSIF m_unit IS NOT NULL AND lower(coalesce(ms ->> 'unit', '')) <> lower(m_unit) THEN
            errs := errs || jsonb_build_object('path', '$.measurable.unit', 'reason',
                                               format('must be the metric''s unit, %s', m_unit));
        ELSIF m_unit IS NULL AND ms ->> 'unit' IS NOT NULL THEN
            errs := errs || jsonb_build_object('path', '$.measurable.unit', 'reason',
                                               'the metric has no unit');
        END IF;
    END IF;
    IF jsonb_typeof(ms -> 'target_value') IS DISTINCT FROM 'number' THEN
        errs := errs || jsonb_build_object('path', '$.measurable.target_value', 'reason', 'a number is required');
    END IF;
    IF coalesce(ms ->> 'direction', '') NOT IN ('increase', 'decrease', 'maintain')
       OR jsonb_typeof(ms -> 'direction') <> 'string' THEN
        errs := errs || jsonb_build_object('path', '$.measurable.direction', 'reason',
                                           'one of increase, decrease, maintain');
    END IF;

    -- relevant --------------------------------------------------------------
    IF jsonb_typeof(rl) IS DISTINCT FROM 'object' THEN
        errs := errs || jsonb_build_object('path', '$.relevant', 'reason', 'must be an object');
        rl := '{}';
    END IF;
    IF jsonb_typeof(rl -> 'aligned_metrics') IS DISTINCT FROM 'array'
       OR jsonb_array_length(rl -> 'aligned_metrics') = 0 THEN
        errs := errs || jsonb_build_object('path', '$.relevant.aligned_metrics', 'reason',
                                           'a non-empty array of metrics of the tenant is required');
    ELSE
        FOR i IN 0 .. jsonb_array_length(rl -> 'aligned_metrics') - 1 LOOP
            v := rl -> 'aligned_metrics' -> i;
            IF jsonb_typeof(v) <> 'string' OR NOT EXISTS (
                   SELECT 1 FROM public.metric_definitions md
                    WHERE md.tenant_id = tenant AND md.metric_type = v #>> '{}') THEN
                errs := errs || jsonb_build_object('path', format('$.relevant.aligned_metrics[%s]', i),
                                                   'reason', 'not a metric of the tenant');
            END IF;
        END LOOP;
    END IF;
    IF rl ? 'evidence_ids' THEN
        IF jsonb_typeof(rl -> 'evidence_ids') <> 'array' THEN
            errs := errs || jsonb_build_object('path', '$.relevant.evidence_ids', 'reason',
                                               'an array of evidence edge ids is required');
        ELSE
            FOR i IN 0 .. jsonb_array_length(rl -> 'evidence_ids') - 1 LOOP
                v := rl -> 'evidence_ids' -> i;
                IF jsonb_typeof(v) <> 'string' OR NOT EXISTS (
                       SELECT 1 FROM public.evidence_edges e
                        WHERE e.tenant_id = tenant AND e.id::text = lower(v #>> '{}')) THEN
                    errs := errs || jsonb_build_object('path', format('$.relevant.evidence_ids[%s]', i),
                                                       'reason', 'not an evidence edge of the tenant');
                END IF;
            END LOOP;
        END IF;
    END IF;

    -- time_bound ------------------------------------------------------------
    IF jsonb_typeof(tb) IS DISTINCT FROM 'object' THEN
        errs := errs || jsonb_build_object('path', '$.time_bound', 'reason', 'must be an object');
        tb := '{}';
    END IF;
    d_start := public.goal_try_date(tb ->> 'start_date');
    d_target := public.goal_try_date(tb ->> 'target_date');
    IF d_start IS NULL THEN
        errs := errs || jsonb_build_object('path', '$.time_bound.start_date', 'reason', 'a date YYYY-MM-DD is required');
    END IF;
    IF d_target IS NULL THEN
        errs := errs || jsonb_build_object('path', '$.time_bound.target_date', 'reason', 'a date YYYY-MM-DD is required');
    ELSIF d_start IS NOT NULL AND d_start >= d_target THEN
        errs := errs || jsonb_build_object('path', '$.time_bound.target_date', 'reason', 'must be after start_date');
    END IF;
    IF tb ? 'milestones' THEN
        IF jsonb_typeof(tb -> 'milestones') <> 'array' THEN
            errs := errs || jsonb_build_object('path', '$.time_bound.milestones', 'reason', 'must be an array');
        ELSE
            FOR i IN 0 .. jsonb_array_length(tb -> 'milestones') - 1 LOOP
                v := tb -> 'milestones' -> i;
                d := CASE WHEN jsonb_typeof(v) = 'object' THEN public.goal_try_date(v ->> 'date') END;
                IF d IS NULL THEN
                    errs := errs || jsonb_build_object('path', format('$.time_bound.milestones[%s].date', i),
                                                       'reason', 'a date YYYY-MM-DD is required');
                    CONTINUE;
                END IF;
                IF (d_start IS NOT NULL AND d < d_start) OR (d_target IS NOT NULL AND d > d_target) THEN
                    errs := errs || jsonb_build_object('path', format('$.time_bound.milestones[%s].date', i),
                                                       'reason', 'outside start_date .. target_date');
                ELSIF d_prev IS NOT NULL AND d < d_prev THEN
                    errs := errs || jsonb_build_object('path', format('$.time_bound.milestones[%s].date', i),
                                                       'reason', 'before the previous milestone');
                END IF;
                d_prev := d;
            END LOOP;
        END IF;
    END IF;
    RETURN errs;
END
$$;

CREATE FUNCTION public.goal_validate(goal uuid) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT public.goal_validate(to_jsonb(g)) FROM public.smart_goals g WHERE g.id = $1
$$;

-- ---------------------------------------------------------------------------
-- goal_transition: lock the goal, check the action against the rules and
-- (leaving draft) the SMART parts, change the status, write the audit t.
-- Returns the audit row as jsonb. SECURITY DEFINER so that the audit table
-- needs no INSERT grant; FORCE RLS still confines it to the current tenant.
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.goal_transition(goal uuid, action text, reason text, actor uuid)
    RETURNS jsonb
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur   text;
    nxt   text;
    errs  jsonb;
    t     public.goal_transitions;
BEGIN
    SELECT g.status INTO cur FROM public.smart_goals g WHERE g.id = goal FOR UPDATE;
    IF cur IS NULL THEN
        RAISE EXCEPTION 'no such goal' USING ERRCODE = 'P0002';
    END IF;
    IF action IS NULL OR action NOT IN ('activate', 'mark_on_track', 'mark_at_risk',
                                        'complete', 'abandon', 'reopen') THEN
        RAISE EXCEPTION 'unknown action %', coalesce(quote_literal(action), 'NULL')
            USING ERRCODE = '22023',
                  DETAIL = jsonb_build_object('goal_status', cur, 'action', action,
                                              'allowed', public.goal_allowed_actions(cur))::text;
    END IF;
    SELECT r.to_status INTO nxt FROM public.goal_transition_rules r
     WHERE r.from_status = cur AND r.action = goal_transition.action;
    IF nxt IS NULL THEN
        RAISE EXCEPTION 'a goal in status % does not allow the action %', cur, action
            USING ERRCODE = 'TL001',
                  DETAIL = jsonb_build_object('goal_status', cur, 'action', action,
                                              'allowed', public.goal_allowed_actions(cur))::text;
    END IF;
    IF action = 'abandon' AND coalesce(btrim(reason), '') = '' THEN
        RAISE EXCEPTION 'abandoning a goal requires a reason'
            USING ERRCODE = 'TL002',
                  DETAIL = '[{"path": "$.reason", "reason": "required to abandon a goal"}]';
    END IF;
    IF cur = 'draft' AND nxt <> 'abandoned' THEN
        errs := public.goal_validate(goal);
        IF jsonb_array_length(errs) > 0 THEN
            RAISE EXCEPTION 'the goal is not valid: % problem(s)', jsonb_array_length(errs)
                USING ERRCODE = 'TL002', DETAIL = errs::text;
        END IF;
    END IF;

    PERFORM set_config('telos.goal_transition', 'on', true);
    UPDATE public.smart_goals g SET status = nxt WHERE g.id = goal;
    PERFORM set_config('telos.goal_transition', '', true);

    INSERT INTO public.goal_transitions (tenant_id, goal_id, action, from_status, to_status, reason, actor)
    VALUES (nullif(current_setting('app.current_tenant_id', true), '')::uuid, goal,
            goal_transition.action, cur, nxt, nullif(btrim(reason), ''), actor)
    RETURNING * INTO t;
    RETURN jsonb_build_object('id', t.id, 'goal_id', t.goal_id, 'action', t.action,
                              'from', t.from_status, 'to', t.to_status,
                              'reason', t.reason, 'actor', t.actor, 'at', t.at);
END
$$;
REVOKE ALL ON FUNCTION public.goal_transition(uuid, text, text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.goal_transition(uuid, text, text, uuid) TO telos_app, telos_worker;

-- ---------------------------------------------------------------------------
-- goal_patch: partial update of the SMART parts and the action plan. Each
-- part in the patch is merged key by key into the stored one (a null value
-- removes the key); action_plan is replaced. Allowed while the goal is not
-- completed or abandoned (TL001, reopen first); a goal past draft must stay
-- valid (TL002). Returns nothing; the caller reads the goal back.
-- ---------------------------------------------------------------------------
CREATE FUNCTION public.goal_patch(goal uuid, patch jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    g     public.smart_goals;
    part  text;
    errs  jsonb;
    merged jsonb;
BEGIN
    SELECT * INTO g FROM public.smart_goals s WHERE s.id = goal FOR UPDATE;
    IF g.id IS NULL THEN
        RAISE EXCEPTION 'no such goal' USING ERRCODE = 'P0002';
    END IF;
    IF g.status IN ('completed', 'abandoned') THEN
        RAISE EXCEPTION 'a goal in status % cannot be changed', g.status
            USING ERRCODE = 'TL001',
                  DETAIL = jsonb_build_object('goal_status', g.status, 'action', NULL,
                                              'allowed', public.goal_allowed_actions(g.status))::text;
    END IF;
    merged := to_jsonb(g);
    FOREACH part IN ARRAY ARRAY['specific', 'measurable', 'achievable', 'relevant', 'time_bound'] LOOP
        IF patch ? part THEN
            merged := jsonb_set(merged, ARRAY[part],
                (SELECT coalesce(jsonb_object_agg(key, value), '{}')
                   FROM jsonb_each((merged -> part) || (patch -> part))
                  WHERE jsonb_typeof(value) <> 'null'));
        END IF;
    END LOOP;
    IF patch ? 'action_plan' THEN
        merged := jsonb_set(merged, '{action_plan}', patch -> 'action_plan');
    END IF;
    IF g.status <> 'draft' THEN
        errs := public.goal_validate(merged);
        IF jsonb_array_length(errs) > 0 THEN
            RAISE EXCEPTION 'the goal would not be valid: % problem(s)', jsonb_array_length(errs)
                USING ERRCODE = 'TL002', DETAIL = errs::text;
        END IF;
    END IF;
    UPDATE public.smart_goals s
       SET specific = merged -> 'specific', measurable = merged -> 'measurable',
           achievable = merged -> 'achievable', relevant = merged -> 'relevant',
           time_bound = merged -> 'time_bound', action_plan = merged -> 'action_plan'
     WHERE s.id = goal;
END
$$;
REVOKE ALL ON FUNCTION public.goal_patch(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.goal_patch(uuid, jsonb) TO telos_app, telos_worker;
GRANT EXECUTE ON FUNCTION public.goal_validate(jsonb), public.goal_validate(uuid),
                          public.goal_allowed_actions(text), public.goal_try_date(text)
    TO telos_app, telos_worker;
