// Reads and writes the model registry.
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { models } from './models-schema.js';

export type ModelRow = typeof models.$inferSelect;
export type NewModel = typeof models.$inferInsert;

export function createModelRepository(db: DbOrTx) {
  return {
    async upsert(model: NewModel): Promise<ModelRow> {
      const [row] = await db
        .insert(models)
        .values(model)
        .onConflictDoUpdate({
          target: models.id,
          set: {
            name: model.name,
            taskKinds: model.taskKinds,
            weightsSha256: model.weightsSha256,
            storagePath: model.storagePath,
            contextLength: model.contextLength,
            architecture: model.architecture,
            pricePerJob: model.pricePerJob,
            pricePer1kTokens: model.pricePer1kTokens,
            ownerAccountId: model.ownerAccountId,
          },
        })
        .returning();
      return row;
    },
    /** Inserts a new model; undefined when the id is taken (the primary key decides, atomically). */
    async insertNew(model: NewModel): Promise<ModelRow | undefined> {
      const [row] = await db.insert(models).values(model).onConflictDoNothing({ target: models.id }).returning();
      return row;
    },
    /** Removes a registry row that never became an Ocean asset (its publication failed). */
    async deleteUnpublished(id: string): Promise<void> {
      await db.delete(models).where(and(eq(models.id, id), isNull(models.nftAddress)));
    },

    async find(id: string): Promise<ModelRow | undefined> {
      const [row] = await db.select().from(models).where(eq(models.id, id));
      return row;
    },
    list(): Promise<ModelRow[]> {
      return db.select().from(models).orderBy(asc(models.id));
    },
  };
}

export type ModelRepository = ReturnType<typeof createModelRepository>;
