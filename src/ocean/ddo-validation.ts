// Runs Ocean's own DDO validator (ddo-js, the SHACL shapes ocean-node's indexer and Aquarius apply)
// on a DDO before it goes on chain: a DDO Ocean would refuse to index is never published.
import type { ComputeDdo } from './ddo-builder.js';
import { OceanError } from './ocean-error.js';

type Validator = (ddo: Record<string, unknown>) => Promise<[boolean, Record<string, unknown>]>;

let loading: Promise<Validator> | undefined;

/** ddo-js pulls in an RDF stack (~0.7 s to import): loaded on the first publish, not at start. */
function validator(): Promise<Validator> {
  loading ??= import('@oceanprotocol/ddo-js').then((ddoJs) => async (ddo) => ddoJs.DDOManager.getDDOClass(ddo).validate());
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

/** The validator's findings as one readable line: `field: message; …` (its full SHACL report left out). */
export function describeDdoErrors(errors: Record<string, unknown>): string {
  return Object.entries(errors)
    .filter(([field]) => field !== 'fullReport')
    .map(([field, messages]) => `${field}: ${Array.isArray(messages) ? messages.join(', ') : String(messages)}`)
    .join('; ');
}

/** Resolves when ddo-js accepts `ddo`; throws OceanError `ddo_invalid` with the validator's message. */
export async function assertValidDdo(ddo: ComputeDdo): Promise<void> {
  const validate = await validator();
  const [valid, errors] = await validate(structuredClone(ddo) as unknown as Record<string, unknown>);
  if (!valid) throw new OceanError('ddo_invalid', `Ocean's DDO validator refuses the asset: ${describeDdoErrors(errors) || 'no reason given'}`);
}
