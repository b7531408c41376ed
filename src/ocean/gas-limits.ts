// Fixed gas limits for the calls we make often: skipping eth_estimateGas saves a round trip per
// transaction and lets us pipeline dependent transactions. Each is the gas measured on Ocean's
// contracts 2.6 (hardhat, cancun) with ~50% headroom; unused gas is not charged.
export const GAS = {
  /** createNftWithErc20WithDispenser 1.35M, ...WithFixedRate 1.47M. */
  createModel: 2_200_000n,
  /** setMetaData: 95k for a 1.1 kB DDO; the publisher adds 40 gas per DDO byte on top. */
  setMetaDataBase: 100_000n,
  setNewData: 120_000n,
  /** transferFrom of the NFT also cleans the datatoken's roles: 213k. */
  transferNft: 350_000n,
  /** Dispenser.dispense with mint: 104k. */
  dispense: 160_000n,
  approve: 70_000n,
  /** FixedRateExchange.buyDT with mint: 208k. */
  buyDatatoken: 320_000n,
  /** startOrder with zero fees: 128k; a paid provider fee adds two token transfers. */
  startOrder: 250_000n,
  /** reuseOrder with a zero provider fee: 44k. */
  reuseOrder: 120_000n,
} as const;
