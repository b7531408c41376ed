CREATE TABLE "ocean_pooled_orders" (
	"tx_hash" text PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"consumer" text NOT NULL,
	"datatoken" text NOT NULL,
	"service_id" text NOT NULL,
	"service_index" integer NOT NULL,
	"block_number" integer NOT NULL,
	"ordered_at" bigint NOT NULL,
	"valid_until" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "ocean_pooled_orders_owner_idx" ON "ocean_pooled_orders" USING btree ("chain_id","consumer");