CREATE TABLE "datasets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_account_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"format" text NOT NULL,
	"sha256" text NOT NULL,
	"bytes" bigint NOT NULL,
	"documents" integer NOT NULL,
	"tokens" bigint,
	"price_per_job" bigint NOT NULL,
	"listed" boolean DEFAULT false NOT NULL,
	"chain_id" integer,
	"did" text,
	"nft_address" text,
	"datatoken_address" text,
	"publish_tx_hashes" jsonb,
	"published_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "datasets_price_non_negative" CHECK ("datasets"."price_per_job" >= 0),
	CONSTRAINT "datasets_sha256_hex" CHECK ("datasets"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "datasets_counts_non_negative" CHECK ("datasets"."bytes" > 0 AND "datasets"."documents" > 0 AND ("datasets"."tokens" IS NULL OR "datasets"."tokens" >= 0))
);
--> statement-breakpoint
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_owner_account_id_accounts_id_fk" FOREIGN KEY ("owner_account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "datasets_owner_idx" ON "datasets" USING btree ("owner_account_id","created_at");--> statement-breakpoint
CREATE INDEX "datasets_listed_idx" ON "datasets" USING btree ("created_at") WHERE "datasets"."listed" AND "datasets"."deleted_at" IS NULL;--> statement-breakpoint
CREATE INDEX "datasets_sha256_idx" ON "datasets" USING btree ("sha256");