CREATE TABLE "account_wallets" (
	"address" text PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"bound_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "account_wallets_account_id_unique" UNIQUE("account_id")
);
--> statement-breakpoint
CREATE TABLE "chain_cursors" (
	"name" text PRIMARY KEY NOT NULL,
	"chain_id" integer NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "siwe_nonces" (
	"nonce" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "wallet_deposits" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"chain_id" integer NOT NULL,
	"tx_hash" text NOT NULL,
	"log_index" integer NOT NULL,
	"block_number" bigint NOT NULL,
	"block_hash" text NOT NULL,
	"token" text NOT NULL,
	"from_address" text NOT NULL,
	"to_address" text NOT NULL,
	"amount_wei" numeric(78, 0) NOT NULL,
	"micro_credits" bigint NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"account_id" uuid,
	"ledger_transaction_id" uuid,
	"reversal_transaction_id" uuid,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"settled_at" timestamp with time zone,
	CONSTRAINT "wallet_deposits_credits_non_negative" CHECK ("wallet_deposits"."micro_credits" >= 0)
);
--> statement-breakpoint
CREATE TABLE "wallet_payouts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"address" text NOT NULL,
	"chain_id" integer NOT NULL,
	"token" text NOT NULL,
	"micro_credits" bigint NOT NULL,
	"amount_wei" numeric(78, 0) NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"tx_hash" text,
	"tx_nonce" integer,
	"raw_tx" text,
	"hold_transaction_id" uuid NOT NULL,
	"settle_transaction_id" uuid,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	"settled_at" timestamp with time zone,
	CONSTRAINT "wallet_payouts_amount_positive" CHECK ("wallet_payouts"."micro_credits" > 0)
);
--> statement-breakpoint
ALTER TABLE "account_wallets" ADD CONSTRAINT "account_wallets_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_deposits" ADD CONSTRAINT "wallet_deposits_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_payouts" ADD CONSTRAINT "wallet_payouts_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "siwe_nonces_expires_idx" ON "siwe_nonces" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "wallet_deposits_log_uniq" ON "wallet_deposits" USING btree ("chain_id","tx_hash","log_index");--> statement-breakpoint
CREATE INDEX "wallet_deposits_status_idx" ON "wallet_deposits" USING btree ("status");--> statement-breakpoint
CREATE INDEX "wallet_deposits_from_idx" ON "wallet_deposits" USING btree ("from_address");--> statement-breakpoint
CREATE INDEX "wallet_deposits_account_idx" ON "wallet_deposits" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "wallet_payouts_account_idx" ON "wallet_payouts" USING btree ("account_id","created_at");--> statement-breakpoint
CREATE INDEX "wallet_payouts_status_idx" ON "wallet_payouts" USING btree ("status");--> statement-breakpoint
CREATE INDEX "wallet_payouts_tx_idx" ON "wallet_payouts" USING btree ("tx_hash");