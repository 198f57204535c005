import { ConnectError } from '@connectrpc/connect';
import type { Caller, TokenVerifier } from '@parley/platform';

/** What a plain-HTTP route answers when it refuses: a status and a line saying what to fix. */
export class HttpRefusal extends Error {
  constructor(
    readonly status_code: number,
    readonly body: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(body);
  }
}

/** The caller proven by the request's bearer token (the edge checked it too, and refuses revoked sessions). */
export async function httpCaller(verifier: TokenVerifier, authorization: string | null | undefined): Promise<Caller> {
  if (!authorization) throw new HttpRefusal(401, 'missing access token: send "Authorization: Bearer <access token>"\n');
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(authorization.trim());
  if (!match?.[1]) throw new HttpRefusal(401, 'malformed Authorization header: expected "Bearer <access token>"\n');
  try {
    return await verifier.verify(match[1]);
  } catch (err) {
    throw new HttpRefusal(401, `${ConnectError.from(err).rawMessage}\n`);
  }
}
