/*
 * vecgen.c -- deterministic synthetic embeddings for the vector benchmark
 * (bench/vector.sh) and their exact nearest neighbours.
 *
 *   vecgen rows    [options]   binary COPY: tenant_id uuid, id int4, embedding vector
 *   vecgen queries [options]   binary COPY: qid int4, q vector
 *   vecgen tenants [options]   text: "tenant_no<TAB>uuid<TAB>rows" per tenant
 *   vecgen truth   [options]   text: "qid<TAB>tenant_no<TAB>{id,...}" -- the
 *                              exact top-k by cosine distance of every query
 *                              over all rows (tenant_no 0) and over the rows
 *                              of each tenant given with --filter
 * Options:
 *   --rows N (100000)  --dim D (1536)  --queries Q (1000)  --tenants T (100)
 *   --topics F (2000)  --latent L (64)  --sigma S (1.6)  --noise E (0.45)
 *   --seed X (1)  --k K (10)
 *   --filter t1,t2,...  tenants for the filtered truth (1 = largest)
 *
 * The distribution: like real embeddings, the vectors lie near a
 * low-dimensional space.  A latent point of L dimensions is drawn around
 * one of F fine topics (each around one of 50 coarse topics: centres
 * N(0,1), fine offsets N(0,0.5^2), the point's offset N(0,S^2) per
 * component); a fixed random linear map takes it to D dimensions, Gaussian
 * noise of deviation E per component is added, and the vector is scaled to
 * unit length (as embedding APIs return them).  Topics overlap: an IVF
 * index needs several probes for good recall, and recall grows smoothly
 * with them, as on real embeddings.  Row i belongs to tenant
 * floor(exp(u * ln(T + 1))) for a uniform u: tenant t gets a share
 * ln((t+1)/t) / ln(T+1) of the rows (1 is the largest, T the smallest),
 * independently of its vector -- the hard case for a filtered IVF search.
 * Queries are drawn from the same topics.  Every value depends only on the
 * options and the row number, so runs are reproducible byte for byte.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COARSE 50

static long opt_rows = 100000;
static int	opt_dim = 1536;
static int	opt_queries = 1000;
static int	opt_tenants = 100;
static int	opt_topics = 2000;
static double opt_sigma = 1.6;
static double opt_noise = 0.45;
static int	opt_latent = 64;
static uint64_t opt_seed = 1;
static int	opt_k = 10;
static int	filter[64];
static int	nfilter = 0;

static float *centres;			/* opt_topics x opt_latent */
static float *projection;		/* opt_dim x opt_latent */

/* splitmix64: the generator of every stream below */
static uint64_t
mix(uint64_t *s)
{
	uint64_t	z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
uniform(uint64_t *s)
{
	return (mix(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double
gauss(uint64_t *s)
{
	double		u1 = uniform(s);
	double		u2 = uniform(s);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static void
make_centres(void)
{
	float	   *coarse = malloc(sizeof(float) * COARSE * opt_latent);
	uint64_t	s = opt_seed * 1000003ULL;

	centres = malloc(sizeof(float) * (size_t) opt_topics * opt_latent);
	projection = malloc(sizeof(float) * (size_t) opt_dim * opt_latent);
	if (!coarse || !centres || !projection)
	{
		fprintf(stderr, "vecgen: out of memory\n");
		exit(1);
	}
	for (long i = 0; i < (long) COARSE * opt_latent; i++)
		coarse[i] = (float) gauss(&s);
	for (int f = 0; f < opt_topics; f++)
		for (int d = 0; d < opt_latent; d++)
			centres[(size_t) f * opt_latent + d] =
				coarse[(f % COARSE) * opt_latent + d] + 0.5f * (float) gauss(&s);
	for (long i = 0; i < (long) opt_dim * opt_latent; i++)
		projection[i] = (float) (gauss(&s) / sqrt((double) opt_latent));
	free(coarse);
}

/* The vector of stream `kind` (0 rows, 1 queries) number i, and its tenant */
static int
make_vector(int kind, long i, float *out)
{
	uint64_t	s = (opt_seed * 7919ULL + (uint64_t) kind) * 0x100000001b3ULL ^ (uint64_t) i * 0x9e3779b97f4a7c15ULL;
	int			f;
	int			tenant;
	double		norm = 0.0;
	float		z[1024];

	mix(&s);
	f = (int) (mix(&s) % (uint64_t) opt_topics);
	tenant = (int) floor(exp(uniform(&s) * log(opt_tenants + 1.0)));
	if (tenant < 1)
		tenant = 1;
	if (tenant > opt_tenants)
		tenant = opt_tenants;
	for (int l = 0; l < opt_latent; l++)
		z[l] = centres[(size_t) f * opt_latent + l] + (float) (opt_sigma * gauss(&s));
	for (int d = 0; d < opt_dim; d++)
	{
		const float *row = projection + (size_t) d * opt_latent;
		double		x = opt_noise * gauss(&s);

		for (int l = 0; l < opt_latent; l++)
			x += row[l] * z[l];
		out[d] = (float) x;
		norm += x * x;
	}
	norm = sqrt(norm);
	for (int d = 0; d < opt_dim; d++)
		out[d] = (float) (out[d] / norm);
	return tenant;
}

static void
tenant_uuid(int t, unsigned char *u)
{
	uint64_t	s = 0x7e4a47ULL + (uint64_t) t;
	uint64_t	a = mix(&s);
	uint64_t	b = mix(&s);

	memcpy(u, &a, 8);
	memcpy(u + 8, &b, 8);
	u[6] = (u[6] & 0x0f) | 0x40;	/* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;	/* variant */
}

static void
put16(int16_t v)
{
	uint16_t	n = htons((uint16_t) v);

	fwrite(&n, 2, 1, stdout);
}

static void
put32(int32_t v)
{
	uint32_t	n = htonl((uint32_t) v);

	fwrite(&n, 4, 1, stdout);
}

static void
put_vector(const float *x)
{
	put32(4 + 4 * opt_dim);
	put16((int16_t) opt_dim);
	put16(0);
	for (int d = 0; d < opt_dim; d++)
	{
		uint32_t	bits;

		memcpy(&bits, &x[d], 4);
		put32((int32_t) bits);
	}
}

static void
copy_header(void)
{
	fwrite("PGCOPY\n\377\r\n\0", 1, 11, stdout);
	put32(0);
	put32(0);
}

static void
emit_rows(void)
{
	float	   *v = malloc(sizeof(float) * opt_dim);
	unsigned char u[16];

	copy_header();
	for (long i = 1; i <= opt_rows; i++)
	{
		int			t = make_vector(0, i, v);

		put16(3);
		tenant_uuid(t, u);
		put32(16);
		fwrite(u, 1, 16, stdout);
		put32(4);
		put32((int32_t) i);
		put_vector(v);
	}
	put16(-1);
	free(v);
}

static void
emit_queries(void)
{
	float	   *v = malloc(sizeof(float) * opt_dim);

	copy_header();
	for (int j = 1; j <= opt_queries; j++)
	{
		make_vector(1, j, v);
		put16(2);
		put32(4);
		put32(j);
		put_vector(v);
	}
	put16(-1);
	free(v);
}

static void
emit_tenants(void)
{
	long	   *count = calloc(opt_tenants + 1, sizeof(long));
	float	   *v = malloc(sizeof(float) * opt_dim);
	unsigned char u[16];

	for (long i = 1; i <= opt_rows; i++)
		count[make_vector(0, i, v)]++;
	for (int t = 1; t <= opt_tenants; t++)
	{
		tenant_uuid(t, u);
		printf("%d\t", t);
		for (int b = 0; b < 16; b++)
			printf("%02x%s", u[b], (b == 3 || b == 5 || b == 7 || b == 9) ? "-" : "");
		printf("\t%ld\n", count[t]);
	}
	free(count);
	free(v);
}

/* A bounded max-heap of the k best (largest dot) so far, by worst first */
typedef struct
{
	int			n;
	double		dot[64];
	long		id[64];
} TopK;

static void
topk_add(TopK *h, double dot, long id)
{
	int			i;

	if (h->n < opt_k)
	{
		i = h->n++;
		while (i > 0 && h->dot[(i - 1) / 2] > dot)
		{
			h->dot[i] = h->dot[(i - 1) / 2];
			h->id[i] = h->id[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h->dot[i] = dot;
		h->id[i] = id;
		return;
	}
	if (dot <= h->dot[0])
		return;
	i = 0;
	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->dot[c + 1] < h->dot[c])
			c++;
		if (dot <= h->dot[c])
			break;
		h->dot[i] = h->dot[c];
		h->id[i] = h->id[c];
		i = c;
	}
	h->dot[i] = dot;
	h->id[i] = id;
}

static void
print_topk(int qid, int tenant, TopK *h)
{
	/* best first: sort a copy by dot descending */
	for (int a = 0; a < h->n; a++)
		for (int b = a + 1; b < h->n; b++)
			if (h->dot[b] > h->dot[a])
			{
				double		td = h->dot[a];
				long		ti = h->id[a];

				h->dot[a] = h->dot[b];
				h->id[a] = h->id[b];
				h->dot[b] = td;
				h->id[b] = ti;
			}
	printf("%d\t%d\t{", qid, tenant);
	for (int a = 0; a < h->n; a++)
		printf("%s%ld", a ? "," : "", h->id[a]);
	printf("}\n");
}

static void
emit_truth(void)
{
	float	   *q = malloc(sizeof(float) * (size_t) opt_queries * opt_dim);
	float	   *v = malloc(sizeof(float) * opt_dim);
	TopK	   *all = calloc(opt_queries, sizeof(TopK));
	TopK	   *filt = calloc((size_t) opt_queries * (nfilter ? nfilter : 1), sizeof(TopK));

	if (!q || !v || !all || !filt)
	{
		fprintf(stderr, "vecgen: out of memory\n");
		exit(1);
	}
	for (int j = 0; j < opt_queries; j++)
		make_vector(1, j + 1, q + (size_t) j * opt_dim);
	for (long i = 1; i <= opt_rows; i++)
	{
		int			t = make_vector(0, i, v);
		int			fi = -1;

		for (int f = 0; f < nfilter; f++)
			if (filter[f] == t)
				fi = f;
		for (int j = 0; j < opt_queries; j++)
		{
			const float *qj = q + (size_t) j * opt_dim;
			float		acc[8] = {0};
			double		dot;
			int			d;

			for (d = 0; d + 8 <= opt_dim; d += 8)
				for (int l = 0; l < 8; l++)
					acc[l] += qj[d + l] * v[d + l];
			dot = 0.0;
			for (int l = 0; l < 8; l++)
				dot += acc[l];
			for (; d < opt_dim; d++)
				dot += (double) qj[d] * v[d];
			topk_add(&all[j], dot, i);
			if (fi >= 0)
				topk_add(&filt[(size_t) j * nfilter + fi], dot, i);
		}
	}
	for (int j = 0; j < opt_queries; j++)
	{
		print_topk(j + 1, 0, &all[j]);
		for (int f = 0; f < nfilter; f++)
			print_topk(j + 1, filter[f], &filt[(size_t) j * nfilter + f]);
	}
	free(q);
	free(v);
	free(all);
	free(filt);
}

static void
usage(void)
{
	fprintf(stderr, "usage: vecgen rows|queries|tenants|truth [--rows N] [--dim D] [--queries Q]\n"
			"       [--tenants T] [--topics F] [--latent L] [--sigma S] [--noise E] [--seed X]\n"
			"       [--k K] [--filter t1,t2,...]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode;

	if (argc < 2)
		usage();
	mode = argv[1];
	for (int a = 2; a < argc; a++)
	{
		const char *o = argv[a];
		const char *val = a + 1 < argc ? argv[a + 1] : NULL;

		if (val == NULL)
			usage();
		a++;
		if (strcmp(o, "--rows") == 0)
			opt_rows = atol(val);
		else if (strcmp(o, "--dim") == 0)
			opt_dim = atoi(val);
		else if (strcmp(o, "--queries") == 0)
			opt_queries = atoi(val);
		else if (strcmp(o, "--tenants") == 0)
			opt_tenants = atoi(val);
		else if (strcmp(o, "--topics") == 0)
			opt_topics = atoi(val);
		else if (strcmp(o, "--sigma") == 0)
			opt_sigma = atof(val);
		else if (strcmp(o, "--noise") == 0)
			opt_noise = atof(val);
		else if (strcmp(o, "--latent") == 0)
			opt_latent = atoi(val);
		else if (strcmp(o, "--seed") == 0)
			opt_seed = strtoull(val, NULL, 10);
		else if (strcmp(o, "--k") == 0)
			opt_k = atoi(val);
		else if (strcmp(o, "--filter") == 0)
		{
			char	   *copy = strdup(val);

			for (char *tok = strtok(copy, ","); tok && nfilter < 64; tok = strtok(NULL, ","))
				filter[nfilter++] = atoi(tok);
			free(copy);
		}
		else
			usage();
	}
	if (opt_rows < 1 || opt_dim < 1 || opt_dim > 16000 || opt_queries < 1 ||
		opt_tenants < 1 || opt_topics < 1 || opt_k < 1 || opt_k > 64 ||
		opt_latent < 1 || opt_latent > 1024)
		usage();

	make_centres();
	if (strcmp(mode, "rows") == 0)
		emit_rows();
	else if (strcmp(mode, "queries") == 0)
		emit_queries();
	else if (strcmp(mode, "tenants") == 0)
		emit_tenants();
	else if (strcmp(mode, "truth") == 0)
		emit_truth();
	else
		usage();
	free(centres);
	free(projection);
	return ferror(stdout) ? 1 : 0;
}
