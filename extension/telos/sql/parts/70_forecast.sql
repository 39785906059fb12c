/* 70_forecast.sql -- the forecast engine of goals (since 0.3.0). */

/*
 * Both functions take the same arguments (see src/forecast.h and
 * docs/goals-forecast.md): y is a regular series, one value per step
 * (per day for daily rollups), oldest first, without NULLs or NaN/Inf.
 *
 * A goal "reach level X by date" (a balance, a ratio) is
 *   forecast_probability(y, horizon => steps to the date, target => X)
 * and compares the value at the horizon with X. A goal "reach a total of X
 * by date" (a flow, e.g. revenue over the goal window) is
 *   forecast_probability(y, horizon, target => X, cumulative => true,
 *                        accumulated => total so far in the goal window)
 * and compares accumulated + the sum of the forecasts of steps 1..horizon
 * with X; y is then the per-step flow (daily revenue), not its running sum.
 * direction: increase (reach X or more), decrease (X or less), maintain
 * (stay at or above X at every step of the horizon; levels only).
 * horizon comes before period because it has no default.
 */

CREATE FUNCTION telos.forecast(y float8[], horizon int, period int DEFAULT 7,
							   target float8 DEFAULT NULL, direction text DEFAULT 'increase',
							   cumulative bool DEFAULT false, level float8 DEFAULT 0.8,
							   accumulated float8 DEFAULT 0)
	RETURNS TABLE (step int, mean float8, lo float8, hi float8)
	AS 'MODULE_PATHNAME', 'telos_forecast'
	LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 30;

COMMENT ON FUNCTION telos.forecast(float8[], int, int, float8, text, bool, float8, float8) IS
	'additive Holt-Winters forecast of y for steps 1..horizon with a level prediction interval (running sums when cumulative)';

CREATE FUNCTION telos.forecast_probability(y float8[], horizon int, period int DEFAULT 7,
										   target float8 DEFAULT NULL, direction text DEFAULT 'increase',
										   cumulative bool DEFAULT false, level float8 DEFAULT 0.8,
										   accumulated float8 DEFAULT 0)
	RETURNS TABLE (probability float8, final_mean float8, final_lo float8, final_hi float8,
				   method text, sigma float8, n int)
	AS 'MODULE_PATHNAME', 'telos_forecast_probability'
	LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1;

COMMENT ON FUNCTION telos.forecast_probability(float8[], int, int, float8, text, bool, float8, float8) IS
	'probability that y reaches target by the horizon (direction increase/decrease/maintain; a total when cumulative), with the forecast at the horizon';
