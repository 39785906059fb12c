-- 0003_goals_sessions.sql -- evidence graph (JSONB edges), SMART goals,
-- coaching sessions. One transaction, run as telos_owner.

-- ---------------------------------------------------------------------------
-- evidence_edges: the seed's JSONB alternative to Apache AGE.
-- A node is an object {type, id, ...}; type is one of the seed's node kinds
-- (MetricNode, EventNode, GoalNode, ExternalFactorNode).
-- ---------------------------------------------------------------------------
CREATE TABLE public.evidence_edges (
    tenant_id   uuid         NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id          uuid         NOT NULL DEFAULT gen_random_uuid(),
    source_node jsonb        NOT NULL,
    target_node jsonb        NOT NULL,
    edge_type   text         NOT NULL
                             CHECK (edge_type IN ('causes', 'correlates', 'inhibits', 'supports', 'influenced_by')),
    confidence  numeric(3,2) CHECK (confidence BETWEEN 0 AND 1),
    -- {method: "granger_causality", p_value: 0.03, ...}
    evidence    jsonb        CHECK (evidence IS NULL OR jsonb_typeof(evidence) = 'object'),
    created_at  timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT evidence_edges_source_node_check CHECK (
        jsonb_typeof(source_node) = 'object'
        AND source_node ->> 'type' IN ('metric', 'event', 'goal', 'external_factor')
        AND source_node ? 'id'),
    CONSTRAINT evidence_edges_target_node_check CHECK (
        jsonb_typeof(target_node) = 'object'
        AND target_node ->> 'type' IN ('metric', 'event', 'goal', 'external_factor')
        AND target_node ? 'id')
);
-- The seed's idx_evidence_tenant on (tenant_id) alone duplicates the primary
-- key's leading column; widened to the common "edges of this kind" filter.
CREATE INDEX idx_evidence_tenant ON public.evidence_edges (tenant_id, edge_type);
-- Containment lookups: source_node @> '{"type":"metric","id":"revenue"}'.
-- jsonb_path_ops: smaller and faster for @>, the only operator we query with.
CREATE INDEX idx_evidence_graph ON public.evidence_edges
    USING gin (source_node jsonb_path_ops, target_node jsonb_path_ops);

ALTER TABLE public.evidence_edges ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.evidence_edges FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.evidence_edges
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.evidence_edges TO telos_app;

-- ---------------------------------------------------------------------------
-- smart_goals
-- ---------------------------------------------------------------------------
CREATE TABLE public.smart_goals (
    tenant_id   uuid  NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id          uuid  NOT NULL DEFAULT gen_random_uuid(),
    user_id     uuid  NOT NULL,
    status      text  NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'active', 'on_track', 'at_risk', 'completed', 'abandoned')),

    -- SMART components (JSONB for flexibility)
    specific    jsonb NOT NULL CHECK (jsonb_typeof(specific) = 'object'),   -- {description, focus_area, owner}
    measurable  jsonb NOT NULL CHECK (jsonb_typeof(measurable) = 'object'), -- {primary_metric_id, target_value, current_value, unit}
    achievable  jsonb NOT NULL CHECK (jsonb_typeof(achievable) = 'object'), -- {feasibility_score, reasoning, resources_required}
    relevant    jsonb NOT NULL CHECK (jsonb_typeof(relevant) = 'object'),   -- {aligned_metrics[], business_impact, evidence_ids[]}
    time_bound  jsonb NOT NULL CHECK (jsonb_typeof(time_bound) = 'object'), -- {start_date, target_date, milestones[]}

    -- Execution
    action_plan jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(action_plan) = 'array'), -- [{task, assigned_to, due_date, status}]
    workflow_id text,                                                                   -- orchestration workflow id

    -- AI coaching
    coaching_session_ids uuid[] NOT NULL DEFAULT '{}',
    ai_recommendations   jsonb  NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(ai_recommendations) = 'array'),

    -- Progress tracking
    check_ins   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(check_ins) = 'array'), -- [{timestamp, progress_pct, notes, ai_insights}]

    -- Evaluation
    outcome_metrics jsonb CHECK (outcome_metrics IS NULL OR jsonb_typeof(outcome_metrics) = 'object'), -- {target_achieved, final_value, completion_rate}

    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),

    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id),
    -- target_date is a business day, 'YYYY-MM-DD': then text order is date
    -- order, which the text expression index below relies on. The cast
    -- rejects impossible dates such as 2025-02-30.
    CONSTRAINT smart_goals_target_date_check CHECK (
        time_bound ->> 'target_date' IS NULL
        OR (time_bound ->> 'target_date' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
            AND (time_bound ->> 'target_date')::date IS NOT NULL))
);
CREATE TRIGGER smart_goals_touch
    BEFORE UPDATE ON public.smart_goals
    FOR EACH ROW EXECUTE FUNCTION public.touch_updated_at();

CREATE INDEX idx_goals_tenant_status ON public.smart_goals (tenant_id, status);
-- ->> yields text, so the expression is immutable and indexable. tenant_id
-- leads because RLS adds "tenant_id = X" to every query.
CREATE INDEX idx_goals_target_date ON public.smart_goals (tenant_id, (time_bound ->> 'target_date'));
-- measurable @> '{"primary_metric_id": "..."}'
CREATE INDEX idx_goals_metric ON public.smart_goals USING gin (measurable jsonb_path_ops);
-- "goals of this user", and the FK check when a user is deleted.
CREATE INDEX idx_goals_user ON public.smart_goals (tenant_id, user_id);

ALTER TABLE public.smart_goals ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.smart_goals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.smart_goals
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.smart_goals TO telos_app;

-- ---------------------------------------------------------------------------
-- coaching_sessions. session_embedding and its ivfflat index are added by a
-- later migration together with the vector extension.
-- ---------------------------------------------------------------------------
CREATE TABLE public.coaching_sessions (
    tenant_id    uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL,
    session_type text NOT NULL
                      CHECK (session_type IN ('goal_discovery', 'progress_review', 'problem_solving')),

    -- Conversation
    messages          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(messages) = 'array'), -- [{role, content, timestamp, metadata}]

    -- Semantic search
    session_summary   text,

    -- Context retrieval
    retrieved_context jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(retrieved_context) = 'array'), -- [{type, item_id, relevance_score}]

    -- Outcomes
    generated_goal_ids uuid[] NOT NULL DEFAULT '{}',
    key_insights       text[] NOT NULL DEFAULT '{}',

    -- Quality metrics
    user_satisfaction jsonb CHECK (user_satisfaction IS NULL OR jsonb_typeof(user_satisfaction) = 'object'), -- {helpfulness, clarity, actionability, feedback}

    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz CHECK (ended_at >= started_at),

    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES public.users (tenant_id, id)
);
-- "sessions of this user, newest first", and the FK check on user delete.
CREATE INDEX idx_sessions_user ON public.coaching_sessions (tenant_id, user_id, started_at DESC);

ALTER TABLE public.coaching_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.coaching_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.coaching_sessions
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON public.coaching_sessions TO telos_app;
