-- fvec: text and binary I/O, round trips, malformed input
\set SHOW_CONTEXT never

SELECT '{}'::pglearn.fvec;
SELECT '{0:1,2:0.5,2147483647:-3}'::pglearn.fvec;
SELECT '  { 3 : 1.5 ,  7:-2e-3 }  '::pglearn.fvec;
SELECT pglearn.nnz('{1:1,5:2,9:0}');

-- text output reads back bit-identical, including awkward float4 values
CREATE TEMP TABLE awkward AS
SELECT format('{1:%s,2:%s,3:%s,4:%s,5:%s}',
              (1::float4 / 3)::text, '1e-45', '3.4028235e38', '-0.1', '1.17549435e-38')::pglearn.fvec AS v;
SELECT v FROM awkward;
SELECT v::text::pglearn.fvec OPERATOR(pglearn.=) v AS text_round_trip FROM awkward;
SELECT pglearn.fvec_send(v) FROM awkward;

-- binary input goes through COPY; recv_fvec() writes a one-column binary
-- COPY file holding the given payload and reads it back
CREATE TEMP TABLE recv_target (v pglearn.fvec);
CREATE FUNCTION pg_temp.recv_fvec(payload bytea) RETURNS pglearn.fvec
LANGUAGE plpgsql AS $$
DECLARE
    path text := 'pglearn_regress_recv_' || pg_backend_pid();  -- in the data directory
    lo oid;
    result pglearn.fvec;
BEGIN
    lo := lo_from_bytea(0, '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
                           || '\x0001'::bytea || int4send(length(payload)) || payload
                           || '\xffff'::bytea);
    PERFORM lo_export(lo, path);
    PERFORM lo_unlink(lo);
    TRUNCATE recv_target;
    EXECUTE format('COPY recv_target FROM %L WITH (FORMAT binary)', path);
    SELECT v INTO result FROM recv_target;
    RETURN result;
END
$$;
SELECT pg_temp.recv_fvec(pglearn.fvec_send(v)) OPERATOR(pglearn.=) v AS binary_round_trip FROM awkward;
SELECT pg_temp.recv_fvec(pglearn.fvec_send('{}'));
SELECT pg_temp.recv_fvec('\x00000001000000073f800000');

-- malformed text
SELECT ''::pglearn.fvec;
SELECT '1:1'::pglearn.fvec;
SELECT '{1:1'::pglearn.fvec;
SELECT '{1:1,}'::pglearn.fvec;
SELECT '{1 1}'::pglearn.fvec;
SELECT '{a:1}'::pglearn.fvec;
SELECT '{-1:1}'::pglearn.fvec;
SELECT '{1:}'::pglearn.fvec;
SELECT '{1:x}'::pglearn.fvec;
SELECT '{2:1,1:1}'::pglearn.fvec;
SELECT '{1:1,1:2}'::pglearn.fvec;
SELECT '{1:NaN}'::pglearn.fvec;
SELECT '{1:inf}'::pglearn.fvec;
SELECT '{1:-Infinity}'::pglearn.fvec;
SELECT '{1:1e39}'::pglearn.fvec;
SELECT '{2147483648:1}'::pglearn.fvec;
SELECT '{1:1} x'::pglearn.fvec;

-- malformed binary
SELECT pg_temp.recv_fvec('\x');
SELECT pg_temp.recv_fvec('\x000000');
SELECT pg_temp.recv_fvec('\xffffffff');
SELECT pg_temp.recv_fvec('\x00000002000000013f800000');
SELECT pg_temp.recv_fvec('\x0000000200000002000000013f8000003f800000');
SELECT pg_temp.recv_fvec('\x0000000200000001000000013f8000003f800000');
SELECT pg_temp.recv_fvec('\x0000000100000001' || float4send('NaN'));
SELECT pg_temp.recv_fvec('\x00000001ffffffff3f800000');

-- similarity
SELECT pglearn.cosine_similarity('{1:1,2:1}', '{2:1,3:1}');
SELECT pglearn.cosine_similarity('{1:3}', '{1:0.5}');
SELECT pglearn.cosine_similarity('{}', '{1:1}');
