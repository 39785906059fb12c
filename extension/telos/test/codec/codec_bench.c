/*
 * codec_bench.c -- throughput and size of every column codec on realistic
 * segments (1000 values each, like a compressed chunk's segment): hourly
 * timestamps, KPI decimals as bench/gen.c prints them, random walks, null
 * bitmaps, low-cardinality and random uuids, short texts.
 *
 *   codec_bench [--json] [--segments N]
 *
 * MB/s counts the in-memory size of the values (8 bytes per int64/float8,
 * 1 per boolean, the bytes of a string), for encoding and for decoding.
 * The last line estimates a whole segment row of the benchmark's table
 * (time, value, source + its null bitmap, ingested_at): rows/s to compress.
 * Not a test: it never fails on a time.
 */
#define _POSIX_C_SOURCE 200809L	/* clock_gettime */

#include "codec.h"
#include "codec_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEG 1000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (!p)
	{
		fprintf(stderr, "codec_bench: out of memory\n");
		exit(1);
	}
	return p;
}

typedef enum { K_I64_DOD, K_I64_DELTA, K_DEC, K_GORILLA, K_BOOL, K_DICT, K_BLOB } kind;

typedef struct result
{
	const char *codec;
	const char *data;
	double		bits_per_value;
	double		enc_mbs;
	double		dec_mbs;
	double		enc_ns_per_value;
} result;

typedef struct dataset
{
	kind		k;
	uint32_t	nseg;
	void	   *values;			/* nseg * SEG values */
	size_t		value_size;		/* in-memory bytes per value (strings: average) */
	uint8_t   **enc;			/* encodings, per segment */
	int64_t    *enclen;
} dataset;

static size_t
bound_of(dataset *d, uint32_t s)
{
	switch (d->k)
	{
		case K_I64_DOD:
		case K_I64_DELTA: return codec_i64_bound(SEG);
		case K_DEC: return codec_dec_bound(SEG);
		case K_GORILLA: return codec_gorilla_bound(SEG);
		case K_BOOL: return codec_bool_bound(SEG);
		case K_DICT: return codec_dict_bound((codec_bytes *) d->values + (size_t) s * SEG, SEG);
		case K_BLOB: return codec_blob_bound((codec_bytes *) d->values + (size_t) s * SEG, SEG);
	}
	return 0;
}

static int64_t
encode(dataset *d, uint32_t s, uint8_t *out, size_t cap)
{
	size_t		o = (size_t) s * SEG;

	switch (d->k)
	{
		case K_I64_DOD: return codec_i64_encode((int64_t *) d->values + o, SEG, 2, out, cap);
		case K_I64_DELTA: return codec_i64_encode((int64_t *) d->values + o, SEG, 1, out, cap);
		case K_DEC: return codec_dec_encode((double *) d->values + o, SEG, out, cap);
		case K_GORILLA: return codec_gorilla_encode((uint64_t *) d->values + o, SEG, out, cap);
		case K_BOOL: return codec_bool_encode((uint8_t *) d->values + o, SEG, out, cap);
		case K_DICT: return codec_dict_encode((codec_bytes *) d->values + o, SEG, out, cap);
		case K_BLOB: return codec_blob_encode((codec_bytes *) d->values + o, SEG, out, cap);
	}
	return -1;
}

static int
decode(dataset *d, const uint8_t *in, size_t len, void *out, uint8_t *buf, size_t bufcap)
{
	uint32_t	n;

	switch (d->k)
	{
		case K_I64_DOD:
		case K_I64_DELTA: return codec_i64_decode(in, len, out, SEG, &n);
		case K_DEC: return codec_dec_decode(in, len, out, SEG, &n);
		case K_GORILLA: return codec_gorilla_decode(in, len, out, SEG, &n);
		case K_BOOL: return codec_bool_decode(in, len, out, SEG, &n);
		case K_DICT: return codec_dict_decode(in, len, out, SEG, &n);
		case K_BLOB: return codec_blob_decode(in, len, out, SEG, &n, buf, bufcap);
	}
	return -1;
}

/* Encodes and decodes every segment repeatedly for ~0.3 s each way. */
static result
run(const char *codec, const char *data, dataset *d)
{
	result		r = {codec, data, 0, 0, 0, 0};
	size_t		total = 0;
	double		t0,
				t;
	uint64_t	rounds;
	uint8_t    *scratch = xmalloc(SEG * 16 + 64);
	uint8_t    *buf = xmalloc((size_t) SEG * 64);
	size_t		raw = (size_t) d->nseg * SEG * d->value_size;

	size_t		maxcap = 0;
	uint8_t    *encbuf;

	d->enc = xmalloc(d->nseg * sizeof(uint8_t *));
	d->enclen = xmalloc(d->nseg * sizeof(int64_t));
	for (uint32_t s = 0; s < d->nseg; s++)
	{
		size_t		cap = bound_of(d, s);

		if (cap > maxcap)
			maxcap = cap;
		d->enc[s] = xmalloc(cap);
		d->enclen[s] = encode(d, s, d->enc[s], cap);
		if (d->enclen[s] < 0)
		{
			fprintf(stderr, "codec_bench: %s on %s: %s\n", codec, data,
					codec_strerror((int) d->enclen[s]));
			exit(1);
		}
		total += (size_t) d->enclen[s];
	}
	r.bits_per_value = total * 8.0 / ((double) d->nseg * SEG);

	encbuf = xmalloc(maxcap);
	t0 = now();
	rounds = 0;
	do
	{
		for (uint32_t s = 0; s < d->nseg; s++)
		{
			if (encode(d, s, encbuf, maxcap) < 0)
				exit(1);
		}
		rounds++;
	} while ((t = now() - t0) < 0.3);
	r.enc_mbs = raw * (double) rounds / t / 1e6;
	r.enc_ns_per_value = t * 1e9 / ((double) rounds * d->nseg * SEG);

	t0 = now();
	rounds = 0;
	do
	{
		for (uint32_t s = 0; s < d->nseg; s++)
		{
			if (decode(d, d->enc[s], (size_t) d->enclen[s], scratch, buf, (size_t) SEG * 64) != CODEC_OK)
			{
				fprintf(stderr, "codec_bench: %s on %s: decode failed\n", codec, data);
				exit(1);
			}
		}
		rounds++;
	} while ((t = now() - t0) < 0.3);
	r.dec_mbs = raw * (double) rounds / t / 1e6;

	for (uint32_t s = 0; s < d->nseg; s++)
		free(d->enc[s]);
	free(d->enc);
	free(d->enclen);
	free(encbuf);
	free(scratch);
	free(buf);
	return r;
}

int
main(int argc, char **argv)
{
	uint32_t	nseg = 100;
	int			json = 0;
	result		res[16];
	int			nres = 0;
	int64_t    *iv;
	double	   *dv;
	uint8_t    *bv;
	codec_bytes *sv;
	uint8_t    *store;
	static const char *texts[] = {"ok", "pending", "failed", "retrying", "ok", "ok"};

	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--segments") == 0 && i + 1 < argc)
			nseg = (uint32_t) atoi(argv[++i]);
		else
		{
			fprintf(stderr, "usage: codec_bench [--json] [--segments N]\n");
			return 2;
		}
	}
	if (nseg < 1)
		nseg = 1;

	iv = xmalloc((size_t) nseg * SEG * 8);
	dv = xmalloc((size_t) nseg * SEG * 8);
	bv = xmalloc((size_t) nseg * SEG);
	sv = xmalloc((size_t) nseg * SEG * sizeof(codec_bytes));
	store = xmalloc((size_t) nseg * SEG * 16);

	for (uint32_t s = 0; s < nseg; s++)
		cd_hourly(iv + (size_t) s * SEG, SEG, s);
	res[nres++] = run("i64 dod", "hourly timestamps", &(dataset) {.k = K_I64_DOD, .nseg = nseg, .values = iv, .value_size = 8});
	{
		cd_rng		r = {5};

		/* ingested_at: an hourly batch arriving 1..120 s late */
		for (size_t i = 0; i < (size_t) nseg * SEG; i++)
			iv[i] += 1000000 + (int64_t) (cd_next(&r) % 119000000);
	}
	res[nres++] = run("i64 dod", "ingest times (jittered)", &(dataset) {.k = K_I64_DOD, .nseg = nseg, .values = iv, .value_size = 8});
	{
		cd_rng		r = {6};
		int64_t		c = 0;

		for (size_t i = 0; i < (size_t) nseg * SEG; i++)
			iv[i] = (c += (int64_t) (cd_next(&r) % 50));
	}
	res[nres++] = run("i64 delta", "counter (+0..49)", &(dataset) {.k = K_I64_DELTA, .nseg = nseg, .values = iv, .value_size = 8});

	for (uint32_t s = 0; s < nseg; s++)
		cd_kpi(dv + (size_t) s * SEG, SEG, s);
	res[nres++] = run("dec", "KPI values, 4 places", &(dataset) {.k = K_DEC, .nseg = nseg, .values = dv, .value_size = 8});
	res[nres++] = run("gorilla", "KPI values, 4 places", &(dataset) {.k = K_GORILLA, .nseg = nseg, .values = dv, .value_size = 8});
	for (uint32_t s = 0; s < nseg; s++)
		cd_walk(dv + (size_t) s * SEG, SEG, s, 4);
	res[nres++] = run("dec", "random walk, 4 places", &(dataset) {.k = K_DEC, .nseg = nseg, .values = dv, .value_size = 8});
	res[nres++] = run("gorilla", "random walk, 4 places", &(dataset) {.k = K_GORILLA, .nseg = nseg, .values = dv, .value_size = 8});
	{
		cd_rng		r = {7};

		for (size_t i = 0; i < (size_t) nseg * SEG; i++)
			dv[i] = (double) (cd_next(&r) >> 11) / 9007199254740992.0 * 1000;
	}
	res[nres++] = run("gorilla", "random doubles", &(dataset) {.k = K_GORILLA, .nseg = nseg, .values = dv, .value_size = 8});

	memset(bv, 0, (size_t) nseg * SEG);
	res[nres++] = run("bool", "null bitmap, no nulls", &(dataset) {.k = K_BOOL, .nseg = nseg, .values = bv, .value_size = 1});
	{
		cd_rng		r = {8};

		for (size_t i = 0; i < (size_t) nseg * SEG; i++)
			bv[i] = (uint8_t) (cd_next(&r) & 1);
	}
	res[nres++] = run("bool", "random booleans", &(dataset) {.k = K_BOOL, .nseg = nseg, .values = bv, .value_size = 1});

	for (uint32_t s = 0; s < nseg; s++)
		cd_uuids(sv + (size_t) s * SEG, SEG, store + (size_t) s * SEG * 16, 5, s);
	res[nres++] = run("dict", "uuids, 5 per segment", &(dataset) {.k = K_DICT, .nseg = nseg, .values = sv, .value_size = 16});
	res[nres++] = run("blob", "uuids, 5 per segment", &(dataset) {.k = K_BLOB, .nseg = nseg, .values = sv, .value_size = 16});
	{
		cd_rng		r = {9};

		for (size_t i = 0; i < (size_t) nseg * SEG * 16; i++)
			store[i] = (uint8_t) cd_next(&r);
		for (size_t i = 0; i < (size_t) nseg * SEG; i++)
		{
			sv[i].p = store + i * 16;
			sv[i].len = 16;
		}
	}
	res[nres++] = run("blob", "random uuids", &(dataset) {.k = K_BLOB, .nseg = nseg, .values = sv, .value_size = 16});
	{
		cd_rng		r = {10};
		size_t		bytes = 0;

		for (size_t i = 0; i < (size_t) nseg * SEG; i++)
		{
			const char *t = texts[cd_next(&r) % 6];

			sv[i].p = (const uint8_t *) t;
			sv[i].len = (uint32_t) strlen(t);
			bytes += sv[i].len;
		}
		res[nres++] = run("dict", "short status texts", &(dataset) {.k = K_DICT, .nseg = nseg, .values = sv,
						  .value_size = bytes / ((size_t) nseg * SEG)});
		res[nres++] = run("blob", "short status texts", &(dataset) {.k = K_BLOB, .nseg = nseg, .values = sv,
						  .value_size = bytes / ((size_t) nseg * SEG)});
	}

	/*
	 * A segment row of business_metrics_raw: time (dod), value (dec),
	 * source (dict) and its null bitmap (bool), ingested_at (dod); the
	 * segment-by columns are stored once per segment.
	 */
	{
		double		ns = res[0].enc_ns_per_value + res[3].enc_ns_per_value +
			res[10].enc_ns_per_value + res[8].enc_ns_per_value + res[1].enc_ns_per_value;
		double		bits = res[0].bits_per_value + res[3].bits_per_value +
			res[10].bits_per_value + res[8].bits_per_value + res[1].bits_per_value;

		if (json)
		{
			printf("{\"segment_values\": %d, \"codecs\": [", SEG);
			for (int i = 0; i < nres; i++)
				printf("%s\n  {\"codec\": \"%s\", \"data\": \"%s\", \"bits_per_value\": %.3f, "
					   "\"encode_mb_s\": %.1f, \"decode_mb_s\": %.1f}",
					   i ? "," : "", res[i].codec, res[i].data, res[i].bits_per_value,
					   res[i].enc_mbs, res[i].dec_mbs);
			printf("],\n \"row\": {\"columns\": 5, \"bytes_per_row\": %.3f, "
				   "\"compress_rows_per_s\": %.0f}}\n", bits / 8, 1e9 / ns);
		}
		else
		{
			printf("%-10s %-26s %10s %12s %12s\n", "codec", "data (1000-value segments)",
				   "bits/value", "encode MB/s", "decode MB/s");
			for (int i = 0; i < nres; i++)
				printf("%-10s %-26s %10.2f %12.0f %12.0f\n", res[i].codec, res[i].data,
					   res[i].bits_per_value, res[i].enc_mbs, res[i].dec_mbs);
			printf("row (time dod, value dec, source dict + null bitmap, ingested_at dod): "
				   "%.2f bytes/row, encode %.2fM rows/s on one core\n", bits / 8, 1e3 / ns);
		}
	}
	free(iv);
	free(dv);
	free(bv);
	free(sv);
	free(store);
	return 0;
}
