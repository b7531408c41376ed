// parseEventLog must read every log exactly as ethers' Interface.parseLog does, only without hashing
// every event signature again for each log.
import { randomBytes } from 'node:crypto';
import { AbiCoder, type EventFragment, hexlify, type Interface, zeroPadValue } from 'ethers';
import { describe, expect, it } from 'vitest';
import { contractInterface, parseEventLog } from '../../../src/ocean/contract-artifacts.js';

/** A value of any ABI type, seeded by `i`. */
function sample(type: string, i: number): unknown {
  if (type.endsWith('[]')) return [sample(type.slice(0, -2), i), sample(type.slice(0, -2), i + 1)];
  if (type === 'address') return `0x${(i + 1).toString(16).padStart(40, '0')}`;
  if (type === 'bool') return i % 2 === 0;
  if (type === 'string') return `value ${i}`;
  if (type === 'bytes') return hexlify(randomBytes(3 + i));
  if (type.startsWith('bytes')) return zeroPadValue(`0x${(i + 1).toString(16).padStart(2, '0')}`, Number(type.slice(5)));
  if (type.startsWith('uint') || type.startsWith('int')) return BigInt((i % 100) + 7);
  throw new Error(`no sample for ${type}`);
}

function logOf(iface: Interface, fragment: EventFragment, seed: number) {
  const values = fragment.inputs.map((input, i) => (input.baseType === 'tuple' ? null : sample(input.type, seed + i)));
  if (values.includes(null)) return null;
  return iface.encodeEventLog(fragment, values);
}

describe('parseEventLog', () => {
  for (const name of ['ERC20Template', 'ERC721Template', 'ERC721Factory', 'Escrow'] as const) {
    it(`reads every event of ${name} as Interface.parseLog does`, () => {
      const iface = contractInterface(name);
      let checked = 0;
      iface.forEachEvent((fragment, n) => {
        const log = logOf(iface, fragment, n);
        if (!log) return;
        const ours = parseEventLog(iface, log);
        const theirs = iface.parseLog(log);
        expect(ours?.name).toBe(theirs?.name);
        expect(ours?.topic).toBe(theirs?.topic);
        expect(ours?.args.toArray()).toEqual(theirs?.args.toArray());
        checked++;
      });
      expect(checked).toBeGreaterThan(2);
    });
  }

  it('answers null for a log of no event of the ABI, and throws where ethers throws', () => {
    const iface = contractInterface('ERC20Template');
    const unknown = { topics: [hexlify(randomBytes(32))], data: '0x' };
    expect(parseEventLog(iface, unknown)).toBeNull();
    expect(iface.parseLog(unknown)).toBeNull();
    expect(parseEventLog(iface, { topics: [], data: '0x' })).toBeNull();
    const transfer = iface.getEvent('Transfer')!;
    const truncated = { topics: [transfer.topicHash], data: AbiCoder.defaultAbiCoder().encode(['uint8'], [1]).slice(0, 10) };
    expect(() => iface.parseLog(truncated)).toThrow();
    expect(() => parseEventLog(iface, truncated)).toThrow();
  });
});
