"""Storage: the asyncpg pool, SQL migrations, repositories (one per table) and the audio archive.

See persistence/README.md for the schema and the archive layouts.
"""
