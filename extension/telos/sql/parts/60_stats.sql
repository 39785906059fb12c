/* 60_stats.sql -- statistics of the evidence engine (since 0.3.0). */

/*
 * Each function reproduces a statsmodels 0.13 / scipy 1.10 definition (see
 * src/stats.h and docs/sql-reference.md); all are IMMUTABLE and PARALLEL
 * SAFE, and all but telos.adf are STRICT. Arrays must be free of NULLs and
 * NaN/Inf (22004 / 22023): gaps are the caller's to fill or cut. Data on
 * which a statistic is undefined (a constant series, collinear regressors,
 * a perfect fit) is an error with SQLSTATE 22000.
 */

CREATE FUNCTION telos.ols(y float8[], x float8[], ncols int, add_const bool DEFAULT true)
	RETURNS TABLE (coef float8[], se float8[], t float8[], p float8[],
				   ssr float8, r2 float8, df_resid int, rank int)
	AS 'MODULE_PATHNAME', 'telos_ols'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;

COMMENT ON FUNCTION telos.ols(float8[], float8[], int, bool) IS
	'least squares of y on x (row-major n x ncols; constant first when add_const) by pivoted QR; aliased columns are NULL';

CREATE FUNCTION telos.granger(x float8[], y float8[], maxlag int)
	RETURNS TABLE (lag int, f_stat float8, p_value float8, df_num int, df_denom int,
				   chi2 float8, chi2_p float8, lr float8, lr_p float8)
	AS 'MODULE_PATHNAME', 'telos_granger'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 7;

COMMENT ON FUNCTION telos.granger(float8[], float8[], int) IS
	'does x Granger-cause y: statsmodels grangercausalitytests([y, x], maxlag) for lags 1..maxlag';

CREATE FUNCTION telos.granger_pairs(series float8[], m int, maxlag int, ic text DEFAULT 'bic')
	RETURNS TABLE (x_idx int, y_idx int, lag int, f_stat float8, p_value float8,
				   df_num int, df_denom int, coef_sum float8, n int)
	AS 'MODULE_PATHNAME', 'telos_granger_pairs'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION telos.granger_pairs(float8[], int, int, text) IS
	'Granger F test of every ordered pair of m series (row-major), lag chosen by ic on the common sample';

CREATE FUNCTION telos.adf(x float8[], maxlag int DEFAULT NULL, regression text DEFAULT 'c',
						  autolag text DEFAULT 'AIC')
	RETURNS TABLE (stat float8, p_value float8, used_lag int, nobs int,
				   crit_1 float8, crit_5 float8, crit_10 float8, ic_best float8)
	AS 'MODULE_PATHNAME', 'telos_adf'
	LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1;

COMMENT ON FUNCTION telos.adf(float8[], int, text, text) IS
	'augmented Dickey-Fuller unit-root test as statsmodels adfuller, MacKinnon p-value and critical values';

CREATE FUNCTION telos.lagged_corr(x float8[], y float8[], lag int)
	RETURNS TABLE (r float8, p_value float8, n int)
	AS 'MODULE_PATHNAME', 'telos_lagged_corr'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;

COMMENT ON FUNCTION telos.lagged_corr(float8[], float8[], int) IS
	'Pearson correlation of x[t] with y[t + lag] and its two-sided p-value';

CREATE FUNCTION telos.corr_pairs(series float8[], m int, lags int[], maxlag int DEFAULT 7,
								 prewhiten bool DEFAULT true)
	RETURNS TABLE (x_idx int, y_idx int, lag int, r float8, p_value float8, n int,
				   x_order int, y_order int)
	AS 'MODULE_PATHNAME', 'telos_corr_pairs'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;

COMMENT ON FUNCTION telos.corr_pairs(float8[], int, int[], int, bool) IS
	'lagged correlation of every ordered pair of m series (row-major), of their AR residuals (order by BIC up to maxlag) when prewhiten';

CREATE FUNCTION telos.bh_qvalues(p float8[])
	RETURNS float8[]
	AS 'MODULE_PATHNAME', 'telos_bh_qvalues'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION telos.bh_qvalues(float8[]) IS
	'Benjamini-Hochberg q-values, as statsmodels multipletests(method=''fdr_bh'')';

CREATE FUNCTION telos.welch_t(a float8[], b float8[])
	RETURNS TABLE (t float8, df float8, p_value float8, mean_diff float8)
	AS 'MODULE_PATHNAME', 'telos_welch_t'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;

COMMENT ON FUNCTION telos.welch_t(float8[], float8[]) IS
	'Welch''s two-sample t test (unequal variances), two-sided';
