-- 0011_session_embedding.sql -- the seed's semantic search column and its
-- index on coaching_sessions, verbatim (issue 5). The vector type and the
-- ivfflat access method come from the telos_vector extension (or pgvector
-- where a deployment already has it), created by bootstrap in schema public.
-- One transaction, run as telos_owner.

ALTER TABLE public.coaching_sessions
    ADD COLUMN session_embedding vector(1536);  -- pgvector for OpenAI embeddings

-- Vector similarity search index
CREATE INDEX idx_session_embedding ON public.coaching_sessions
  USING ivfflat (session_embedding vector_cosine_ops);
