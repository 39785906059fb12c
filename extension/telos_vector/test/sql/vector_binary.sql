--
-- vector_binary: the binary form (int16 dim, int16 0, dim float4, network
-- order -- pgvector's) that vector_send writes and vector_recv reads, as
-- binary COPY and binary parameters use it.  vector_recv takes nothing on
-- trust: wrong lengths, a non-zero reserved field, dimensions out of range,
-- NaN and infinity, and a dimension the column does not declare are errors.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos_vector;
RESET client_min_messages;

-- The bytes of the binary form.
SELECT vector_send('[1,-2]');
SELECT vector_send('[0.5]');
SELECT length(vector_send(array_fill(1::real, ARRAY[16000])::vector));

-- vector_recv cannot be called from SQL (it takes a buffer), so the values
-- reach it the way a client sends them: one field of a binary COPY, built
-- here byte by byte and fed to COPY FROM PROGRAM through printf. The error,
-- if any, comes back as text.
CREATE TABLE recv_any (v vector);
CREATE TABLE recv_3 (v vector(3));
CREATE FUNCTION copy_binary_field(tbl regclass, field bytea) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  -- signature, flags, header extension length; one tuple of one field; trailer
  msg bytea := '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
               || '\x0001'::bytea || int4send(length(field)) || field || '\xffff'::bytea;
  oct text;
  m text;
  d text;
BEGIN
  SELECT string_agg('\' || (b >> 6)::text || ((b >> 3) & 7)::text || (b & 7)::text, '' ORDER BY i)
    INTO oct
    FROM (SELECT i, get_byte(msg, i) AS b FROM generate_series(0, length(msg) - 1) i) s;
  EXECUTE format('COPY %s FROM PROGRAM %L WITH (FORMAT binary)', tbl, 'printf ''' || oct || '''');
  RETURN 'ok';
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || m || coalesce(' (' || nullif(d, '') || ')', '');
END $$;

-- Good values.
SELECT copy_binary_field('recv_any', vector_send('[1,-2,3.5]'));
SELECT copy_binary_field('recv_any', '\x000100003f800000'::bytea);
SELECT copy_binary_field('recv_3', vector_send('[1,2,3]'));
SELECT v FROM recv_any ORDER BY v;
SELECT v FROM recv_3;

-- Lengths: short of the header, short of the components, bytes left over.
SELECT copy_binary_field('recv_any', '\x'::bytea);
SELECT copy_binary_field('recv_any', '\x0001'::bytea);
SELECT copy_binary_field('recv_any', '\x000100'::bytea);
SELECT copy_binary_field('recv_any', '\x00010000'::bytea);
SELECT copy_binary_field('recv_any', '\x000200003f800000'::bytea);
SELECT copy_binary_field('recv_any', '\x000100003f80000000'::bytea);
SELECT copy_binary_field('recv_any', '\x000100003f8000003f800000'::bytea);
-- The reserved field must be 0.
SELECT copy_binary_field('recv_any', '\x000100013f800000'::bytea);
SELECT copy_binary_field('recv_any', '\x0001ffff3f800000'::bytea);
-- Dimensions out of range: 0, negative (as int16), 16001, 32767.
SELECT copy_binary_field('recv_any', '\x00000000'::bytea);
SELECT copy_binary_field('recv_any', '\xffff0000'::bytea);
SELECT copy_binary_field('recv_any', '\x80000000'::bytea);
SELECT copy_binary_field('recv_any', '\x3e810000'::bytea);
SELECT copy_binary_field('recv_any', '\x7fff0000'::bytea);
-- NaN (two encodings), infinities.
SELECT copy_binary_field('recv_any', '\x00010000'::bytea || float4send('NaN'));
SELECT copy_binary_field('recv_any', '\x00020000'::bytea || float4send(1) || '\xffffffff'::bytea);
SELECT copy_binary_field('recv_any', '\x00010000'::bytea || float4send('Infinity'));
SELECT copy_binary_field('recv_any', '\x00020000'::bytea || float4send(1) || float4send('-Infinity'));
-- The column's declared dimension.
SELECT copy_binary_field('recv_3', vector_send('[1,2]'));
SELECT copy_binary_field('recv_3', vector_send('[1,2,3,4]'));
-- Denormals are finite: accepted.
SELECT copy_binary_field('recv_any', '\x0001000000000001'::bytea);
SELECT v FROM recv_any WHERE vector_dims(v) = 1 ORDER BY v;
-- Nothing bad got in.
SELECT count(*) FROM recv_any;
SELECT count(*) FROM recv_3;

-- Round trip through binary COPY: 16000 dimensions and 200 random vectors
-- come back equal (the file is the server's; its name is unique to this
-- backend).
CREATE TABLE binary_src (id int, v vector);
INSERT INTO binary_src
  SELECT 0, array_agg((i % 97 - 48) / 7.0)::vector FROM generate_series(1, 16000) i;
INSERT INTO binary_src
  SELECT g, array_agg(((random() - 0.5) * 10 ^ (random() * 20 - 10))::real)::vector
    FROM generate_series(1, 200) g, generate_series(1, 1 + g % 37) j GROUP BY g;
CREATE TABLE binary_dst (LIKE binary_src);
DO $$
DECLARE f text := '/tmp/telos_vector_regress_' || pg_backend_pid() || '.bin';
BEGIN
  EXECUTE format('COPY binary_src TO %L WITH (FORMAT binary)', f);
  EXECUTE format('COPY binary_dst FROM PROGRAM %L WITH (FORMAT binary)',
                 'cat ' || f || ' && rm -f ' || f);
END $$;
SELECT count(*) AS copied,
       count(*) FILTER (WHERE s.v::real[] IS NOT DISTINCT FROM d.v::real[]) AS identical,
       max(vector_dims(d.v)) AS max_dims
  FROM binary_src s JOIN binary_dst d USING (id);

DROP FUNCTION copy_binary_field(regclass, bytea);
DROP TABLE recv_any, recv_3, binary_src, binary_dst;
