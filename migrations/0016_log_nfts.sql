CREATE TABLE "log_nfts" (
	"chain_id" integer PRIMARY KEY NOT NULL,
	"nft_address" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
