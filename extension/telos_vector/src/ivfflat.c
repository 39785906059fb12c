/*
 * ivfflat.c -- the ivfflat access method's entry points: the handler that
 * fills IndexAmRoutine, the GUCs and the `lists` and `storage` reloptions (registered in
 * _PG_init, which this module owns for the whole library), operator class
 * validation.
 */
#include "postgres.h"

#include <float.h>

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "commands/vacuum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "ivfflat.h"

int			ivfflat_probes = 1;
int			ivfflat_max_probes = -1;
bool		ivfflat_adaptive = true;
double		ivfflat_widening = 1.0;

static relopt_kind ivf_relopt_kind;

static relopt_enum_elt_def ivf_storage_values[] = {
	{"auto", IVF_STORAGE_AUTO},
	{"full", IVF_STORAGE_FULL},
	{"half", IVF_STORAGE_HALF},
	{(const char *) NULL}
};

void		_PG_init(void);

/*
 * Library load: the ivfflat GUCs and reloptions.  (The vector type needs no
 * initialisation; the kernel dispatch picks its implementation lazily.)
 */
void
_PG_init(void)
{
	ivf_relopt_kind = add_reloption_kind();
	add_int_reloption(ivf_relopt_kind, "lists",
					  "Number of inverted lists (-1: chosen from the number of rows at build)",
					  IVF_DEFAULT_LISTS, -1, IVF_MAX_LISTS, AccessExclusiveLock);
	add_enum_reloption(ivf_relopt_kind, "storage",
					   "How entries store vectors: full (float4), half (half precision), "
					   "auto (half from 256 dimensions on, when every value fits)",
					   ivf_storage_values, IVF_STORAGE_AUTO,
					   "Valid values are \"auto\", \"full\" and \"half\".",
					   AccessExclusiveLock);

	DefineCustomIntVariable("ivfflat.probes",
							"Number of lists an ivfflat scan visits before returning its first row.",
							"Higher is more accurate and slower. The scan visits further lists "
							"when the query reads deeper than the first rows (for instance when a "
							"filter rejects rows).",
							&ivfflat_probes,
							1, 1, IVF_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("ivfflat.max_probes",
							"Largest number of lists an ivfflat scan may visit; -1 means all.",
							"With a limit, a very selective filter can run out of rows before "
							"every matching row is found. Values below ivfflat.probes act as "
							"ivfflat.probes.",
							&ivfflat_max_probes,
							-1, -1, IVF_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("ivfflat.adaptive",
							 "Widens an ivfflat scan into further lists as the rows it returns get farther.",
							 "Off: further lists are read only when the probed ones run out of rows, "
							 "which keeps filtered queries from running dry but not their recall.",
							 &ivfflat_adaptive,
							 true,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("ivfflat.widening",
							 "How fast an adaptive ivfflat scan widens: the list horizon moves this "
							 "many times as far as the row horizon.",
							 "Lower reads fewer lists for a filtered or deep query, at some recall "
							 "(docs/vector.md); 0 widens only when the probed lists run out.",
							 &ivfflat_widening,
							 1.0, 0.0, 10.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	MarkGUCPrefixReserved("ivfflat");
}

/*
 * The access method handler: what ivfflat can do and where its functions
 * are.  It only answers ORDER BY <distance operator> queries (one ordering
 * operator, no search operators), on one column, without index-only scans.
 */
PG_FUNCTION_INFO_V1(ivfflathandler);
Datum
ivfflathandler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = IVF_NPROCS;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = false;
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = false;
	amroutine->amsearchnulls = false;
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = true;
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = ivfflat_build;
	amroutine->ambuildempty = ivfflat_buildempty;
	amroutine->aminsert = ivfflat_insert;
	amroutine->ambulkdelete = ivfflat_bulkdelete;
	amroutine->amvacuumcleanup = ivfflat_vacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = ivfflat_costestimate;
	amroutine->amoptions = ivfflat_options;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = ivfflat_buildphasename;
	amroutine->amvalidate = ivfflat_validate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = ivfflat_beginscan;
	amroutine->amrescan = ivfflat_rescan;
	amroutine->amgettuple = ivfflat_gettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = ivfflat_endscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}

/*
 * Parse and validate the reloptions of an ivfflat index: `lists`, -1 (the
 * default: chosen from the table's rows when the index is built) or
 * 1..IVF_MAX_LISTS; `storage`, auto, full or half (ivf_storage_half).
 */
bytea *
ivfflat_options(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfOptions, lists)},
		{"storage", RELOPT_TYPE_ENUM, offsetof(IvfOptions, storage)},
	};
	IvfOptions *opts;

	opts = (IvfOptions *) build_reloptions(reloptions, validate,
										   ivf_relopt_kind,
										   sizeof(IvfOptions),
										   tab, lengthof(tab));
	if (validate && opts != NULL && opts->lists == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value 0 out of bounds for option \"lists\""),
				 errdetail("Valid values are -1 (chosen from the number of rows) and 1 to %d.",
						   IVF_MAX_LISTS)));
	return (bytea *) opts;
}

/*
 * The `lists` the index was created with (-1 when left to the build).
 */
int
ivf_relation_lists(Relation index)
{
	IvfOptions *opts = (IvfOptions *) index->rd_options;

	return opts != NULL ? opts->lists : IVF_DEFAULT_LISTS;
}

/*
 * The `storage` the index was created with (IVF_STORAGE_*; AUTO when not
 * given).
 */
int
ivf_relation_storage(Relation index)
{
	IvfOptions *opts = (IvfOptions *) index->rd_options;

	return opts != NULL ? opts->storage : IVF_STORAGE_AUTO;
}

/*
 * Check an operator class for ivfflat: every operator is an ordering
 * operator of strategy 1 returning float8; support function 1 is
 * (type, type) -> float8 and present; support function 2, if any, is
 * (type) -> float8.  Problems are reported as INFO, as the core AMs do.
 */
bool
ivfflat_validate(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup;
	Form_pg_opclass classform;
	Oid			opfamilyoid;
	Oid			opcintype;
	char	   *opclassname;
	CatCList   *proclist;
	CatCList   *oprlist;
	bool		has_distance = false;
	int			i;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opfamilyoid = classform->opcfamily;
	opcintype = classform->opcintype;
	opclassname = pstrdup(NameStr(classform->opcname));
	ReleaseSysCache(classtup);

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(opfamilyoid));
	for (i = 0; i < proclist->n_members; i++)
	{
		HeapTuple	proctup = &proclist->members[i]->tuple;
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(proctup);
		bool		ok;

		if (procform->amproclefttype != opcintype ||
			procform->amprocrighttype != opcintype)
			continue;
		switch (procform->amprocnum)
		{
			case IVF_DISTANCE_PROC:
				ok = check_amproc_signature(procform->amproc, FLOAT8OID, true,
											2, 2, opcintype, opcintype);
				has_distance = true;
				break;
			case IVF_NORM_PROC:
				ok = check_amproc_signature(procform->amproc, FLOAT8OID, true,
											1, 1, opcintype);
				break;
			default:
				ereport(INFO,
						(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
						 errmsg("ivfflat operator class \"%s\" contains function %s with invalid support number %d",
								opclassname, format_procedure(procform->amproc),
								procform->amprocnum)));
				result = false;
				continue;
		}
		if (!ok)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("ivfflat operator class \"%s\" contains function %s with wrong signature for support number %d",
							opclassname, format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
		}
	}
	ReleaseSysCacheList(proclist);

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(opfamilyoid));
	for (i = 0; i < oprlist->n_members; i++)
	{
		HeapTuple	oprtup = &oprlist->members[i]->tuple;
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(oprtup);

		if (oprform->amopstrategy != 1 || oprform->amoppurpose != AMOP_ORDER ||
			!check_amop_signature(oprform->amopopr, FLOAT8OID,
								  oprform->amoplefttype, oprform->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("ivfflat operator class \"%s\" contains operator %s that is not an ordering operator of strategy 1 returning double precision",
							opclassname, format_operator(oprform->amopopr))));
			result = false;
		}
	}
	ReleaseSysCacheList(oprlist);

	if (!has_distance)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("ivfflat operator class \"%s\" is missing support function %d",
						opclassname, IVF_DISTANCE_PROC)));
		result = false;
	}
	return result;
}
