CREATE TABLE "jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"account_id" uuid NOT NULL,
	"api_key_id" uuid,
	"model_id" text NOT NULL,
	"weights_sha256" text NOT NULL,
	"request" jsonb NOT NULL,
	"input_tokens" integer NOT NULL,
	"result" jsonb,
	"error" jsonb,
	"output_tokens" integer,
	"hold_id" uuid,
	"price_per_job" bigint NOT NULL,
	"price_per_1k_tokens" bigint NOT NULL,
	"max_cost" bigint NOT NULL,
	"cost" bigint,
	"attempts" integer DEFAULT 0 NOT NULL,
	"worker_id" text,
	"cancel_requested_at" timestamp with time zone,
	"compute_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "jobs_cost_within_hold" CHECK ("jobs"."cost" IS NULL OR "jobs"."cost" <= "jobs"."max_cost")
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"task_kinds" text[] NOT NULL,
	"weights_sha256" text NOT NULL,
	"storage_path" text NOT NULL,
	"context_length" integer NOT NULL,
	"architecture" jsonb NOT NULL,
	"price_per_job" bigint NOT NULL,
	"price_per_1k_tokens" bigint NOT NULL,
	"owner_account_id" uuid,
	"parent_model_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "models_prices_non_negative" CHECK ("models"."price_per_job" >= 0 AND "models"."price_per_1k_tokens" >= 0),
	CONSTRAINT "models_id_slug" CHECK ("models"."id" ~ '^[a-z0-9][a-z0-9._-]{0,63}$')
);
--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_model_id_models_id_fk" FOREIGN KEY ("model_id") REFERENCES "public"."models"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_hold_id_holds_id_fk" FOREIGN KEY ("hold_id") REFERENCES "public"."holds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "models" ADD CONSTRAINT "models_owner_account_id_accounts_id_fk" FOREIGN KEY ("owner_account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "jobs_account_idx" ON "jobs" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE INDEX "jobs_unfinished_idx" ON "jobs" USING btree ("status") WHERE "jobs"."status" IN ('queued', 'running');