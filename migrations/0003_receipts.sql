CREATE TABLE "log_entries" (
	"idx" bigint PRIMARY KEY NOT NULL,
	"leaf_hash" text NOT NULL,
	"receipt_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "log_entries_receipt_id_unique" UNIQUE("receipt_id"),
	CONSTRAINT "log_entries_idx_non_negative" CHECK ("log_entries"."idx" >= 0),
	CONSTRAINT "log_entries_leaf_hash_hex" CHECK ("log_entries"."leaf_hash" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "receipts" (
	"receipt_id" uuid PRIMARY KEY NOT NULL,
	"job_id" uuid NOT NULL,
	"log_index" bigint NOT NULL,
	"jws" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "receipts_job_id_unique" UNIQUE("job_id"),
	CONSTRAINT "receipts_log_index_unique" UNIQUE("log_index")
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"purpose" text NOT NULL,
	"alg" text DEFAULT 'EdDSA' NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	CONSTRAINT "signing_keys_public_only" CHECK (NOT ("signing_keys"."public_jwk" ?| array['d','p','q','dp','dq','qi','k'])),
	CONSTRAINT "signing_keys_kid_matches" CHECK ("signing_keys"."public_jwk"->>'kid' = "signing_keys"."kid")
);
--> statement-breakpoint
CREATE TABLE "tree_heads" (
	"tree_size" bigint PRIMARY KEY NOT NULL,
	"root_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"signature" text NOT NULL,
	"anchor_tx_hash" text,
	"anchor_chain_id" integer,
	CONSTRAINT "tree_heads_size_non_negative" CHECK ("tree_heads"."tree_size" >= 0),
	CONSTRAINT "tree_heads_anchor_pair" CHECK (("tree_heads"."anchor_tx_hash" IS NULL) = ("tree_heads"."anchor_chain_id" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_log_index_log_entries_idx_fk" FOREIGN KEY ("log_index") REFERENCES "public"."log_entries"("idx") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "signing_keys_purpose_idx" ON "signing_keys" USING btree ("purpose","created_at");