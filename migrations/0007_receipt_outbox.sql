CREATE TABLE "receipt_outbox" (
	"job_id" uuid PRIMARY KEY NOT NULL,
	"attestation" text NOT NULL,
	"worker" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "receipt_outbox" ADD CONSTRAINT "receipt_outbox_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "receipt_outbox_due_idx" ON "receipt_outbox" USING btree ("next_attempt_at");