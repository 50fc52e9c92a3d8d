-- Run once by the postgres image when the warehouse volume is first initialised.
-- The warehouse database itself is POSTGRES_DB. training_platform holds the simulated source for a
-- demo (`supervision generate`); in production SUPERVISION_TRAINING_DB_URL points at the real source.
create database training_platform;
revoke connect, temporary on database training_platform from public;
