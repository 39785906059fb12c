/*-------------------------------------------------------------------------
 *
 * colblob.c
 *	  Column blobs: one column of one segment, encoded with the codecs of
 *	  src/codec (format and codec choice in colblob.h).
 *
 * The blob is the unit the FDW decodes for every segment it reads, so both
 * directions work on whole arrays (no per-value function pointers) and the
 * decoder allocates the by-reference results of a blob in one piece.
 *
 * Untrusted input. A blob may come from a damaged table or a hostile
 * archive file: every field is checked before use, the codecs check their
 * own payloads, and whatever does not add up is reported as
 * ERRCODE_DATA_CORRUPTED with the column (and the chunk, when the caller
 * named it) in the message -- never a crash, never a wrong value silently.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupmacs.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "codec/codec.h"
#include "colblob.h"

#define COLBLOB_HEADER		8

/* byte 2 of a blob */
#define NULLS_NONE			0
#define NULLS_SOME			1
#define NULLS_ALL			2

/* How a column type is encoded. */
typedef enum ColKind
{
	KIND_I64,					/* int2, int4, int8, date, time, timestamps */
	KIND_FLOAT8,
	KIND_FLOAT4,
	KIND_BOOL,
	KIND_BYTES					/* everything else, as byte strings */
} ColKind;

/* The column type as the codecs see it. */
typedef struct ColType
{
	ColKind		kind;
	Oid			base;			/* base type (domains resolved) */
	int			mode;			/* KIND_I64: 1 delta, 2 delta-of-delta */
	int16		typlen;
	bool		typbyval;
} ColType;

/* The relation named in decode errors (colblob_set_context), or "". */
static char error_relname[2 * NAMEDATALEN + 8];

/* ------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------
 */

static ColType
col_type(Form_pg_attribute att)
{
	ColType		t;

	t.base = getBaseType(att->atttypid);
	t.mode = 1;
	get_typlenbyval(t.base, &t.typlen, &t.typbyval);
	switch (t.base)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case DATEOID:
		case TIMEOID:
			t.kind = KIND_I64;
			break;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			t.kind = KIND_I64;
			t.mode = 2;
			break;
		case FLOAT8OID:
			t.kind = KIND_FLOAT8;
			break;
		case FLOAT4OID:
			t.kind = KIND_FLOAT4;
			break;
		case BOOLOID:
			t.kind = KIND_BOOL;
			break;
		default:
			t.kind = KIND_BYTES;
			break;
	}
	return t;
}

/* Whether a blob of codec c may hold a column of type t. */
static bool
codec_fits(const ColType *t, int c)
{
	switch (c)
	{
		case COLBLOB_NULLS:
			return true;
		case COLBLOB_I64:
			return t->kind == KIND_I64;
		case COLBLOB_GORILLA:
		case COLBLOB_DECIMAL:
			return t->kind == KIND_FLOAT8;
		case COLBLOB_GORILLA4:
			return t->kind == KIND_FLOAT4;
		case COLBLOB_BOOL:
			return t->kind == KIND_BOOL;
		case COLBLOB_DICT:
		case COLBLOB_BLOB:
			return t->kind == KIND_BYTES;
		default:
			return false;
	}
}

const char *
colblob_codec_name(const bytea *blob)
{
	static const char *const names[] = {
		"nulls", "i64", "gorilla", "decimal", "gorilla4", "bool", "dict", "blob"
	};
	const uint8 *p = (const uint8 *) VARDATA_ANY(blob);

	if (VARATT_IS_EXTENDED(blob) && !VARATT_IS_SHORT(blob))
		return "toasted";
	if (VARSIZE_ANY_EXHDR(blob) < COLBLOB_HEADER || p[0] != COLBLOB_VERSION ||
		p[1] >= lengthof(names))
		return "invalid";
	return names[p[1]];
}

void
colblob_set_context(const char *relname)
{
	strlcpy(error_relname, relname ? relname : "", sizeof(error_relname));
}

/* ------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------
 */

static inline void
put_u32(uint8 *p, uint32 v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static inline uint32
get_u32(const uint8 *p)
{
	return (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) |
		((uint32) p[3] << 24);
}

/* An encoder's result: bytes written, or an internal error. */
static size_t
check_encoded(int64 r, const char *codec)
{
	if (r < 0)
		elog(ERROR, "%s encoder failed: %s", codec, codec_strerror((int) r));
	return (size_t) r;
}

/*
 * bytes_of
 *		The non-NULL values of a KIND_BYTES column as byte strings. Values
 *		of by-value types are copied into scratch (typlen bytes each);
 *		varlena values are detoasted (the copies live in the current
 *		context, freed with it). Returns the total length.
 */
static uint64
bytes_of(const ColType *t, const Datum *values, const bool *isnull, int n,
		 codec_bytes *out, char *scratch)
{
	uint64		total = 0;
	int			m = 0;

	for (int i = 0; i < n; i++)
	{
		Datum		d = values[i];

		if (isnull[i])
			continue;
		if (t->typbyval)
		{
			char	   *p = scratch + (Size) m * sizeof(Datum);

			store_att_byval(p, d, t->typlen);
			out[m].p = (const uint8_t *) p;
			out[m].len = t->typlen;
		}
		else if (t->typlen > 0)
		{
			out[m].p = (const uint8_t *) DatumGetPointer(d);
			out[m].len = t->typlen;
		}
		else if (t->typlen == -1)
		{
			struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));

			out[m].p = (const uint8_t *) VARDATA_ANY(v);
			out[m].len = VARSIZE_ANY_EXHDR(v);
		}
		else
		{
			const char *s = DatumGetCString(d);

			out[m].p = (const uint8_t *) s;
			out[m].len = strlen(s);
		}
		total += out[m].len;
		m++;
	}
	return total;
}

bytea *
colblob_encode(Form_pg_attribute att, const Datum *values, const bool *isnull, int n)
{
	ColType		t = col_type(att);
	int			m = 0;
	uint8	   *nulls;
	size_t		bound;
	size_t		pos;
	bytea	   *blob;
	uint8	   *out;
	int			codec;

	if (n < 1 || n > COLBLOB_MAX_ROWS)
		elog(ERROR, "column blob of %d rows (1..%d)", n, COLBLOB_MAX_ROWS);

	nulls = palloc(n);
	for (int i = 0; i < n; i++)
	{
		nulls[i] = isnull[i] ? 1 : 0;
		m += !isnull[i];
	}

	/* All NULL: the header says it all. */
	if (m == 0)
	{
		blob = palloc(VARHDRSZ + COLBLOB_HEADER);
		SET_VARSIZE(blob, VARHDRSZ + COLBLOB_HEADER);
		out = (uint8 *) VARDATA(blob);
		out[0] = COLBLOB_VERSION;
		out[1] = COLBLOB_NULLS;
		out[2] = NULLS_ALL;
		out[3] = 0;
		put_u32(out + 4, (uint32) n);
		pfree(nulls);
		return blob;
	}

	/* Gather the non-NULL values in the codec's input form. */
	switch (t.kind)
	{
		case KIND_I64:
			{
				int64	   *v = palloc(sizeof(int64) * m);
				int			k = 0;

				for (int i = 0; i < n; i++)
				{
					if (isnull[i])
						continue;
					if (t.base == INT2OID)
						v[k++] = DatumGetInt16(values[i]);
					else if (t.base == INT4OID || t.base == DATEOID)
						v[k++] = DatumGetInt32(values[i]);
					else
						v[k++] = DatumGetInt64(values[i]);
				}
				bound = codec_i64_bound(m);
				codec = COLBLOB_I64;
				blob = palloc(VARHDRSZ + COLBLOB_HEADER + 4 + codec_bool_bound(n) + bound);
				out = (uint8 *) VARDATA(blob);
				pos = COLBLOB_HEADER;
				if (m < n)
				{
					size_t		len = check_encoded(codec_bool_encode(nulls, n, out + pos + 4,
																	  codec_bool_bound(n)), "bool");

					put_u32(out + pos, (uint32) len);
					pos += 4 + len;
				}
				pos += check_encoded(codec_i64_encode(v, m, t.mode, out + pos, bound), "i64");
				pfree(v);
				break;
			}
		case KIND_FLOAT8:
		case KIND_FLOAT4:
			{
				uint64	   *bits = palloc(sizeof(uint64) * m);
				int			k = 0;
				int64		r = CODEC_ENA;

				for (int i = 0; i < n; i++)
				{
					if (isnull[i])
						continue;
					if (t.kind == KIND_FLOAT8)
					{
						float8		f = DatumGetFloat8(values[i]);

						memcpy(&bits[k++], &f, sizeof(uint64));
					}
					else
					{
						float4		f = DatumGetFloat4(values[i]);
						uint32		b;

						memcpy(&b, &f, sizeof(uint32));
						bits[k++] = b;
					}
				}
				bound = Max(codec_gorilla_bound(m), codec_dec_bound(m));
				blob = palloc(VARHDRSZ + COLBLOB_HEADER + 4 + codec_bool_bound(n) + bound);
				out = (uint8 *) VARDATA(blob);
				pos = COLBLOB_HEADER;
				if (m < n)
				{
					size_t		len = check_encoded(codec_bool_encode(nulls, n, out + pos + 4,
																	  codec_bool_bound(n)), "bool");

					put_u32(out + pos, (uint32) len);
					pos += 4 + len;
				}
				if (t.kind == KIND_FLOAT8)
				{
					/* Short decimals (the common case of business figures) first. */
					r = codec_dec_encode((const double *) bits, m, out + pos, bound);
					codec = COLBLOB_DECIMAL;
					if (r == CODEC_ENA)
					{
						r = codec_gorilla_encode(bits, m, out + pos, bound);
						codec = COLBLOB_GORILLA;
					}
				}
				else
				{
					r = codec_gorilla_encode(bits, m, out + pos, bound);
					codec = COLBLOB_GORILLA4;
				}
				pos += check_encoded(r, codec == COLBLOB_DECIMAL ? "decimal" : "gorilla");
				pfree(bits);
				break;
			}
		case KIND_BOOL:
			{
				uint8	   *v = palloc(m);
				int			k = 0;

				for (int i = 0; i < n; i++)
					if (!isnull[i])
						v[k++] = DatumGetBool(values[i]) ? 1 : 0;
				bound = codec_bool_bound(m);
				codec = COLBLOB_BOOL;
				blob = palloc(VARHDRSZ + COLBLOB_HEADER + 4 + codec_bool_bound(n) + bound);
				out = (uint8 *) VARDATA(blob);
				pos = COLBLOB_HEADER;
				if (m < n)
				{
					size_t		len = check_encoded(codec_bool_encode(nulls, n, out + pos + 4,
																	  codec_bool_bound(n)), "bool");

					put_u32(out + pos, (uint32) len);
					pos += 4 + len;
				}
				pos += check_encoded(codec_bool_encode(v, m, out + pos, bound), "bool");
				pfree(v);
				break;
			}
		case KIND_BYTES:
		default:
			{
				codec_bytes *v = palloc(sizeof(codec_bytes) * m);
				char	   *scratch = t.typbyval ? palloc(sizeof(Datum) * m) : NULL;
				uint64		total = bytes_of(&t, values, isnull, n, v, scratch);
				uint32		half = (uint32) m / 2;

				if (total > MaxAllocSize / 2)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("values of column \"%s\" in one segment are too large to compress",
									NameStr(att->attname)),
							 errdetail("They take " UINT64_FORMAT " bytes; a segment's column may take at most %zu.",
									   total, (size_t) (MaxAllocSize / 2))));
				if (half > 0 && codec_dict_distinct(v, m, half + 1) <= half)
				{
					codec = COLBLOB_DICT;
					bound = codec_dict_bound(v, m);
				}
				else
				{
					codec = COLBLOB_BLOB;
					bound = codec_blob_bound(v, m);
				}
				if (bound > MaxAllocSize - VARHDRSZ - COLBLOB_HEADER - 4 - codec_bool_bound(n))
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("values of column \"%s\" in one segment are too large to compress",
									NameStr(att->attname))));
				blob = palloc(VARHDRSZ + COLBLOB_HEADER + 4 + codec_bool_bound(n) + bound);
				out = (uint8 *) VARDATA(blob);
				pos = COLBLOB_HEADER;
				if (m < n)
				{
					size_t		len = check_encoded(codec_bool_encode(nulls, n, out + pos + 4,
																	  codec_bool_bound(n)), "bool");

					put_u32(out + pos, (uint32) len);
					pos += 4 + len;
				}
				if (codec == COLBLOB_DICT)
					pos += check_encoded(codec_dict_encode(v, m, out + pos, bound), "dict");
				else
					pos += check_encoded(codec_blob_encode(v, m, out + pos, bound), "blob");
				pfree(v);
				if (scratch)
					pfree(scratch);
				break;
			}
	}

	out[0] = COLBLOB_VERSION;
	out[1] = (uint8) codec;
	out[2] = m < n ? NULLS_SOME : NULLS_NONE;
	out[3] = 0;
	put_u32(out + 4, (uint32) n);
	SET_VARSIZE(blob, VARHDRSZ + pos);
	pfree(nulls);
	return blob;
}

/* ------------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------------
 */

/* Reports a corrupted blob of column att. */
static void pg_attribute_noreturn()
corrupt(Form_pg_attribute att, const char *fmt,...)
{
	char		detail[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (error_relname[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("compressed data of column \"%s\" of chunk \"%s\" is corrupted",
						NameStr(att->attname), error_relname),
				 errdetail("%s", detail)));
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("compressed data of column \"%s\" is corrupted", NameStr(att->attname)),
			 errdetail("%s", detail)));
}

/* A codec's decode result: must be OK with exactly `want` values. */
static void
check_decoded(Form_pg_attribute att, int r, uint32 got, uint32 want, const char *codec)
{
	if (r != CODEC_OK)
		corrupt(att, "The %s payload cannot be decoded: %s.", codec, codec_strerror(r));
	if (got != want)
		corrupt(att, "The %s payload holds %u values, the segment %u.", codec, got, want);
}

/*
 * decode_bytes
 *		Rebuilds the Datums of a KIND_BYTES column from the decoded strings
 *		str[0..m-1], into slots whose isnull is false. All by-reference
 *		results share one palloc'd buffer, each value MAXALIGNed.
 */
static void
decode_bytes(Form_pg_attribute att, const ColType *t, const codec_bytes *str, uint32 m,
			 Datum *values, const bool *isnull, int n)
{
	Size		need = 0;
	char	   *buf = NULL;
	uint32		k = 0;

	for (uint32 j = 0; j < m; j++)
	{
		uint32		len = str[j].len;

		if (t->typlen > 0)
		{
			if (len != (uint32) t->typlen)
				corrupt(att, "A value has %u bytes, the type %d.", len, t->typlen);
			if (!t->typbyval)
				need += MAXALIGN(len);
		}
		else if (t->typlen == -1)
		{
			if (len > MaxAllocSize - VARHDRSZ)
				corrupt(att, "A value has %u bytes.", len);
			need += MAXALIGN(VARHDRSZ + (Size) len);
		}
		else
		{
			if (memchr(str[j].p, '\0', len) != NULL)
				corrupt(att, "A cstring value holds a NUL byte.");
			need += MAXALIGN((Size) len + 1);
		}
		if (need > MaxAllocHugeSize / 2)
			corrupt(att, "The values take more than %zu bytes.", (size_t) (MaxAllocHugeSize / 2));
	}
	if (need > 0)
		buf = palloc_extended(need, MCXT_ALLOC_HUGE);

	for (int i = 0; i < n; i++)
	{
		const codec_bytes *s;

		if (isnull[i])
			continue;
		s = &str[k++];
		if (t->typbyval)
		{
			union
			{
				Datum		d;
				char		c[sizeof(Datum)];
			}			tmp;

			memcpy(tmp.c, s->p, s->len);
			values[i] = fetch_att(tmp.c, true, t->typlen);
		}
		else if (t->typlen > 0)
		{
			memcpy(buf, s->p, s->len);
			values[i] = PointerGetDatum(buf);
			buf += MAXALIGN(s->len);
		}
		else if (t->typlen == -1)
		{
			SET_VARSIZE(buf, VARHDRSZ + s->len);
			memcpy(VARDATA(buf), s->p, s->len);
			values[i] = PointerGetDatum(buf);
			buf += MAXALIGN(VARHDRSZ + (Size) s->len);
		}
		else
		{
			memcpy(buf, s->p, s->len);
			buf[s->len] = '\0';
			values[i] = CStringGetDatum(buf);
			buf += MAXALIGN((Size) s->len + 1);
		}
	}
}

void
colblob_decode(Form_pg_attribute att, const bytea *blob, int n, Datum *values, bool *isnull)
{
	ColType		t = col_type(att);
	struct varlena *v = pg_detoast_datum_packed((struct varlena *) blob);
	const uint8 *p = (const uint8 *) VARDATA_ANY(v);
	size_t		len = VARSIZE_ANY_EXHDR(v);
	size_t		pos = COLBLOB_HEADER;
	int			codec;
	int			nullkind;
	uint32		m;
	const uint8 *payload;
	size_t		plen;
	int			r;

	if (n < 1 || n > COLBLOB_MAX_ROWS)
		corrupt(att, "The segment claims %d rows (1..%d).", n, COLBLOB_MAX_ROWS);
	if (len < COLBLOB_HEADER)
		corrupt(att, "The blob has %zu bytes, less than its header.", len);
	if (p[0] != COLBLOB_VERSION)
		corrupt(att, "Format version %u is not %d.", p[0], COLBLOB_VERSION);
	codec = p[1];
	nullkind = p[2];
	if (!codec_fits(&t, codec))
		corrupt(att, "Codec %d does not fit type %s.", codec, format_type_be(att->atttypid));
	if (nullkind > NULLS_ALL || p[3] != 0)
		corrupt(att, "Invalid header flags %u, %u.", p[2], p[3]);
	if (get_u32(p + 4) != (uint32) n)
		corrupt(att, "The blob holds %u rows, the segment %d.", get_u32(p + 4), n);

	if (nullkind == NULLS_ALL || codec == COLBLOB_NULLS)
	{
		if (nullkind != NULLS_ALL || codec != COLBLOB_NULLS || len != COLBLOB_HEADER)
			corrupt(att, "Inconsistent all-NULL blob.");
		for (int i = 0; i < n; i++)
		{
			values[i] = (Datum) 0;
			isnull[i] = true;
		}
		return;
	}

	m = n;
	if (nullkind == NULLS_SOME)
	{
		uint8		nulls[COLBLOB_MAX_ROWS];
		uint32		got = 0;
		uint32		blen;

		if (len - pos < 4)
			corrupt(att, "The NULL bitmap is truncated.");
		blen = get_u32(p + pos);
		pos += 4;
		if (blen > len - pos)
			corrupt(att, "The NULL bitmap claims %u bytes, %zu are left.", blen, len - pos);
		r = codec_bool_decode(p + pos, blen, nulls, n, &got);
		check_decoded(att, r, got, n, "NULL bitmap");
		pos += blen;
		m = 0;
		for (int i = 0; i < n; i++)
		{
			if (nulls[i] > 1)
				corrupt(att, "The NULL bitmap holds a value other than 0 and 1.");
			isnull[i] = nulls[i] != 0;
			m += !isnull[i];
		}
		if (m == 0 || m == (uint32) n)
			corrupt(att, "The NULL bitmap holds %u non-NULL values of %d.", m, n);
	}
	else
	{
		for (int i = 0; i < n; i++)
			isnull[i] = false;
	}
	payload = p + pos;
	plen = len - pos;

	switch (codec)
	{
		case COLBLOB_I64:
			{
				int64		v64[COLBLOB_MAX_ROWS];
				uint32		got = 0;
				uint32		k = 0;

				r = codec_i64_decode(payload, plen, v64, m, &got);
				check_decoded(att, r, got, m, "i64");
				for (int i = 0; i < n; i++)
				{
					int64		x;

					if (isnull[i])
					{
						values[i] = (Datum) 0;
						continue;
					}
					x = v64[k++];
					switch (t.base)
					{
						case INT2OID:
							if (x < PG_INT16_MIN || x > PG_INT16_MAX)
								corrupt(att, "Value " INT64_FORMAT " is out of range for smallint.", x);
							values[i] = Int16GetDatum((int16) x);
							break;
						case INT4OID:
						case DATEOID:
							if (x < PG_INT32_MIN || x > PG_INT32_MAX)
								corrupt(att, "Value " INT64_FORMAT " is out of range for a 4-byte type.", x);
							values[i] = Int32GetDatum((int32) x);
							break;
						case TIMEOID:
							if (x < 0 || x > USECS_PER_DAY)
								corrupt(att, "Value " INT64_FORMAT " is out of range for time.", x);
							values[i] = Int64GetDatum(x);
							break;
						default:
							values[i] = Int64GetDatum(x);
							break;
					}
				}
				break;
			}
		case COLBLOB_GORILLA:
		case COLBLOB_GORILLA4:
		case COLBLOB_DECIMAL:
			{
				uint64		bits[COLBLOB_MAX_ROWS];
				uint32		got = 0;
				uint32		k = 0;

				if (codec == COLBLOB_DECIMAL)
					r = codec_dec_decode(payload, plen, (double *) bits, m, &got);
				else
					r = codec_gorilla_decode(payload, plen, bits, m, &got);
				check_decoded(att, r, got, m, codec == COLBLOB_DECIMAL ? "decimal" : "gorilla");
				for (int i = 0; i < n; i++)
				{
					if (isnull[i])
					{
						values[i] = (Datum) 0;
						continue;
					}
					if (codec == COLBLOB_GORILLA4)
					{
						uint32		b;
						float4		f;

						if (bits[k] >> 32)
							corrupt(att, "A float4 pattern has more than 32 bits.");
						b = (uint32) bits[k++];
						memcpy(&f, &b, sizeof(f));
						values[i] = Float4GetDatum(f);
					}
					else
					{
						float8		f;

						memcpy(&f, &bits[k++], sizeof(f));
						values[i] = Float8GetDatum(f);
					}
				}
				break;
			}
		case COLBLOB_BOOL:
			{
				uint8		b[COLBLOB_MAX_ROWS];
				uint32		got = 0;
				uint32		k = 0;

				r = codec_bool_decode(payload, plen, b, m, &got);
				check_decoded(att, r, got, m, "bool");
				for (int i = 0; i < n; i++)
				{
					if (isnull[i])
					{
						values[i] = (Datum) 0;
						continue;
					}
					if (b[k] > 1)
						corrupt(att, "A boolean is neither 0 nor 1.");
					values[i] = BoolGetDatum(b[k++] != 0);
				}
				break;
			}
		case COLBLOB_DICT:
		case COLBLOB_BLOB:
			{
				codec_bytes str[COLBLOB_MAX_ROWS];
				uint32		got = 0;

				for (int i = 0; i < n; i++)
					if (isnull[i])
						values[i] = (Datum) 0;
				if (codec == COLBLOB_DICT)
				{
					r = codec_dict_decode(payload, plen, str, m, &got);
					check_decoded(att, r, got, m, "dictionary");
					decode_bytes(att, &t, str, m, values, isnull, n);
				}
				else
				{
					uint32		cnt = 0;
					size_t		total = 0;
					uint8	   *buf;

					r = codec_blob_peek(payload, plen, &cnt, &total);
					if (r != CODEC_OK)
						corrupt(att, "The blob payload cannot be decoded: %s.", codec_strerror(r));
					if (cnt != m)
						corrupt(att, "The blob payload holds %u values, the segment %u.", cnt, m);
					if (total > MaxAllocSize)
						corrupt(att, "The blob payload claims %zu bytes.", total);
					buf = palloc(Max(total, 1));
					r = codec_blob_decode(payload, plen, str, m, &got, buf, total);
					check_decoded(att, r, got, m, "blob");
					decode_bytes(att, &t, str, m, values, isnull, n);
					pfree(buf);
				}
				break;
			}
		default:
			corrupt(att, "Unknown codec %d.", codec);
	}
	if ((Pointer) v != (Pointer) blob)
		pfree(v);
}
