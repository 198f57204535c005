import type { DescMessage, DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { createValidator, violationsToProto, type Violation } from '@bufbuild/protovalidate';

/** How many violations one error names; the rest are counted. */
const NAMED_VIOLATIONS = 3;

/**
 * Contract validation: every request message is checked against the field rules its proto
 * declares (protovalidate), and a violation answers INVALID_ARGUMENT naming the field and the rule,
 * with the violations as a `buf.validate.Violations` detail. The validator is made once; it
 * compiles each message type's rules on first use. Services in `forwarded` are passed on to a
 * backend that validates them, so they are not validated here too: each request once.
 */
export function contractValidation(forwarded: readonly DescService[] = []): Interceptor {
  const validator = createValidator();
  const skip = new Set(forwarded.map((s) => s.typeName));
  const check = (schema: DescMessage, message: unknown) => {
    const result = validator.validate(schema, message as never);
    if (result.kind === 'valid') return;
    if (result.kind === 'error') throw result.error;
    throw invalidRequest(result.violations);
  };
  return (next) => async (req) => {
    if (skip.has(req.service.typeName)) return next(req);
    const input = req.method.input;
    if (!req.stream) {
      check(input, req.message);
      return next(req);
    }
    const messages = req.message;
    return next({
      ...req,
      message: (async function* () {
        for await (const message of messages) {
          check(input, message);
          yield message;
        }
      })(),
    });
  };
}

/** INVALID_ARGUMENT naming each violated field and rule, e.g. "delivery_ids[0]: value must be less than … [uint64.lt]". */
export function invalidRequest(violations: Violation[]): ConnectError {
  const named = violations.slice(0, NAMED_VIOLATIONS).map(String);
  const more = violations.length - named.length;
  const message = `invalid request: ${named.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
  const [value, desc] = violationsToProto(violations);
  return new ConnectError(message, Code.InvalidArgument, undefined, [{ desc, value }]);
}
