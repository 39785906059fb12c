/*
 * simple8b.c -- Simple-8b with run-length words (layout in simple8b.h).
 *
 * Why Simple-8b: decoding is a shift and a mask per value with the width
 * fixed per 64-bit word, so it runs at memory speed, and the run word makes
 * the common column shapes (delta-of-delta of a regular time axis, a constant
 * column, an all-NULL bitmap) cost one word per up to 2^28 values.
 *
 * The encoder is greedy: at each position it emits a run word when the run
 * is at least as long as one packed word of that width would hold, else the
 * packed word holding the most values. The decoders are one function body
 * (S8B_DECODE_BODY) instantiated per output type, each bounded by the input
 * length and by n, and each validating every word.
 */
#include "simple8b.h"

/* Values per packed word and their width, by selector (1..14). */
static const uint8_t s8b_count[16] = {0, 60, 30, 20, 15, 12, 10, 8, 7, 6, 5, 4, 3, 2, 1, 1};
static const uint8_t s8b_bits[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 30, 60, 64};

/* The selector that packs the most values of width w (0..60). */
static const uint8_t sel_for_width[61] = {
	1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 10, 10, 11, 11, 11, 12, 12, 12, 12, 12,
	13, 13, 13, 13, 13, 13, 13, 13, 13, 13,
	14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
	14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14
};

static inline unsigned
width64(uint64_t x)
{
	return x ? 64 - (unsigned) __builtin_clzll(x) : 0;
}

/*
 * Packs v[0 .. min(cnt, rem)) with selector sel into one word (missing
 * slots of a short last word are zero).
 */
static inline uint64_t
pack_word(const uint64_t *v, uint32_t rem, unsigned sel)
{
	unsigned	cnt = s8b_count[sel];
	unsigned	b = s8b_bits[sel];
	uint64_t	w = sel;

	if (cnt > rem)
		cnt = rem;
	for (unsigned j = 0; j < cnt; j++)
		w |= v[j] << (4 + j * b);
	return w;
}

int64_t
s8b_encode(const uint64_t *v, uint32_t n, uint8_t *out, size_t cap)
{
	size_t		pos = 0;
	uint32_t	i = 0;

	while (i < n)
	{
		uint32_t	rem = n - i;
		uint64_t	x = v[i];
		unsigned	wx = width64(x);

		if (cap - pos < 8)
			return CODEC_ESPACE;

		/* A run, when one is at least a full packed word long. */
		if (wx <= 32 && rem >= 2 && v[i + 1] == x)
		{
			unsigned	need = s8b_count[sel_for_width[wx]];
			uint32_t	lim = rem < S8B_RUN_MAX ? rem : S8B_RUN_MAX;
			uint32_t	r = 2;

			while (r < lim && v[i + r] == x)
				r++;
			if (r >= need)
			{
				s8b_store64(out + pos, (x << 32) | ((uint64_t) r << 4));
				pos += 8;
				i += r;
				continue;
			}
		}

		if (wx > 60)
		{
			/* Escape: the selector word, then the raw value. */
			if (cap - pos < 16)
				return CODEC_ESPACE;
			s8b_store64(out + pos, 15);
			s8b_store64(out + pos + 8, x);
			pos += 16;
			i++;
			continue;
		}

		/*
		 * The selector with the most values that all fit. Going from few
		 * values (wide) to many (narrow), the widest value seen only grows
		 * and the allowed width only shrinks, so the first misfit ends the
		 * search.
		 */
		{
			unsigned	best = 14;
			unsigned	maxw = wx;
			uint32_t	seen = 1;

			for (unsigned sel = 13; sel >= 1; sel--)
			{
				uint32_t	want = s8b_count[sel];
				uint32_t	upto = want < rem ? want : rem;

				while (seen < upto)
				{
					unsigned	w = width64(v[i + seen]);

					if (w > maxw)
						maxw = w;
					seen++;
				}
				if (maxw > s8b_bits[sel])
					break;
				best = sel;
			}
			s8b_store64(out + pos, pack_word(v + i, rem, best));
			pos += 8;
			i += s8b_count[best] < rem ? s8b_count[best] : rem;
		}
	}
	return (int64_t) pos;
}

int64_t
s8b_encode_bool(const uint8_t *v, uint32_t n, uint8_t *out, size_t cap)
{
	size_t		pos = 0;
	uint32_t	i = 0;

	while (i < n)
	{
		uint32_t	rem = n - i;
		uint8_t		x = v[i] != 0;
		uint32_t	r = 1;

		if (cap - pos < 8)
			return CODEC_ESPACE;
		if (rem >= 60)
		{
			uint32_t	lim = rem < S8B_RUN_MAX ? rem : S8B_RUN_MAX;

			while (r < lim && (v[i + r] != 0) == x)
				r++;
		}
		if (r >= 60)
		{
			s8b_store64(out + pos, ((uint64_t) x << 32) | ((uint64_t) r << 4));
			i += r;
		}
		else
		{
			uint32_t	cnt = rem < 60 ? rem : 60;
			uint64_t	w = 1;

			for (uint32_t j = 0; j < cnt; j++)
				w |= (uint64_t) (v[i + j] != 0) << (4 + j);
			s8b_store64(out + pos, w);
			i += cnt;
		}
		pos += 8;
	}
	return (int64_t) pos;
}

/*
 * The decoder body, shared by the output types. STORE(k, val) stores value
 * val (uint64_t) at index k, or executes `return CODEC_ECORRUPT` when val is
 * out of range for the type. Every path consumes at least one word and
 * produces at least one value, so the loop ends within min(len/8, n) words.
 */
#define S8B_DECODE_BODY(STORE) \
	size_t		pos = 0; \
	uint32_t	k = 0; \
	while (k < n) \
	{ \
		uint64_t	w; \
		unsigned	sel; \
		uint32_t	rem = n - k; \
		if (len - pos < 8) \
			return CODEC_ETRUNC; \
		w = s8b_load64(in + pos); \
		pos += 8; \
		sel = (unsigned) (w & 15); \
		if (sel == 0) \
		{ \
			uint32_t	cnt = (uint32_t) ((w >> 4) & S8B_RUN_MAX); \
			uint64_t	val = w >> 32; \
			if (cnt == 0 || cnt > rem) \
				return CODEC_ECORRUPT; \
			for (uint32_t j = 0; j < cnt; j++) \
				STORE(k + j, val); \
			k += cnt; \
		} \
		else if (sel == 15) \
		{ \
			uint64_t	val; \
			if (w >> 4) \
				return CODEC_ECORRUPT; \
			if (len - pos < 8) \
				return CODEC_ETRUNC; \
			val = s8b_load64(in + pos); \
			pos += 8; \
			STORE(k, val); \
			k++; \
		} \
		else \
		{ \
			unsigned	cnt = s8b_count[sel]; \
			unsigned	b = s8b_bits[sel]; \
			uint64_t	mask = (UINT64_C(1) << b) - 1; \
			if (cnt <= rem) \
			{ \
				for (unsigned j = 0; j < cnt; j++) \
					STORE(k + j, (w >> (4 + j * b)) & mask); \
				k += cnt; \
			} \
			else \
			{ \
				/* the short last word: unused slots must be zero */ \
				if ((w >> (4 + rem * b)) != 0) \
					return CODEC_ECORRUPT; \
				for (unsigned j = 0; j < rem; j++) \
					STORE(k + j, (w >> (4 + j * b)) & mask); \
				k += rem; \
			} \
		} \
	} \
	return (int64_t) pos;

int64_t
s8b_decode_u64(const uint8_t *in, size_t len, uint64_t *out, uint32_t n)
{
#define STORE_U64(i, val) (out[(i)] = (val))
	S8B_DECODE_BODY(STORE_U64)
#undef STORE_U64
}

int64_t
s8b_decode_bool(const uint8_t *in, size_t len, uint8_t *out, uint32_t n)
{
#define STORE_BOOL(i, val) \
	do { \
		uint64_t	v_ = (val); \
		if (v_ > 1) \
			return CODEC_ECORRUPT; \
		out[(i)] = (uint8_t) v_; \
	} while (0)
	S8B_DECODE_BODY(STORE_BOOL)
#undef STORE_BOOL
}

int64_t
s8b_decode_len(const uint8_t *in, size_t len, codec_bytes *out, uint32_t n, uint32_t max)
{
#define STORE_LEN(i, val) \
	do { \
		uint64_t	v_ = (val); \
		if (v_ > max) \
			return CODEC_ECORRUPT; \
		out[(i)].len = (uint32_t) v_; \
	} while (0)
	S8B_DECODE_BODY(STORE_LEN)
#undef STORE_LEN
}
