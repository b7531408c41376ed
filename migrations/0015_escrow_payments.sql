CREATE TABLE "escrow_payments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"job_id" uuid NOT NULL,
	"chain_id" integer NOT NULL,
	"escrow_address" text NOT NULL,
	"token" text NOT NULL,
	"payer" text NOT NULL,
	"payee" text NOT NULL,
	"node_job_id" text,
	"escrow_job_id" text,
	"amount" numeric(78, 0) NOT NULL,
	"claimed_amount" numeric(78, 0),
	"status" text DEFAULT 'pending' NOT NULL,
	"lock_tx" text,
	"claim_tx" text,
	"cancel_tx" text,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "escrow_payments_job_id_unique" UNIQUE("job_id"),
	CONSTRAINT "escrow_payments_status" CHECK ("escrow_payments"."status" IN ('pending', 'locked', 'claimed', 'canceled', 'failed')),
	CONSTRAINT "escrow_payments_amount_non_negative" CHECK ("escrow_payments"."amount" >= 0),
	CONSTRAINT "escrow_payments_claimed_within_amount" CHECK ("escrow_payments"."claimed_amount" IS NULL OR ("escrow_payments"."claimed_amount" >= 0 AND "escrow_payments"."claimed_amount" <= "escrow_payments"."amount"))
);
--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "compute_backend" text DEFAULT 'marketplace' NOT NULL;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "compute_node_url" text;--> statement-breakpoint
ALTER TABLE "escrow_payments" ADD CONSTRAINT "escrow_payments_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "escrow_payments_open_idx" ON "escrow_payments" USING btree ("chain_id","payer","status") WHERE "escrow_payments"."status" IN ('pending', 'locked');--> statement-breakpoint
CREATE INDEX "escrow_payments_escrow_job_idx" ON "escrow_payments" USING btree ("chain_id","escrow_address","escrow_job_id");--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_compute_backend" CHECK ("models"."compute_backend" IN ('marketplace', 'ocean-node'));--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_compute_node_url" CHECK (("models"."compute_backend" = 'ocean-node') = ("models"."compute_node_url" IS NOT NULL));