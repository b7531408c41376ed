// `npm run chain`: a local chain with Ocean's contracts for development, until Ctrl-C.
// Each start is a fresh chain: the address file is rewritten, the wallets file's keys are kept and
// re-funded, and models must be published again.
import { loadConfig } from './config/config.js';
import { describeChainConfig } from './ocean/chain-config.js';
import { publicChainFile } from './ocean/chain-setup.js';
import { startEmbeddedOcean } from './ocean/embedded-ocean.js';
import { OceanError } from './ocean/ocean-error.js';

async function main() {
  // Same variables as the gateway's embedded chain: CHAIN_PORT, CHAIN_BLOCK_INTERVAL_MS, POSTHUMAN_DATA_DIR;
  // CHAIN_HOST=0.0.0.0 to serve other containers.
  const config = loadConfig();
  const interval = config.chain.blockIntervalMs;
  const started = Date.now();
  const ocean = await startEmbeddedOcean({
    dataDir: config.dataDir,
    // Workers read this (CHAIN_PUBLIC_FILE) instead of the wallets file: no key is in it.
    publicFile: publicChainFile(config.dataDir),
    host: process.env.CHAIN_HOST || '127.0.0.1',
    port: config.chain.port,
    intervalMiningMs: interval,
    serviceEndpoint: config.publicBaseUrl ?? `http://${config.host}:${config.port}`,
  });
  const summary = describeChainConfig(ocean.config);
  console.log(`chain ready in ${Date.now() - started} ms`);
  console.log(`CHAIN_RPC_URL=${ocean.chain.rpcUrl}  (chain id ${ocean.chain.chainId}; give it to the gateway and workers)`);
  console.log(`mining         ${interval > 0 ? `a block every ${interval} ms` : 'automine'}`);
  console.log(`address file   ${ocean.addressFile}  (ADDRESS_FILE for ocean.js)`);
  console.log(`wallets file   ${ocean.walletFile}  (mode 0600; keys are not printed; for the gateway only)`);
  console.log(`public file    ${ocean.publicFile}  (chain id and addresses: what workers read, CHAIN_PUBLIC_FILE)`);
  console.log(`consumer       ${summary.consumer}`);
  console.log(`provider       ${summary.provider}`);
  console.log(`publisher      ${summary.publisher}`);
  console.log(`marketplace    ${summary.marketplaceFeeAddress}`);
  console.log(`Ocean token    ${summary.addresses.Ocean}`);
  console.log(`ERC721Factory  ${summary.addresses.ERC721Factory}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping chain`);
    await ocean.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  const code = err instanceof OceanError ? ` [${err.code}]` : '';
  console.error(`chain failed to start${code}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
