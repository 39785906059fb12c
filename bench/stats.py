#!/usr/bin/python3
"""bench/stats.py -- the statsmodels side of bench/stats.sh (run by it, with
Debian's /usr/bin/python3 and python3-statsmodels).

  stats.py gen DIR        writes DIR/series.txt: the 50 x 730 series as one
                          PostgreSQL float8[] literal, row-major (repr()
                          round-trips, so both sides see the same doubles)
  stats.py baseline DIR   times statsmodels' grangercausalitytests(maxlag=7)
                          on every ordered pair of the same series, compares
                          its p-values with telos' (DIR/telos_pairs.csv:
                          x_idx,y_idx,lag,f_stat,p_value), writes
                          DIR/statsmodels.json

The data: 50 daily business-like series of 730 points, seed fixed -- 35
stationary AR(1) series, 10 random walks (levels that trend), and 5 planted
drivers: series 5k+1 drives series 5k+2 at lag 2 (k = 0..4), one of them
negatively.
"""
import json
import sys
import time
import warnings

import numpy as np

M, N, MAXLAG = 50, 730, 7


def make_series():
    rng = np.random.RandomState(730050)
    S = np.zeros((M, N))
    e = rng.normal(size=(M, N))
    for i in range(M):
        if i % 5 == 4:                      # 10 random walks
            S[i] = 100 + np.cumsum(e[i])
        else:
            phi = rng.uniform(0.1, 0.8)
            for t in range(1, N):
                S[i, t] = phi * S[i, t - 1] + e[i, t]
            S[i] += rng.uniform(10, 1000)
    for k in range(5):                      # planted: 5k -> 5k+1 at lag 2
        a, b = 5 * k, 5 * k + 1
        w = -0.5 if k == 3 else 0.5
        for t in range(2, N):
            S[b, t] += w * (S[a, t - 2] - S[a].mean())
    return S


def gen(d):
    S = make_series()
    with open(d + "/series.txt", "w") as f:
        f.write("{" + ",".join(repr(float(v)) for v in S.ravel()) + "}\n")


def baseline(d):
    import statsmodels
    from statsmodels.tsa.stattools import grangercausalitytests

    S = make_series()
    telos = {}
    with open(d + "/telos_pairs.csv") as f:
        for line in f:
            xi, yi, lag, fs, p = line.strip().split(",")
            telos[(int(xi) - 1, int(yi) - 1)] = (int(lag), float(fs), float(p))

    warnings.simplefilter("ignore")
    res = {}
    t0 = time.perf_counter()
    for xi in range(M):
        for yi in range(M):
            if xi != yi:
                res[(xi, yi)] = grangercausalitytests(
                    np.column_stack([S[yi], S[xi]]), MAXLAG, verbose=False)
    secs = time.perf_counter() - t0

    worst_p = worst_f = 0.0
    for key, (lag, fs, p) in telos.items():
        f_ref, p_ref = res[key][lag][0]["ssr_ftest"][:2]
        worst_f = max(worst_f, abs(fs - f_ref) / abs(f_ref) if f_ref else abs(fs))
        worst_p = max(worst_p, 0.0 if p == p_ref else abs(p - p_ref) / abs(p_ref))
    out = {
        "version": statsmodels.__version__,
        "seconds": secs,
        "ms_per_pair": secs * 1000 / len(res),
        "pairs": len(res),
        "pairs_compared": len(telos),
        "max_rel_diff_f": worst_f,
        "max_rel_diff_p": worst_p,
    }
    with open(d + "/statsmodels.json", "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    {"gen": gen, "baseline": baseline}[sys.argv[1]](sys.argv[2])
