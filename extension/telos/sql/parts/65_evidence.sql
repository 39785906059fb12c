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
 *    lag chosen by BIC among 1..maxlag; telos.corr_pairs tests
 *    corr(x[t], y[t + lag]) at that lag of the series prewhitened by their
 *    own AR models (order by BIC up to maxlag): the plain Pearson p-value
 *    of autocorrelated series is far too small (docs/evidence.md). When
 *    all spans agree to two buckets, each is one call over all pairs.
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
	-- the tests: Granger (granger_pairs' columns), the correlation at the
	-- same lag (corr_pairs' columns), the pair's span (calendar indexes)
	c_r			float8[];
	c_p			float8[];
	c_n			integer[];
	c_ox		integer[];
	c_oy		integer[];
	bpool		float8[];	-- the series on their common span, for a batch
	cpr			record;
	v_r			float8;		-- one correlation
	v_p			float8;
	v_n			integer;
	v_ox		integer;
	v_oy		integer;
	n_tests		integer;
	nok			integer;
	batched		boolean := false;
	gr_x		integer[] := '{}';
	gr_y		integer[] := '{}';
	gr_s		integer[] := '{}';
	gr_e		integer[] := '{}';
	gr_lag		integer[] := '{}';
	gr_f		float8[] := '{}';
	gr_p		float8[] := '{}';
	gr_dn		integer[] := '{}';
	gr_dd		integer[] := '{}';
	gr_cs		float8[] := '{}';
	gr_n		integer[] := '{}';
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

	-- 4a. Granger tests and the correlations at their lags. When the
	-- metrics' spans differ by at most two buckets at either end -- the
	-- usual case: the same span, a differenced series starting a bucket or
	-- two later -- every pair is tested on their common span: one
	-- telos.granger_pairs call over the whole matrix (one Gram matrix per
	-- pair, see 60_stats.sql) and one telos.corr_pairs call (each series
	-- prewhitened once). Otherwise, or if a batch call fails on some pair,
	-- pair by pair on each pair's common span. Tests of a factor as the
	-- target are dropped in 5.
	nok := cardinality(ok_names);
	SELECT max(u.st), min(u.st + u.ln - 1),
		   max(u.st) - min(u.st) <= 2 AND max(u.st + u.ln) - min(u.st + u.ln) <= 2
	  INTO s, e, batched
	  FROM unnest(ok_start, ok_len) AS u(st, ln);
	IF nok >= 2 AND batched AND e - s + 1 >= min_n THEN
		batched := false;
		bpool := '{}';
		FOR i IN 1..nok LOOP
			bpool := bpool || pool[ok_off[i] + s - ok_start[i] : ok_off[i] + e - ok_start[i]];
		END LOOP;
		BEGIN
			SELECT array_agg(gp.x_idx ORDER BY gp.x_idx, gp.y_idx),
				   array_agg(gp.y_idx ORDER BY gp.x_idx, gp.y_idx),
				   array_agg(gp.lag ORDER BY gp.x_idx, gp.y_idx),
				   array_agg(gp.f_stat ORDER BY gp.x_idx, gp.y_idx),
				   array_agg(gp.p_value ORDER BY gp.x_idx, gp.y_idx),
				   array_agg(gp.df_num ORDER BY gp.x_idx, gp.y_idx),
				   array_agg(gp.df_denom ORDER BY gp.x_idx, gp.y_idx),
				   array_agg(gp.coef_sum ORDER BY gp.x_idx, gp.y_idx),
				   array_agg(gp.n ORDER BY gp.x_idx, gp.y_idx)
			  INTO gr_x, gr_y, gr_lag, gr_f, gr_p, gr_dn, gr_dd, gr_cs, gr_n
			  FROM telos.granger_pairs(bpool, nok, maxlag, 'bic') AS gp;
			gr_s := array_fill(s, ARRAY[cardinality(gr_x)]);
			gr_e := array_fill(e, ARRAY[cardinality(gr_x)]);
			batched := true;
		EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
			gr_x := '{}';
		END;
		IF batched THEN
			BEGIN
				SELECT array_agg(cp.r ORDER BY cp.x_idx, cp.y_idx),
					   array_agg(cp.p_value ORDER BY cp.x_idx, cp.y_idx),
					   array_agg(cp.n ORDER BY cp.x_idx, cp.y_idx),
					   array_agg(cp.x_order ORDER BY cp.x_idx, cp.y_idx),
					   array_agg(cp.y_order ORDER BY cp.x_idx, cp.y_idx)
				  INTO c_r, c_p, c_n, c_ox, c_oy
				  FROM telos.corr_pairs(bpool, nok, gr_lag, maxlag, true) AS cp;
			EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
				c_r := NULL;
			END;
		END IF;
	ELSE
		batched := false;
	END IF;
	IF NOT batched THEN
		c_r := '{}'; c_p := '{}'; c_n := '{}'; c_ox := '{}'; c_oy := '{}';
		gr_x := '{}'; gr_y := '{}'; gr_lag := '{}'; gr_f := '{}'; gr_p := '{}';
		gr_dn := '{}'; gr_dd := '{}'; gr_cs := '{}'; gr_n := '{}'; gr_s := '{}'; gr_e := '{}';
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
					gr_x := gr_x || CASE WHEN g.x_idx < g.y_idx THEN i ELSE j END;
					gr_y := gr_y || CASE WHEN g.x_idx < g.y_idx THEN j ELSE i END;
					gr_lag := gr_lag || g.lag;
					gr_f := gr_f || g.f_stat;
					gr_p := gr_p || g.p_value;
					gr_dn := gr_dn || g.df_num;
					gr_dd := gr_dd || g.df_denom;
					gr_cs := gr_cs || g.coef_sum;
					gr_n := gr_n || g.n;
					gr_s := gr_s || s;
					gr_e := gr_e || e;
				END LOOP;
				-- both directions' correlations, at their Granger lags
				BEGIN
					FOR cpr IN SELECT * FROM telos.corr_pairs(x || y, 2, gr_lag[cardinality(gr_lag) - 1 :],
															  maxlag, true) AS cp
								ORDER BY cp.x_idx LOOP
						c_r := c_r || cpr.r; c_p := c_p || cpr.p_value; c_n := c_n || cpr.n;
						c_ox := c_ox || cpr.x_order; c_oy := c_oy || cpr.y_order;
					END LOOP;
				EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
					c_r := c_r || ARRAY[NULL, NULL]::float8[]; c_p := c_p || ARRAY[NULL, NULL]::float8[];
					c_n := c_n || ARRAY[NULL, NULL]::int[];
					c_ox := c_ox || ARRAY[NULL, NULL]::int[]; c_oy := c_oy || ARRAY[NULL, NULL]::int[];
				END;
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

	-- 4b. If the batch of correlations failed: test by test, each in an
	-- exception block (an undefined one is recorded as p = 1 below).
	IF c_r IS NULL THEN
		n_tests := cardinality(gr_x);
		c_r := array_fill(NULL::float8, ARRAY[n_tests]);
		c_p := c_r; c_n := array_fill(NULL::int, ARRAY[n_tests]); c_ox := c_n; c_oy := c_n;
		FOR k IN 1..n_tests LOOP
			i := gr_x[k];
			j := gr_y[k];
			CONTINUE WHEN ok_factor[j];
			x := pool[ok_off[i] + gr_s[k] - ok_start[i] : ok_off[i] + gr_e[k] - ok_start[i]];
			y := pool[ok_off[j] + gr_s[k] - ok_start[j] : ok_off[j] + gr_e[k] - ok_start[j]];
			BEGIN
				SELECT cp.r, cp.p_value, cp.n, cp.x_order, cp.y_order
				  INTO v_r, v_p, v_n, v_ox, v_oy
				  FROM telos.corr_pairs(x || y, 2, ARRAY[gr_lag[k]], maxlag, true) AS cp
				 WHERE cp.x_idx = 1;
				c_r[k] := v_r; c_p[k] := v_p; c_n[k] := v_n; c_ox[k] := v_ox; c_oy[k] := v_oy;
			EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
				NULL;
			END;
		END LOOP;
	END IF;

	-- 5. Each Granger test followed by the correlation of its direction;
	-- Benjamini-Hochberg over every test of the run; the decisions and the
	-- evidence. One statement: no per-test PL/pgSQL.
	RETURN QUERY
	WITH tg AS (
		SELECT u.*, row_number() OVER (ORDER BY u.o) AS rn0
		  FROM unnest(gr_x, gr_y, gr_s, gr_e, gr_lag, gr_f, gr_p, gr_dn, gr_dd, gr_cs, gr_n,
					  c_r, c_p, c_n, c_ox, c_oy)
			   WITH ORDINALITY AS u(xi, yi, s0, e0, lg, fs, gpv, dn, dd, cs, gn, cr, cpv, cn, ox, oy, o)
		 WHERE NOT ok_factor[u.yi]),	-- nothing drives a factor
	tt AS (
		SELECT tg.*, mk.kind, 2 * tg.rn0 - 2 + mk.kind AS rn,
			   CASE mk.kind WHEN 1 THEN tg.gpv ELSE coalesce(tg.cpv, 1) END AS pv
		  FROM tg CROSS JOIN (VALUES (1), (2)) AS mk(kind)),
	qa AS (
		SELECT telos.bh_qvalues(array_agg(tt.pv ORDER BY tt.rn)) AS qs, count(*)::int AS ntests
		  FROM tt),
	wn AS (		-- the windows: one per span (one for a batch)
		SELECT sp.s0, sp.e0,
			   jsonb_build_object('from', cal[sp.s0],
					'to', CASE WHEN sp.e0 < ncal THEN cal[sp.e0 + 1] ELSE hi END,
					'bucket', bucket, 'time_zone', tz) AS win
		  FROM (SELECT DISTINCT tg.s0, tg.e0 FROM tg) AS sp),
	dec AS (
		SELECT tt.*, qa.qs[tt.rn::int] AS qv, qa.ntests, wn.win,
			   qa.qs[tt.rn::int] <= fdr AS sg,
			   tt.kind = 2 AND qa.qs[tt.rn::int - 1] <= fdr AS sup,
			   CASE tt.kind WHEN 1 THEN tt.fs * tt.dn / (tt.fs * tt.dn + tt.dd)
							ELSE coalesce(tt.cr * tt.cr, 0) END AS eff,
			   ok_names[tt.xi] AS xn, ok_names[tt.yi] AS yn
		  FROM tt CROSS JOIN qa JOIN wn ON wn.s0 = tt.s0 AND wn.e0 = tt.e0)
	SELECT dec.xn, dec.yn,
		   CASE dec.kind WHEN 1 THEN 'granger_causality' ELSE 'lagged_correlation' END,
		   CASE WHEN dec.kind = 1 AND dec.sg THEN CASE WHEN dec.cs >= 0 THEN 'causes' ELSE 'inhibits' END
				WHEN dec.kind = 2 AND dec.sg AND NOT dec.sup THEN 'correlates' END,
		   round((0.5 * (1 - dec.qv) + 0.5 * sqrt(greatest(dec.eff, 0)))::numeric, 2),
		   dec.pv, dec.qv,
		   -- one object per row (concatenating objects costs more)
		   CASE dec.kind WHEN 1 THEN jsonb_build_object(
				'method', 'granger_causality', 'p_value', dec.gpv, 'lag', dec.lg,
				'f_stat', dec.fs, 'df_num', dec.dn, 'df_denom', dec.dd,
				'coef_sum', dec.cs, 'n', dec.gn, 'lag_selection', 'bic',
				'window', dec.win,
				'differencing', jsonb_build_object(dec.xn, ok_diff[dec.xi], dec.yn, ok_diff[dec.yi]),
				'q_value', dec.qv, 'fdr', fdr, 'tests_in_run', dec.ntests,
				'direction', dec.xn || ' -> ' || dec.yn, 'data_as_of', hi)
		   ELSE jsonb_build_object(
				'method', 'lagged_correlation', 'p_value', dec.cpv, 'lag', dec.lg,
				'r', dec.cr, 'n', dec.cn, 'prewhitening', 'ar_bic',
				'ar_order', jsonb_build_object(dec.xn, dec.ox, dec.yn, dec.oy),
				'window', dec.win,
				'differencing', jsonb_build_object(dec.xn, ok_diff[dec.xi], dec.yn, ok_diff[dec.yi]),
				'q_value', dec.qv, 'fdr', fdr, 'tests_in_run', dec.ntests,
				'direction', dec.xn || ' -> ' || dec.yn, 'data_as_of', hi)
		   END,
		   CASE WHEN dec.sup THEN 'superseded' WHEN dec.sg THEN 'significant' ELSE 'not_significant' END,
		   CASE WHEN dec.sup THEN 'Granger test of the same direction is significant' END
	  FROM dec
	 ORDER BY dec.rn;
END
$$;
COMMENT ON FUNCTION telos.discover_evidence(uuid, text, integer, float8, text[], regclass, jsonb) IS
	'Granger causality and lagged correlation between every pair of a tenant''s metrics, with BH FDR control; returns the findings, writes nothing';
