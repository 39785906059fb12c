/*
 * codec_malloc.c -- the memory of the column codecs outside the backend
 * (unit tests, fuzzers, benchmark): malloc/free. As in the backend
 * (src/codec_palloc.c), codec_alloc never returns NULL: it aborts.
 */
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>

void *
codec_alloc(size_t n)
{
	void	   *p = malloc(n > 0 ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, "codec_alloc: out of memory (%zu bytes)\n", n);
		abort();
	}
	return p;
}

void
codec_free(void *p)
{
	free(p);
}
