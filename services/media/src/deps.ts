/** What media's routes and consumers are built from, in `init`: nothing yet, as it serves no RPCs. */
export type MediaDeps = Record<string, never>;

export async function buildMediaDeps(): Promise<MediaDeps> {
  return {};
}
