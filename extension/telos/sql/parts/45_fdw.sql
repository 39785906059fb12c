/*
 * 45_fdw.sql -- the foreign data wrapper of compressed and archived chunks
 * (since 0.3.0; module "fdw": src/fdw*.c, src/segsource_table.c).
 *
 * A compressed or archived chunk is a foreign table of server telos_store
 * attached to its hypertable. The wrapper takes no options: it finds a
 * table's data by looking the table up in telos.chunk and
 * telos.compressed_chunk (segment table or archive file, and delta table),
 * so a foreign table made by hand serves nothing (it is an error to read
 * it). Scans skip segments by the segment-by columns and the time range
 * the query asks for; INSERT and COPY go to the chunk's delta table;
 * UPDATE and DELETE are refused with a hint to decompress the chunk.
 */
CREATE FUNCTION telos.fdw_handler() RETURNS fdw_handler
	AS 'MODULE_PATHNAME', 'telos_fdw_handler'
	LANGUAGE C STRICT;

COMMENT ON FUNCTION telos.fdw_handler() IS
	'handler of telos_fdw, the wrapper of compressed and archived chunks';

CREATE FUNCTION telos.fdw_validator(text[], oid) RETURNS void
	AS 'MODULE_PATHNAME', 'telos_fdw_validator'
	LANGUAGE C STRICT;

COMMENT ON FUNCTION telos.fdw_validator(text[], oid) IS
	'validator of telos_fdw: it takes no options';

CREATE FOREIGN DATA WRAPPER telos_fdw
	HANDLER telos.fdw_handler
	VALIDATOR telos.fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER telos_fdw IS
	'serves compressed and archived chunks of hypertables';

CREATE SERVER telos_store FOREIGN DATA WRAPPER telos_fdw;

COMMENT ON SERVER telos_store IS
	'the server of every compressed and archived chunk';

/*
 * The engine makes a chunk's foreign table as the hypertable's owner, who
 * needs USAGE on the server for that. Granting it to everyone is safe: a
 * foreign table of telos_store reads only what the catalog says it serves,
 * and only the engine writes the catalog.
 */
GRANT USAGE ON FOREIGN SERVER telos_store TO PUBLIC;
