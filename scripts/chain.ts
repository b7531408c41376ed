// `npm run chain`: a local chain with Ocean's contracts for development, until Ctrl-C.
// Each start is a fresh chain: the address file is rewritten, the wallets file's keys are kept and
// re-funded, and models must be published again.
import { describeChainConfig, readOceanChainSettings } from '../src/ocean/chain-config.js';
import { startEmbeddedOcean } from '../src/ocean/embedded-ocean.js';
import { OceanError } from '../src/ocean/ocean-error.js';

async function main() {
  const settings = readOceanChainSettings({ ...process.env, OCEAN_RPC_URL: '' });
  if (settings.mode !== 'embedded') throw new Error('unreachable');
  const started = Date.now();
  const ocean = await startEmbeddedOcean({
    dataDir: settings.dataDir,
    host: settings.host,
    port: settings.port,
    intervalMiningMs: settings.intervalMiningMs,
    serviceEndpoint: settings.serviceEndpoint,
  });
  const summary = describeChainConfig(ocean.config);
  console.log(`chain ready in ${Date.now() - started} ms`);
  console.log(`RPC URL        ${ocean.chain.rpcUrl}  (chain id ${ocean.chain.chainId})`);
  console.log(`mining         ${settings.intervalMiningMs > 0 ? `a block every ${settings.intervalMiningMs} ms` : 'automine'}`);
  console.log(`address file   ${ocean.addressFile}  (ADDRESS_FILE for ocean.js)`);
  console.log(`wallets file   ${ocean.walletFile}  (mode 0600; keys are not printed)`);
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
