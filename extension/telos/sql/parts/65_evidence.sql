/* 65_evidence.sql -- automatic causal discovery between a tenant's metrics (since 0.3.0). */

/*
 * telos.discover_evidence -- test every ordered pair of a tenant's metrics
 * for Granger causality and lagged correlation, and say what was found.
 *
 * The engine computes; it writes nothing. It knows the metrics through the
 * rollup policy (telos.rollup_policy: the definitions relation, the
 * tenant's time-zone function, metric_series over the rollups), but the
 * evidence graph is the application's table, so storing the findings --
 * stable edge identity, retirement, history -- is the application's
 * migration (public.discover_evidence in schema/0012_evidence.sql). See
 * docs/evidence.md for the method; in short:
 *
 * 1. Calendar: the tenant's complete buckets of the width asked for
 *    (hour: UTC hours of the last 90 days; day: local days of the last
 *    3 years; month: local months of the last 10 years), the current,
 *    incomplete bucket excluded. data_as_of is the end of the last one.
 * 2. The metrics: those named, else every metric of the tenant's
 *    definitions without a formula (a derived metric is arithmetic of its
 *    inputs, not evidence about them). Each metric's values on that
 *    calendar (telos.metric_series). Its span
 *    runs from its first to its last bucket with a value. Gap rule: a
 *    missing bucket inside the span is filled by linear interpolation
 *    between its neighbours if the run of missing buckets is at most 3
 *    long and all gaps together are at most 10% of the span; otherwise the
 *    metric is skipped ('gaps'). No data, a constant series, or an ADF test
 *    that fails also skip the metric, with the reason.
 * 3. Stationarity: while the ADF test (telos.adf, constant, AIC lag) does
 *    not reject a unit root at 5%, the series is differenced, at most twice.
 * 4. Each pair of metrics is aligned on the intersection of their
 *    (differenced) spans; fewer than 4 * maxlag + 10 common buckets skips
 *    the pair with its n. telos.granger_pairs tests both directions with the
 *    lag chosen by BIC among 1..maxlag; telos.lagged_corr tests
 *    corr(x[t], y[t + lag]) at that lag.
 * 5. Benjamini-Hochberg q-values over every test of the run (Granger and
 *    correlation, both directions, all pairs). Significant (q <= fdr):
 *    Granger -> 'causes' when the sum of x's lag coefficients is positive,
 *    'inhibits' when negative; else a significant correlation ->
 *    'correlates'.
 * External factors (factors: {"name": [{"from", "to", "value"}, ...]}, e.g.
 * economic indicators) join the metrics as series -- each bucket takes the
 * value of the period its start falls in -- but are tested only as drivers
 * of metrics, never as targets nor against each other.
 *
 * 6. confidence = round(0.5 * (1 - q) + 0.5 * sqrt(effect), 2), effect the
 *    partial R^2 of x's lags, F*df_num / (F*df_num + df_denom), for
 *    Granger, and r^2 for a correlation.
 *
 * One row per test (status 'significant' or 'not_significant'), per
 * Granger test that a correlation row supersedes ('superseded' on the
 * correlation), per skipped pair (status 'skipped', method NULL) and per
 * skipped metric (target NULL). SECURITY INVOKER: row-level security of
 * the rollups applies, so a request sees only its own tenant.
 */
/* A row of telos.granger_pairs, kept between the two stages of discovery. */
CREATE TYPE telos.evidence_granger_row AS (x_idx int, y_idx int, lag int, f_stat float8,
										   p_value float8, df_num int, df_denom int,
										   coef_sum float8, n int);

CREATE FUNCTION telos.discover_evidence(tenant uuid, bucket text DEFAULT 'day',
										maxlag integer DEFAULT 7,
										fdr float8 DEFAULT 0.05,
										metrics text[] DEFAULT NULL,
										raw regclass DEFAULT NULL,
										factors jsonb DEFAULT NULL)
	RETURNS TABLE (source text, target text, method text, edge_type text,
				   confidence numeric, p_value float8, q_value float8,
				   evidence jsonb, status text, reason text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pol			record;
	tz			text;
	depth		interval;
	lo			timestamptz;
	hi			timestamptz;
	cal			timestamptz[];
	ncal		integer;
	names		text[];
	m			text;
	vals		float8[];
	first_i		integer;
	last_i		integer;
	gaps		integer;
	run			integer;
	maxrun		integer;
	a			integer;
	b			integer;
	k			integer;
	d			integer;
	adf_p		float8;
	min_n		integer := 4 * maxlag + 10;
	-- prepared metrics: name, first bucket (calendar index), length, and
	-- offset of its values in pool, all the series one after the other
	-- (PL/pgSQL has no arrays of arrays of different lengths; slices of
	-- one flat array are cheap)
	ok_names	text[] := '{}';
	ok_start	integer[] := '{}';
	ok_len		integer[] := '{}';
	ok_off		integer[] := '{}';
	ok_diff		integer[] := '{}';
	ok_factor	boolean[] := '{}';	-- an external factor: only a driver
	n_metrics	integer;
	mi			integer;
	pool		float8[] := '{}';
	i			integer;
	j			integer;
	s			integer;
	e			integer;
	x			float8[];
	y			float8[];
	g			telos.evidence_granger_row;
	c_r			float8[];	-- all the lagged correlations: r, p-value, n
	c_p			float8[];
	c_n			integer[];
	cr			float8;		-- one lagged correlation: r, p-value, n
	cp			float8;
	cn			integer;
	-- the tests of the run, in parallel arrays
	t_src		text[] := '{}';
	t_tgt		text[] := '{}';
	t_meth		text[] := '{}';
	t_p			float8[] := '{}';
	t_effect	float8[] := '{}';
	t_sign		float8[] := '{}';
	t_ev		jsonb[] := '{}';
	q			float8[];
	sig			boolean[];
	n_tests		integer;
	ev_window	jsonb;		-- the current pair's window
	ev_diff		jsonb;
	nok			integer;
	base		integer;
	batched		boolean := false;
	-- the Granger tests: metric indexes, span, the granger_pairs row
	gr_x		integer[] := '{}';
	gr_y		integer[] := '{}';
	gr_s		integer[] := '{}';
	gr_e		integer[] := '{}';
	gr_row		telos.evidence_granger_row[] := '{}';
	gr_lag		integer[] := '{}';
BEGIN
	IF tenant IS NULL THEN
		RAISE EXCEPTION 'tenant must not be null' USING ERRCODE = '22004';
	END IF;
	IF bucket IS NULL OR bucket NOT IN ('hour', 'day', 'month') THEN
		RAISE EXCEPTION 'invalid bucket width "%"', bucket USING ERRCODE = '22023',
			HINT = 'use hour, day or month';
	END IF;
	IF maxlag IS NULL OR maxlag < 1 OR maxlag > 52 THEN
		RAISE EXCEPTION 'maxlag must be between 1 and 52' USING ERRCODE = '22023';
	END IF;
	IF fdr IS NULL OR NOT (fdr > 0 AND fdr < 1) THEN
		RAISE EXCEPTION 'fdr must be between 0 and 1 (exclusive)' USING ERRCODE = '22023';
	END IF;

	IF raw IS NULL THEN
		IF (SELECT count(*) FROM telos.rollup_policy) <> 1 THEN
			RAISE EXCEPTION 'cannot choose a rollup policy' USING ERRCODE = '22023',
				DETAIL = format('%s rollup policies exist', (SELECT count(*) FROM telos.rollup_policy)),
				HINT = 'pass raw => the raw table of the metrics';
		END IF;
		SELECT * INTO pol FROM telos.rollup_policy;
	ELSE
		SELECT * INTO pol FROM telos.rollup_policy p WHERE p.raw = discover_evidence.raw;
		IF NOT FOUND THEN
			RAISE EXCEPTION '% has no rollup policy', raw USING ERRCODE = '42704';
		END IF;
	END IF;
	EXECUTE format('SELECT %s($1)', pol.timezone_fn::oid::regproc) INTO tz USING tenant;
	tz := coalesce(tz, 'UTC');

	-- 1. The calendar of complete buckets.
	depth := CASE bucket WHEN 'hour' THEN interval '90 days'
						 WHEN 'day' THEN interval '3 years'
						 ELSE interval '10 years' END;
	IF bucket = 'hour' THEN
		hi := date_trunc('hour', now(), 'UTC');		-- hour buckets are UTC hours
		cal := ARRAY(SELECT generate_series(date_trunc('hour', now() - depth, 'UTC'), hi - interval '1 hour',
											interval '1 hour'));
	ELSE
		hi := date_trunc(bucket, now() AT TIME ZONE tz) AT TIME ZONE tz;
		cal := ARRAY(SELECT t AT TIME ZONE tz
					   FROM generate_series(date_trunc(bucket, (now() - depth) AT TIME ZONE tz),
											date_trunc(bucket, now() AT TIME ZONE tz)
												- ('1 ' || bucket)::interval,
											('1 ' || bucket)::interval) AS t);
	END IF;
	ncal := cardinality(cal);
	lo := cal[1];

	-- 2. The metrics.
	IF metrics IS NULL THEN
		-- Derived metrics are functions of the metrics they name: an edge
		-- between one and its inputs would be arithmetic, not evidence.
		-- They are tested only when named in metrics.
		EXECUTE format('SELECT array_agg(metric_type ORDER BY metric_type) FROM %s '
					   'WHERE tenant_id = $1 AND calculation_formula IS NULL',
					   pol.definitions) INTO names USING tenant;
	ELSE
		names := ARRAY(SELECT DISTINCT u FROM unnest(metrics) u WHERE u IS NOT NULL ORDER BY u);
	END IF;
	names := coalesce(names, '{}');
	-- External factors: series given by the caller, named by the keys of
	-- factors, tested only as drivers (factor -> metric).
	IF factors IS NOT NULL THEN
		IF jsonb_typeof(factors) <> 'object' THEN
			RAISE EXCEPTION 'factors must be a JSON object of series' USING ERRCODE = '22023',
				HINT = '{"name": [{"from": timestamptz, "to": timestamptz, "value": number}, ...]}';
		END IF;
		n_metrics := cardinality(names);
		names := names || ARRAY(SELECT fk FROM jsonb_object_keys(factors) fk ORDER BY fk);
	END IF;
	n_metrics := coalesce(n_metrics, cardinality(names));

	FOR mi IN 1..cardinality(names) LOOP
		m := names[mi];
		-- (query aliases must not be PL/pgSQL variable names)
		IF mi <= n_metrics THEN
			vals := ARRAY(SELECT ser.value
							FROM unnest(cal) WITH ORDINALITY AS cb(b, o)
							LEFT JOIN telos.metric_series(tenant, m, lo, hi, bucket, pol.raw) AS ser
								   ON ser.bucket = cb.b
						   ORDER BY cb.o);
		ELSE
			-- a factor's value holds over its period [from, to): each bucket
			-- takes the value of the period its start falls in
			IF jsonb_typeof(factors -> m) <> 'array' THEN
				RAISE EXCEPTION 'factor "%" must be an array of periods', m USING ERRCODE = '22023';
			END IF;
			vals := ARRAY(WITH per AS MATERIALIZED (
								SELECT (fp ->> 'from')::timestamptz AS f0,
									   (fp ->> 'to')::timestamptz AS t0,
									   (fp ->> 'value')::float8 AS v
								  FROM jsonb_array_elements(factors -> m) fp)
						  SELECT (SELECT per.v FROM per WHERE per.f0 <= cb.b AND cb.b < per.t0
								   ORDER BY per.f0 DESC LIMIT 1)
							FROM unnest(cal) WITH ORDINALITY AS cb(b, o)
						   ORDER BY cb.o);
		END IF;
		first_i := NULL;
		last_i := NULL;
		FOR k IN 1..ncal LOOP
			IF vals[k] IS NOT NULL AND vals[k] NOT IN ('NaN', 'Infinity', '-Infinity') THEN
				first_i := coalesce(first_i, k);
				last_i := k;
			ELSE
				vals[k] := NULL;
			END IF;
		END LOOP;
		IF first_i IS NULL THEN
			source := m; status := 'skipped'; reason := 'no data in the window';
			RETURN NEXT;
			CONTINUE;
		END IF;
		-- the gap rule
		gaps := 0; run := 0; maxrun := 0;
		FOR k IN first_i..last_i LOOP
			IF vals[k] IS NULL THEN
				gaps := gaps + 1; run := run + 1; maxrun := greatest(maxrun, run);
			ELSE
				run := 0;
			END IF;
		END LOOP;
		IF maxrun > 3 OR gaps > 0.1 * (last_i - first_i + 1) THEN
			source := m; status := 'skipped';
			reason := format('gaps: %s of %s buckets missing, longest run %s (at most 10%% and 3 allowed)',
							 gaps, last_i - first_i + 1, maxrun);
			RETURN NEXT;
			CONTINUE;
		END IF;
		IF gaps > 0 THEN
			a := NULL;
			FOR k IN first_i..last_i LOOP
				IF vals[k] IS NOT NULL THEN
					IF a IS NOT NULL AND k - a > 1 THEN
						FOR b IN a + 1..k - 1 LOOP
							vals[b] := vals[a] + (vals[k] - vals[a]) * (b - a) / (k - a);
						END LOOP;
					END IF;
					a := k;
				END IF;
			END LOOP;
		END IF;
		x := vals[first_i:last_i];
		-- 3. stationarity
		d := 0;
		BEGIN
			LOOP
				IF (SELECT min(xv) = max(xv) FROM unnest(x) xv) THEN
					RAISE EXCEPTION 'constant series' USING ERRCODE = '22023';
				END IF;
				SELECT r.p_value INTO adf_p FROM telos.adf(x) r;
				EXIT WHEN adf_p <= 0.05 OR d = 2;
				x := ARRAY(SELECT x[gi] - x[gi - 1] FROM generate_series(2, cardinality(x)) gi ORDER BY gi);
				d := d + 1;
			END LOOP;
		EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
			source := m; status := 'skipped'; reason := SQLERRM;
			RETURN NEXT;
			CONTINUE;
		END;
		ok_names := ok_names || m;
		ok_factor := ok_factor || (mi > n_metrics);
		ok_start := ok_start || (first_i + d);
		ok_len := ok_len || cardinality(x);
		ok_off := ok_off || (cardinality(pool) + 1);
		pool := pool || x;
		ok_diff := ok_diff || d;
	END LOOP;

	-- 4a. Granger tests. All metrics on one span (the usual case): one
	-- telos.granger_pairs call over the whole matrix (one Gram matrix per
	-- pair, see 60_stats.sql); otherwise, or if that call fails on some
	-- pair, pair by pair on each pair's common span.
	nok := cardinality(ok_names);
	IF nok >= 2
	   AND (SELECT count(DISTINCT u.st) = 1 AND count(DISTINCT u.ln) = 1
			  FROM unnest(ok_start, ok_len) AS u(st, ln))
	   AND ok_len[1] >= min_n THEN
		BEGIN
			FOR g IN SELECT * FROM telos.granger_pairs(pool, nok, maxlag, 'bic')
					  ORDER BY x_idx, y_idx LOOP
				base := coalesce(base, g.x_idx);	-- the first row is series 1 -> 2
				CONTINUE WHEN ok_factor[g.y_idx - base + 1];	-- nothing drives a factor
				gr_x := gr_x || (g.x_idx - base + 1);
				gr_y := gr_y || (g.y_idx - base + 1);
				gr_row := gr_row || g;
				gr_lag := gr_lag || g.lag;
				gr_s := gr_s || ok_start[1];
				gr_e := gr_e || (ok_start[1] + ok_len[1] - 1);
			END LOOP;
			batched := true;
		EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
			gr_x := '{}'; gr_y := '{}'; gr_row := '{}'; gr_lag := '{}'; gr_s := '{}'; gr_e := '{}';
		END;
	END IF;
	FOR i IN 1..nok LOOP
		EXIT WHEN batched;
		FOR j IN i + 1..nok LOOP
			CONTINUE WHEN ok_factor[i] AND ok_factor[j];
			s := greatest(ok_start[i], ok_start[j]);
			e := least(ok_start[i] + ok_len[i] - 1, ok_start[j] + ok_len[j] - 1);
			IF e - s + 1 < min_n THEN
				FOR k IN 0..1 LOOP
					CONTINUE WHEN ok_factor[CASE k WHEN 0 THEN j ELSE i END];
					source := CASE k WHEN 0 THEN ok_names[i] ELSE ok_names[j] END;
					target := CASE k WHEN 0 THEN ok_names[j] ELSE ok_names[i] END;
					status := 'skipped';
					reason := format('too few common buckets: %s (at least %s for maxlag %s)',
									 greatest(e - s + 1, 0), min_n, maxlag);
					RETURN NEXT;
				END LOOP;
				source := NULL; target := NULL; status := NULL; reason := NULL;
				CONTINUE;
			END IF;
			x := pool[ok_off[i] + s - ok_start[i] : ok_off[i] + e - ok_start[i]];
			y := pool[ok_off[j] + s - ok_start[j] : ok_off[j] + e - ok_start[j]];
			BEGIN
				FOR g IN SELECT * FROM telos.granger_pairs(x || y, 2, maxlag, 'bic')
						  ORDER BY x_idx, y_idx LOOP
					-- x (metric i) is the first row: x_idx < y_idx means i -> j
					CONTINUE WHEN ok_factor[CASE WHEN g.x_idx < g.y_idx THEN j ELSE i END];
					gr_x := gr_x || CASE WHEN g.x_idx < g.y_idx THEN i ELSE j END;
					gr_y := gr_y || CASE WHEN g.x_idx < g.y_idx THEN j ELSE i END;
					gr_row := gr_row || g;
					gr_lag := gr_lag || g.lag;
					gr_s := gr_s || s;
					gr_e := gr_e || e;
				END LOOP;
			EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
				FOR k IN 0..1 LOOP
					CONTINUE WHEN ok_factor[CASE k WHEN 0 THEN j ELSE i END];
					source := CASE k WHEN 0 THEN ok_names[i] ELSE ok_names[j] END;
					target := CASE k WHEN 0 THEN ok_names[j] ELSE ok_names[i] END;
					status := 'skipped'; reason := SQLERRM;
					RETURN NEXT;
				END LOOP;
				source := NULL; target := NULL; status := NULL; reason := NULL;
			END;
		END LOOP;
	END LOOP;

	-- 4b. Each Granger test and the lagged correlation at its lag. The
	-- correlations first, in one statement: each metric's series cut out
	-- of pool once (a slice of the whole pool per test would copy it each
	-- time), then every test on its pair's span. If one of them fails,
	-- they are redone test by test below, each in an exception block.
	BEGIN
		WITH ser AS MATERIALIZED (
				SELECT u.o AS idx, u.st, pool[u.off : u.off + u.len - 1] AS v
				  FROM unnest(ok_off, ok_len, ok_start) WITH ORDINALITY AS u(off, len, st, o)),
			 t AS (SELECT * FROM unnest(gr_x, gr_y, gr_s, gr_e, gr_lag)
								 WITH ORDINALITY AS u(xi, yi, s0, e0, l0, o))
		SELECT array_agg(lc.r ORDER BY t.o), array_agg(lc.p_value ORDER BY t.o),
			   array_agg(lc.n ORDER BY t.o)
		  INTO c_r, c_p, c_n
		  FROM t JOIN ser sx ON sx.idx = t.xi JOIN ser sy ON sy.idx = t.yi,
			   LATERAL telos.lagged_corr(sx.v[t.s0 - sx.st + 1 : t.e0 - sx.st + 1],
										 sy.v[t.s0 - sy.st + 1 : t.e0 - sy.st + 1], t.l0) AS lc;
	EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
		c_r := NULL; c_p := NULL; c_n := NULL;
	END;
	FOR k IN 1..cardinality(gr_x) LOOP
		i := gr_x[k];
		j := gr_y[k];
		s := gr_s[k];
		e := gr_e[k];
		g := gr_row[k];
		-- the pair's window: its first bucket to the end of its last
		ev_window := jsonb_build_object('from', cal[s],
			'to', CASE WHEN e < ncal THEN cal[e + 1] ELSE hi END,
			'bucket', bucket, 'time_zone', tz);
		ev_diff := jsonb_build_object(ok_names[i], ok_diff[i], ok_names[j], ok_diff[j]);
		t_src := t_src || ok_names[i];
		t_tgt := t_tgt || ok_names[j];
		t_meth := t_meth || 'granger_causality'::text;
		t_p := t_p || g.p_value;
		t_effect := t_effect || (g.f_stat * g.df_num / (g.f_stat * g.df_num + g.df_denom));
		t_sign := t_sign || g.coef_sum;
		t_ev := t_ev || jsonb_build_object(
			'method', 'granger_causality', 'p_value', g.p_value, 'lag', g.lag,
			'f_stat', g.f_stat, 'df_num', g.df_num, 'df_denom', g.df_denom,
			'coef_sum', g.coef_sum, 'n', g.n, 'lag_selection', 'bic',
			'window', ev_window, 'differencing', ev_diff);
		IF c_p IS NOT NULL THEN
			cr := c_r[k]; cp := c_p[k]; cn := c_n[k];
		ELSE
			x := pool[ok_off[i] + s - ok_start[i] : ok_off[i] + e - ok_start[i]];
			y := pool[ok_off[j] + s - ok_start[j] : ok_off[j] + e - ok_start[j]];
			BEGIN
				SELECT lc.r, lc.p_value, lc.n INTO cr, cp, cn FROM telos.lagged_corr(x, y, g.lag) AS lc;
			EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
				cr := NULL; cp := NULL; cn := NULL;
			END;
		END IF;
		-- an undefined correlation is recorded as p = 1 (never significant)
		t_src := t_src || ok_names[i];
		t_tgt := t_tgt || ok_names[j];
		t_meth := t_meth || 'lagged_correlation'::text;
		t_p := t_p || coalesce(cp, 1);
		t_effect := t_effect || coalesce(cr * cr, 0);
		t_sign := t_sign || coalesce(cr, 0);
		t_ev := t_ev || jsonb_build_object(
			'method', 'lagged_correlation', 'p_value', cp, 'lag', g.lag,
			'r', cr, 'n', cn, 'window', ev_window, 'differencing', ev_diff);
	END LOOP;

	-- 5. false discovery rate over the whole run
	n_tests := cardinality(t_p);
	IF n_tests = 0 THEN
		RETURN;
	END IF;
	q := telos.bh_qvalues(t_p);
	sig := ARRAY(SELECT q[gi] <= fdr FROM generate_series(1, n_tests) gi ORDER BY gi);
	FOR k IN 1..n_tests LOOP
		source := t_src[k];
		target := t_tgt[k];
		method := t_meth[k];
		p_value := t_p[k];
		q_value := q[k];
		reason := NULL;
		confidence := round((0.5 * (1 - q[k]) + 0.5 * sqrt(greatest(t_effect[k], 0)))::numeric, 2);
		edge_type := NULL;
		IF method = 'granger_causality' THEN
			status := CASE WHEN sig[k] THEN 'significant' ELSE 'not_significant' END;
			IF sig[k] THEN
				edge_type := CASE WHEN t_sign[k] >= 0 THEN 'causes' ELSE 'inhibits' END;
			END IF;
		ELSE
			-- the correlation row follows its Granger row (k - 1)
			IF sig[k - 1] THEN
				status := 'superseded';
				reason := 'Granger test of the same direction is significant';
			ELSE
				status := CASE WHEN sig[k] THEN 'significant' ELSE 'not_significant' END;
				IF sig[k] THEN
					edge_type := 'correlates';
				END IF;
			END IF;
		END IF;
		evidence := t_ev[k] || jsonb_build_object(
			'q_value', q[k], 'fdr', fdr, 'tests_in_run', n_tests,
			'direction', t_src[k] || ' -> ' || t_tgt[k], 'data_as_of', hi);
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION telos.discover_evidence(uuid, text, integer, float8, text[], regclass, jsonb) IS
	'Granger causality and lagged correlation between every pair of a tenant''s metrics, with BH FDR control; returns the findings, writes nothing';
