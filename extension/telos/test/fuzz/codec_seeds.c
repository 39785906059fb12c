/*
 * codec_seeds.c -- writes the seed corpora of the codec fuzzers: valid
 * encodings of realistic and edge-case columns (test/codec/codec_data.h),
 * small enough for libFuzzer to mutate quickly.
 *
 *   codec_seeds DIR    writes DIR/{i64,gorilla,dec,bool,dict,blob}/seed-N
 */
#include "codec.h"
#include "codec_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *dir;
static uint8_t buf[1 << 16];

static void
put(const char *codec, int k, int64_t len)
{
	char		path[4096];
	FILE	   *f;

	if (len < 0)
	{
		fprintf(stderr, "codec_seeds: %s seed %d: %s\n", codec, k, codec_strerror((int) len));
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, codec);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
	{
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/seed-%d", dir, codec, k);
	if ((f = fopen(path, "wb")) == NULL || fwrite(buf, 1, (size_t) len, f) != (size_t) len ||
		fclose(f) != 0)
	{
		perror(path);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	int64_t		iv[300];
	double		dv[300];
	uint64_t	gv[300];
	uint8_t		bv[300];
	codec_bytes sv[300];
	uint8_t		store[300 * 16];
	static const char *words[] = {"revenue", "cogs", "", "orders", "nps"};
	cd_rng		r = {1};
	int			k = 0;

	if (argc != 2)
	{
		fprintf(stderr, "usage: codec_seeds DIR\n");
		return 2;
	}
	dir = argv[1];

	/* i64: time axes, small ints, wide random, every mode and packing */
	cd_hourly(iv, 300, 1);
	put("i64", k++, codec_i64_encode(iv, 300, 2, buf, sizeof(buf)));
	put("i64", k++, codec_i64_encode(iv, 300, 1, buf, sizeof(buf)));
	iv[100] += 1234567;
	put("i64", k++, codec_i64_encode(iv, 120, 2, buf, sizeof(buf)));
	for (int i = 0; i < 300; i++)
		iv[i] = (int64_t) (cd_next(&r) % 50);
	put("i64", k++, codec_i64_encode(iv, 300, 1, buf, sizeof(buf)));
	for (int i = 0; i < 200; i++)
		iv[i] = (int64_t) (cd_next(&r) >> 20);		/* bit-packed */
	put("i64", k++, codec_i64_encode(iv, 200, 1, buf, sizeof(buf)));
	iv[0] = INT64_MIN;
	iv[1] = INT64_MAX;
	iv[2] = 0;
	put("i64", k++, codec_i64_encode(iv, 3, 2, buf, sizeof(buf)));
	put("i64", k++, codec_i64_encode(iv, 0, 1, buf, sizeof(buf)));

	/* gorilla and dec: KPI values, walks, special patterns */
	k = 0;
	cd_kpi(dv, 300, 3);
	memcpy(gv, dv, sizeof(gv));
	put("gorilla", k++, codec_gorilla_encode(gv, 300, buf, sizeof(buf)));
	cd_walk(dv, 300, 2, 2);
	memcpy(gv, dv, sizeof(gv));
	put("gorilla", k++, codec_gorilla_encode(gv, 100, buf, sizeof(buf)));
	{
		const uint64_t sp[] = {0, 0x8000000000000000ULL, 0x7ff0000000000000ULL,
			0xfff0000000000000ULL, 0x7ff8000000000001ULL, 1, 0x000fffffffffffffULL,
			0x7ff8000000000001ULL, ~0ULL, 0x000000003f800000ULL};

		put("gorilla", k++, codec_gorilla_encode(sp, 10, buf, sizeof(buf)));
	}
	k = 0;
	cd_kpi(dv, 300, 4);
	put("dec", k++, codec_dec_encode(dv, 300, buf, sizeof(buf)));
	cd_walk(dv, 300, 5, 4);
	put("dec", k++, codec_dec_encode(dv, 300, buf, sizeof(buf)));
	for (int i = 0; i < 100; i++)
		dv[i] = 99.25;
	put("dec", k++, codec_dec_encode(dv, 100, buf, sizeof(buf)));
	dv[0] = 1e-18;
	dv[1] = 0;
	put("dec", k++, codec_dec_encode(dv, 2, buf, sizeof(buf)));

	/* bool: null bitmaps (all false, a few true), random */
	k = 0;
	memset(bv, 0, sizeof(bv));
	put("bool", k++, codec_bool_encode(bv, 300, buf, sizeof(buf)));
	bv[77] = 1;
	bv[250] = 1;
	put("bool", k++, codec_bool_encode(bv, 300, buf, sizeof(buf)));
	for (int i = 0; i < 300; i++)
		bv[i] = (uint8_t) (cd_next(&r) % 2);
	put("bool", k++, codec_bool_encode(bv, 300, buf, sizeof(buf)));

	/* dict and blob: low-cardinality uuids, words, empty strings */
	k = 0;
	cd_uuids(sv, 300, store, 4, 6);
	put("dict", k++, codec_dict_encode(sv, 300, buf, sizeof(buf)));
	put("blob", 0, codec_blob_encode(sv, 300, buf, sizeof(buf)));
	for (int i = 0; i < 300; i++)
	{
		const char *w = words[cd_next(&r) % 5];

		sv[i].p = (const uint8_t *) w;
		sv[i].len = (uint32_t) strlen(w);
	}
	put("dict", k++, codec_dict_encode(sv, 300, buf, sizeof(buf)));
	put("blob", 1, codec_blob_encode(sv, 300, buf, sizeof(buf)));
	put("dict", k++, codec_dict_encode(sv, 5, buf, sizeof(buf)));
	put("blob", 2, codec_blob_encode(sv, 5, buf, sizeof(buf)));	/* raw */
	put("dict", k++, codec_dict_encode(sv, 0, buf, sizeof(buf)));
	put("blob", 3, codec_blob_encode(sv, 0, buf, sizeof(buf)));
	return 0;
}
