"""The database: every table, the engine, every SQL statement, run claims."""
