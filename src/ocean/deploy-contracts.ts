// Deploys Ocean's contracts from the package's artifacts, in the order of Ocean's own deploy script,
// pipelining every transaction (addresses are predicted from nonces) so a fresh chain is ready fast.
import { ContractFactory, ZeroAddress } from 'ethers';
import { type ArtifactName, contractInterface, loadArtifact } from './contract-artifacts.js';
import type { ManagedSigner, SentTx } from './nonce-manager.js';
import { OceanError } from './ocean-error.js';
import type { OceanAddresses } from './ocean-addresses.js';
import { toOceanError } from './rpc-errors.js';

const DEPLOY_GAS = 10_000_000n;
const CONFIG_GAS = 200_000n;
/** FactoryRouter wants a pool template; Ocean's deploy script passes this burn address when pools are off. */
const NO_POOL_TEMPLATE = '0x000000000000000000000000000000000000dEaD';

function deployData(name: ArtifactName, args: unknown[]): string {
  const artifact = loadArtifact(name);
  const factory = new ContractFactory(artifact.abi, artifact.bytecode);
  return factory.interface.encodeDeploy(args).replace(/^0x/, artifact.bytecode);
}

/**
 * Deploys OceanToken, the OPF fee collector, FactoryRouter, FixedRateExchange, the ERC20/ERC721
 * templates, Dispenser, ERC721Factory and Escrow, then registers factory, exchange and dispenser on
 * the router. The deployer owns everything (and may mint OCEAN). Use on a local chain only.
 */
export async function deployOceanContracts(deployer: ManagedSigner, chainId: number): Promise<OceanAddresses> {
  const sent: Array<{ what: string; tx: SentTx }> = [];
  const owner = deployer.address;
  const deploy = async (name: ArtifactName, args: unknown[] = []) => {
    const tx = await deployer.send({ data: deployData(name, args), gasLimit: DEPLOY_GAS });
    sent.push({ what: name, tx });
    return tx.contractAddress!;
  };
  const call = async (what: string, to: string, name: ArtifactName, fn: string, args: unknown[]) => {
    const tx = await deployer.send({ to, data: contractInterface(name).encodeFunctionData(fn, args), gasLimit: CONFIG_GAS });
    sent.push({ what, tx });
  };

  try {
    const ocean = await deploy('OceanToken', [owner]);
    const opfCollector = await deploy('OPFCommunityFeeCollector', [owner, owner]);
    const router = await deploy('FactoryRouter', [owner, ocean, NO_POOL_TEMPLATE, opfCollector, []]);
    const fixedPrice = await deploy('FixedRateExchange', [router]);
    const erc20Template = await deploy('ERC20Template');
    const erc721Template = await deploy('ERC721Template');
    const dispenser = await deploy('Dispenser', [router]);
    const factory = await deploy('ERC721Factory', [erc721Template, erc20Template, router]);
    const escrow = await deploy('Escrow', [router, ZeroAddress]);
    await call('router.addFactory', router, 'FactoryRouter', 'addFactory', [factory]);
    await call('router.addFixedRateContract', router, 'FactoryRouter', 'addFixedRateContract', [fixedPrice]);
    await call('router.addDispenserContract', router, 'FactoryRouter', 'addDispenserContract', [dispenser]);

    const receipts = await Promise.all(sent.map((s) => deployer.wait(s.tx)));
    const routerReceipt = receipts[sent.findIndex((s) => s.what === 'FactoryRouter')];
    return {
      chainId,
      Ocean: ocean,
      OPFCommunityFeeCollector: opfCollector,
      Router: router,
      FixedPrice: fixedPrice,
      Dispenser: dispenser,
      ERC721Factory: factory,
      ERC20Template: { '1': erc20Template },
      ERC721Template: { '1': erc721Template },
      Escrow: escrow,
      startBlock: routerReceipt.blockNumber,
    };
  } catch (err) {
    const e = toOceanError(err, 'deploying Ocean contracts');
    throw new OceanError('deploy_failed', `${e.message} (after ${sent.length} transactions)`, { cause: e });
  }
}

