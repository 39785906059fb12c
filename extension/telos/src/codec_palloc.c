/*
 * codec_palloc.c -- the memory of the column codecs (src/codec/) in the
 * backend: palloc/pfree in the current memory context.
 *
 * The codecs are plain C shared with the unit tests and fuzzers, which
 * provide their own codec_alloc (test/codec/codec_malloc.c). Like palloc,
 * codec_alloc never returns NULL: failure raises an ERROR. Encoders use it
 * for scratch space freed before they return; decoders never call it.
 * MCXT_ALLOC_HUGE because a column of a large segment may need more than
 * 1 GB of scratch in theory; the request is still bounded by the input.
 */
#include "postgres.h"

#include "codec/codec.h"

void *
codec_alloc(size_t n)
{
	return palloc_extended(n > 0 ? n : 1, MCXT_ALLOC_HUGE);
}

void
codec_free(void *p)
{
	if (p != NULL)
		pfree(p);
}
