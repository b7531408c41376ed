CREATE TABLE "log_nodes" (
	"level" integer NOT NULL,
	"idx" bigint NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "log_nodes_level_idx_pk" PRIMARY KEY("level","idx"),
	CONSTRAINT "log_nodes_level_range" CHECK ("log_nodes"."level" BETWEEN 0 AND 62),
	CONSTRAINT "log_nodes_idx_non_negative" CHECK ("log_nodes"."idx" >= 0),
	CONSTRAINT "log_nodes_hash_hex" CHECK ("log_nodes"."hash" ~ '^[0-9a-f]{64}$')
);
