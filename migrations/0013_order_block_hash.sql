ALTER TABLE "jobs" ADD COLUMN "order_block_hash" text;--> statement-breakpoint
ALTER TABLE "ocean_pooled_orders" ADD COLUMN "block_hash" text;