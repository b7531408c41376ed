ALTER TABLE "jobs" ADD COLUMN "progress" jsonb;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "royalty_bps" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_royalty_bps_range" CHECK ("models"."royalty_bps" >= 0 AND "models"."royalty_bps" <= 2000);