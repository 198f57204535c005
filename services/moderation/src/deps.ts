/** What moderation's routes and consumers are built from, in `init`: nothing yet, as it serves no RPCs. */
export type ModerationDeps = Record<string, never>;

export async function buildModerationDeps(): Promise<ModerationDeps> {
  return {};
}
