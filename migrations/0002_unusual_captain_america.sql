ALTER TABLE "jobs" ADD COLUMN "order_tx_hash" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "order_chain_id" integer;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "chain_id" integer;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "did" text;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "nft_address" text;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "datatoken_address" text;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "service_id" text;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "service_timeout" integer;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "publish_tx_hashes" jsonb;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "published_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_order_tx_unique" ON "jobs" USING btree ("order_tx_hash") WHERE "jobs"."order_tx_hash" IS NOT NULL;