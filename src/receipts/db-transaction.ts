// Runs work in the caller's transaction when given one, else in a new transaction of its own.
import type { Db, DbOrTx, Tx } from '../db/database.js';

export function inTransaction<T>(on: DbOrTx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  // Only a transaction has `rollback`; nesting a second transaction would open a savepoint instead.
  return 'rollback' in on ? fn(on as Tx) : (on as Db).transaction(fn);
}
