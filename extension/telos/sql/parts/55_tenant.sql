/* 55_tenant.sql -- a tenant's rows out of a hypertable (since 0.3.0). */

/*
 * telos.delete_tenant -- delete every row of one tenant from a hypertable,
 * heap, compressed (whole segments and late rows) and archived chunks (the
 * files rewritten) alike: a plain DELETE stops at the first compressed
 * chunk. For a role that may DELETE from rel and bypasses its row-level
 * security. Returns the heap, delta and archived rows plus the compressed
 * segments removed.
 */
CREATE FUNCTION telos.delete_tenant(rel regclass, tenant uuid)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'telos_delete_tenant'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.delete_tenant(regclass, uuid) IS
	'delete every row of a tenant from a hypertable, whatever the storage of its chunks';
