"""The knowledge base: files parsed into FAQ entries and chunks (`ingest`), embedded (`embeddings`),
stored in Chroma and searched hybrid (`store`), and retrieval measured on labelled queries
(`evaluate`)."""
