/** The six services, what each needs, and the order they are listed in. */
export const SERVICES = [
  { name: 'auth', database: true },
  { name: 'keys', database: true },
  { name: 'messaging', database: true },
  { name: 'media', database: true },
  { name: 'moderation', database: true },
  { name: 'edge', database: false },
] as const;

export type ServiceName = (typeof SERVICES)[number]['name'];
